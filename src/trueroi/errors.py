"""The exception tree of trueroi.

Every error trueroi raises on purpose derives from :class:`TrueRoiError`; each child also derives from the
standard exception a caller would expect (``ValueError`` for bad data, ``RuntimeError`` for a broken
workspace), as Ibis and httpx do. The CLI turns any ``TrueRoiError`` into one line and exit code 2.
"""

from __future__ import annotations

from typing import Any


class TrueRoiError(Exception):
    """Root of every error trueroi raises on purpose."""


class DataValidationError(TrueRoiError, ValueError):
    """Input data is broken: a file, row and column hold something other than what was expected.

    Parameters
    ----------
    message
        What is wrong, in words a user can act on.
    file, row, column, value, expected
        Where the problem is and what was expected there; each is optional. ``row`` is 1-based and counts
        data rows as the user sees them in the file (header excluded unless stated).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: Any = None,
        expected: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.value = value
        self.expected = expected
        self.reason = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        text = self.reason
        if self.value is not None:
            text = f"{self.value!r} {text}" if not text.startswith(repr(self.value)) else text
        if self.expected:
            text = f"{text}; expected {self.expected}"
        return f"{', '.join(where)}: {text}" if where else text


class ConfigError(TrueRoiError, ValueError):
    """The workspace configuration (trueroi.toml) or a command-line option is invalid."""


class UsageError(TrueRoiError, ValueError):
    """A request cannot be answered as asked: unknown dimension, reversed dates, unknown model name."""


class WorkspaceError(TrueRoiError, RuntimeError):
    """The workspace is missing, empty, or not in a state the command needs."""


class NoWorkspaceError(WorkspaceError):
    """A directory that should hold a workspace holds none (no ``trueroi.toml``); ``directory`` names it."""

    def __init__(self, message: str, *, directory: str) -> None:
        self.directory = directory
        super().__init__(message)


class NotFittedError(TrueRoiError, AttributeError):
    """A model method that needs ``fit`` was called before ``fit``."""


class ConvergenceError(TrueRoiError, RuntimeError):
    """An optimiser or sampler did not converge; the message says what to try."""
