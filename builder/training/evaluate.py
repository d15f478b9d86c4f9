"""Evaluate a finished run on its validation split: confusion matrix, per-class error, worst mistakes.

:func:`evaluate` reads a run folder — ``graph.json`` (the graph the run trained), ``config.json``
and ``checkpoint.pt`` (``torch.load(..., weights_only=True)``) — rebuilds the same data set and
validation split from the config (the split depends only on the seed), and runs the trained
module over the validation images. The result holds the confusion matrix (rows: true class,
columns: predicted), the per-class error, and the most confidently misclassified images.
:func:`write_png` draws all three with matplotlib (Agg, no window) and :func:`write_csv` writes
one row per class. ``main.py evaluate RUN_DIR [-o OUT]`` does both headless.

Bad input is one :class:`EvaluationError` line naming the file: no checkpoint, a checkpoint of
another graph, a data set that is not there. Torch is imported only when evaluating.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from builder.clitools import EXIT_OK, CliError

TOP = 16  # mistakes kept for the gallery
BATCH = 512


class EvaluationError(ValueError):
    """A run that cannot be evaluated; the message is one line naming the file."""


@dataclass(frozen=True)
class Mistake:
    """One misclassified validation image: its index, true and predicted class, confidence."""

    index: int
    true: int
    predicted: int
    confidence: float  # softmax probability of the predicted class


@dataclass
class Evaluation:
    """What a run's trained module does on its validation split."""

    run_dir: str
    graph_name: str
    dataset: str
    classes: list[str]
    confusion: np.ndarray  # (classes, classes) counts: [true, predicted]
    mistakes: list[Mistake] = field(default_factory=list)  # most confident first
    images: np.ndarray | None = None  # the mistakes' images, N×C×H×W in [0, 1]

    @property
    def total(self) -> int:
        return int(self.confusion.sum())

    @property
    def correct(self) -> int:
        return int(np.trace(self.confusion))

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else math.nan

    @property
    def samples(self) -> np.ndarray:
        """Validation images per true class."""
        samples: np.ndarray = self.confusion.sum(axis=1)
        return samples

    @property
    def per_class_error(self) -> np.ndarray:
        """Error rate per true class (NaN for a class with no validation image)."""
        n = self.samples.astype(float)
        wrong = n - np.diag(self.confusion)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, wrong / np.where(n > 0, n, 1), np.nan)

    def summary(self) -> str:
        errors = self.per_class_error
        line = (f"{self.graph_name} on {self.dataset}: val accuracy {100 * self.accuracy:.2f}% "
                f"({self.correct}/{self.total})")
        if np.isfinite(errors).any():
            worst = int(np.nanargmax(errors))
            line += f"; worst class {self.classes[worst]}: {100 * errors[worst]:.1f}% error"
        return line


def evaluate(run_dir: str | os.PathLike[str], data: Any = None, top: int = TOP,
             device: str = "cpu") -> Evaluation:
    """Evaluate the run in ``run_dir`` on its validation split (``data``: a ready Dataset to use instead)."""
    import torch

    root = Path(run_dir)
    graph, config, module = _load_run(root)
    data = data if data is not None else _load_data(config, root)
    _check_fit(graph, data, root)
    module = module.to(device).eval()
    probs = []
    with torch.no_grad():
        for start in range(0, len(data.y_val), BATCH):
            x = data.x_val[start:start + BATCH].to(device)
            probs.append(torch.softmax(module(x).float(), dim=1).cpu())
    p = torch.cat(probs) if probs else torch.zeros((0, data.num_classes))
    truth = data.y_val.cpu().numpy().astype(int)
    confidence, predicted = (t.numpy() for t in p.max(dim=1))
    k = data.num_classes
    confusion = np.bincount(truth * k + predicted.astype(int), minlength=k * k).reshape(k, k)
    wrong = np.flatnonzero(predicted != truth)
    order = wrong[np.argsort(-confidence[wrong], kind="stable")][:top]
    mistakes = [Mistake(int(i), int(truth[i]), int(predicted[i]), float(confidence[i])) for i in order]
    images = _display(data, order) if len(order) else None
    return Evaluation(str(root), graph.name, data.name, list(data.classes), confusion, mistakes, images)


def _load_run(root: Path) -> tuple[Any, Any, Any]:
    """(graph, config, compiled module with the checkpoint's weights) or EvaluationError."""
    from builder import fileformat
    from builder.export.weights import CHECKPOINT, compiled_with_weights
    from builder.training.config import TrainConfig

    if not root.is_dir():
        raise EvaluationError(f"{root}: not a run folder (it does not exist)")
    checkpoint = root / CHECKPOINT
    if not checkpoint.is_file():
        raise EvaluationError(f"{checkpoint}: no checkpoint (the run saved no weights)")
    try:
        graph = fileformat.load(root / "graph.json")
        config = TrainConfig.load(root / "config.json")
        module = compiled_with_weights(graph, checkpoint)
    except (OSError, ValueError) as exc:
        raise EvaluationError(_one_line(exc)) from None
    return graph, config, module


def _load_data(config: Any, root: Path) -> Any:
    from builder.training.datasets import load_dataset

    try:
        return load_dataset(config)
    except (OSError, ValueError) as exc:
        where = root / "config.json"
        raise EvaluationError(f"{where}: data set {config.dataset}: {_one_line(exc)}") from None


def _check_fit(graph: Any, data: Any, root: Path) -> None:
    from builder.training.adapt import fit_problem

    problem = fit_problem(graph, data.input_shape, data.num_classes)
    if problem:
        raise EvaluationError(f"{root / 'graph.json'}: {problem}")


def _display(data: Any, index: np.ndarray) -> np.ndarray:
    """The chosen validation images un-normalised to [0, 1] for display."""
    x = data.x_val[index].float().cpu().numpy()
    if data.mean and data.std:
        mean = np.asarray(data.mean, dtype=np.float32)[None, :, None, None]
        std = np.asarray(data.std, dtype=np.float32)[None, :, None, None]
        x = x * std + mean
    lo, hi = float(x.min()), float(x.max())
    if lo < 0 or hi > 1:
        x = (x - lo) / max(hi - lo, 1e-9)
    clipped: np.ndarray = np.clip(x, 0.0, 1.0)
    return clipped


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ------------------------------------------------------------------------------ writing


def write_csv(ev: Evaluation, path: str | os.PathLike[str]) -> None:
    """One row per true class: samples, errors, error rate, then the counts predicted as each class."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["class", "samples", "errors", "error_rate", *(f"pred_{c}" for c in ev.classes)])
        errors = ev.per_class_error
        for i, name in enumerate(ev.classes):
            n = int(ev.samples[i])
            rate = "" if not np.isfinite(errors[i]) else f"{errors[i]:.6g}"
            writer.writerow([name, n, n - int(ev.confusion[i, i]), rate, *map(int, ev.confusion[i])])


def write_png(ev: Evaluation, path: str | os.PathLike[str]) -> None:
    """Confusion matrix, per-class error and the most confident mistakes in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(17, 6))
    grid = fig.add_gridspec(1, 3, width_ratios=(1.1, 0.8, 1.1), wspace=0.3)
    _draw_confusion(fig.add_subplot(grid[0]), ev)
    _draw_errors(fig.add_subplot(grid[1]), ev)
    _draw_gallery(fig, grid[2], ev)
    fig.suptitle(ev.summary())
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def _draw_confusion(ax: Any, ev: Evaluation) -> None:
    k = len(ev.classes)
    ax.imshow(ev.confusion, cmap="Blues")
    if k <= 20:
        top = max(int(ev.confusion.max()), 1)
        for (i, j), n in np.ndenumerate(ev.confusion):
            if n:
                ax.text(j, i, str(n), ha="center", va="center", fontsize=8,
                        color="white" if n > top / 2 else "black")
        ax.set_xticks(range(k), ev.classes, rotation=90 if k > 10 else 0, fontsize=8)
        ax.set_yticks(range(k), ev.classes, fontsize=8)
    ax.set(xlabel="predicted class", ylabel="true class", title="Confusion matrix (validation)")


def _draw_errors(ax: Any, ev: Evaluation) -> None:
    errors = np.nan_to_num(100 * ev.per_class_error)
    k = len(ev.classes)
    ax.barh(range(k), errors, color="#c62828")
    ax.set_yticks(range(k), ev.classes if k <= 30 else [""] * k, fontsize=8)
    ax.invert_yaxis()
    ax.set(xlabel="error (%)", title="Per-class error")
    ax.grid(True, axis="x", alpha=0.3)


def _draw_gallery(fig: Any, cell: Any, ev: Evaluation) -> None:
    if ev.images is None or not ev.mistakes:
        ax = fig.add_subplot(cell)
        ax.axis("off")
        ax.text(0.5, 0.5, "No misclassified validation images", ha="center", va="center")
        return
    cols = 4
    rows = max(1, math.ceil(len(ev.mistakes) / cols))
    sub = cell.subgridspec(rows, cols, hspace=0.5)
    for n, mistake in enumerate(ev.mistakes):
        ax = fig.add_subplot(sub[n // cols, n % cols])
        image = ev.images[n].transpose(1, 2, 0)
        ax.imshow(image[:, :, 0] if image.shape[2] == 1 else image, cmap="gray", vmin=0, vmax=1,
                  interpolation="nearest")
        ax.set_title(f"{ev.classes[mistake.true]} → {ev.classes[mistake.predicted]}\n"
                     f"p={mistake.confidence:.2f}", fontsize=7)
        ax.axis("off")
    fig.text(0.84, 0.93, "Most confident mistakes (true → predicted)", ha="center", fontsize=10)


# ------------------------------------------------------------------------------ command line


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``evaluate`` subcommand."""
    p = sub.add_parser("evaluate", help="confusion matrix, per-class error and worst mistakes of a run",
                       description="Evaluate a finished run's checkpoint on its validation split: writes "
                       "a PNG (confusion matrix, per-class error, the most confidently misclassified "
                       "images) and a CSV (one row per class) beside it.")
    p.add_argument("run_dir", help="run folder (graph.json, config.json, checkpoint.pt)")
    p.add_argument("-o", "--output", help="plot to write: .png, .svg or .pdf (default "
                   "RUN_DIR/evaluation.png); the CSV goes beside it with the suffix .csv")
    p.add_argument("--top", type=int, default=TOP,
                   help=f"mistakes in the gallery, 0 for none (default {TOP})")
    p.add_argument("--device", default="cpu", help="auto, cpu, cuda, cuda:N or mps (default cpu)")
    p.add_argument("--threads", metavar="N",
                   help="CPU threads for torch, 1 to 1,024 (default: torch's choice)")
    p.set_defaults(func=_cmd_evaluate)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    png = _check_options(args)
    try:
        ev = evaluate(args.run_dir, top=args.top, device=args.device)
        write_png(ev, png)
        write_csv(ev, png.with_suffix(".csv"))
    except (ValueError, OSError, RuntimeError) as exc:
        raise CliError(_one_line(exc)) from None
    print(ev.summary())
    print(f"wrote {png} and {png.with_suffix('.csv')}")
    return EXIT_OK


def _check_options(args: argparse.Namespace) -> Path:
    """The plot to write, once every option is known good (CliError names the flag)."""
    from builder.cli_paths import PLOT_SUFFIXES, output_file

    if args.top < 0:
        raise CliError(f"--top must be 0 or more, got {args.top}")
    folder = Path(args.run_dir)
    if not folder.is_dir():
        raise CliError(f"{folder}: not a run folder ({'a file' if folder.exists() else 'it does not exist'})")
    png = output_file(args.output or folder / "evaluation.png", "-o", PLOT_SUFFIXES)
    output_file(png.with_suffix(".csv"), "-o (the CSV beside the plot)")
    _use_device_and_threads(args.device, args.threads)
    return png


def _use_device_and_threads(device: str, threads: str | None) -> None:
    """Check ``--device`` and ``--threads`` as ``train`` does; set torch's thread count."""
    from builder.training.cli import explain
    from builder.training.config import SETTINGS, ConfigError, TrainConfig
    from builder.training.optim import resolve_device
    from builder.training.settings import parse_text

    try:
        count = None if threads is None else parse_text(SETTINGS["cpu_threads"], threads)
        config = TrainConfig(device=device, **({} if count is None else {"cpu_threads": count}))
        resolve_device(config.device)
    except ConfigError as exc:
        raise CliError(explain(exc, argparse.Namespace(config=None))) from None
    except ValueError as exc:
        raise CliError(f"--threads: {exc}") from None
    if count is not None:
        import torch

        torch.set_num_threads(count)
