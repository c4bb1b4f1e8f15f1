"""Per-order credits for any attribution model: what the KPI engine joins with orders.

Rule-based models and Shapley (``game="conversions"``) define each conversion's split over its own touches,
so their per-order credits are exact. Markov (and Shapley with ``game="conversion_rate"``) define channel
totals only. For them each order's credit is spread over the channels on its path in proportion to channel
weights ``lambda_c``: ``share(o, c) = lambda_c / sum of lambda over the channels of o``, and the weights are
fitted by iterative proportional fitting (Deming & Stephan 1940; the Sinkhorn iteration) so that the shares,
summed over orders, reproduce the model's channel conversions whenever some proportional split can. Markov
totals need not be reachable that way: the chain can credit a channel that lies on no converting path, or
give the channels that always appear together on the same paths more or less than those paths' conversions.
The iteration then settles on the closest reachable split; the per-order shares always sum to 1, so the
order credits keep the total and their per-channel sums can differ from the Markov table. The Markov table
(``trueroi attribution``) stays the reference for Markov channel totals. Within an order, a channel's
share is split equally over
its touches, which carry the campaign and brand flag.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from trueroi.attribution.heuristics import RuleBasedModel
from trueroi.attribution.journeys import Journeys
from trueroi.attribution.registry import get_model
from trueroi.attribution.shapley import OrderedShapley, Shapley
from trueroi.attribution.warehouse import build_journeys

IPF_TOL = 1e-10
IPF_MAX_ITER = 2000


def proportional_channel_weights(journeys: Journeys, targets: np.ndarray) -> np.ndarray:
    """Channel weights ``lambda`` so that proportional per-journey shares reproduce ``targets`` (IPF).

    Parameters
    ----------
    journeys
        Journeys; only converting ones matter (weight = conversions).
    targets
        Channel conversions to reproduce (float per channel).
    """
    n = journeys.n_channels
    conv = journeys.conversions
    jt = journeys.journey_of_touch()
    incidence = sp.csr_matrix(
        (np.ones(journeys.n_touches), (jt, journeys.codes)), shape=(journeys.n_journeys, n)
    )
    incidence.data[:] = 1.0  # presence, not touch count
    incidence = incidence[conv > 0]
    c = conv[conv > 0]
    lam = np.where(targets > 0, 1.0, 0.0)
    reachable = np.asarray(incidence.sum(axis=0)).ravel() > 0
    lam[~reachable] = 0.0
    if not np.any(lam > 0):
        return np.where(reachable, 1.0, 0.0)
    for _ in range(IPF_MAX_ITER):
        denom = incidence @ lam
        current = lam * (incidence.T @ np.divide(c, denom, out=np.zeros_like(c), where=denom > 0))
        ratio = np.divide(targets, current, out=np.ones_like(current), where=current > 0)
        lam = lam * ratio
        lam = lam / lam[lam > 0].max()
        lam = np.where(
            lam > 0, np.maximum(lam, 1e-12), 0.0
        )  # unreachable targets must not underflow the rest
        active = current > 0
        if np.all(np.abs(ratio[active] - 1.0) < IPF_TOL):
            break
    return lam


def touch_shares(journeys: Journeys, model: Any) -> np.ndarray:
    """Share of each touch in its journey's conversion credit under ``model`` (an unfitted model or a
    name)."""
    model = get_model(model) if isinstance(model, str) else model
    if isinstance(model, RuleBasedModel) and model.per_journey_exact:
        return model.touch_weights(journeys)
    if isinstance(model, OrderedShapley):
        return Shapley().touch_weights(journeys)
    model.fit(journeys)
    lam = proportional_channel_weights(journeys, model.conversions_)
    jt = journeys.journey_of_touch()
    n = journeys.n_channels
    key = jt * n + journeys.codes.astype(np.int64)
    uniq, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    u_j, u_c = uniq // n, uniq % n
    denom = np.bincount(u_j, lam[u_c], minlength=journeys.n_journeys)
    share = np.divide(lam[u_c], denom[u_j], out=np.zeros(len(uniq)), where=denom[u_j] > 0)
    # journeys whose channels all have zero weight: equal shares over their distinct channels
    n_distinct = np.bincount(u_j, minlength=journeys.n_journeys)
    share = np.where(denom[u_j] > 0, share, 1.0 / n_distinct[u_j])
    return (share / counts)[inverse]


def order_credits(
    workspace: Any,
    model: str,
    *,
    lookback_days: int | None = None,
    settings: dict[str, Any] | None = None,
    **journey_options: Any,
) -> pd.DataFrame:
    """Per-order credits of one attribution model.

    Parameters
    ----------
    workspace
        A :class:`~trueroi.workspace.Workspace`.
    model
        Registry name (``last_non_direct_click``, ``markov``, ...).
    lookback_days
        Window before each order (workspace ``lookback_days`` when None).
    settings
        Model settings, e.g. ``{"order": 2}`` for Markov.

    Returns
    -------
    pandas.DataFrame
        ``order_id, channel, campaign, is_brand, credit``: credit >= 0, summing to 1 per order; orders without
        a touch in the lookback window are absent.
    """
    journeys = build_journeys(workspace, lookback_days=lookback_days, source="orders", **journey_options)
    cols = ["order_id", "channel", "campaign", "is_brand", "credit"]
    if journeys.n_journeys == 0 or journeys.total_conversions == 0:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c == "credit" else "object") for c in cols})
    estimator = get_model(model, **(settings or {}))
    shares = touch_shares(journeys, estimator)
    jt = journeys.journey_of_touch()
    frame = pd.DataFrame(
        {
            "order_id": journeys.journey_meta["event_id"].to_numpy()[jt],
            "channel": np.asarray(journeys.channels, dtype=object)[journeys.codes],
            "campaign": journeys.touch_meta["campaign"].to_numpy(),
            "is_brand": journeys.touch_meta["is_brand"].to_numpy(),
            "credit": shares,
            "converted": journeys.conversions[jt] > 0,
        }
    )
    frame = frame[frame["converted"] & (frame["credit"] > 0)]
    out = frame.groupby(["order_id", "channel", "campaign", "is_brand"], dropna=False, as_index=False)[
        "credit"
    ].sum()
    return out[cols].sort_values(["order_id", "channel", "campaign"], ignore_index=True)
