"""The shape of a JSON document and how a new shape differs from a recorded one (the CLI's JSON contract).

A shape keeps what a consumer of the JSON relies on and drops the values:

- an object becomes ``{key: shape(value)}``: its keys are the contract, their order is not;
- an array becomes ``["list", shape]`` where ``shape`` is the union of its elements' shapes, or ``["list"]``
  when it is empty (nothing is known about its elements);
- a scalar becomes ``"number"``, ``"string"``, ``"bool"`` or ``"null"``.

The union of two shapes (:func:`merge`) joins scalar types with ``|`` (``"number|null"``). The union of two
objects keeps every key and marks a key that only some of them have as optional with a trailing ``?``
(``"avg_clv_lower?"``), so an array of objects records the keys present in every element as required and
the rest as optional. Shapes of different kinds (an object and null, say) join as ``["oneof", a, b]``, at
most one object, one array and one scalar alternative.

:func:`differences` compares a recorded shape (the contract) with a new one and lists, by JSON path
(``$.rows[].channel``), every place where the new one breaks the contract:

- a key is missing, or new, or required in the contract but absent from some elements now;
- a scalar changed type ("number" -> "string"). ``"null"`` is compatible with any scalar type both ways,
  and a scalar that took fewer types than recorded (``"number"`` for ``"number|string"``) is fine;
- an object, array or scalar turned into another kind; a recorded ``"null"`` says nothing about the type,
  so anything may take its place, but a recorded object or array may not turn into null;
- an array is empty now where the recorded one had elements (the same input should give the same rows).
"""

from __future__ import annotations

from typing import Any

Shape = Any  # str | list | dict, as described in the module docstring

_KINDS = ("object", "list", "scalar")


def shape(value: Any) -> Shape:
    """The shape of a parsed JSON value (see the module docstring)."""
    if isinstance(value, dict):
        return {str(k): shape(v) for k, v in value.items()}
    if isinstance(value, list):
        union: Shape | None = None
        for item in value:
            union = shape(item) if union is None else merge(union, shape(item))
        return ["list"] if union is None else ["list", union]
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    raise TypeError(f"not a JSON value: {value!r}")


def merge(a: Shape, b: Shape) -> Shape:
    """The union of two shapes."""
    groups: dict[str, Shape] = {}
    for alt in _alternatives(a) + _alternatives(b):
        kind = _kind(alt)
        groups[kind] = _merge_same(groups[kind], alt) if kind in groups else alt
    alts = [groups[k] for k in _KINDS if k in groups]
    return alts[0] if len(alts) == 1 else ["oneof", *alts]


def differences(old: Shape, new: Shape, path: str = "$") -> list[str]:
    """Every place where ``new`` breaks the contract recorded as ``old``, one line each (empty: none)."""
    found: list[str] = []
    old_by_kind = {_kind(alt): alt for alt in _alternatives(old)}
    for alt in _alternatives(new):
        kind = _kind(alt)
        if kind == "scalar":
            found += _scalar_differences(old_by_kind, alt, path)
        elif kind in old_by_kind:
            compare = _object_differences if kind == "object" else _list_differences
            found += compare(old_by_kind[kind], alt, path)
        elif old_by_kind.get("scalar") != "null":
            found.append(f"{path}: was {_describe(old)}, now {_describe(alt)}")
    return found


def _alternatives(s: Shape) -> list[Shape]:
    return list(s[1:]) if isinstance(s, list) and s and s[0] == "oneof" else [s]


def _kind(s: Shape) -> str:
    if isinstance(s, dict):
        return "object"
    if isinstance(s, list):
        return "list"
    return "scalar"


def _types(s: str) -> set[str]:
    return set(s.split("|"))


def _split_keys(s: dict[str, Shape]) -> dict[str, tuple[bool, Shape]]:
    """``{key: (optional, shape)}`` with the ``?`` marker taken off the key."""
    return {(k[:-1] if k.endswith("?") else k): (k.endswith("?"), v) for k, v in s.items()}


def _merge_same(a: Shape, b: Shape) -> Shape:
    kind = _kind(a)
    if kind == "scalar":
        return "|".join(sorted(_types(a) | _types(b)))
    if kind == "list":
        if len(a) == 1 or len(b) == 1:
            return a if len(b) == 1 else b
        return ["list", merge(a[1], b[1])]
    ka, kb = _split_keys(a), _split_keys(b)
    out: dict[str, Shape] = {}
    for key in list(ka) + [k for k in kb if k not in ka]:
        if key in ka and key in kb:
            optional = ka[key][0] or kb[key][0]
            value = merge(ka[key][1], kb[key][1])
        else:
            optional, value = True, (ka.get(key) or kb[key])[1]
        out[key + "?" if optional else key] = value
    return out


def _scalar_differences(old_by_kind: dict[str, Shape], new: str, path: str) -> list[str]:
    got = _types(new) - {"null"}
    if "scalar" not in old_by_kind:
        old = ["oneof", *old_by_kind.values()] if len(old_by_kind) > 1 else next(iter(old_by_kind.values()))
        return [f"{path}: was {_describe(old)}, now {_describe(new)}"]
    recorded = _types(old_by_kind["scalar"]) - {"null"}
    if not got or not recorded or got <= recorded:
        return []
    return [f"{path}: was {old_by_kind['scalar']}, now {new}"]


def _object_differences(old: dict[str, Shape], new: dict[str, Shape], path: str) -> list[str]:
    found = []
    ko, kn = _split_keys(old), _split_keys(new)
    for key, (optional, _) in ko.items():
        if key not in kn and not optional:
            found.append(f"{path}: key {key!r} is missing")
    for key in kn:
        if key not in ko:
            found.append(f"{path}: key {key!r} is new (not in the contract)")
    for key, (optional, value) in ko.items():
        if key not in kn:
            continue
        if not optional and kn[key][0]:
            found.append(f"{path}: key {key!r} is missing from some elements (required in the contract)")
        found += differences(value, kn[key][1], f"{path}.{key}")
    return found


def _list_differences(old: list, new: list, path: str) -> list[str]:
    if len(old) == 1:
        return []
    if len(new) == 1:
        return [f"{path}: empty now, the contract's run had elements"]
    return differences(old[1], new[1], f"{path}[]")


def _describe(s: Shape) -> str:
    kind = _kind(s)
    if kind == "scalar":
        return s
    if kind == "list" and s and s[0] == "oneof":
        return " or ".join(_describe(alt) for alt in s[1:])
    return "an object" if kind == "object" else "an array"
