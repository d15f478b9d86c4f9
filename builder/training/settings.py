"""The vocabulary in which training settings are described (torch-free, Qt-free).

A :class:`Setting` is the metadata of one :class:`~builder.training.config.TrainConfig` field
(label, help, :class:`Range`, unit, flag, form section); a :class:`Spec` adds what the
annotation says (the kind of value, the choices of a ``Literal``) and the default. From a spec
follow its validation (:func:`check_value`), how a person writes a value on the command line
(:func:`parse_text`, :func:`format_value`) and how its range reads (:func:`describe`), so the
config, the command line and the window's form cannot disagree.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["choice", "bool", "int", "float", "str", "floats"]
FORM_SECTIONS = ("Data", "Optimisation", "Schedule", "Regularisation", "Device", "Records")


def number(value: float) -> str:
    """A number as a person writes it: ``1,000,000``, ``0.05``, ``1e-05``."""
    if isinstance(value, bool) or not math.isfinite(value):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e16:
        return f"{int(value):,}"
    return f"{value:g}"


@dataclass(frozen=True)
class Range:
    """Allowed values from ``low`` to ``high``; an open end excludes that bound."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def describe(self) -> str:
        """``1 to 1,000,000``, ``greater than 0, at most 10``, ``at least 0, less than 1``."""
        lo, hi = number(self.low), number(self.high)
        if not (self.low_open or self.high_open):
            return f"{lo} to {hi}"
        first = f"greater than {lo}" if self.low_open else f"at least {lo}"
        return f"{first}, {'less than' if self.high_open else 'at most'} {hi}"


@dataclass(frozen=True)
class Setting:
    """What a person needs to know about one setting (a config field's metadata)."""

    label: str  # the form's label
    help: str  # one sentence: what it does
    section: str  # one of FORM_SECTIONS
    range: Range | None = None  # numbers (each element of a list)
    unit: str = ""  # written after the range and in the form's spin box
    zero: str = ""  # what the value 0 means ("off", "native size")
    flag: str = ""  # the command-line flag (default: --name-with-dashes)
    metavar: str = ""  # the flag's value in --help
    advanced: bool = False  # shown under the form's Advanced section
    path: bool = False  # a folder: the form adds a Browse button
    widget: str = ""  # a special form widget ("device")
    choice_labels: Mapping[str, str] = field(default_factory=dict)  # form labels for choices
    applies: Callable[[Mapping[str, Any]], bool] | None = None  # when the form enables it
    rule: Callable[[Any], str | None] | None = None  # one more check of the value alone


@dataclass(frozen=True)
class Spec:
    """One setting as the config declares it: name, kind, choices, default and metadata."""

    name: str
    kind: Kind
    choices: tuple[str, ...]
    default: Any
    setting: Setting

    @property
    def flag(self) -> str:
        return self.setting.flag or "--" + self.name.replace("_", "-")

    def choice_label(self, value: str) -> str:
        return self.setting.choice_labels.get(value, value)

    def applies(self, values: Mapping[str, Any]) -> bool:
        rule = self.setting.applies
        return True if rule is None else bool(rule(values))


def kind_of(hint: Any) -> Kind:
    """The kind of value an annotation declares."""
    origin = typing.get_origin(hint)
    if origin is Literal:
        return "choice"
    if origin in (list, types.GenericAlias) and typing.get_args(hint) == (float,):
        return "floats"
    kinds: dict[Any, Kind] = {bool: "bool", int: "int", float: "float", str: "str"}
    if hint not in kinds:
        raise TypeError(f"a setting cannot have the type {hint!r}")
    return kinds[hint]


_EXPECTED = {"floats": "a list of numbers", "int": "an integer", "float": "a number",
             "bool": "true or false", "str": "a string", "choice": "a string"}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _type_ok(kind: Kind, value: Any) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return _is_number(value)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "floats":
        return isinstance(value, list) and all(_is_number(x) for x in value)
    return isinstance(value, str)


def check_value(spec: Spec, value: Any, types_only: bool = False) -> str | None:
    """Why ``value`` is not a valid ``spec`` (type, choice, range, rule), or None."""
    if not _type_ok(spec.kind, value):
        return f"expected {_EXPECTED[spec.kind]}, got {value!r}"
    if spec.kind == "float" and not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    if types_only:
        return None
    if spec.choices and value not in spec.choices:
        return f"must be one of {', '.join(spec.choices)}; got {value!r}"
    limits = spec.setting.range
    if limits is not None:
        values = value if spec.kind == "floats" else [value]
        if any(v not in limits for v in values):
            each = "each value " if spec.kind == "floats" else ""
            unit = f" {spec.setting.unit}" if spec.setting.unit else ""
            return f"{each}must be {limits.describe()}{unit}; got {value!r}"
    return spec.setting.rule(value) if spec.setting.rule else None


def parse_text(spec: Spec, text: str) -> Any:
    """The value a person typed (command line); ValueError says what was expected."""
    text = text.strip()
    try:
        if spec.kind == "int":
            return int(text)
        if spec.kind == "float":
            return float(text)
        if spec.kind == "floats":
            return [float(part) for part in text.replace(" ", "").split(",")] if text else []
    except ValueError:
        example = " separated by commas (e.g. 0.5,0.75)" if spec.kind == "floats" else ""
        raise ValueError(f"expected {_EXPECTED[spec.kind]}{example}, got {text!r}") from None
    if spec.kind == "bool":
        if text.lower() not in ("true", "false", "on", "off", "yes", "no", "1", "0"):
            raise ValueError(f"expected on or off, got {text!r}")
        return text.lower() in ("true", "on", "yes", "1")
    return text


def format_value(spec: Spec, value: Any) -> str:
    """A value as the command line writes it (the inverse of :func:`parse_text`)."""
    if spec.kind == "bool":
        return "on" if value else "off"
    if spec.kind == "floats":
        return ",".join(f"{v:g}" for v in value)
    if spec.kind == "float":
        return f"{value:g}"
    return str(value)


def describe(spec: Spec) -> str:
    """The allowed values as a person writes them: ``1 to 100,000 epochs; 0 = off``."""
    s = spec.setting
    if spec.choices:
        return f"{', '.join(spec.choices[:-1])} or {spec.choices[-1]}"
    parts = []
    if s.range is not None:
        text = ("each " if spec.kind == "floats" else "") + s.range.describe()
        parts.append(f"{text} {s.unit}" if s.unit else text)
    if s.zero:
        parts.append(f"0 = {s.zero}")
    return "; ".join(parts)
