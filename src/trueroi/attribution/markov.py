"""Markov-chain attribution with removal effects computed exactly from the absorbing chain.

The journeys define a Markov chain of order ``k`` (Anderl, Becker, von Wangenheim & Schumann 2016, "Mapping
the customer journey: lessons learned from graph-based online attribution modeling", IJRM 33(3)): a state is
the window of the last ``k`` channels (journeys shorter than ``k`` are one state), repeated consecutive states
merge, every journey starts in ``(start)`` and ends in ``(conversion)`` or ``(null)``. Transition
probabilities
are the observed transition counts, weighted by the journeys' conversions plus nulls, divided by the counts
leaving the state. This is the chain ChannelAttribution builds (Altomare & Loris, ChannelAttribution 2.x).

The removal effect of channel ``c`` is the share of conversions lost when every state containing ``c`` sends
its visitors to ``(null)``: ``RE_c = 1 - P(conversion | c removed) / P(conversion)``. ChannelAttribution
estimates both probabilities by simulating paths; here they come from the fundamental matrix of the absorbing
chain (Kemeny & Snell 1960, Finite Markov Chains, ch. 3): with ``Q`` the transient-to-transient transitions
and ``r`` the transient-to-conversion probabilities, the expected visits from the start are
``x = e_start (I - Q)^{-1}`` and ``P(conversion) = x r``. Removing ``c`` deletes its states' rows and columns
from ``I - Q`` and solves again, one sparse solve per channel. The value removal effect weights each state's
conversion probability by the mean value of conversions whose last state it is (as ChannelAttribution draws
a conversion value given the last state). Credits are the removal effects normalised to sum to one, times
the total conversions (and value).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from trueroi.attribution.base import AttributionModel, register_model
from trueroi.attribution.journeys import Journeys
from trueroi.errors import UsageError

MAX_ORDER = 3
AGGREGATE_ABOVE = 50_000


@dataclass(frozen=True)
class AbsorbingChain:
    """The chain built from journeys: state 0 is ``(start)``; states 1..S are channel windows.

    ``counts`` is the (S+1) x (S+1) sparse matrix of weighted transition counts between transient states;
    ``to_conversion``, ``to_null`` and ``value_at_exit`` are per state (weighted exits and the value of the
    conversions that exit from it); ``members`` (S+1 x n_channels, bool) says which channels a state contains.
    """

    counts: sp.csr_matrix
    to_conversion: np.ndarray
    to_null: np.ndarray
    value_at_exit: np.ndarray
    members: np.ndarray
    labels: tuple[str, ...]

    @property
    def out_weight(self) -> np.ndarray:
        return np.asarray(self.counts.sum(axis=1)).ravel() + self.to_conversion + self.to_null


def _window_keys(journeys: Journeys, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer key of each window of ``order`` consecutive channels, and its journey (in time order)."""
    codes = journeys.codes.astype(np.int64)
    base = journeys.n_channels + 1
    if base**order >= 2**62:
        raise UsageError(f"too many channels ({journeys.n_channels}) for a Markov chain of order {order}")
    lengths = journeys.lengths
    per_len = np.repeat(lengths, lengths)
    pos = journeys.position_of_touch()
    valid = (pos <= per_len - order) | ((per_len < order) & (pos == 0))
    start_idx = np.flatnonzero(valid)
    key = np.zeros(len(start_idx), dtype=np.int64)
    last = journeys.n_touches - 1
    for i in range(order):
        inside = pos[start_idx] + i < per_len[start_idx]
        digit = np.where(inside, codes[np.minimum(start_idx + i, last)] + 1, 0)
        key = key * base + digit
    return key, journeys.journey_of_touch()[start_idx]


def build_chain(journeys: Journeys, order: int = 1) -> AbsorbingChain:
    """The absorbing Markov chain of the given order (1 to 3) from the journeys."""
    if order not in range(1, MAX_ORDER + 1):
        raise UsageError(f"Markov order must be 1, 2 or 3, got {order}")
    key, jour = _window_keys(journeys, order)
    keep = np.ones(len(key), dtype=bool)
    keep[1:] = (key[1:] != key[:-1]) | (jour[1:] != jour[:-1])
    key, jour = key[keep], jour[keep]
    uniq, state = np.unique(key, return_inverse=True)
    state = state.astype(np.int64) + 1
    n_states = len(uniq) + 1
    first = np.ones(len(key), dtype=bool)
    first[1:] = jour[1:] != jour[:-1]
    prev = np.where(first, 0, np.r_[0, state[:-1]])
    weight = (journeys.conversions + journeys.nulls)[jour]
    counts = sp.coo_matrix((weight, (prev, state)), shape=(n_states, n_states)).tocsr()
    counts.sum_duplicates()
    last = np.ones(len(key), dtype=bool)
    last[:-1] = jour[1:] != jour[:-1]
    exit_state, exit_j = state[last], jour[last]
    to_conv = np.bincount(exit_state, journeys.conversions[exit_j], minlength=n_states)
    to_null = np.bincount(exit_state, journeys.nulls[exit_j], minlength=n_states)
    val = np.bincount(exit_state, journeys.value[exit_j], minlength=n_states)
    members = np.zeros((n_states, journeys.n_channels), dtype=bool)
    labels = ["(start)"]
    base = journeys.n_channels + 1
    rest = uniq.copy()
    digits = []
    for _ in range(order):
        digits.append(rest % base)
        rest //= base
    digits.reverse()
    for d in digits:
        has = d > 0
        members[np.flatnonzero(has) + 1, d[has] - 1] = True
    names = np.asarray(journeys.channels, dtype=object)
    for s in range(len(uniq)):
        labels.append(" > ".join(names[d[s] - 1] for d in digits if d[s] > 0))
    return AbsorbingChain(counts, to_conv, to_null, val, members, tuple(labels))


def _start_visits(a_matrix: sp.csr_matrix, keep: np.ndarray | None = None) -> np.ndarray:
    """Expected visits to each kept state from the start: solve ``(I - Q)^T x = e_start``."""
    mat = a_matrix if keep is None else a_matrix[keep][:, keep]
    rhs = np.zeros(mat.shape[0])
    rhs[0] = 1.0
    # SuperLU for every size: single-threaded, so it does not stall like multithreaded BLAS on busy machines
    return spla.splu(mat.T.tocsc()).solve(rhs)


def removal_effects(chain: AbsorbingChain) -> tuple[np.ndarray, np.ndarray, float]:
    """Exact removal effects per channel for conversions and for value, and P(conversion) from the start.

    Returns
    -------
    re_conv, re_value
        float64 per channel in [0, 1].
    p_conversion
        The chain's probability of ending in ``(conversion)``.
    """
    out = chain.out_weight
    inv = np.divide(1.0, out, out=np.zeros_like(out), where=out > 0)
    q = sp.diags(inv) @ chain.counts
    a_matrix = (sp.identity(q.shape[0], format="csr") - q).tocsr()
    r_conv = chain.to_conversion * inv
    r_val = chain.value_at_exit * inv
    x = _start_visits(a_matrix)
    p_conv, p_val = float(x @ r_conv), float(x @ r_val)
    n_channels = chain.members.shape[1]
    re_conv, re_val = np.zeros(n_channels), np.zeros(n_channels)
    for c in range(n_channels):
        keep = ~chain.members[:, c]
        xk = _start_visits(a_matrix, keep)
        if p_conv > 0:
            re_conv[c] = 1.0 - float(xk @ r_conv[keep]) / p_conv
        if p_val != 0:
            re_val[c] = 1.0 - float(xk @ r_val[keep]) / p_val
    return np.clip(re_conv, 0.0, 1.0), np.clip(re_val, 0.0, 1.0), p_conv


def _normalise(effects: np.ndarray, total: float) -> np.ndarray:
    s = effects.sum()
    return effects / s * total if s > 0 else np.zeros_like(effects)


@register_model
class MarkovChain(AttributionModel):
    """Markov-chain attribution of order 1 to 3 with exact removal effects (see the module docstring).

    Parameters
    ----------
    order
        Number of past channels a state remembers (1, 2 or 3).

    Attributes
    ----------
    removal_effects_
        DataFrame ``channel, removal_effect_conversions, removal_effect_value``.
    p_conversion_
        Probability that a journey from ``(start)`` converts, under the fitted chain.
    transition_matrix_
        DataFrame ``state_from, state_to, probability`` (states named by their channels).
    """

    name = "markov"
    per_journey_exact = False

    def __init__(self, order: int = 1) -> None:
        self.order = order

    def _credit(self, journeys: Journeys) -> tuple[np.ndarray, np.ndarray]:
        if journeys.n_journeys == 0:
            zeros = np.zeros(journeys.n_channels)
            self.removal_effects_ = pd.DataFrame(
                {
                    "channel": list(journeys.channels),
                    "removal_effect_conversions": zeros,
                    "removal_effect_value": zeros,
                }
            )
            self.p_conversion_ = 0.0
            return zeros, zeros
        if journeys.n_journeys > AGGREGATE_ABOVE:
            journeys = journeys.aggregated  # the chain depends only on the multiset of paths: exact
        chain = build_chain(journeys, self.order)
        re_conv, re_val, p_conv = removal_effects(chain)
        self.chain_ = chain
        self.p_conversion_ = p_conv
        self.removal_effects_ = pd.DataFrame(
            {
                "channel": list(journeys.channels),
                "removal_effect_conversions": re_conv,
                "removal_effect_value": re_val,
            }
        )
        return _normalise(re_conv, journeys.total_conversions), _normalise(re_val, journeys.total_value)

    @property
    def transition_matrix_(self) -> pd.DataFrame:
        self._check_fitted()
        chain = self.chain_
        out = chain.out_weight
        coo = chain.counts.tocoo()
        labels = np.asarray(chain.labels + ("(conversion)", "(null)"), dtype=object)
        n = len(chain.labels)
        rows = np.r_[coo.row, np.arange(n), np.arange(n)]
        cols = np.r_[coo.col, np.full(n, n), np.full(n, n + 1)]
        w = np.r_[coo.data, chain.to_conversion, chain.to_null]
        ok = (w > 0) & (out[rows] > 0)
        return pd.DataFrame(
            {
                "state_from": labels[rows[ok]],
                "state_to": labels[cols[ok]],
                "probability": w[ok] / out[rows[ok]],
            }
        )
