"""Results as JSON: the one conversion every face (CLI, web API, saved files) uses.

Every result object of the library has ``to_dict()``, which returns plain Python built from this module's
:func:`jsonable`, so the CLI's ``--format json`` and the web API serve byte-for-byte the same content.
"""

from __future__ import annotations

import json
import math
import sys
from datetime import date, datetime
from typing import Any


def jsonable(value: Any) -> Any:
    """Turn numpy/pandas scalars, arrays, dates and NaN into what ``json`` writes (NaN and inf become null).

    Dicts keep their order with keys turned into strings; tuples become lists; DataFrames become a list of
    records; objects with ``to_dict()`` become its result; anything else unknown becomes its ``str``.
    numpy and pandas are recognised without importing them (a value of theirs means they are loaded).
    """
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    pd = sys.modules.get("pandas")
    np = sys.modules.get("numpy")
    if pd is not None and isinstance(value, pd.DataFrame):
        return [jsonable(r) for r in value.to_dict(orient="records")]
    if np is not None and isinstance(value, np.ndarray) or pd is not None and isinstance(value, pd.Series):
        return [jsonable(v) for v in value.tolist()]
    if np is not None and isinstance(value, np.generic):
        value = value.item()
        if isinstance(value, str | bool | int):
            return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if pd is not None and value is pd.NaT:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if callable(getattr(value, "to_dict", None)) and not isinstance(value, type):
        return jsonable(value.to_dict())
    if pd is not None and value is pd.NA:
        return None
    return str(value)


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """``value`` as JSON text (through :func:`jsonable`; never NaN or Infinity, which JSON does not know)."""
    return json.dumps(jsonable(value), indent=indent, allow_nan=False)
