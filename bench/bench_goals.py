"""Benchmark the goal forecast against statsmodels' ETS (Holt-Winters) on simulated daily series.

Each series is a year or two of daily Poisson counts with a known weekday pattern, a slow level drift and
(optionally) a yearly season; the task is the total of the next ``--horizon`` days with an 80% interval,
as `trueroi goal status` needs it. Both tools see the same history:

* trueroi: :func:`trueroi.goals.forecast.forecast_remaining` (level x weekday x YoY index, backtest
  intervals);
* statsmodels: ``ETSModel(error="add", trend="add", damped_trend=True, seasonal="add",
  seasonal_periods=7)``, fitted by maximum likelihood; the interval of the total comes from 500 simulated
  future paths (``simulate(anchor="end")``), its point from the forecast mean.

Prints, per tool: mean absolute percentage error of the period total, coverage of the 80% interval (share
of series whose realised total lies inside), and seconds per series; then the time ratio.

    .venv/bin/python bench/bench_goals.py --series 100 --history 730 --horizon 30 --season 0.3
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from trueroi.goals.forecast import forecast_remaining

WEEKDAY = np.array([1.3, 1.2, 1.1, 1.0, 0.9, 0.7, 0.8])


def simulate(rng: np.random.Generator, n: int, season: float) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Daily means: level 60 with a random-walk drift (1% a week), weekday pattern, yearly sine season."""
    days = pd.date_range("2024-01-01", periods=n, freq="D")
    drift = np.exp(np.cumsum(rng.normal(0, 0.01 / np.sqrt(7), n)))
    phase = rng.uniform(0, 2 * np.pi)
    yearly = 1 + season * np.sin(2 * np.pi * np.arange(n) / 364 + phase)
    return days, 60 * drift * WEEKDAY[days.dayofweek] * yearly


def trueroi_forecast(y: np.ndarray, days: pd.DatetimeIndex, h: int) -> tuple[float, float, float]:
    fc = forecast_remaining(y[:, None], days, h)
    lo, hi = np.quantile(fc.draws[:, 0], [0.1, 0.9])
    return float(fc.point[0]), float(lo), float(hi)


def ets_forecast(y: np.ndarray, days: pd.DatetimeIndex, h: int, seed: int) -> tuple[float, float, float]:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    series = pd.Series(y, index=pd.DatetimeIndex(days, freq="D"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ETSModel(
            series, error="add", trend="add", damped_trend=True, seasonal="add", seasonal_periods=7
        )
        fit = model.fit(disp=False)
        point = float(fit.forecast(h).sum())
        np.random.seed(seed)  # noqa: NPY002 - ETSResults.simulate draws from the global NumPy state
        paths = fit.simulate(h, anchor="end", repetitions=500)
    totals = np.asarray(paths).sum(axis=0)
    lo, hi = np.quantile(totals, [0.1, 0.9])
    return point, float(lo), float(hi)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--history", type=int, default=730)
    parser.add_argument("--horizon", type=int, default=30)
    parser.add_argument("--season", type=float, default=0.3, help="amplitude of the yearly sine (0 = none)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    stats = {"trueroi": [], "statsmodels ETS": []}
    seconds = dict.fromkeys(stats, 0.0)
    for i in range(args.series):
        days, mean = simulate(rng, args.history + args.horizon, args.season)
        y = rng.poisson(mean).astype(float)
        hist, hist_days, truth = y[: args.history], days[: args.history], y[args.history :].sum()
        for name, fn, fn_args in (
            ("trueroi", trueroi_forecast, (hist, hist_days, args.horizon)),
            ("statsmodels ETS", ets_forecast, (hist, hist_days, args.horizon, args.seed + i)),
        ):
            start = time.perf_counter()
            point, lo, hi = fn(*fn_args)
            seconds[name] += time.perf_counter() - start
            stats[name].append((abs(point - truth) / truth, lo <= truth <= hi, (hi - lo) / truth))
    print(
        f"{args.series} series, history {args.history} days, horizon {args.horizon} days, "
        f"yearly season amplitude {args.season}, seed {args.seed}"
    )
    print(f"{'tool':<18}{'MAPE of total':>15}{'80% coverage':>14}{'rel. width':>12}{'s / series':>12}")
    for name, rows in stats.items():
        err, hit, width = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
        print(
            f"{name:<18}{err.mean():>15.2%}{hit.mean():>14.1%}{width.mean():>12.1%}"
            f"{seconds[name] / args.series:>12.3f}"
        )
    ratio = seconds["statsmodels ETS"] / seconds["trueroi"]
    print(f"time ratio: trueroi is {ratio:.1f}x {'faster' if ratio >= 1 else 'slower'} than statsmodels ETS")


if __name__ == "__main__":
    main()
