"""Rule-based attribution: first click, last click, last non-direct click, linear, time decay, position based.

Each rule gives every touch of a journey a share of that journey's conversions; the shares of one journey sum
to 1, so the channel credits sum to the total conversions and value. Shares are computed for all touches at
once with numpy (no Python loop over journeys). Definitions follow Google Analytics' rule-based models
(Google Analytics Help, "Attribution models", and GA4 "Get started with attribution"):

- first click / last click: all credit to the first / last touch;
- last non-direct click: all credit to the last touch whose channel is not direct; a journey of direct touches
  only credits its last touch (direct);
- linear: equal shares ``1/L`` per touch (a channel touched twice gets two shares, as ChannelAttribution's
  ``linear_touch``);
- time decay: share proportional to ``2 ** (-age / half_life)`` with ``age`` the days from touch to conversion
  (GA: half-life 7 days); journeys without timestamps use the distance in touches and ``half_life_touches``;
- position based (U-shaped): 40 % first, 40 % last, 20 % spread over the middle touches; a two-touch journey
  splits first:last in the ratio of their shares (50/50 by default), a one-touch journey gives 100 %.
"""

from __future__ import annotations

import numpy as np

from trueroi.attribution.base import AttributionModel, register_model, segment_sum, weighted_bincount
from trueroi.attribution.journeys import Journeys
from trueroi.errors import UsageError


class RuleBasedModel(AttributionModel):
    """A model defined by per-touch shares; subclasses implement :meth:`touch_weights`."""

    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        """Share of each touch in its journey's credit (float64 per touch; sums to 1 within each journey)."""
        raise NotImplementedError

    def _credit(self, journeys: Journeys) -> tuple[np.ndarray, np.ndarray]:
        journeys = journeys.converting  # journeys without conversions carry no credit
        w = self.touch_weights(journeys)
        lengths = journeys.lengths
        conv = w * np.repeat(journeys.conversions, lengths)
        val = w * np.repeat(journeys.value, lengths)
        n = journeys.n_channels
        return weighted_bincount(journeys.codes, conv, n), weighted_bincount(journeys.codes, val, n)


@register_model
class FirstClick(RuleBasedModel):
    """All credit to the journey's first touch."""

    name = "first_click"

    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        w = np.zeros(journeys.n_touches)
        w[journeys.starts] = 1.0
        return w


@register_model
class LastClick(RuleBasedModel):
    """All credit to the journey's last touch."""

    name = "last_click"

    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        w = np.zeros(journeys.n_touches)
        w[journeys.ends] = 1.0
        return w


@register_model
class LastNonDirectClick(RuleBasedModel):
    """All credit to the last touch that is not direct ("Direct" or "(direct)"); all-direct journeys
    credit direct."""

    name = "last_non_direct_click"

    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        w = np.zeros(journeys.n_touches)
        if journeys.n_journeys == 0:
            return w
        direct = np.isin(journeys.codes, journeys.direct_codes())
        idx = np.where(direct, -1, np.arange(journeys.n_touches, dtype=np.int64))
        last_nd = np.maximum.reduceat(idx, journeys.starts)
        chosen = np.where(last_nd >= journeys.starts, last_nd, journeys.ends)
        w[chosen] = 1.0
        return w


@register_model
class Linear(RuleBasedModel):
    """Equal share ``1/L`` to each of the journey's ``L`` touches."""

    name = "linear"

    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        lengths = journeys.lengths
        return np.repeat(1.0 / lengths, lengths)


@register_model
class TimeDecay(RuleBasedModel):
    """Share proportional to ``2 ** (-age / half_life)``; recent touches get more.

    Parameters
    ----------
    half_life_days
        Days after which a touch's weight halves (GA default 7). Used when the journeys carry timestamps.
    half_life_touches
        Half-life in touches, used when the journeys carry no timestamps (aggregated layout): the last
        touch has
        age 0, the one before age 1, and so on.
    """

    name = "time_decay"

    def __init__(self, half_life_days: float = 7.0, half_life_touches: float = 1.0) -> None:
        self.half_life_days = half_life_days
        self.half_life_touches = half_life_touches

    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        if self.half_life_days <= 0 or self.half_life_touches <= 0:
            raise UsageError("time decay half-life must be positive")
        if journeys.age_days is not None:
            age = np.maximum(journeys.age_days, 0.0) / self.half_life_days
        else:
            pos = journeys.position_of_touch()
            age = (np.repeat(journeys.lengths, journeys.lengths) - 1 - pos) / self.half_life_touches
        # subtract each journey's smallest age before exponentiating so long journeys do not underflow
        min_age = np.minimum.reduceat(age, journeys.starts) if journeys.n_journeys else age
        raw = np.exp2(-(age - np.repeat(min_age, journeys.lengths)))
        return raw / np.repeat(segment_sum(raw, journeys.offsets), journeys.lengths)


@register_model
class PositionBased(RuleBasedModel):
    """U-shaped: ``first`` share to the first touch, ``last`` to the last, the rest spread over the middle.

    Parameters
    ----------
    first, last
        Shares of the first and last touch (default 0.4 each, so the middle gets 0.2).
    """

    name = "position_based"

    def __init__(self, first: float = 0.4, last: float = 0.4) -> None:
        self.first = first
        self.last = last

    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        if self.first < 0 or self.last < 0 or self.first + self.last > 1 or self.first + self.last == 0:
            raise UsageError(
                f"position_based shares first={self.first}, last={self.last} are invalid; "
                "expected non-negative shares with 0 < first + last <= 1"
            )
        lengths = journeys.lengths
        per_len = np.repeat(lengths, lengths)
        middle = np.where(per_len > 2, (1.0 - self.first - self.last) / np.maximum(per_len - 2, 1), 0.0)
        w = middle.copy()
        two = lengths == 2
        first_share = np.where(two, self.first / (self.first + self.last), self.first)
        last_share = np.where(two, self.last / (self.first + self.last), self.last)
        w[journeys.starts] = first_share
        w[journeys.ends] = last_share
        one = lengths == 1
        w[journeys.starts[one]] = 1.0
        return w
