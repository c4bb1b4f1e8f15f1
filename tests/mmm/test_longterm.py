"""Cumulative ROI by months since spend (trueroi.mmm.longterm): the curve against geometric sums written
by hand, its limit against the model's summary, the payback month, horizons past l_max, the geo model."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from trueroi.errors import UsageError
from trueroi.mmm import MMM
from trueroi.mmm.longterm import carryover_share, cumulative_curve, cumulative_roi, payback_month

ALPHA, L = 0.5, 8
WEEKS_PER_MONTH = 365.25 / 12 / 7  # 4.348 weeks


def hand_share(alpha: np.ndarray, k: float, n_lags: int = L) -> np.ndarray:
    """Geometric carry-over: share of the effect within k periods, (1 - a^k) / (1 - a^L) at whole k, the
    next lag's weight a^floor(k) (1 - a) / (1 - a^L) pro rata in between; 1 from L on."""
    if k >= n_lags:
        return np.ones_like(alpha)
    whole, frac = int(np.floor(k)), k - np.floor(k)
    return ((1 - alpha**whole) + frac * alpha**whole * (1 - alpha)) / (1 - alpha**n_lags)


def test_geometric_share_by_hand() -> None:
    weights = np.array([ALPHA**lag for lag in range(L)])  # w_l = alpha^l, written out
    share = carryover_share(weights, [1, 2, 3, 4, 8, 12])
    expected = [(1 - ALPHA**k) / (1 - ALPHA**L) for k in (1, 2, 3, 4)] + [1.0, 1.0]
    np.testing.assert_allclose(share, expected, rtol=1e-12)
    assert share[0] == pytest.approx(0.5 / (1 - 0.5**8))  # first week: 0.50196
    # 1 month of weekly data = 4.348 weeks: 4 whole weeks plus 0.348 of the fifth week's weight
    month = carryover_share(weights, [WEEKS_PER_MONTH])[0]
    assert month == pytest.approx((1 - 0.5**4 + (WEEKS_PER_MONTH - 4) * 0.5**4 * 0.5) / (1 - 0.5**8))


def test_margin_curve_and_payback_by_hand() -> None:
    weights = np.array([ALPHA**lag for lag in range(L)])
    share = carryover_share(weights, [1, 2, 3, 8])[:, None]  # one draw
    roas, margin = 4.0, 0.4  # long-run margin ROI 0.4 * 4 - 1 = 0.6
    curve = cumulative_curve(share, np.array([roas]), "margin", margin)[:, 0]
    expected = [margin * roas * (1 - ALPHA**k) / (1 - ALPHA**L) - 1 for k in (1, 2, 3)] + [0.6]
    np.testing.assert_allclose(curve, expected, rtol=1e-12)
    # by hand: 1.6 * 0.502 - 1 = -0.197; 1.6 * 0.753 - 1 = 0.205 -> pays back in the second horizon
    assert payback_month([1, 2, 3, 8], curve, "margin") == 2
    roas_curve = cumulative_curve(share, np.array([1.5]), "roas")[:, 0]  # 0.75, 1.13, ...: ROAS >= 1
    assert payback_month([1, 2, 3, 8], roas_curve, "roas") == 2
    assert payback_month([1, 2], np.array([5.0, 6.0]), "per_spend") is None
    assert payback_month([1, 2], np.array([-0.5, -0.1]), "margin") is None


def test_model_curve_equals_hand_computation_per_draw(fitted: MMM) -> None:
    """Laplace fit of the shared simulation: per draw, hand share of that draw's alpha x that draw's ROI
    (the ROI prior's reparameterisation makes contribution / spend equal the ``roi`` draw)."""
    model = copy.copy(fitted)
    model.margin_rate = 0.5
    result = cumulative_roi(model, months=(1, 2, 36))
    alpha = fitted.posterior_["adstock_alpha"].reshape(-1, len(fitted.data_.channels))
    roi = fitted.posterior_["roi"].reshape(alpha.shape)
    summary = model.summary()["channels"]
    for i, c in enumerate(fitted.data_.channels):
        block = result.channels[c]
        for j, months in enumerate((1, 2)):
            hand = 0.5 * roi[:, i] * hand_share(alpha[:, i], months * WEEKS_PER_MONTH) - 1
            assert block["cumulative_roi"]["mean"][j] == pytest.approx(hand.mean(), rel=1e-5)
            assert block["cumulative_roi"]["lower"][j] == pytest.approx(np.quantile(hand, 0.05), rel=1e-5)
            assert block["cumulative_roi"]["upper"][j] == pytest.approx(np.quantile(hand, 0.95), rel=1e-5)
        # 36 months is far past l_max = 8 weeks: the curve has converged to the summary's margin ROI
        for key in ("mean", "lower", "upper"):
            assert block["cumulative_roi"][key][2] == pytest.approx(summary[c]["roi"][key], rel=1e-5)
            assert block["long_run_roi"][key] == pytest.approx(summary[c]["roi"][key], rel=1e-5)
        means = block["cumulative_roi"]["mean"]
        expected_payback = next((m for m, v in zip((1, 2, 36), means, strict=True) if v >= 0), None)
        assert block["payback_month"] == expected_payback
    assert result.basis == "margin"
    assert result.carryover_months == pytest.approx(8 / WEEKS_PER_MONTH)


def test_roas_basis_without_margin_and_lagged_channels(fitted: MMM) -> None:
    result = cumulative_roi(fitted, months=(1, 12))
    summary = fitted.summary()["channels"]
    alpha = fitted.posterior_["adstock_alpha"].reshape(-1, len(fitted.data_.channels))
    assert result.basis == "roas"
    lagged = []
    for i, c in enumerate(fitted.data_.channels):
        assert result.channels[c]["cumulative_roi"]["mean"][1] == pytest.approx(summary[c]["roas"]["mean"])
        if hand_share(alpha[:, i], WEEKS_PER_MONTH).mean() < 0.5:
            lagged.append(c)
    assert result.lagged_channels() == lagged
    assert cumulative_roi(fitted, months=(3, 12)).lagged_channels() == lagged  # month 1 not shown
    payload = result.to_dict()
    assert payload["basis"] == "roas" and "flat after" in payload["note"]
    assert cumulative_roi(fitted, months=(1, 12), max_draws=10**6).to_dict() == payload
    thinned = cumulative_roi(fitted, months=(1, 12), max_draws=50)  # every 4th of the 200 draws
    a = alpha[np.unique(np.linspace(0, alpha.shape[0] - 1, 50).astype(int)), 0]
    assert thinned.channels[fitted.data_.channels[0]]["share_realised"][0] == pytest.approx(
        hand_share(a, WEEKS_PER_MONTH).mean()
    )


def test_bad_horizons(fitted: MMM) -> None:
    for months in ((), (0, 3), (6, 3), (1, 1)):
        with pytest.raises(UsageError, match="months must be positive"):
            cumulative_roi(fitted, months=months)


def test_geo_model_curve_by_hand() -> None:
    from trueroi.mmm import GeoMMM
    from trueroi.mmm.simulate import simulate_geo

    panel = simulate_geo(seed=5, n_geos=3, n_periods=30, n_channels=2)
    model = GeoMMM(saturation="logistic", method="laplace", draws=100, seed=0, margin_rate=0.6)
    model.fit(panel.df, date="week", geo="geo", target="revenue", channels=panel.channels)
    result = cumulative_roi(model, months=(1, 24))
    n_ch = len(panel.channels)
    alpha = model.posterior_["adstock_alpha"].reshape(-1, n_ch)  # shared by the geos
    roi = model.posterior_["roi"].reshape(alpha.shape[0], -1, n_ch)  # (D, G, C) per-spend ROI
    spend = model.data_.spend[: model.data_.n_train].sum(axis=0)  # (G, C)
    national = (roi * spend).sum(axis=1) / spend.sum(axis=0)  # spend-weighted, by hand
    summary = model.summary()["channels"]
    for i, c in enumerate(panel.channels):
        hand = 0.6 * national[:, i] * hand_share(alpha[:, i], WEEKS_PER_MONTH) - 1
        block = result.channels[c]
        assert block["cumulative_roi"]["mean"][0] == pytest.approx(hand.mean(), rel=1e-5)
        assert block["cumulative_roi"]["mean"][1] == pytest.approx(summary[c]["roi"]["mean"], rel=1e-5)


def test_cli_json_shape_and_table(
    fitted: MMM, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from typer.testing import CliRunner

    from trueroi.cli.main import build_app, main

    out = fitted.save(tmp_path_factory.mktemp("longterm") / "model")
    args = ["mmm", "longterm", str(out), "--months", "1,3,12", "--format", "json"]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["basis"] == "roas" and payload["l_max"] == 8
    assert list(payload["channels"]) == fitted.data_.channels
    for block in payload["channels"].values():
        assert list(block)[:3] == ["months", "cumulative_roi", "payback_month"]  # the shape
        assert block["months"] == [1, 3, 12]
        assert list(block["cumulative_roi"]) == ["mean", "lower", "upper"]
        assert all(
            len(v) == 3 and all(isinstance(x, float) for x in v) for v in block["cumulative_roi"].values()
        )
        assert block["payback_month"] in (None, 1, 3, 12)
    table = CliRunner().invoke(build_app(), ["mmm", "longterm", str(out)])
    assert table.exit_code == 0 and "payback" in table.stdout
    for args, message in ((["--months", "3,x"], "--months"), ([], "config.json")):
        target = out if args else tmp_path_factory.mktemp("empty")
        with pytest.raises(SystemExit) as info:
            main(["mmm", "longterm", str(target), *args])
        assert info.value.code == 2
        assert message in capsys.readouterr().err
