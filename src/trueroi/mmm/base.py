"""What every mix model shares: settings, checks, the fit run, diagnostics and the model directory.

:class:`~trueroi.mmm.model.MMM` (one national series) and :class:`~trueroi.mmm.geo.GeoMMM` (a geo panel
with hierarchical ROIs) are both a :class:`MixModel`. Each fits in the same steps: check the settings,
check and scale the data, build the arrays of its NumPyro model (with lift tests when given), run the
posterior (:func:`~trueroi.mmm.bayes.fit_posterior`: NUTS, Laplace or MAP), then compute what every output
needs. Every consumer (the budget planner, the reports, the faces) takes either kind through the same
methods: :meth:`~MixModel.summary`, :meth:`~MixModel.decomposition`, :meth:`~MixModel.response_curves`
(national curves that follow :class:`trueroi.budget.curves.ResponseCurves`), ``warnings_`` and ``kpi``.

A model directory (see :mod:`trueroi.mmm.persist`) is written by :meth:`MixModel.save`; its
``config.json`` names the model's ``kind`` (``"national"`` or ``"geo"``), so
:func:`trueroi.mmm.load_model` restores either.
"""

from __future__ import annotations

import json
import os
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from trueroi.errors import DataValidationError, NotFittedError, UsageError
from trueroi.io import write_atomically, write_json
from trueroi.mmm import bayes
from trueroi.mmm import results as R
from trueroi.mmm.calibration import read_lift_tests
from trueroi.mmm.checks import trust_problems
from trueroi.mmm.nuts import CHAIN_METHODS
from trueroi.mmm.transformers import get_adstock, get_saturation

FORMAT_VERSION = 1
"""Version of the model directory layout; both kinds share it (a config without ``kind`` is national)."""
METHODS = ("nuts", "laplace", "map")
KPIS = ("revenue", "conversions")
DIAGNOSTIC_KEYS = ("r_hat_max", "ess_bulk_min", "divergences", "r2", "mape", "holdout_mape")
LIFT_FILE = "lift_tests.csv"


class MixModel(ABC):
    """Base of the mix models (scikit-learn contract: ``__init__`` stores settings, ``fit`` returns self).

    Parameters
    ----------
    adstock, saturation
        Names from :data:`~trueroi.mmm.transformers.ADSTOCKS` / :data:`~trueroi.mmm.transformers.SATURATIONS`.
    l_max
        Adstock lags in periods.
    roi_prior
        ``(median, log_sd)`` of the LogNormal ROI prior.
    n_fourier
        Yearly Fourier order of the seasonality (0 for none).
    method
        ``"nuts"`` (full posterior), ``"laplace"`` (Gaussian at the mode, fast), ``"map"`` (mode only).
    draws, tune, chains, chain_method, target_accept
        NUTS settings (see :mod:`trueroi.mmm.nuts`); ``draws`` also sets the number of Laplace draws.
    holdout_periods
        The last periods left out of the fit to measure out-of-sample MAPE.
    kpi
        ``"revenue"`` (base currency) or ``"conversions"`` (count).
    seed
        Seed of every random number the fit uses.
    margin_rate
        Contribution margin per unit of revenue (0 to 1) for the summary's ROI on margin; None: no ROI, only
        ROAS (see :func:`~trueroi.mmm.results.public_channels`).
    """

    KIND: ClassVar[str]
    """``"national"`` or ``"geo"``: written to ``config.json`` and read by :func:`trueroi.mmm.load_model`."""
    PARAMS: ClassVar[tuple[str, ...]]
    """The names of the settings :meth:`get_params` returns (and a saved model restores)."""
    FIT_CALL: ClassVar[str]
    """How to call ``fit``, for the not-fitted error."""

    def __init__(
        self,
        *,
        adstock: str,
        saturation: str,
        l_max: int,
        roi_prior: Any,
        n_fourier: int,
        method: str,
        draws: int,
        tune: int,
        chains: int,
        chain_method: str,
        target_accept: float,
        holdout_periods: int,
        kpi: str,
        seed: int,
        margin_rate: float | None = None,
    ) -> None:
        self.adstock = adstock
        self.saturation = saturation
        self.l_max = l_max
        self.roi_prior = roi_prior
        self.n_fourier = n_fourier
        self.method = method
        self.draws = draws
        self.tune = tune
        self.chains = chains
        self.chain_method = chain_method
        self.target_accept = target_accept
        self.holdout_periods = holdout_periods
        self.kpi = kpi
        self.seed = seed
        self.margin_rate = margin_rate

    def get_params(self) -> dict[str, Any]:
        """The settings given to ``__init__`` (scikit-learn's contract)."""
        return {n: getattr(self, n) for n in self.PARAMS}

    # -- fitting -----------------------------------------------------------------------------------------
    def _check_settings(self) -> None:
        """Raise :class:`UsageError` on a setting no fit can use (subclasses add their own)."""
        get_adstock(self.adstock)
        get_saturation(self.saturation)
        if self.method not in METHODS:
            raise UsageError(f"unknown method {self.method!r}; expected one of: {', '.join(METHODS)}")
        if self.kpi not in KPIS:
            raise UsageError(f"unknown kpi {self.kpi!r}; expected 'revenue' or 'conversions'")
        if self.chain_method not in CHAIN_METHODS:
            raise UsageError(
                f"unknown chain_method {self.chain_method!r}; "
                "expected auto, vectorized, parallel or sequential"
            )
        if min(self.draws, self.chains, self.l_max) < 1 or self.tune < 0:
            raise UsageError("draws, chains and l_max must be at least 1 and tune at least 0")
        if self.margin_rate is not None and not 0 < self.margin_rate <= 1:
            raise UsageError(
                f"margin_rate must be a share of revenue above 0 and at most 1, got {self.margin_rate}"
            )

    def _fit_data(self, data: Any, lift_tests: pd.DataFrame | str | os.PathLike[str] | None) -> Self:
        """The fit flow shared by every kind, on checked ``data``: arrays (and lift tests), posterior, then
        everything the outputs need (``fit_seconds_``, ``posterior_``, ``diagnostics_``, ``warnings_``)."""
        spec = self._spec(data)
        arrays = self._arrays(data, spec)
        self.lift_tests_ = None
        if lift_tests is not None:
            lifts = self._read_lifts(lift_tests)
            arrays.update(self._lift_arrays(lifts, data))
            self.lift_tests_ = lifts
        y = data.target[: data.n_train] / data.target_scale
        start = time.perf_counter()
        samples, extras = bayes.fit_posterior(
            self.method,
            arrays,
            y,
            spec,
            draws=self.draws,
            tune=self.tune,
            chains=self.chains,
            chain_method=self.chain_method,
            target_accept=self.target_accept,
            seed=self.seed,
            **self._nuts_options(),
        )
        self.fit_seconds_ = time.perf_counter() - start
        self._set_fitted(data, samples, extras)
        return self

    def _read_lifts(self, lift_tests: pd.DataFrame | str | os.PathLike[str]) -> pd.DataFrame:
        return read_lift_tests(lift_tests)

    def _nuts_options(self) -> dict[str, Any]:
        """Extra keyword arguments of :func:`~trueroi.mmm.bayes.run_nuts` for this kind."""
        return {}

    def _sampler_diagnostics(self) -> dict[str, Any]:
        """Largest R-hat and smallest bulk ESS (None unless NUTS sampled) and the divergence count."""
        diag: dict[str, Any] = (
            R.sampler_diagnostics(self.posterior_)
            if self.method == "nuts"
            else {"r_hat_max": None, "ess_bulk_min": None}
        )
        diag["divergences"] = int(self.extras_.get("divergences", 0))
        return diag

    @abstractmethod
    def _spec(self, data: Any) -> Any:
        """The static settings of the NumPyro model (hashable; selects the compiled program)."""

    @abstractmethod
    def _arrays(self, data: Any, spec: Any = None) -> dict[str, Any]:
        """The arrays of the NumPyro model on the model's scales."""

    @abstractmethod
    def _lift_arrays(self, lifts: pd.DataFrame, data: Any) -> dict[str, Any]:
        """The arrays of the lift-test likelihood."""

    @abstractmethod
    def _set_fitted(self, data: Any, samples: dict[str, np.ndarray], extras: dict[str, Any]) -> None:
        """Store the posterior and compute what every output needs (also used when loading)."""

    # -- outputs -----------------------------------------------------------------------------------------
    def _require_fit(self) -> None:
        if not hasattr(self, "posterior_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call {self.FIT_CALL} "
                "or trueroi.mmm.load_model(path) first"
            )

    def _diagnostics_summary(self) -> dict[str, Any]:
        """The diagnostics of the JSON summary, in the contract's order."""
        out = {k: self.diagnostics_[k] for k in DIAGNOSTIC_KEYS}
        problems = trust_problems(self.diagnostics_, self.method, self.chains)
        out["trusted"] = not problems  # additive keys: the contract's keys come first, unchanged
        out["trust_problems"] = problems
        out["target_accept"] = getattr(self, "extras_", {}).get("target_accept")
        return out

    def _roi_header(self) -> dict[str, Any]:
        """``kpi``, ``roi_basis``, ``margin_rate`` and ``roi_note`` of the summary."""
        return R.roi_header(self.kpi, self.margin_rate)

    @abstractmethod
    def summary(self) -> dict[str, Any]:
        """The JSON contract of ``trueroi mmm fit``: ``channels`` (spend, contribution, roi on margin, roas,
        mroi, mroas with 90% intervals; see :func:`~trueroi.mmm.results.public_channels`), ``diagnostics``,
        ``fit_seconds`` (a geo model adds ``geos``) and what ``roi`` means (``kpi``, ``roi_basis``,
        ``margin_rate``, ``roi_note``)."""

    @abstractmethod
    def decomposition(self) -> pd.DataFrame:
        """The national KPI per period split into baseline, controls and channels (KPI units)."""

    @abstractmethod
    def response_curves(self, reference_weeks: int = 8) -> Any:
        """National weekly response curves over posterior draws for the budget planner
        (:class:`trueroi.budget.curves.ResponseCurves`)."""

    # -- the model directory -----------------------------------------------------------------------------
    @abstractmethod
    def _config(self) -> dict[str, Any]:
        """The kind's entries of ``config.json`` besides kind, version, params, seconds and extras."""

    @abstractmethod
    def _data_frame(self) -> pd.DataFrame:
        """The fitted data with the user's column names (holdout included), as ``data.csv`` keeps it."""

    @abstractmethod
    def _read_data(self, root: Path, config: dict[str, Any]) -> Any:
        """The checked data of a saved model from ``root / "data.csv"`` and its config."""

    def _summary_file(self) -> dict[str, Any]:
        """What ``summary.json`` holds, for people and other tools (never read back)."""
        return self.summary()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fitted model to the directory ``path`` (created if missing) and return it.

        Every file is written through a temporary file and a rename, ``config.json`` last, so a directory
        that holds a ``config.json`` holds a whole model.
        """
        self._require_fit()
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        posterior = self.posterior_
        write_atomically(out / "posterior.npz", lambda tmp: _savez(tmp, posterior))
        frame = self._data_frame()
        write_atomically(out / "data.csv", lambda tmp: frame.to_csv(tmp, index=False))
        lifts = getattr(self, "lift_tests_", None)
        if lifts is not None:
            write_atomically(
                out / LIFT_FILE, lambda tmp: lifts.to_csv(tmp, index=False, date_format="%Y-%m-%d")
            )
        else:  # a model fitted without lift tests must not load back with a previous model's
            (out / LIFT_FILE).unlink(missing_ok=True)
        write_json(out / "summary.json", self._summary_file())
        config = {
            "kind": self.KIND,
            "format_version": FORMAT_VERSION,
            "params": self.get_params(),
            **self._config(),
            "fit_seconds": self.fit_seconds_,
            "extras": self.extras_,
        }
        write_json(out / "config.json", config)
        return out

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Restore a fitted model of this kind from a directory written by :meth:`save` (nothing is refitted).

        Raises
        ------
        UsageError
            If ``path`` is not a model directory, holds another kind of model or an unknown format version.
        """
        root = Path(path)
        config = read_config(root, what=f"{cls.KIND} model")
        if config["kind"] != cls.KIND:
            raise UsageError(
                f"{root} holds a {config['kind']} model, not a {cls.KIND} one; "
                "load it with trueroi.mmm.load_model"
            )
        return cls._restore(root, config)

    @classmethod
    def _restore(cls, root: Path, config: dict[str, Any]) -> Self:
        """The model saved in ``root`` (``config`` already read and checked by :func:`read_config`)."""
        params = dict(config["params"])
        if isinstance(params.get("roi_prior"), list):
            params["roi_prior"] = tuple(params["roi_prior"])
        elif isinstance(params.get("roi_prior"), dict):
            params["roi_prior"] = {k: tuple(v) for k, v in params["roi_prior"].items()}
        model = cls(**params)
        data = model._read_data(root, config)
        with np.load(root / "posterior.npz") as npz:
            samples = {k: npz[k] for k in npz.files}
        lifts = root / LIFT_FILE
        model.lift_tests_ = model._read_lifts(lifts) if lifts.is_file() else None
        model.fit_seconds_ = float(config["fit_seconds"])
        model._set_fitted(data, samples, config.get("extras", {}))
        return model


def read_config(path: str | os.PathLike[str], what: str = "model") -> dict[str, Any]:
    """The checked ``config.json`` of a model directory, with ``kind`` filled in (``"national"`` for
    directories written before geo models were saved the same way).

    Raises
    ------
    UsageError
        If ``path`` lacks ``config.json`` or ``posterior.npz``, or holds an unknown format version.
    DataValidationError
        If ``config.json`` is not a JSON object.
    """
    root = Path(path)
    file = root / "config.json"
    if not file.is_file() or not (root / "posterior.npz").is_file():
        raise UsageError(
            f"{root} is not a {what} directory: expected config.json and posterior.npz there "
            "(a fitted mix model saved to that directory)"
        )
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"is not valid JSON ({exc})", file=str(file)) from exc
    if not isinstance(config, dict):
        raise DataValidationError("is not a JSON object", file=str(file), expected="a model's config")
    config.setdefault("kind", "national")
    if config.get("format_version") != FORMAT_VERSION:
        raise UsageError(
            f"{root} holds {config['kind']} model format {config.get('format_version')}, "
            f"expected {FORMAT_VERSION}"
        )
    return config


def _savez(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as handle:  # a handle: numpy would add ".npz" to the temporary file's name
        np.savez_compressed(handle, **arrays)
