"""Training configuration: a validated dataclass with a JSON round trip (torch-free).

Every field is checked in :meth:`TrainConfig.problems`; :class:`ConfigError` carries one line
per bad field, each naming the field (``lr: must be > 0, got -1``). ``from_dict`` also rejects
unknown keys and values of the wrong JSON type, naming the key.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "multistep", "cosine")
CLIPS = ("none", "norm", "value")
PRECISIONS = ("fp32", "bf16", "fp16")
DATASETS = ("digits", "synthetic", "mnist", "fashion_mnist", "cifar10", "cifar100", "folder")
DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


class ConfigError(ValueError):
    """One or more bad config values; ``problems`` holds one line per field."""

    def __init__(self, problems: list[str], where: str = "config") -> None:
        self.problems = problems
        super().__init__("; ".join(f"{where}: {p}" for p in problems))


@dataclass
class TrainConfig:
    """Everything that decides a training run (data, optimisation, device, probes, records)."""

    # data
    dataset: str = "digits"
    data_dir: str = ""  # folder of files for mnist/fashion_mnist/cifar10/cifar100/folder
    image_size: int = 0  # 0 = native; else resize (digits: upsample 8 → 16/32)
    val_fraction: float = 0.2  # for sets without a test split (digits, synthetic, folder)
    augment: bool = False  # random crop with 4-pixel padding + horizontal flip (CIFAR recipe)
    # optimisation
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 1e-4
    schedule: str = "multistep"
    milestones: list[float] = field(default_factory=lambda: [0.5, 0.75])  # fractions of the run
    gamma: float = 0.1
    warmup_epochs: float = 0.0  # linear warm-up from warmup_start × lr
    warmup_start: float = 0.1
    epochs: int = 30
    batch_size: int = 128
    clip: str = "none"
    clip_value: float = 1.0
    mixup_alpha: float = 0.0  # 0 = off; 1 as in facebookresearch/mixup-cifar10
    label_smoothing: float = 0.0
    seed: int = 0
    # device and speed
    device: str = "auto"
    precision: str = "fp32"  # bf16/fp16 autocast on CUDA only
    channels_last: bool = False
    compile: bool = False
    # probes and records
    probe_every: int = 1  # per-layer gradient norms every k steps (0 = off)
    probe_outputs: bool = False  # also the gradient w.r.t. each parameterised block's output
    checkpoint_every: int = 1  # epochs between checkpoints (0 = only at the end)
    val_every: int = 1  # epochs between validation passes (0 = only at the end)

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError(problems)

    def problems(self) -> list[str]:
        """One message per bad field (empty when the config is valid)."""
        out: list[str] = []
        for f in dataclasses.fields(self):
            message = _check_type(f.name, getattr(self, f.name), _FIELD_TYPES[f.name])
            message = message or _RULES.get(f.name, lambda v, c: None)(getattr(self, f.name), self)
            if message:
                out.append(f"{f.name}: {message}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied (validated)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, data: Any, where: str = "config") -> TrainConfig:
        """Build from a JSON object; missing keys take defaults, unknown keys are errors."""
        if not isinstance(data, dict):
            raise ConfigError([f"expected a JSON object, got {type(data).__name__}"], where)
        known = {f.name for f in dataclasses.fields(cls)}
        problems = [f"{_key(k)}: unknown setting (known: {', '.join(sorted(known))})"
                    for k in data if k not in known]
        values = {k: _from_json(v, _FIELD_TYPES[k]) for k, v in data.items() if k in known}
        problems += [f"{k}: {m}" for k, v in values.items()
                     if (m := _check_type(k, v, _FIELD_TYPES[k]))]
        if problems:
            raise ConfigError(problems, where)
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(exc.problems, where) from None

    @classmethod
    def from_json(cls, text: str, where: str = "config") -> TrainConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError([f"not valid JSON: {exc.msg} at line {exc.lineno}"], where) from None
        except (RecursionError, ValueError) as exc:  # nesting too deep, an integer of 4,300+ digits
            raise ConfigError([f"not valid JSON: {str(exc)[:80]}"], where) from None
        return cls.from_dict(data, where)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TrainConfig:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read(1_000_000)
        except OSError as exc:
            raise ConfigError([f"cannot read: {exc.strerror}"], str(path)) from None
        except UnicodeDecodeError as exc:
            raise ConfigError([f"not UTF-8 text (byte {exc.start})"], str(path)) from None
        return cls.from_json(text, str(path))

    def save(self, path: str | os.PathLike[str]) -> None:
        from builder.fileformat import atomic_write

        atomic_write(path, self.to_json())


_FIELD_TYPES: dict[str, str] = {
    "dataset": "str", "data_dir": "str", "image_size": "int", "val_fraction": "float",
    "augment": "bool", "optimizer": "str", "lr": "float", "momentum": "float", "nesterov": "bool",
    "weight_decay": "float", "schedule": "str", "milestones": "floats", "gamma": "float",
    "warmup_epochs": "float", "warmup_start": "float", "epochs": "int", "batch_size": "int",
    "clip": "str", "clip_value": "float", "mixup_alpha": "float", "label_smoothing": "float",
    "seed": "int", "device": "str", "precision": "str", "channels_last": "bool", "compile": "bool",
    "probe_every": "int", "probe_outputs": "bool", "checkpoint_every": "int", "val_every": "int",
}


def _key(key: str) -> str:
    """A key as it may appear in a one-line message (odd keys quoted and shortened)."""
    if key.isidentifier() and len(key) <= 40:
        return key
    text = repr(key)
    return text if len(text) <= 40 else text[:37] + "..."


def _from_json(value: Any, kind: str) -> Any:
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return _float(value)
    if kind == "floats" and isinstance(value, list):
        return [_float(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
    return value


def _float(value: int) -> float:
    """An int as a float; one too large for a float becomes inf (then reported as not finite)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _check_type(name: str, value: Any, kind: str) -> str | None:
    ok = {
        "str": lambda v: isinstance(v, str),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "floats": lambda v: isinstance(v, list) and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in v),
    }[kind](value)
    if not ok:
        expected = {"floats": "a list of numbers", "int": "an integer", "float": "a number",
                    "bool": "true or false", "str": "a string"}[kind]
        return f"expected {expected}, got {value!r}"
    if kind == "float" and not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    return None


def _choice(options: tuple[str, ...]) -> Any:
    return lambda v, c: None if v in options else f"must be one of {', '.join(options)}; got {v!r}"


def _between(low: float, high: float, low_open: bool = False, high_open: bool = False) -> Any:
    def rule(v: float, c: TrainConfig) -> str | None:
        bad = v < low or v > high or (low_open and v == low) or (high_open and v == high)
        lo, hi = "(" if low_open else "[", ")" if high_open else "]"
        return f"must be in {lo}{low:g}, {high:g}{hi}, got {v!r}" if bad else None
    return rule


def _min(low: float, strict: bool = False) -> Any:
    def rule(v: float, c: TrainConfig) -> str | None:
        bad = v <= low if strict else v < low
        return f"must be {'>' if strict else '≥'} {low:g}, got {v!r}" if bad else None
    return rule


def _milestones(v: list[float], c: TrainConfig) -> str | None:
    if any(not 0 < m < 1 for m in v):
        return f"each milestone is a fraction of the run in (0, 1), got {v!r}"
    if sorted(v) != list(v):
        return f"milestones must be increasing, got {v!r}"
    return None


def _device(v: str, c: TrainConfig) -> str | None:
    return None if DEVICE_RE.match(v) else f"must be auto, cpu, cuda, cuda:N or mps; got {v!r}"


def _precision(v: str, c: TrainConfig) -> str | None:
    message = _choice(PRECISIONS)(v, c)
    if message is None and v != "fp32" and c.device in ("cpu", "mps"):
        return f"{v} mixed precision needs a CUDA device (device is {c.device})"
    return message


def _data_dir(v: str, c: TrainConfig) -> str | None:
    needs = c.dataset in DATASETS and c.dataset not in ("digits", "synthetic")
    return f"dataset {c.dataset} needs a data folder" if needs and not v else None


def _nesterov(v: bool, c: TrainConfig) -> str | None:
    return "Nesterov needs optimizer sgd and momentum > 0" if v and (
        c.optimizer != "sgd" or not c.momentum > 0) else None


_RULES: dict[str, Any] = {
    "nesterov": _nesterov,
    "dataset": _choice(DATASETS),
    "data_dir": _data_dir,
    "image_size": _between(0, 1024),
    "val_fraction": _between(0, 1, low_open=True, high_open=True),
    "optimizer": _choice(OPTIMIZERS),
    "lr": _between(0, 10, low_open=True),
    "momentum": _between(0, 1, high_open=True),
    "weight_decay": _between(0, 1),
    "schedule": _choice(SCHEDULES),
    "milestones": _milestones,
    "gamma": _between(0, 1, low_open=True),
    "warmup_epochs": _min(0),
    "warmup_start": _between(0, 1, low_open=True),
    "epochs": _between(1, 100_000),
    "batch_size": _between(1, 1_000_000),
    "clip": _choice(CLIPS),
    "clip_value": _min(0, strict=True),
    "mixup_alpha": _between(0, 100),
    "label_smoothing": _between(0, 1, high_open=True),
    "seed": _between(0, 2**31 - 1),
    "device": _device,
    "precision": _precision,
    "probe_every": _between(0, 1_000_000),
    "checkpoint_every": _between(0, 100_000),
    "val_every": _between(0, 100_000),
}
