"""Customer lifetime value: buy-till-you-die models, spend, data preparation and lifetime-value ROI.

``from trueroi.clv import BetaGeoFitter, GammaGammaFitter, rfm_summary`` gives the everyday tools; the pure
likelihoods and closed-form predictions live in :mod:`trueroi.clv.likelihoods` and
:mod:`trueroi.clv.predictions`, lifetime-value ROI per acquisition channel in :mod:`trueroi.clv.roi`.
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
