"""Customer journeys in memory: the one data structure every attribution model reads.

A :class:`Journeys` holds many journeys in flat numpy arrays (a CSR layout):
``codes[offsets[j]:offsets[j+1]]``
are the channel codes of journey ``j`` in time order. Each journey carries a number of conversions, their
value and a number of ``nulls`` (journeys with the same path that did not convert), so one row can stand for
one user's journey (touchpoint layout) or for every journey sharing a path (the aggregated layout that
ChannelAttribution uses: ``path,conversions,value,nulls``). Ten million journeys of three touches take about
half a gigabyte.

Two file layouts are read by :func:`read_paths_csv`:

- aggregated: ``path,conversions,value,nulls`` with ``path`` the channels joined by ``" > "``
  (``value`` and ``nulls`` optional);
- touchpoint: ``user_id,ts,channel,conversion,value``, one row per touch, ``conversion`` 1 on the touch where
  the journey converts (``value`` optional). A user's touches after a conversion start a new journey; touches
  after the user's last conversion form a non-converting journey (a null).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from trueroi.errors import DataValidationError
from trueroi.workspace.rules import is_direct_label

PATH_SEP = ">"
AGGREGATED_COLUMNS = ("path", "conversions", "value", "nulls")
TOUCHPOINT_COLUMNS = ("user_id", "ts", "channel", "conversion", "value")
SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True, eq=False)
class Journeys:
    """Journeys as flat arrays.

    Attributes
    ----------
    channels
        Channel labels; ``codes`` index into it.
    offsets
        int64, length ``n_journeys + 1``; journey ``j`` owns touches ``offsets[j]:offsets[j+1]`` (never
        empty).
    codes
        int32 channel code of each touch, in time order within a journey.
    conversions, value, nulls
        float64 per journey: conversions at the end of the journey, their total value (money, base currency),
        and the number of journeys with this path that ended without conversion.
    age_days
        float64 per touch or None: days from the touch to the journey's end (its conversion, or its last touch
        for a null). None when the source had no timestamps (aggregated layout).
    touch_meta
        Optional per-touch columns kept for reports and order credits (campaign, is_brand, ...).
    journey_meta
        Optional per-journey columns (order_id, conversion type, ...).
    """

    channels: tuple[str, ...]
    offsets: np.ndarray
    codes: np.ndarray
    conversions: np.ndarray
    value: np.ndarray
    nulls: np.ndarray
    age_days: np.ndarray | None = None
    touch_meta: pd.DataFrame | None = field(default=None, repr=False)
    journey_meta: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        n = len(self.offsets) - 1
        if n < 0 or self.offsets[0] != 0 or self.offsets[-1] != len(self.codes):
            raise DataValidationError(
                "journey offsets do not cover the touches", expected="offsets[0]=0, offsets[-1]=n_touches"
            )
        if n and np.any(np.diff(self.offsets) <= 0):
            raise DataValidationError("a journey has no touches", expected="at least one touch per journey")
        for name in ("conversions", "value", "nulls"):
            arr = getattr(self, name)
            if len(arr) != n:
                raise DataValidationError(f"{name} has {len(arr)} entries for {n} journeys")
            if name != "value" and np.any(arr < 0):
                raise DataValidationError(f"{name} must not be negative", column=name)

    # -- shape --------------------------------------------------------------------------------------
    @property
    def n_journeys(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_touches(self) -> int:
        return len(self.codes)

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def starts(self) -> np.ndarray:
        return self.offsets[:-1]

    @property
    def ends(self) -> np.ndarray:
        """Index of the last touch of each journey."""
        return self.offsets[1:] - 1

    def journey_of_touch(self) -> np.ndarray:
        """Journey index of each touch."""
        return np.repeat(np.arange(self.n_journeys, dtype=np.int64), self.lengths)

    def position_of_touch(self) -> np.ndarray:
        """0-based position of each touch within its journey."""
        return np.arange(self.n_touches, dtype=np.int64) - np.repeat(self.starts, self.lengths)

    def direct_codes(self) -> np.ndarray:
        return np.array([i for i, c in enumerate(self.channels) if is_direct_label(c)], dtype=np.int64)

    @property
    def total_conversions(self) -> float:
        return float(self.conversions.sum())

    @property
    def total_value(self) -> float:
        return float(self.value.sum())

    @property
    def has_times(self) -> bool:
        return self.age_days is not None

    # -- views ----------------------------------------------------------------------------------------
    @cached_property
    def converting(self) -> Journeys:
        """Only the journeys with conversions (or value): all that rule-based and Shapley credits depend on.

        Usually a small share of all journeys, so crediting them is much faster than crediting all touches.
        """
        keep = (self.conversions > 0) | (self.value != 0)
        return self if keep.all() else self.subset(keep)

    def path_strings(self, sep: str = " > ") -> list[str]:
        """Each journey's path as text, channels joined by ``sep``."""
        labels = np.asarray(self.channels, dtype=object)[self.codes]
        return [sep.join(labels[a:b]) for a, b in zip(self.offsets[:-1], self.offsets[1:], strict=True)]

    def to_paths(self) -> pd.DataFrame:
        """The aggregated layout: one row per distinct path with summed conversions, value and nulls."""
        frame = pd.DataFrame(
            {
                "path": self.path_strings(),
                "conversions": self.conversions,
                "value": self.value,
                "nulls": self.nulls,
            }
        )
        return frame.groupby("path", as_index=False, sort=True).sum()

    @cached_property
    def aggregated(self) -> Journeys:
        """:meth:`aggregate`, computed once per Journeys object."""
        return self.aggregate()

    def aggregate(self) -> Journeys:
        """The same journeys with identical paths merged (drops timestamps and metadata).

        Paths short enough to be keyed exactly by an integer (digits in base ``n_channels + 1`` within
        63 bits)
        merge through ``numpy.unique``, so ten million journeys merge in seconds; longer paths merge through
        their text.
        """
        if self.n_journeys == 0:
            return self
        base = self.n_channels + 1
        max_digits = max(int(63 / np.log2(base)) - 1, 0)
        short = self.lengths <= max_digits
        if not short.any():
            return from_paths(self.to_paths())
        part = self if short.all() else self.subset(short)
        digits = (part.codes.astype(np.int64) + 1) * np.power(
            base, (np.repeat(part.lengths, part.lengths) - 1 - part.position_of_touch()), dtype=np.int64
        )
        keys = np.add.reduceat(digits, part.starts)
        uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        k = len(uniq)
        lengths = part.lengths[first]
        offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
        take = np.repeat(part.starts[first], lengths) + (
            np.arange(offsets[-1]) - np.repeat(offsets[:-1], lengths)
        )
        sums = [np.bincount(inverse, arr, minlength=k) for arr in (part.conversions, part.value, part.nulls)]
        merged = Journeys(self.channels, offsets, part.codes[take], *sums)
        if short.all():
            return merged
        rest = from_paths(self.subset(~short).to_paths())
        return concat([merged, rest])

    def subset(self, keep: np.ndarray) -> Journeys:
        """The journeys where ``keep`` (bool per journey) is true, with their touches (metadata dropped)."""
        lengths = self.lengths[keep]
        touch_keep = np.repeat(keep, self.lengths)
        return Journeys(
            self.channels,
            np.r_[0, np.cumsum(lengths)].astype(np.int64),
            self.codes[touch_keep],
            self.conversions[keep],
            self.value[keep],
            self.nulls[keep],
            age_days=None if self.age_days is None else self.age_days[touch_keep],
        )


def concat(parts: Sequence[Journeys]) -> Journeys:
    """Journeys one after another, with channel codes re-mapped onto the union of labels."""
    channels = tuple(sorted(set().union(*(p.channels for p in parts))))
    index = {c: i for i, c in enumerate(channels)}
    codes, lengths = [], []
    for p in parts:
        remap = np.array([index[c] for c in p.channels], dtype=np.int32)
        codes.append(remap[p.codes] if len(p.channels) else p.codes)
        lengths.append(p.lengths)
    lengths_all = np.concatenate(lengths)
    ages = [p.age_days for p in parts]
    return Journeys(
        channels,
        np.r_[0, np.cumsum(lengths_all)].astype(np.int64),
        np.concatenate(codes).astype(np.int32),
        np.concatenate([p.conversions for p in parts]),
        np.concatenate([p.value for p in parts]),
        np.concatenate([p.nulls for p in parts]),
        age_days=None if any(a is None for a in ages) else np.concatenate(ages),
    )


# -- construction -------------------------------------------------------------------------------------
def _encode(labels: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    uniques, codes = np.unique(labels.astype(str), return_inverse=True)
    return tuple(str(u) for u in uniques), codes.astype(np.int32)


def _numeric(frame: pd.DataFrame, column: str, file: str | None, default: float | None = None) -> np.ndarray:
    if column not in frame.columns:
        if default is None:
            raise DataValidationError("column is missing", file=file, column=column)
        return np.full(len(frame), default, dtype=np.float64)
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & frame[column].notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataValidationError(
            "is not a number", file=file, row=row + 1, column=column, value=frame[column].iloc[row]
        )
    return values.fillna(0.0).to_numpy(dtype=np.float64)


def from_paths(
    paths: pd.DataFrame | Sequence[str],
    conversions: Sequence[float] | None = None,
    value: Sequence[float] | None = None,
    nulls: Sequence[float] | None = None,
    *,
    sep: str = PATH_SEP,
    file: str | None = None,
) -> Journeys:
    """Journeys from the aggregated layout (``path, conversions, value, nulls``).

    Parameters
    ----------
    paths
        A DataFrame with columns ``path``, ``conversions`` and optionally ``value`` and ``nulls``; or a
        sequence
        of path strings with the counts given separately.
    sep
        Channel separator inside a path; blanks around channels are stripped (as ChannelAttribution does).
    """
    if isinstance(paths, pd.DataFrame):
        frame = paths
        for col in ("path", "conversions"):
            if col not in frame.columns:
                raise DataValidationError(
                    "column is missing",
                    file=file,
                    column=col,
                    expected="columns path,conversions,value,nulls",
                )
    else:
        frame = pd.DataFrame(
            {"path": list(paths), "conversions": conversions if conversions is not None else 0.0}
        )
        if value is not None:
            frame["value"] = value
        if nulls is not None:
            frame["nulls"] = nulls
    conv = _numeric(frame, "conversions", file)
    val = _numeric(frame, "value", file, default=0.0)
    nul = _numeric(frame, "nulls", file, default=0.0)
    for name, arr in (("conversions", conv), ("nulls", nul)):
        if np.any(arr < 0):
            row = int(np.flatnonzero(arr < 0)[0])
            raise DataValidationError("is negative", file=file, row=row + 1, column=name, value=arr[row])
    texts = frame["path"].astype("string").fillna("").to_numpy(dtype=object)
    touches: list[str] = []
    lengths = np.zeros(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        parts = [p.strip() for p in str(text).split(sep)]
        parts = [p for p in parts if p]
        if not parts:
            raise DataValidationError(
                "path is empty",
                file=file,
                row=i + 1,
                column="path",
                value=text,
                expected="channels joined by ' > '",
            )
        touches.extend(parts)
        lengths[i] = len(parts)
    channels, codes = _encode(np.asarray(touches, dtype=object))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return Journeys(channels, offsets, codes, conv, val, nul)


def from_touchpoints(frame: pd.DataFrame, *, file: str | None = None) -> Journeys:
    """Journeys from the touchpoint layout (``user_id, ts, channel, conversion, value``), one row per touch.

    A journey ends at a touch with ``conversion`` > 0 (that touch belongs to it); its value is that touch's
    ``value``. A user's touches after their last conversion form one non-converting journey (``nulls`` = 1).
    ``age_days`` is measured from each touch to the journey's last touch.
    """
    for col in ("user_id", "ts", "channel", "conversion"):
        if col not in frame.columns:
            raise DataValidationError(
                "column is missing",
                file=file,
                column=col,
                expected="columns user_id,ts,channel,conversion,value",
            )
    ts = pd.to_datetime(frame["ts"], errors="coerce", utc=True)
    if ts.isna().any():
        row = int(np.flatnonzero(ts.isna().to_numpy())[0])
        raise DataValidationError(
            "is not a timestamp",
            file=file,
            row=row + 1,
            column="ts",
            value=frame["ts"].iloc[row],
            expected="ISO 8601 like 2024-05-01T10:00:00Z",
        )
    chan = frame["channel"]
    if chan.isna().any() or (chan.astype(str).str.strip() == "").any():
        row = int(np.flatnonzero((chan.isna() | (chan.astype(str).str.strip() == "")).to_numpy())[0])
        raise DataValidationError("channel is empty", file=file, row=row + 1, column="channel")
    conv = _numeric(frame, "conversion", file)
    if np.any(conv < 0):
        row = int(np.flatnonzero(conv < 0)[0])
        raise DataValidationError("is negative", file=file, row=row + 1, column="conversion", value=conv[row])
    val = _numeric(frame, "value", file, default=0.0)
    work = pd.DataFrame(
        {
            "user": frame["user_id"].astype(str).to_numpy(),
            "t": ts.dt.tz_localize(None).to_numpy(),
            "c": conv,
            "v": val,
            "ch": chan.astype(str).str.strip().to_numpy(),
            "row": np.arange(len(frame)),
        }
    )
    work = work.sort_values(["user", "t", "row"], kind="stable")
    user = work["user"].to_numpy()
    converted = work["c"].to_numpy() > 0
    new = np.ones(len(work), dtype=bool)
    new[1:] = (user[1:] != user[:-1]) | converted[:-1]
    work["journey"] = np.cumsum(new) - 1
    return _from_touch_frame(work)


def _from_touch_frame(work: pd.DataFrame) -> Journeys:
    """Build Journeys from a frame sorted by journey then time with columns journey, t, c, v, ch."""
    jid = work["journey"].to_numpy()
    starts = np.flatnonzero(np.r_[True, jid[1:] != jid[:-1]]) if len(jid) else np.zeros(0, dtype=np.int64)
    offsets = np.r_[starts, len(jid)].astype(np.int64)
    ends = offsets[1:] - 1
    conv = work["c"].to_numpy(dtype=np.float64)
    val = work["v"].to_numpy(dtype=np.float64)
    j_conv = conv[ends]
    j_val = np.where(j_conv > 0, val[ends], 0.0)
    j_null = (j_conv <= 0).astype(np.float64)
    t = work["t"].to_numpy().astype("datetime64[ns]").astype(np.int64)
    end_t = np.repeat(t[ends], np.diff(offsets))
    age = (end_t - t) / 1e9 / SECONDS_PER_DAY
    channels, codes = _encode(work["ch"].to_numpy(dtype=object))
    return Journeys(channels, offsets, codes, j_conv, j_val, j_null, age_days=age.astype(np.float64))


def read_paths_csv(path: str | Path) -> Journeys:
    """Read a journeys file in either layout (see the module docstring); the header decides which.

    Raises
    ------
    DataValidationError
        When the header matches neither layout or a value cannot be read; the message names file, row, column.
    """
    name = str(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except FileNotFoundError as exc:
        raise DataValidationError("file not found", file=name) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"cannot be read as CSV ({exc})", file=name) from exc
    frame.columns = [c.strip().lower() for c in frame.columns]
    cols = set(frame.columns)
    if {"path", "conversions"} <= cols:
        return from_paths(frame, file=name)
    if {"user_id", "ts", "channel", "conversion"} <= cols:
        return from_touchpoints(frame, file=name)
    raise DataValidationError(
        f"header {','.join(frame.columns)} matches no journeys layout",
        file=name,
        expected="path,conversions,value,nulls (aggregated) "
        "or user_id,ts,channel,conversion,value (touchpoint)",
    )
