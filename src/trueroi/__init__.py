"""trueroi: what each channel, campaign and euro really returns, and where the next euro should go.

The library is the product; the CLI (``trueroi``) and the reports are thin faces over it. Nothing heavy is
imported here: import the domain packages you need (``trueroi.metrics``, ``trueroi.attribution``, ...).
"""

from trueroi.errors import (
    ConfigError,
    ConvergenceError,
    DataValidationError,
    NotFittedError,
    TrueRoiError,
    UsageError,
    WorkspaceError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "ConvergenceError",
    "DataValidationError",
    "NotFittedError",
    "TrueRoiError",
    "UsageError",
    "WorkspaceError",
    "__version__",
]
