"""Training configuration: every setting declared once, validated, with a JSON round trip.

Each field of :class:`TrainConfig` is declared once: its type comes from the annotation
(``Literal[…]`` for a choice) and everything else — label, help, range with open or closed
ends, unit, command-line flag, the form's section — from :func:`setting` in the field's
metadata. :data:`SETTINGS` reads those declarations; validation (:meth:`TrainConfig.problems`),
the ``train``/``compare`` flags (:mod:`builder.training.cli`) and the window's training form
(``gui.training.form``) are generated from it. Only rules that join two fields (Nesterov,
the data folder, fp16 off CUDA) are functions of their own.

:class:`ConfigError` carries one line per bad field, each naming the field
(``lr: must be greater than 0, at most 10; got -1``). ``from_dict`` also rejects unknown keys
and values of the wrong JSON type, naming the key; missing keys take defaults, so run folders
written before a setting existed still load.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin, get_type_hints

from builder.training.settings import FORM_SECTIONS, Range, Setting, Spec, check_value, kind_of

Dataset = Literal["digits", "synthetic", "mnist", "fashion_mnist", "cifar10", "cifar100", "folder"]
Optimizer = Literal["sgd", "adam", "adamw"]
Schedule = Literal["multistep", "cosine", "constant"]
Clip = Literal["none", "norm", "value"]
Precision = Literal["auto", "fp32", "bf16", "fp16"]

DATASETS: tuple[str, ...] = get_args(Dataset)
OPTIMIZERS: tuple[str, ...] = get_args(Optimizer)
SCHEDULES: tuple[str, ...] = get_args(Schedule)
CLIPS: tuple[str, ...] = get_args(Clip)
PRECISIONS: tuple[str, ...] = get_args(Precision)
DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
BUILT_IN = ("digits", "synthetic")  # data sets that need no folder
CUDA_ONLY = ("fp16",)  # precisions that need a CUDA device


def default_threads() -> int:
    """Torch threads for training by default: one core is left to the window (at least 1)."""
    return max(1, (os.cpu_count() or 2) - 1)


def setting(default: Any = dataclasses.MISSING, *, factory: Callable[[], Any] | None = None,
            **description: Any) -> Any:
    """A dataclass field whose metadata is the :class:`Setting` built from ``description``."""
    meta = {"setting": Setting(**description)}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def _device_name(value: str) -> str | None:
    return None if DEVICE_RE.match(value) else f"must be auto, cpu, cuda, cuda:N or mps; got {value!r}"


def _increasing(value: list[float]) -> str | None:
    return None if sorted(value) == list(value) else f"milestones must be increasing, got {value!r}"


def _sgd(v: Mapping[str, Any]) -> bool:
    return v.get("optimizer") == "sgd"


class ConfigError(ValueError):
    """One or more bad config values; ``problems`` holds one line per field.

    ``fields`` holds the same lines as ``(setting name, message)``; the name is ``""`` for a
    problem that belongs to no setting (not a JSON object, not readable).
    """

    def __init__(self, problems: list[str], where: str = "config") -> None:
        self.problems = problems
        self.where = where
        self.fields = [_split(p) for p in problems]
        super().__init__("; ".join(f"{where}: {p}" for p in problems))


@dataclass
class TrainConfig:
    """Everything that decides a training run (data, optimisation, device, probes, records)."""

    # ---- data
    dataset: Dataset = setting(
        "digits", label="Data set", section="Data", metavar="NAME",
        help="where the images come from: digits (scikit-learn's 8×8 digits) and synthetic are "
        "built in; the others read --data-dir",
        choice_labels={"digits": "Digits (built in, 8×8)", "synthetic": "Synthetic (random patterns)",
                       "mnist": "MNIST", "fashion_mnist": "Fashion-MNIST",
                       "cifar10": "CIFAR-10", "cifar100": "CIFAR-100",
                       "folder": "Image folder (one sub-folder per class)"})
    data_dir: str = setting(
        "", label="Folder", section="Data", metavar="DIR", path=True,
        help="folder with the data set's files: one sub-folder of images per class, or MNIST / "
        "CIFAR files (empty: the copy fetched with `main.py data fetch` or Train → Get Data Set…)",
        applies=lambda v: v.get("dataset") not in BUILT_IN)
    image_size: int = setting(
        0, label="Image size", section="Data", range=Range(0, 1024), unit="px", zero="native size",
        metavar="N", help="resize the images to N×N pixels (digits: upsample 8 → 16 or 32)")
    val_fraction: float = setting(
        0.2, label="Validation share", section="Data", advanced=True, metavar="F",
        range=Range(0, 1, low_open=True, high_open=True),
        help="share of the images held out for validation, for sets without a test split "
        "(digits, synthetic, image folder)")
    augment: bool = setting(
        False, label="Augment", section="Regularisation",
        help="random crop with 4-pixel padding and horizontal flip (the CIFAR recipe)")
    # ---- optimisation
    optimizer: Optimizer = setting(
        "sgd", label="Optimizer", section="Optimisation", metavar="NAME",
        help="how the weights are updated", choice_labels={"sgd": "SGD", "adam": "Adam",
                                                           "adamw": "AdamW"})
    lr: float = setting(
        0.05, label="Learning rate", section="Optimisation", range=Range(0, 10, low_open=True),
        metavar="LR", help="step size at the start of the schedule, used as given (not scaled by the "
        "number of torchrun processes)")
    momentum: float = setting(
        0.9, label="Momentum", section="Optimisation", range=Range(0, 1, high_open=True),
        metavar="M", help="SGD momentum (Adam and AdamW use their own betas)", applies=_sgd)
    nesterov: bool = setting(
        False, label="Nesterov", section="Optimisation", advanced=True, applies=_sgd,
        help="Nesterov momentum (SGD with momentum above 0)")
    weight_decay: float = setting(
        1e-4, label="Weight decay", section="Regularisation", range=Range(0, 1), metavar="WD",
        help="L2 penalty on the weights (AdamW: decoupled)")
    schedule: Schedule = setting(
        "multistep", label="Schedule", section="Schedule", metavar="NAME",
        help="multistep: multiply the learning rate by gamma at each milestone (He et al.); "
        "cosine: anneal it to 0; constant: keep it",
        choice_labels={"multistep": "steps at milestones", "cosine": "cosine", "constant": "constant"})
    milestones: list[float] = setting(
        label="Milestones", section="Schedule", range=Range(0, 1, low_open=True, high_open=True),
        metavar="F,F", factory=lambda: [0.5, 0.75], rule=_increasing,
        help="when the multistep schedule multiplies the learning rate by gamma, as fractions of "
        "the run (0.5 = halfway), increasing", applies=lambda v: v.get("schedule") == "multistep")
    gamma: float = setting(
        0.1, label="Step factor γ", section="Schedule", range=Range(0, 1, low_open=True),
        metavar="G", help="the learning rate is multiplied by this at each milestone",
        applies=lambda v: v.get("schedule") == "multistep")
    warmup_epochs: float = setting(
        0.0, label="Warm-up", section="Schedule", range=Range(0, 100_000), unit="epochs", zero="off",
        flag="--warmup", metavar="E", help="linear warm-up from warm-up start × lr to lr")
    warmup_start: float = setting(
        0.1, label="Warm-up start", section="Schedule", advanced=True, metavar="F",
        range=Range(0, 1, low_open=True), help="the warm-up begins at this fraction of the lr",
        applies=lambda v: bool(v.get("warmup_epochs")))
    epochs: int = setting(
        30, label="Epochs", section="Optimisation", range=Range(1, 100_000), unit="epochs",
        metavar="N", help="passes over the training set")
    batch_size: int = setting(
        128, label="Batch size", section="Optimisation", range=Range(1, 1_000_000), unit="images",
        metavar="N", help="images per step, per process: under torchrun the global batch is N × this")
    clip: Clip = setting(
        "none", label="Clip gradients", section="Optimisation", metavar="HOW",
        help="limit exploding gradients: scale them to a total norm, or clamp each value",
        choice_labels={"none": "off", "norm": "by norm", "value": "by value"})
    clip_value: float = setting(
        1.0, label="Clip threshold", section="Optimisation", range=Range(0, 1e6, low_open=True),
        metavar="T", help="the norm or value gradients are clipped to",
        applies=lambda v: v.get("clip") != "none")
    mixup_alpha: float = setting(
        0.0, label="MixUp α", section="Regularisation", range=Range(0, 100), zero="off",
        flag="--mixup", metavar="A", help="MixUp: train on blends of image pairs, mixing weight "
        "drawn from Beta(α, α) (1 as in facebookresearch/mixup-cifar10)")
    label_smoothing: float = setting(
        0.0, label="Label smoothing", section="Regularisation", range=Range(0, 1, high_open=True),
        zero="off", metavar="S", help="share of each target spread evenly over all classes")
    seed: int = setting(
        0, label="Seed", section="Optimisation", range=Range(0, 2**31 - 1), metavar="N",
        help="random seed (initial weights, data split and order)")
    # ---- device and speed
    device: str = setting(
        "auto", label="Device", section="Device", widget="device", metavar="DEV", rule=_device_name,
        help="auto (CUDA if available, else MPS, else CPU), cpu, cuda, cuda:N or mps")
    precision: Precision = setting(
        "auto", label="Precision", section="Device", metavar="P",
        help="auto: bf16 mixed precision (autocast) where the device computes bf16 natively (CPUs "
        "with AVX512-BF16 or AMX, GPUs from compute capability 8.0), fp32 elsewhere; fp32 or bf16 "
        "force either; fp16 (CUDA only) trains with loss scaling. Weights, optimizer state and "
        "BatchNorm statistics stay fp32",
        choice_labels={"auto": "Auto (bf16 where native)", "fp32": "fp32", "bf16": "bf16 mixed",
                       "fp16": "fp16 mixed (CUDA)"})
    channels_last: bool = setting(
        True, label="Channels-last", section="Device", advanced=True,
        help="channels-last (NHWC) memory layout for the images and convolution weights: faster "
        "convolutions on CPUs (oneDNN) and on GPUs with tensor cores")
    compile: bool = setting(
        False, label="torch.compile", section="Device", advanced=True,
        help="compile the model with torch.compile (slow first steps)")
    cpu_threads: int = setting(
        label="CPU threads", section="Device", range=Range(1, 1024), unit="threads", flag="--threads",
        metavar="N", factory=default_threads,
        help="torch threads for training; by default one core is left to the window (on a busy "
        "machine more threads than free cores make each step much slower)")
    # ---- probes and records
    probe_every: int = setting(
        1, label="Gradient probe every", section="Records", range=Range(0, 1_000_000), unit="steps",
        zero="off", metavar="K", help="per-layer gradient norms every K steps (the gradient plots)")
    probe_outputs: bool = setting(
        False, label="Probe block outputs", section="Records", advanced=True,
        help="also the gradient with respect to each parameterised block's output")
    checkpoint_every: int = setting(
        1, label="Checkpoint every", section="Records", advanced=True, range=Range(0, 100_000),
        unit="epochs", zero="only at the end", metavar="E", help="epochs between checkpoints")
    val_every: int = setting(
        1, label="Validate every", section="Records", advanced=True, range=Range(0, 100_000),
        unit="epochs", zero="only at the end", metavar="E", help="epochs between validation passes")

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError(problems)

    def problems(self) -> list[str]:
        """One message per bad field (empty when the config is valid)."""
        out: list[str] = []
        for spec in SETTINGS.values():
            message = check_value(spec, getattr(self, spec.name))
            if message is None and spec.name in _CROSS:
                message = _CROSS[spec.name](self)
            if message:
                out.append(f"{spec.name}: {message}")
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
        problems = [f"{_key(k)}: unknown setting (known: {', '.join(sorted(SETTINGS))})"
                    for k in data if k not in SETTINGS]
        values = {k: _from_json(v, SETTINGS[k].kind) for k, v in data.items() if k in SETTINGS}
        problems += [f"{k}: {m}" for k, v in values.items()
                     if (m := check_value(SETTINGS[k], v, types_only=True))]
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


# ---- rules that join two fields
def _data_dir(c: TrainConfig) -> str | None:
    # MNIST, Fashion-MNIST and CIFAR without a folder use the fetched copy (builder.training.fetch)
    return "an image-folder data set needs a folder" if c.dataset == "folder" and not c.data_dir else None


def _nesterov(c: TrainConfig) -> str | None:
    momentum = c.momentum if isinstance(c.momentum, (int, float)) else 0
    return "Nesterov needs optimizer sgd and momentum > 0" if c.nesterov and (
        c.optimizer != "sgd" or not momentum > 0) else None


def _precision(c: TrainConfig) -> str | None:
    if c.precision in CUDA_ONLY and c.device in ("cpu", "mps"):
        return f"{c.precision} mixed precision needs a CUDA device (device is {c.device})"
    if c.precision == "bf16" and c.device == "mps":
        return "bf16 is not offered on MPS (use fp32 or auto)"
    return None


_CROSS: dict[str, Callable[[TrainConfig], str | None]] = {
    "data_dir": _data_dir, "nesterov": _nesterov, "precision": _precision}


def _specs() -> dict[str, Spec]:
    """The settings as read from :class:`TrainConfig`'s annotations and field metadata."""
    hints = get_type_hints(TrainConfig)
    out: dict[str, Spec] = {}
    for f in dataclasses.fields(TrainConfig):
        hint = hints[f.name]
        choices = tuple(get_args(hint)) if get_origin(hint) is Literal else ()
        default = f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
        out[f.name] = Spec(f.name, kind_of(hint), choices, default, f.metadata["setting"])
    unknown = {s.setting.section for s in out.values()} - set(FORM_SECTIONS)
    assert not unknown, f"settings in unknown form sections: {unknown}"
    return out


SETTINGS: dict[str, Spec] = _specs()
"""Every setting by config name, in declaration order."""


def _split(problem: str) -> tuple[str, str]:
    """``"lr: must be …"`` → ``("lr", "must be …")``; ``("", problem)`` when no setting is named."""
    name, sep, message = problem.partition(": ")
    return (name, message) if sep and name in SETTINGS else ("", problem)


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
