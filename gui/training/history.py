"""What the window keeps of a run: bounded, downsampled histories (numpy only, no Qt).

A 5,000-step run must not grow the window's memory without bound, so per-step values live in
a :class:`Series` of fixed capacity: when it fills, every other row is dropped and from then
on only every second (fourth, …) step is kept. Gradient samples (one norm per parameterised
block) are kept the same way for the block × step heatmap; the step-0 profile is kept apart.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

STEP_CAP = 2048  # rows of per-step metrics kept per run
GRADIENT_CAP = 512  # gradient samples (heatmap columns) kept per run
STEP_COLUMNS = ("x", "loss", "smooth", "acc", "lr", "grad_norm", "step")
FINISHED = ("completed", "stopped", "non_finite", "diverged", "failed")
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
PLOTS = ("loss", "accuracy", "lr", "grad_norm", "depth", "heatmap")
TITLES = {"loss": "Loss (— train, ┄ val)", "accuracy": "Accuracy (— train, ┄ val)",
          "lr": "Learning rate", "grad_norm": "Total gradient norm (before clipping)",
          "depth": "Gradient by depth: log10 ‖∂L/∂W‖ (bold now, ⋯ step 0)",
          "heatmap": "log10 ‖∂L/∂W‖: block × step"}


class Series:
    """Rows of floats with a fixed capacity; older rows are thinned by halving when full."""

    def __init__(self, width: int, cap: int) -> None:
        self.cap = max(4, cap - cap % 2)
        self.data = np.zeros((0, width))  # grown to ``cap`` rows at the first append
        self.n = 0
        self.stride = 1
        self.seen = 0

    def append(self, row: Any) -> None:
        if not len(self.data):
            self.data = np.zeros((self.cap, self.data.shape[1]))
        if self.seen % self.stride == 0:
            if self.n == self.cap:
                half = self.cap // 2
                self.data[:half] = self.data[0:self.cap:2]
                self.n, self.stride = half, self.stride * 2
            if self.seen % self.stride == 0:
                self.data[self.n] = row
                self.n += 1
        self.seen += 1

    def view(self) -> np.ndarray:
        return self.data[:self.n]

    def __len__(self) -> int:
        return self.n


def log10(values: Any) -> np.ndarray:
    """log10 of norms; zero and non-finite become NaN (pyqtgraph leaves a gap)."""
    a = np.asarray(values, dtype=float)
    out = np.full(a.shape, np.nan)
    ok = np.isfinite(a) & (a > 0)
    out[ok] = np.log10(a[ok])
    return out


@dataclass
class RunData:
    """One run as the window sees it: settings, status, metrics and gradient profiles."""

    name: str
    graph_name: str
    config: Any  # TrainConfig
    kind: str = "run"  # run | twin | compare
    color: str = ""  # plot colour (#rrggbb), given by the controller
    device: str = ""
    status: str = "queued"
    error: str = ""
    bad_block: str | None = None
    run_dir: str | None = None
    notes: list[str] = field(default_factory=list)
    health: list[Any] = field(default_factory=list)  # builder.training.health.Finding: divergence, stalls
    steps: Series = field(default_factory=lambda: Series(len(STEP_COLUMNS), STEP_CAP))
    epochs: list[Any] = field(default_factory=list)  # EpochMetrics
    block_ids: list[str] = field(default_factory=list)
    block_types: list[str] = field(default_factory=list)
    step0: np.ndarray | None = None  # log10 weight-grad norms at step 0
    heat: Series | None = None  # rows: step, log10 norm per block
    last_step: Any = None  # the latest StepMetrics
    seconds: float = 0.0
    version: int = 0  # bumped on every change; plots redraw only what changed
    loaded: bool = True  # False: read from disk without its curves yet (see ensure_loaded)
    steps_per_epoch: int = 0  # from health.json when known; 0: inferred from steps.csv
    _ema: float = math.nan

    # ---- updates (GUI thread) ----
    def set_blocks(self, block_ids: list[str], block_types: list[str]) -> None:
        self.block_ids, self.block_types = list(block_ids), list(block_types)
        self.heat = Series(len(block_ids) + 1, GRADIENT_CAP)
        self.version += 1

    def add_step(self, m: Any) -> None:
        x = (m.epoch - 1) + m.batch / max(1, m.batches)
        loss = m.loss if math.isfinite(m.loss) else math.nan
        self._ema = loss if not math.isfinite(self._ema) else 0.9 * self._ema + 0.1 * loss
        self.steps.append((x, loss, self._ema, m.accuracy, m.lr, m.grad_norm, m.step))
        self.last_step = m
        self.version += 1

    def add_epoch(self, m: Any) -> None:
        self.epochs.append(m)
        self.version += 1

    def add_gradients(self, sample: Any) -> None:
        if not self.block_ids or self.heat is None or len(sample.weight_norms) != len(self.block_ids):
            self.set_blocks(list(sample.block_ids), self.block_types or [""] * len(sample.block_ids))
        logs = log10(sample.weight_norms)
        if sample.step == 0 or self.step0 is None:
            self.step0 = logs
        assert self.heat is not None
        self.heat.append(np.concatenate([[sample.step], logs]))
        self.version += 1

    def ensure_loaded(self) -> None:
        """Read the per-step curves of a run listed from disk (ValueError names the file)."""
        if not self.loaded:
            load_curves(self)

    # ---- reading ----
    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def latest_profile(self) -> np.ndarray | None:
        if self.heat is None or not len(self.heat):
            return None
        return self.heat.view()[-1, 1:]

    def recent_profiles(self, count: int = 6) -> list[np.ndarray]:
        """Up to ``count`` earlier profiles, oldest first, spread over the last third of the run."""
        if self.heat is None or len(self.heat) < 2:
            return []
        rows = self.heat.view()
        gap = max(1, len(rows) // (3 * count))
        picks = [len(rows) - 1 - k * gap for k in range(count, 0, -1)]
        return [rows[i, 1:] for i in picks if i >= 0]

    @property
    def warning(self) -> str:
        """The advice of the health findings that did not end the run."""
        return "\n".join(f.message for f in self.health if not f.stops)

    def final_metrics(self) -> dict[str, float]:
        if not self.epochs:
            return {}
        f = self.epochs[-1]
        return {"train_loss": f.train_loss, "train_acc": f.train_acc, "val_loss": f.val_loss,
                "val_acc": f.val_acc}

    def first_last_ratio(self, profile: np.ndarray | None = None) -> float:
        """First convolution's weight-gradient norm over the last convolution's (not log)."""
        profile = self.latest_profile() if profile is None else profile
        convs = [i for i, t in enumerate(self.block_types) if t == "conv2d"]
        if profile is None or len(convs) < 2:
            return math.nan
        return float(10 ** (profile[convs[0]] - profile[convs[-1]]))

    def describe(self) -> str:
        """The run's recipe in three lines: optimiser and size, schedule, regularisation."""
        c = self.config
        head = (f"{self.graph_name} on {c.dataset}: {c.optimizer} lr {c.lr:g}, batch {c.batch_size}, "
                f"{c.epochs} epochs, clip {c.clip}, seed {c.seed}, device {self.device or c.device}")
        steps = ", ".join(f"{m:.0%}" for m in c.milestones)
        schedule = {"multistep": f"lr ×{c.gamma:g} at {steps} of the run", "cosine": "cosine to 0",
                    "constant": "constant lr"}.get(c.schedule, c.schedule)
        if c.warmup_epochs:
            schedule += f", warm-up {c.warmup_epochs:g} epochs from {c.warmup_start:g} × lr"
        extras = [f"weight decay {c.weight_decay:g}", "augmentation on" if c.augment else "no augmentation",
                  f"MixUp α {c.mixup_alpha:g}" if c.mixup_alpha else "no MixUp"]
        if c.optimizer == "sgd":
            extras.insert(0, f"momentum {c.momentum:g}" + (" (Nesterov)" if c.nesterov else ""))
        if c.label_smoothing:
            extras.append(f"label smoothing {c.label_smoothing:g}")
        return f"{head}\nschedule: {schedule}\n{', '.join(extras)}"


def write_metrics_csv(run: RunData, path: str | os.PathLike[str]) -> None:
    """The run's epoch metrics (the MixUp log's columns, then lr and seconds)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"))
        for m in run.epochs:
            writer.writerow((m.epoch, f"{m.train_loss:.6g}", f"{m.train_acc:.6g}", f"{m.val_loss:.6g}",
                             f"{m.val_acc:.6g}", f"{m.lr:.6g}", f"{m.seconds:.3f}"))


def load_run(folder: str | os.PathLike[str], curves: bool = True) -> RunData:
    """A run read back from its run folder (config, run.json, metrics; curves unless told not to).

    With ``curves=False`` only the small files are read (config.json, run.json, metrics.csv);
    :meth:`RunData.ensure_loaded` reads steps, gradients and the graph later. Raises
    ``ValueError`` with one line naming the file when something is missing or bad.
    """
    from pathlib import Path

    from builder.training import health
    from builder.training.config import TrainConfig
    from gui.training.runindex import read_meta

    root = Path(folder)
    meta = read_meta(root) or {}
    try:
        config = TrainConfig.load(root / "config.json")
        graph_name = str(meta.get("graph_name") or "") or _graph(root).name
        metrics = _rows(root / "metrics.csv")
        findings, steps_per_epoch = health.load(root)
    except (OSError, ValueError) as exc:
        raise ValueError(_first_line(exc, root)) from None
    run = RunData(str(meta.get("name") or root.name), graph_name, config, kind="loaded",
                  status="completed", run_dir=str(root), device=str(meta.get("device") or config.device),
                  notes=[str(n) for n in meta.get("changes", []) if isinstance(n, str)],
                  error=str(meta.get("error") or ""), color=str(meta.get("color") or ""), loaded=False)
    try:
        _fill_epochs(run, metrics)
    except (KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"{root}: unreadable run record ({exc})") from None
    stored = meta.get("status")
    run.status = stored if stored in FINISHED else \
        "completed" if len(run.epochs) >= config.epochs else "stopped"
    run.steps_per_epoch = steps_per_epoch
    _set_health(run, findings)
    if curves:
        load_curves(run)
    return run


def load_curves(run: RunData) -> None:
    """Read ``run``'s per-step metrics and gradient norms from its folder (once)."""
    from pathlib import Path
    from types import SimpleNamespace

    if run.loaded or not run.run_dir:
        return
    root = Path(run.run_dir)
    try:
        graph = _graph(root)
        steps = _rows(root / "steps.csv")
        grads = _rows(root / "gradients.csv")
    except (OSError, ValueError) as exc:
        raise ValueError(_first_line(exc, root)) from None
    try:
        _fill_curves(run, graph, steps, grads, SimpleNamespace, run.steps_per_epoch)
    except (KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"{root}: unreadable run record ({exc})") from None
    run.loaded = True


def _graph(root: Any) -> Any:
    from builder import fileformat

    return fileformat.load(root / "graph.json")


def _first_line(exc: BaseException, root: Any) -> str:
    return str(exc).splitlines()[0] if str(exc) else f"{root}: not a run folder"


def _set_health(run: RunData, findings: list[Any]) -> None:
    """A loaded run's findings: the one that ended it sets its status and error."""
    run.health = findings
    ended = next((f for f in findings if f.stops), None)
    if ended is not None:
        run.status = "diverged" if ended.kind == "loss_diverged" else "non_finite"
    run.error = ended.message if ended is not None else run.warning


def _rows(path: Any) -> list[dict[str, str]]:
    """The complete rows of a CSV file; a row cut short (a run killed mid-write) is left out."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return [row for row in csv.DictReader(fh) if None not in row and None not in row.values()]
    except FileNotFoundError:
        raise ValueError(f"{path}: missing (not a run folder?)") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except csv.Error as exc:
        raise ValueError(f"{path}: not a CSV file ({exc})") from None


def _fill_epochs(run: RunData, metrics: list[dict[str, str]]) -> None:
    from types import SimpleNamespace

    for row in metrics:
        run.add_epoch(SimpleNamespace(epoch=int(row["epoch"]), epochs=run.config.epochs,
                                      seconds=float(row["seconds"]),
                                      **{k: float(row[k]) for k in ("train_loss", "train_acc", "val_loss",
                                                                    "val_acc", "lr")}))
    run.seconds = sum(m.seconds for m in run.epochs)


def _fill_curves(run: RunData, graph: Any, steps: list[dict[str, str]], grads: list[dict[str, str]],
                 record: Any, batches: int = 0) -> None:
    per_epoch: dict[int, int] = {}
    for row in steps:
        per_epoch[int(row["epoch"])] = per_epoch.get(int(row["epoch"]), 0) + 1
    batches = batches or max(per_epoch.values(), default=1)  # known from health.json, else the longest epoch
    for row in steps:
        step = int(row["step"])
        run.add_step(record(epoch=int(row["epoch"]), step=step, batch=step % batches + 1, batches=batches,
                            loss=float(row["loss"]), accuracy=float(row["acc"]), lr=float(row["lr"]),
                            grad_norm=float(row["grad_norm"])))
    order = list(dict.fromkeys(r["block"] for r in grads))
    run.set_blocks(order, [graph.block(b).type if b in graph else "" for b in order])
    by_step: dict[int, dict[str, float]] = {}
    for row in grads:
        by_step.setdefault(int(row["step"]), {})[row["block"]] = float(row["weight_grad_norm"])
    for step, norms in sorted(by_step.items()):
        run.add_gradients(record(step=step, block_ids=order, weight_norms=[norms.get(b, math.nan)
                                                                            for b in order]))
