"""Per-channel spend bounds: absolute or relative minimum and maximum, maximum change, locked channels.

Every constraint of a budget plan apart from the total is a box ``lower <= x_c <= upper`` on one channel's
weekly spend; :func:`build_bounds` intersects the boxes the user asked for and remembers which request set
each side, so the plan can say which bound binds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from trueroi.errors import UsageError

_RELATIVE = re.compile(r"^\s*([0-9.]+)\s*(%|x)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Bounds:
    """Box bounds on weekly spend per channel.

    Attributes
    ----------
    lower, upper
        Shape (C,), base currency per week; ``upper`` may be ``inf``.
    lower_source, upper_source
        Which request set each side: ``"zero"``, ``"min"``, ``"max"``, ``"max_change"``, ``"locked"`` or
        ``"none"`` (no upper bound).
    """

    lower: np.ndarray
    upper: np.ndarray
    lower_source: tuple[str, ...]
    upper_source: tuple[str, ...]


def parse_amount(spec: float | int | str, current: float, what: str) -> float:
    """An absolute amount, or one relative to ``current``: ``"80%"`` or ``"0.8x"`` mean 0.8 * current.

    Raises
    ------
    UsageError
        If ``spec`` is neither a non-negative number nor a percentage / multiple.
    """
    if isinstance(spec, int | float) and not isinstance(spec, bool):
        value = float(spec)
    else:
        text = str(spec)
        match = _RELATIVE.match(text)
        try:
            if match:
                value = float(match.group(1)) * current / (100.0 if match.group(2) == "%" else 1.0)
            else:
                value = float(text)
        except ValueError:
            value = float("nan")
    if not np.isfinite(value) or value < 0:
        raise UsageError(
            f"{what}: {spec!r} is not an amount; expected a non-negative number (1500), a percentage of "
            "current spend (80%) or a multiple of it (1.2x)"
        )
    return value


def build_bounds(
    channels: list[str],
    current: np.ndarray,
    minimum: Mapping[str, float | str] | None = None,
    maximum: Mapping[str, float | str] | None = None,
    max_change: float | None = None,
    locked: Iterable[str] = (),
) -> Bounds:
    """Intersect the requested per-channel constraints into one box per channel.

    Parameters
    ----------
    channels
        Channel names (C).
    current
        Shape (C,): current weekly spend, base currency.
    minimum, maximum
        Channel name -> amount per week, absolute or relative to current spend (see :func:`parse_amount`).
    max_change
        Largest relative change of any channel, e.g. 0.3 keeps each channel within +-30% of current spend;
        where it contradicts a channel's own ``minimum`` or ``maximum``, those win.
    locked
        Channels held at their current spend.

    Raises
    ------
    UsageError
        On an unknown channel name, a negative ``max_change`` or bounds that leave a channel no spend.
    """
    current = np.asarray(current, dtype=float)
    lower, upper = np.zeros(len(channels)), np.full(len(channels), np.inf)
    lo_src, hi_src = ["zero"] * len(channels), ["none"] * len(channels)
    index = {name: j for j, name in enumerate(channels)}

    def position(name: str, option: str) -> int:
        if name not in index:
            raise UsageError(
                f"{option}: unknown channel {name!r}; the model's channels are {', '.join(channels)}"
            )
        return index[name]

    def tighten(j: int, lo: float | None, hi: float | None, source: str) -> None:
        if lo is not None and lo > lower[j]:
            lower[j], lo_src[j] = lo, source
        if hi is not None and hi < upper[j]:
            upper[j], hi_src[j] = hi, source

    for name, spec in (minimum or {}).items():
        j = position(name, "minimum")
        tighten(j, parse_amount(spec, current[j], f"minimum of {name}"), None, "min")
    for name, spec in (maximum or {}).items():
        j = position(name, "maximum")
        tighten(j, None, parse_amount(spec, current[j], f"maximum of {name}"), "max")
    if max_change is not None:
        if not np.isfinite(max_change) or max_change < 0:
            raise UsageError(f"max_change must be a non-negative fraction like 0.3, got {max_change}")
        for j in range(len(channels)):  # a channel's own minimum / maximum win where they disagree
            tighten(
                j,
                min(current[j] * (1 - max_change), upper[j]),
                max(current[j] * (1 + max_change), lower[j]),
                "max_change",
            )
    for name in locked:
        j = position(name, "locked")
        lower[j], upper[j], lo_src[j], hi_src[j] = current[j], current[j], "locked", "locked"
    bad = [channels[j] for j in range(len(channels)) if lower[j] > upper[j] * (1 + 1e-12)]
    if bad:
        detail = "; ".join(
            f"{channels[j]}: min {lower[j]:,.2f} > max {upper[j]:,.2f}" for j in map(index.get, bad)
        )
        raise UsageError(f"contradictory bounds ({detail}); loosen the minimum, maximum or max_change")
    return Bounds(lower, np.maximum(upper, lower), tuple(lo_src), tuple(hi_src))
