"""Customer lifetime value: buy-till-you-die models, spend, data preparation and lifetime-value ROI.

``from trueroi.clv import BetaGeoFitter, GammaGammaFitter`` gives the fitters; the pure likelihoods and
closed-form predictions live in :mod:`trueroi.clv.likelihoods` and :mod:`trueroi.clv.predictions`, RFM
summaries in :mod:`trueroi.clv.data`, reading a transaction or summary file in :mod:`trueroi.clv.inputs`,
the ``trueroi clv`` analyses (fit, predict, holdout; results with ``to_dict()``) in
:mod:`trueroi.clv.analysis`, and lifetime-value ROI per acquisition channel in :mod:`trueroi.clv.roi`.
"""

from trueroi.clv.models import (
    MODELS,
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    GammaGammaFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
    get_model,
)

__all__ = [
    "MODELS",
    "BetaGeoBetaBinomFitter",
    "BetaGeoFitter",
    "GammaGammaFitter",
    "ModifiedBetaGeoFitter",
    "ParetoNBDFitter",
    "get_model",
]
