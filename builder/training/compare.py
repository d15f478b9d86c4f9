"""Train several graphs on identical data, seed and settings; plot and tabulate the outcome.

This is He et al.'s degradation experiment: training loss per net, and the weight-gradient
norm of every convolution/linear layer by depth (log scale) at step 0 and averaged over the
last epoch. The first/last ratio compares the first convolution with the last convolution
(the classifier is left out): tiny for a deep plain net, near 1 for a ResNet.
:func:`write_csv` saves the table, unrounded, beside the PNG.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from builder.fileformat import atomic_write
from builder.graph import Graph
from builder.training.config import TrainConfig
from builder.training.datasets import Dataset
from builder.training.metrics import EpochMetrics
from builder.training.probes import GradientSample
from builder.training.progress import CompareProgress
from builder.training.runsetup import RunSetup
from builder.training.trainer import Trainer, TrainResult

# The experiment's defaults. Measured on digits (seeds 0-3): without warm-up ResNet-56's loss
# spiked mid-run in 3 of 4 seeds and one seed ended at 3.8 % training error; with 2 epochs of
# linear warm-up (0.005 → 0.05) ResNet-56 ended at 0 % in all four while plain-56 stayed at
# 39-83 %.
COMPARE_DEFAULTS: dict[str, object] = {"dataset": "digits", "epochs": 30, "lr": 0.05,
                                       "batch_size": 128, "schedule": "multistep",
                                       "milestones": [0.5, 0.75], "warmup_epochs": 2.0,
                                       "val_every": 0}  # validate once, at the end


@dataclass
class NetRun:
    """One trained net of a comparison."""

    name: str
    result: TrainResult
    layer_ids: list[str]  # convolution and linear blocks, input side first
    step0: list[float] = field(default_factory=list)  # weight-gradient norms at step 0
    last: list[float] = field(default_factory=list)  # mean over the last epoch's samples
    linear_ids: frozenset[str] = frozenset()  # the classifier layers (left out of the ratio)
    setup: RunSetup | None = None  # how it computed (device, precision as resolved)

    @property
    def final(self) -> EpochMetrics | None:
        return self.result.final

    def ratio(self, profile: list[float]) -> float:
        """First convolution's gradient norm over the last convolution's."""
        convs = [i for i, b in enumerate(self.layer_ids) if b not in self.linear_ids]
        if len(convs) < 2 or not profile:
            return float("nan")
        return profile[convs[0]] / max(profile[convs[-1]], 1e-30)


class _Collector:
    """Keeps the step-0 profile and the running mean of the current epoch's profiles."""

    def __init__(self, keep: list[int]) -> None:
        self.keep = keep
        self.step0: list[float] = []
        self.epoch, self.sum, self.count = 0, np.zeros(len(keep)), 0
        self.last: list[float] = []

    def __call__(self, sample: GradientSample) -> None:
        values = np.array([sample.weight_norms[i] for i in self.keep])
        if sample.step == 0:
            self.step0 = values.tolist()
        if sample.epoch != self.epoch:
            self.epoch, self.sum, self.count = sample.epoch, np.zeros(len(self.keep)), 0
        self.sum += values
        self.count += 1
        self.last = (self.sum / self.count).tolist()


def compare(graphs: list[tuple[str, Graph]], config: TrainConfig, dataset: Dataset,
            on_epoch: Callable[[str, EpochMetrics], None] | None = None,
            make_trainer: Callable[..., Trainer] = Trainer,
            progress: CompareProgress | None = None) -> list[NetRun]:
    """Train each ``(name, graph)`` with the same config (hence seed) and dataset.

    ``on_epoch(name, metrics)`` follows every epoch; ``progress`` (a
    :class:`~builder.training.progress.CompareProgress`) draws a bar per net.
    """
    from builder.validate import parameterised

    runs = []
    try:
        for name, graph in graphs:
            ids = parameterised(graph)
            keep = [i for i, b in enumerate(ids) if graph.block(b).type in ("conv2d", "linear")]
            collect = _Collector(keep)
            if progress is not None:
                progress.start_net(name)
            callback = _epoch_callback(name, on_epoch, progress)
            trainer = make_trainer(graph, config, dataset, on_epoch=callback, on_gradients=collect,
                                   on_step=progress.step if progress else None)
            runs.append(_finish(name, graph, trainer.run(), ids, keep, collect))
            runs[-1].setup = getattr(trainer, "setup", None)
    finally:
        if progress is not None:
            progress.close()
    return runs


def _epoch_callback(name: str, on_epoch: Callable[[str, EpochMetrics], None] | None,
                    progress: CompareProgress | None) -> Callable[[EpochMetrics], None] | None:
    """The trainer's ``on_epoch`` for one net: the caller's callback, then the progress line."""
    if on_epoch is None and progress is None:
        return None

    def callback(m: EpochMetrics) -> None:
        if on_epoch is not None:
            on_epoch(name, m)
        if progress is not None:
            progress.epoch(m)
    return callback


def _finish(name: str, graph: Graph, result: TrainResult, ids: list[str], keep: list[int],
            collect: _Collector) -> NetRun:
    layers = [ids[i] for i in keep]
    linear = frozenset(b for b in layers if graph.block(b).type == "linear")
    result.module = None  # free memory; the comparison keeps numbers only
    return NetRun(name, result, layers, collect.step0, collect.last, linear)


def table(runs: list[NetRun]) -> str:
    """A text table: final train loss/error, validation error, gradient ratios, time."""
    head = (f"{'net':<14}{'train loss':>11}{'train err':>10}{'val err':>9}"
            f"{'first/last@0':>14}{'first/last':>12}{'s/epoch':>9}  status")
    lines = [head, "-" * len(head)]
    for run in runs:
        f = run.final
        if f is None:
            lines.append(f"{run.name:<14}{'—':>11}  {run.result.status} {run.result.error}")
            continue
        per_epoch = run.result.seconds / max(1, len(run.result.history))
        lines.append(f"{run.name:<14}{f.train_loss:>11.4g}{100 * (1 - f.train_acc):>9.2f}%"
                     f"{100 * (1 - f.val_acc):>8.2f}%{run.ratio(run.step0):>14.3g}"
                     f"{run.ratio(run.last):>12.3g}{per_epoch:>9.2f}  {run.result.status}")
    # why a run stopped early or what went wrong in it (divergence, a stall at chance)
    lines += [f"{run.name}: {run.result.error}" for run in runs if run.result.error and run.final is not None]
    return "\n".join(lines)


CSV_COLUMNS = ("net", "status", "epochs", "train_loss", "train_err", "val_err",
               "first_last_step0", "first_last_last_epoch", "seconds_per_epoch")


def csv_rows(runs: list[NetRun]) -> list[list[str]]:
    """The table's numbers, unrounded: errors as fractions (0.25 = 25 %), empty when unknown."""
    rows = []
    for run in runs:
        f = run.final
        numbers: list[float] = [float("nan")] * 6
        if f is not None:
            per_epoch = run.result.seconds / max(1, len(run.result.history))
            numbers = [f.train_loss, 1 - f.train_acc, 1 - f.val_acc, run.ratio(run.step0),
                       run.ratio(run.last), per_epoch]
        cells = ["" if not math.isfinite(v) else f"{v:.6g}" for v in numbers]
        rows.append([run.name, run.result.status, str(len(run.result.history)), *cells])
    return rows


def write_csv(runs: list[NetRun], png: str | os.PathLike[str]) -> Path:
    """Write the table as CSV beside the PNG (``cmp.png`` → ``cmp.csv``); returns its path.

    Columns: :data:`CSV_COLUMNS`. ``first_last_step0`` is the first convolution's
    weight-gradient norm over the last convolution's at step 0 (the untrained net);
    ``first_last_last_epoch`` the same ratio of the norms averaged over the last epoch.
    """
    path = Path(png).with_suffix(".csv")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(runs))
    atomic_write(path, out.getvalue())
    return path


def plot(runs: list[NetRun], path: str | os.PathLike[str], title: str = "") -> None:
    """Write the comparison PNG (matplotlib's Agg backend; no window)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_err, ax_grad) = plt.subplots(1, 3, figsize=(16, 4.8))
    for k, run in enumerate(runs):
        color = f"C{k}"
        epochs = [m.epoch for m in run.result.history]
        ax_loss.plot(epochs, [max(m.train_loss, 1e-6) for m in run.result.history], color=color,
                     label=run.name)
        ax_err.plot(epochs, [100 * (1 - m.train_acc) for m in run.result.history], color=color,
                    label=run.name)
        depth = np.arange(1, len(run.last) + 1)
        if run.last:
            ax_grad.plot(depth, run.last, color=color, label=f"{run.name} (last epoch)")
        if run.step0:
            ax_grad.plot(depth[:len(run.step0)], run.step0, color=color, linestyle=":", alpha=0.7,
                         label=f"{run.name} (step 0)")
    ax_loss.set(yscale="log", xlabel="epoch", ylabel="training loss", title="Training loss")
    ax_err.set(xlabel="epoch", ylabel="training error (%)", title="Training error")
    ax_grad.set(yscale="log", xlabel="layer (input → output)", ylabel="‖∂L/∂W‖₂",
                title="Weight-gradient norm by depth")
    for ax in (ax_loss, ax_err, ax_grad):
        ax.grid(True, alpha=0.3)
    ax_loss.legend(fontsize=8)
    ax_grad.legend(fontsize=7, ncol=2)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
