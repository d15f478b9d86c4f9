"""Parameter specifications for catalog blocks (Qt-free, torch-free)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

ParamValue = int | float | bool | str
ParamKind = Literal["int", "float", "bool", "choice", "int_or_same"]

INT_LIMIT = 1 << 20  # no sensible layer has a dimension above a million
TYPE_LIMIT = 1 << 63  # larger ints are not numbers a file may hold (float overflow, JSON digit limits)


@dataclass(frozen=True)
class Param:
    """One user-editable parameter of a block type.

    ``kind`` is one of ``int``, ``float``, ``bool``, ``choice`` or ``int_or_same``
    (an integer, or the string ``"same"``).
    """

    name: str
    kind: ParamKind
    default: ParamValue
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def type_error(self, value: Any) -> str | None:
        """Return what is wrong with the *type* of ``value`` (None when it fits)."""
        if self.kind == "int" and not _is_int(value):
            return "an integer"
        if self.kind == "float" and not _is_finite(value):
            return "a finite number"
        if self.kind == "bool" and not isinstance(value, bool):
            return "true or false"
        if self.kind == "choice" and value not in self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "int_or_same" and not (_is_int(value) or value == "same"):
            return 'an integer or "same"'
        return None

    def range_error(self, value: Any) -> str | None:
        """Return what is wrong with ``value`` (type or bounds); None when valid."""
        expected = self.type_error(value)
        if expected:
            return f"{self.name} must be {expected}, got {value!r}"
        if self.kind in ("int", "float", "int_or_same") and value != "same":
            if self.minimum is not None and value < self.minimum:
                return f"{self.name} must be at least {_fmt(self.minimum)}, got {value!r}"
            if self.maximum is not None and value > self.maximum:
                return f"{self.name} must be at most {_fmt(self.maximum)}, got {value!r}"
            if self.kind == "float" and value != value:  # NaN
                return f"{self.name} must be a number, got NaN"
        return None

    def coerce(self, value: Any) -> Any:
        """Normalise an accepted value (ints stay ints, floats become float)."""
        if self.kind == "float" and _is_int(value):
            return float(value)
        return value


def _is_int(value: Any) -> bool:
    """An int (not a bool) small enough for a 64-bit integer, a float and a JSON file."""
    return isinstance(value, int) and not isinstance(value, bool) and -TYPE_LIMIT <= value <= TYPE_LIMIT


def _is_finite(value: Any) -> bool:
    return _is_int(value) or (isinstance(value, float) and math.isfinite(value))


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def int_param(name: str, default: int, help: str, minimum: int = 1,
              maximum: int = INT_LIMIT) -> Param:
    return Param(name, "int", default, help, minimum, maximum)


def float_param(name: str, default: float, help: str, minimum: float = 0.0,
                maximum: float = 1e6) -> Param:
    return Param(name, "float", default, help, minimum, maximum)


def bool_param(name: str, default: bool, help: str) -> Param:
    return Param(name, "bool", default, help)
