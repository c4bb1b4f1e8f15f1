"""Shapley-value attribution, computed exactly over channel coalitions, and its ordered variant.

Cooperative game (Shapley 1953): the players are the channels, the worth ``v(S)`` of a coalition ``S`` comes
from the observed journeys' channel sets. Two characteristic functions are offered:

- ``"conversions"`` (default; Zhao, Mahboobi & Bagheri 2018, "Shapley value methods for attribution modeling
  in online advertising", arXiv:1804.05327, eq. 3): ``v(S) = sum of conversions of journeys whose channel
  set is a subset of S``. Its Möbius transform (Harsanyi dividends) is the conversions of each exact channel
  set, so each converting journey's credit is split equally over its distinct channels (their eq. 6). This is
  exact for any number of channels and credits each conversion over its own journey.
- ``"conversion_rate"``: ``v(S) = conversions / journeys`` over the journeys whose channel set is a subset of
  ``S`` (the conversion rate a user would have if only the channels in S existed; uses the nulls). Computed
  over all ``2^n`` coalitions with the fast subset-sum (zeta) transform and its inverse, the Möbius transform
  (Yates' algorithm; Grabisch 2016, "Set Functions, Games and Capacities in Decision Making", §2.10), in
  ``O(n 2^n)``: exact up to :data:`MAX_EXACT_CHANNELS` channels. Shapley values then are
  ``phi_i = sum over T containing i of m(T) / |T|``. They sum to the overall conversion rate and are scaled to
  the total conversions; a channel that lowers the conversion rate gets a negative credit.

The ordered variant (Zhao et al. 2018, §3.3, "ordered Shapley value") credits ``(channel, position)`` pairs:
each converting journey's distinct channels, in order of first touch, get ``1/|T|`` at their position. Its
channel totals equal the ``"conversions"`` Shapley values by construction; what it adds is the breakdown by
position (``position_credits_``: does a channel open or close journeys).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trueroi.attribution.base import AttributionModel, register_model, weighted_bincount
from trueroi.attribution.heuristics import RuleBasedModel
from trueroi.attribution.journeys import Journeys
from trueroi.errors import UsageError

MAX_EXACT_CHANNELS = 24
GAMES = ("conversions", "conversion_rate")


# -- set-function transforms on arrays indexed by bitmask -----------------------------------------------
def _n_players(f: np.ndarray) -> int:
    n = int(len(f)).bit_length() - 1
    if len(f) != 1 << n:
        raise UsageError(f"a set function over n players has 2**n entries, got {len(f)}")
    return n


def subset_sum(f: np.ndarray) -> np.ndarray:
    """Zeta transform: ``g(S) = sum of f(T) over T subset of S`` (``O(n 2^n)``); ``f`` is indexed by
    bitmask."""
    g = np.array(f, dtype=np.float64, copy=True)
    n = _n_players(g)
    for i in range(n):
        view = g.reshape(-1, 2, 1 << i)
        view[:, 1, :] += view[:, 0, :]
    return g


def mobius(v: np.ndarray) -> np.ndarray:
    """Möbius transform, the inverse of :func:`subset_sum`: the Harsanyi dividends ``m(T)`` of the game
    ``v``."""
    m = np.array(v, dtype=np.float64, copy=True)
    n = _n_players(m)
    for i in range(n):
        view = m.reshape(-1, 2, 1 << i)
        view[:, 1, :] -= view[:, 0, :]
    return m


def popcounts(n: int) -> np.ndarray:
    """Number of set bits of every mask 0 .. 2**n - 1."""
    pc = np.zeros(1, dtype=np.int8)
    for _ in range(n):
        pc = np.concatenate([pc, pc + 1])
    return pc


def shapley_from_dividends(m: np.ndarray) -> np.ndarray:
    """Shapley values from Harsanyi dividends: ``phi_i = sum over T containing i of m(T)/|T|``."""
    n = _n_players(m)
    size = popcounts(n).astype(np.float64)
    size[0] = 1.0
    share = m / size
    share[0] = 0.0
    return np.array([share.reshape(-1, 2, 1 << i)[:, 1, :].sum() for i in range(n)])


def shapley_value(v: np.ndarray) -> np.ndarray:
    """Exact Shapley values of the game ``v`` (array over all 2^n coalitions by bitmask; ``v[0]`` is
    ignored)."""
    game = np.array(v, dtype=np.float64, copy=True)
    game[0] = 0.0
    return shapley_from_dividends(mobius(game))


# -- journeys to coalitions ---------------------------------------------------------------------------------
def distinct_touches(journeys: Journeys) -> pd.DataFrame:
    """One row per (journey, distinct channel): ``journey, code, first_touch, n_touches, rank, n_distinct``.

    ``rank`` is the channel's 0-based position among the journey's distinct channels in order of first touch.
    """
    n = max(journeys.n_channels, 1)
    jt = journeys.journey_of_touch()
    key = jt * n + journeys.codes.astype(np.int64)
    uniq, first, count = np.unique(key, return_index=True, return_counts=True)
    journey, code = uniq // n, uniq % n
    n_distinct = np.bincount(journey, minlength=journeys.n_journeys)
    order = np.lexsort((first, journey))
    rank = np.empty(len(uniq), dtype=np.int64)
    group_start = np.r_[0, np.cumsum(n_distinct)][:-1]
    rank[order] = np.arange(len(uniq)) - np.repeat(group_start, n_distinct)
    return pd.DataFrame(
        {
            "journey": journey,
            "code": code,
            "first_touch": first,
            "n_touches": count,
            "rank": rank,
            "n_distinct": n_distinct[journey],
        }
    )


def coalition_masks(journeys: Journeys) -> np.ndarray:
    """The channel set of each journey as a bitmask (int64; needs at most 62 channels)."""
    if journeys.n_channels > 62:
        raise UsageError(f"{journeys.n_channels} channels do not fit a 62-bit coalition mask")
    bits = np.left_shift(np.int64(1), journeys.codes.astype(np.int64))
    return np.bitwise_or.reduceat(bits, journeys.starts) if journeys.n_journeys else bits


def characteristic_function(
    journeys: Journeys, game: str = "conversions", what: str = "conversions"
) -> np.ndarray:
    """The game ``v`` over all ``2^n`` coalitions (bitmask index) for conversions or value.

    ``game="conversions"``: ``v(S)`` sums ``what`` over journeys whose channel set is within ``S``;
    ``game="conversion_rate"``: that sum divided by the number of those journeys (conversions + nulls).
    """
    n = journeys.n_channels
    if n > MAX_EXACT_CHANNELS:
        raise UsageError(
            f"exact Shapley over all coalitions is limited to {MAX_EXACT_CHANNELS} channels, got {n}; "
            "group small channels or use game='conversions'"
        )
    masks = coalition_masks(journeys)
    numer = subset_sum(np.bincount(masks, getattr(journeys, what), minlength=1 << n))
    if game == "conversions":
        return numer
    denom = subset_sum(np.bincount(masks, journeys.conversions + journeys.nulls, minlength=1 << n))
    return np.divide(numer, denom, out=np.zeros_like(numer), where=denom > 0)


@register_model
class Shapley(RuleBasedModel):
    """Exact Shapley-value attribution over channel coalitions (see the module docstring).

    Parameters
    ----------
    game
        ``"conversions"`` (default) or ``"conversion_rate"``.
    """

    name = "shapley"

    def __init__(self, game: str = "conversions") -> None:
        if game not in GAMES:
            raise UsageError(f"unknown Shapley game {game!r}; expected one of {', '.join(GAMES)}")
        self.game = game

    @property
    def per_journey_exact(self) -> bool:  # type: ignore[override]
        return self.game == "conversions"

    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        """Each distinct channel of a journey gets ``1/|T|``, split equally over that channel's touches."""
        if self.game != "conversions":
            raise UsageError("per-touch Shapley shares exist only for game='conversions'")
        d = distinct_touches(journeys)
        per_touch = 1.0 / (d["n_distinct"].to_numpy() * d["n_touches"].to_numpy())
        n = max(journeys.n_channels, 1)
        key = journeys.journey_of_touch() * n + journeys.codes.astype(np.int64)
        pos = np.searchsorted((d["journey"].to_numpy() * n + d["code"].to_numpy()), key)
        return per_touch[pos]

    def _credit(self, journeys: Journeys) -> tuple[np.ndarray, np.ndarray]:
        if self.game == "conversions":
            return super()._credit(journeys)
        results = []
        for what, total in (("conversions", journeys.total_conversions), ("value", journeys.total_value)):
            v = characteristic_function(journeys, self.game, what)
            phi = shapley_value(v)
            full = v[-1]
            results.append(phi / full * total if full != 0 else np.zeros_like(phi))
        return results[0], results[1]


@register_model
class OrderedShapley(AttributionModel):
    """Ordered Shapley value (Zhao et al. 2018, §3.3): credit per channel and position of first touch.

    Attributes
    ----------
    position_credits_
        DataFrame ``channel, position (1 = opened the journey), conversions, value``.
    """

    name = "shapley_ordered"

    def _credit(self, journeys: Journeys) -> tuple[np.ndarray, np.ndarray]:
        journeys = journeys.converting
        d = distinct_touches(journeys)
        j = d["journey"].to_numpy()
        share = 1.0 / d["n_distinct"].to_numpy()
        conv = share * journeys.conversions[j]
        val = share * journeys.value[j]
        frame = pd.DataFrame(
            {
                "channel": np.asarray(journeys.channels, dtype=object)[d["code"].to_numpy()]
                if len(d)
                else [],
                "position": d["rank"].to_numpy() + 1,
                "conversions": conv,
                "value": val,
            }
        )
        self.position_credits_ = frame.groupby(["channel", "position"], as_index=False)[
            ["conversions", "value"]
        ].sum()
        code = d["code"].to_numpy()
        n = journeys.n_channels
        return weighted_bincount(code, conv, n), weighted_bincount(code, val, n)
