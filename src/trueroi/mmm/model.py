"""The Bayesian marketing-mix model of one national series, with the scikit-learn contract.

>>> model = MMM(adstock="geometric", saturation="hill", method="nuts", draws=500, chains=2, seed=1)
>>> model.fit(df, date="week", target="revenue", channels=["search", "tv"])  # doctest: +SKIP
>>> model.summary()["channels"]["tv"]["roi"]  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trueroi.errors import UsageError
from trueroi.mmm import results as R
from trueroi.mmm.base import METHODS, MixModel
from trueroi.mmm.bayes import ModelSpec
from trueroi.mmm.calibration import lift_arrays
from trueroi.mmm.checks import fit_warnings
from trueroi.mmm.curves import MMMResponseCurves
from trueroi.mmm.data import MMMData, prepare
from trueroi.mmm.organic import organic_summary, treatment_summary
from trueroi.mmm.transformers import get_adstock, get_saturation

__all__ = ["METHODS", "MMM"]


class MMM(MixModel):
    """Bayesian marketing-mix model: adstock x saturation media effects on a non-negative baseline.

    Parameters
    ----------
    adstock, saturation
        Names from :data:`~trueroi.mmm.transformers.ADSTOCKS` / :data:`~trueroi.mmm.transformers.SATURATIONS`.
    l_max
        Adstock lags in periods.
    prior
        ``"roi"``: LogNormal prior on each channel's ROI (Meridian's reparameterisation); ``"coef"``:
        HalfNormal coefficients scaled by spend share (PyMC-Marketing style).
    roi_prior
        ``(median, log_sd)`` of the ROI prior, for all channels or per channel name in a dict.
    n_fourier
        Yearly Fourier order of the seasonality (0 for none).
    method
        ``"nuts"`` (full posterior), ``"laplace"`` (Gaussian at the mode, fast), ``"map"`` (mode only).
    draws, tune, chains, chain_method, target_accept
        NUTS settings; ``chain_method`` is ``"auto"`` (parallel over several JAX devices, else one chain
        after another), ``"parallel"``, ``"sequential"`` or ``"vectorized"`` (see
        :mod:`trueroi.mmm.nuts`); ``draws`` also sets the number of Laplace draws.
    holdout_periods
        The last periods left out of the fit to measure out-of-sample MAPE.
    kpi
        ``"revenue"`` (base currency) or ``"conversions"`` (count).
    seed
        Seed of every random number the fit uses.
    margin_rate
        Contribution margin per unit of revenue for the summary's ROI on margin (None: ROAS only).
    """

    KIND = "national"
    PARAMS = (
        "adstock",
        "saturation",
        "l_max",
        "prior",
        "roi_prior",
        "n_fourier",
        "method",
        "draws",
        "tune",
        "chains",
        "chain_method",
        "target_accept",
        "holdout_periods",
        "kpi",
        "seed",
        "margin_rate",
    )
    FIT_CALL = "fit(df, date=..., target=..., channels=...)"

    def __init__(
        self,
        adstock: str = "geometric",
        saturation: str = "hill",
        l_max: int = 8,
        prior: str = "roi",
        roi_prior: tuple[float, float] | dict[str, tuple[float, float]] = (1.0, 1.0),
        n_fourier: int = 2,
        method: str = "nuts",
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 4,
        chain_method: str = "auto",
        target_accept: float = 0.9,
        holdout_periods: int = 0,
        kpi: str = "revenue",
        seed: int = 0,
        margin_rate: float | None = None,
    ) -> None:
        super().__init__(
            adstock=adstock,
            saturation=saturation,
            l_max=l_max,
            roi_prior=roi_prior,
            n_fourier=n_fourier,
            method=method,
            draws=draws,
            tune=tune,
            chains=chains,
            chain_method=chain_method,
            target_accept=target_accept,
            holdout_periods=holdout_periods,
            kpi=kpi,
            seed=seed,
            margin_rate=margin_rate,
        )
        self.prior = prior

    # -- fitting -----------------------------------------------------------------------------------------
    def fit(
        self,
        df: pd.DataFrame,
        *,
        date: str,
        target: str,
        channels: list[str],
        controls: list[str] | None = None,
        events: list[str] | None = None,
        lift_tests: pd.DataFrame | str | os.PathLike[str] | None = None,
        source: str | None = None,
        organic: list[str] | None = None,
        treatments: list[str] | None = None,
    ) -> MMM:
        """Fit the model to a weekly (or daily) series.

        Parameters
        ----------
        df
            One row per period: ``date``, the KPI ``target``, one spend column per channel (base currency),
            optional ``controls`` (numeric, additive) and ``events`` (0/1 dummies, multiplicative on the
            baseline).
        organic
            Unpaid media inputs (e-mails sent, posts, SEO visibility): adstock and saturation, no spend;
            reported as contribution in ``summary()["organic"]`` (:mod:`trueroi.mmm.organic`).
        treatments
            Price or promotion columns: linear, sign-free controls reported in ``summary()["treatments"]``.
        lift_tests
            Lift-test results (see :func:`~trueroi.mmm.calibration.read_lift_tests`) to calibrate with.
        source
            File name for error messages.

        Returns
        -------
        MMM
            ``self``, with ``posterior_``, ``data_``, ``fit_seconds_``, ``diagnostics_`` and ``warnings_``.
        """
        self._check_settings()
        data = prepare(
            df,
            date,
            target,
            list(channels),
            controls,
            events,
            self.holdout_periods,
            source,
            organic=organic,
            treatments=treatments,
        )
        return self._fit_data(data, lift_tests)

    def _check_settings(self) -> None:
        super()._check_settings()
        if self.prior not in ("roi", "coef"):
            raise UsageError(f"unknown prior {self.prior!r}; expected 'roi' or 'coef'")

    def _lift_arrays(self, lifts: pd.DataFrame, data: MMMData) -> dict[str, Any]:
        return lift_arrays(
            lifts,
            data.dates,
            data.n_train,
            data.channels,
            data.spend_scale,
            data.target_scale,
            spend=data.spend,
        )

    def _set_fitted(self, data: MMMData, samples: dict[str, np.ndarray], extras: dict[str, Any]) -> None:
        """Store the posterior and compute what every output needs (also used by ``load_model``)."""
        self.data_ = data
        self.spec_ = self._spec(data)
        self.posterior_ = samples
        self.extras_ = extras
        draws = R.flatten(samples)
        self._draws = draws
        self.channel_summary_ = R.channel_summary(draws, self.spec_, data)
        self.organic_summary_ = organic_summary(draws, self.spec_, data)
        self.treatment_summary_ = treatment_summary(draws, data)
        mu = R.fitted(draws, self.spec_, data, self.n_fourier)
        diag = self._sampler_diagnostics()
        diag.update(R.fit_statistics(mu, data))
        diag["ppc_coverage_90"] = R.posterior_predictive_coverage(mu, draws["sigma"], data, self.seed)
        self.diagnostics_ = diag
        self.warnings_ = fit_warnings(self)

    def _spec(self, data: MMMData) -> ModelSpec:
        share = data.spend[: data.n_train].sum(axis=0) / data.spend[: data.n_train].sum()
        mus, sigmas = [], []
        for c in data.channels:
            median, sd = (
                self.roi_prior.get(c, (1.0, 1.0)) if isinstance(self.roi_prior, dict) else self.roi_prior
            )
            if median <= 0 or sd <= 0:
                raise UsageError(
                    f"ROI prior of {c} must have a positive median and spread, got {(median, sd)}"
                )
            mus.append(float(np.log(median)))
            sigmas.append(float(sd))
        return ModelSpec(
            get_adstock(self.adstock),
            get_saturation(self.saturation),
            self.l_max,
            self.prior,
            data.n_train,
            tuple(mus),
            tuple(sigmas),
            tuple(float(s) for s in 2.0 * share),
        )

    def _arrays(self, data: MMMData, spec: ModelSpec | None = None) -> dict[str, Any]:
        spec = self._spec(data) if spec is None else spec
        train_spend = data.spend[: data.n_train].sum(axis=0)
        return {
            "media": data.media_scaled(),
            "trend": data.trend(),
            "fourier": data.fourier(self.n_fourier),
            "controls": data.controls_scaled(),
            "events": data.events,
            "roi_factor": train_spend / data.target_scale,
            "roi_mu": np.asarray(spec.roi_mu),
            "roi_sigma": np.asarray(spec.roi_sigma),
            "coef_sigma": np.asarray(spec.coef_sigma),
            **({"organic": data.organic_scaled()} if data.organic_cols else {}),
        }

    # -- outputs -----------------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """The CLI's JSON contract: channels (spend, contribution, roi on margin, roas, mroi, mroas with 90%
        intervals), diagnostics, fit seconds, and what roi means (kpi, roi_basis, margin_rate, roi_note)."""
        self._require_fit()
        return {
            "channels": R.public_channels(self.channel_summary_, self.kpi, self.margin_rate),
            "diagnostics": self._diagnostics_summary(),
            "fit_seconds": float(self.fit_seconds_),
            **self._roi_header(),
            **({"organic": self.organic_summary_} if self.organic_summary_ else {}),
            **({"treatments": self.treatment_summary_} if self.treatment_summary_ else {}),
        }

    def decomposition(self) -> pd.DataFrame:
        """Per period: baseline, each control, each channel (posterior means, KPI units), fitted, actual."""
        self._require_fit()
        return R.decomposition(self._draws, self.spec_, self.data_, self.n_fourier)

    def media_parameters(self) -> pd.DataFrame:
        """Posterior mean and 90% interval of every adstock, saturation and ROI parameter per channel."""
        self._require_fit()
        rows = []
        names = (
            [f"adstock_{p}" for p in self.spec_.adstock.params]
            + [f"sat_{p}" for p in self.spec_.saturation.params]
            + ["beta"]
            + (["roi"] if "roi" in self._draws else [])
        )
        for name in names:
            iv = R.interval(self._draws[name])
            for i, c in enumerate(self.data_.channels):
                rows.append({"channel": c, "parameter": name, **{k: float(v[i]) for k, v in iv.items()}})
        return pd.DataFrame(rows)

    def response_curves(self, reference_weeks: int = 8) -> MMMResponseCurves:
        """Response curves over posterior draws for the budget planner; current spend is the mean weekly
        spend of the last ``reference_weeks`` weeks of the training data."""
        self._require_fit()
        data = self.data_
        n_ref = max(1, int(round(reference_weeks * data.periods_per_week)))
        recent = data.spend[max(0, data.n_train - n_ref) : data.n_train]
        current = recent.mean(axis=0) * data.periods_per_week
        keys = (
            [f"adstock_{p}" for p in self.spec_.adstock.params]
            + [f"sat_{p}" for p in self.spec_.saturation.params]
            + ["beta"]
        )
        return MMMResponseCurves(
            data.channels,
            current,
            self.kpi,
            self.adstock,
            self.saturation,
            {k: self._draws[k] for k in keys},
            data.spend_scale,
            data.target_scale,
            data.period_days,
            self.l_max,
        )

    # -- the model directory -----------------------------------------------------------------------------
    def _config(self) -> dict[str, Any]:
        data = self.data_
        return {
            "date": data.date_col,
            "target": data.target_col,
            "channels": data.channels,
            "controls": data.controls_cols,
            "events": data.events_cols,
            "n_train": data.n_train,
            "organic": data.organic_cols,
            "treatments": data.treatment_cols,
        }

    def _data_frame(self) -> pd.DataFrame:
        frame = self.data_.frame()
        frame[self.data_.date_col] = frame[self.data_.date_col].dt.strftime("%Y-%m-%d")
        return frame

    def _read_data(self, root: Path, config: dict[str, Any]) -> MMMData:
        frame = pd.read_csv(root / "data.csv")
        return prepare(
            frame,
            config["date"],
            config["target"],
            config["channels"],
            config["controls"],
            config["events"],
            len(frame) - config["n_train"],
            source=str(root / "data.csv"),
            organic=config.get("organic", []),
            treatments=config.get("treatments", []),
        )

    def _summary_file(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "warnings": self.warnings_,
            "ppc_coverage_90": self.diagnostics_.get("ppc_coverage_90"),
            "media_parameters": self.media_parameters().to_dict(orient="records"),
        }
