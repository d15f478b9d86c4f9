"""``main.py xray``: the seed lab — every instrument on a plain net and its ResNet, one figure.

Each net is either trained here (``compare``'s recipe, with the gradient-split probe on, into a
run folder that keeps ``xray_split.csv``) or taken from a run folder. Then, per net: the
pre-flight profile (the run's own initialisation and first batch), the gradient split recorded
during training, the lesion study on the validation set and the 2-D loss landscape on a fixed
subset of the training set. :func:`figure` draws them in one PNG, :func:`table` sums them up.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from builder.graph import Graph
from builder.xray import plots
from builder.xray.landscape import Landscape, landscape, subset
from builder.xray.lesion import LesionResult, lesion
from builder.xray.preflight import Preflight, preflight
from builder.xray.runs import SPLIT_CSV, Run, load_run
from builder.xray.split import SplitProbe, SplitSample, read_csv, write_csv
from builder.xray.structure import residual_units

Say = Callable[[str], None]


@dataclass
class NetXray:
    """Everything the X-ray found about one trained net."""

    name: str
    run_dir: Path
    train_error: float
    val_error: float
    preflight: Preflight
    split: list[SplitSample]
    lesion: LesionResult
    landscape: Landscape
    seconds: dict[str, float] = field(default_factory=dict)


def train(graph: Graph, config: Any, data: Any, run_dir: Path, say: Say) -> Path:
    """Train ``graph`` into ``run_dir`` with the split probe on; the probe's CSV goes there too."""
    from builder.training.trainer import Trainer

    probe = SplitProbe()

    def on_epoch(m: Any) -> None:
        if m.epoch == 1 or m.epoch == m.epochs or m.epoch % 5 == 0:
            say(f"{graph.name:<12} epoch {m.epoch:>3}/{m.epochs}  loss {m.train_loss:.4f}  "
                f"train err {100 * (1 - m.train_acc):5.2f}%  {m.seconds:.2f} s")

    trainer = Trainer(graph, config, data, on_epoch=on_epoch, run_dir=str(run_dir), split_probe=probe)
    result = trainer.run()
    write_csv(probe.samples, probe.units, run_dir / SPLIT_CSV)
    error = f" — {result.error}" if result.error else ""
    say(f"{graph.name}: {result.status} in {result.seconds:.1f} s{error}")
    return run_dir


def examine(run: Run, data: Any, *, points: int = 21, samples: int = 512, seed: int = 0,
            say: Say = lambda _: None,
            on_progress: Callable[[str, int, int], None] | None = None) -> NetXray:
    """Pre-flight, split (from the run folder), lesion and landscape for one loaded run."""
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    pre = preflight(run.graph, data, batch_size=run.config.batch_size, seed=run.config.seed)
    seconds["preflight"] = time.perf_counter() - t
    split_file = run.folder / SPLIT_CSV
    split = read_csv(split_file) if split_file.is_file() else []
    if residual_units(run.graph) and not split:
        say(f"{run.name}: {split_file} is missing: no gradient split was recorded for this run")
    t = time.perf_counter()
    lesioned = lesion(run.graph, run.module, data.x_val, data.y_val,
                      on_progress=_stage(on_progress, f"{run.name} lesion"))
    seconds["lesion"] = time.perf_counter() - t
    x, y = subset(data.x_train, data.y_train, samples, seed)
    land = landscape(run.module, x, y, points=points, seed=seed, name=run.name,
                     on_progress=_stage(on_progress, f"{run.name} landscape"))
    seconds["landscape"] = land.seconds
    final = run.history[-1] if run.history else {}
    return NetXray(run.name, run.folder, 1 - float(final.get("train_acc", math.nan)),
                   lesioned.full_error, pre, split, lesioned, land, seconds)


def _stage(callback: Callable[[str, int, int], None] | None, what: str) -> Callable[[int, int], None] | None:
    if callback is None:
        return None
    return lambda done, total: callback(what, done, total)


def table(nets: list[NetXray]) -> str:
    """One block of lines per net with the numbers the figure shows."""
    lines = []
    for n in nets:
        lines.append(f"{n.name}  ({n.run_dir})")
        lines.append(f"  final training error {100 * n.train_error:.2f}%, validation error "
                     f"{100 * n.val_error:.2f}%")
        found = [v.message for v in n.preflight.verdicts if v.level != "ok"] or ["no warnings"]
        lines.append(f"  pre-flight: first/last conv gradient {n.preflight.grad_ratio():.3g}; "
                     + "; ".join(found))
        lines.append("  " + split_text(n.split))
        lines.extend("  " + line for line in n.lesion.text().splitlines())
        lines.extend("  " + line for line in n.landscape.text().splitlines())
        lines.append("  seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in n.seconds.items()))
    return "\n".join(lines)


def split_text(samples: list[SplitSample]) -> str:
    if not samples:
        return "gradient split: no residual Adds (or not recorded)"
    first = np.array(samples[0].ratio)
    last_epoch = max(s.epoch for s in samples)
    last = [s for s in samples if s.epoch == last_epoch]
    skip = np.mean([s.skip for s in last], axis=0)
    branch = np.mean([s.branch for s in last], axis=0)
    ratio = skip / np.maximum(branch, 1e-30)
    return (f"gradient split (skip/branch): step 0 median {np.median(first):.3g} "
            f"[{first.min():.3g}–{first.max():.3g}], epoch {last_epoch} median {np.median(ratio):.3g} "
            f"[{ratio.min():.3g}–{ratio.max():.3g}] over {len(ratio)} units")


def figure(nets: list[NetXray], path: str | os.PathLike[str], title: str = "") -> None:
    """The seed lab's figure: pre-flight, gradient split, lesions, landscapes."""
    plt = plots.pyplot()
    n = len(nets)
    fig = plt.figure(figsize=(max(20, 5 * (1 + 2 * n)), 21))
    grid = fig.add_gridspec(4, 2 * (1 + 2 * n) * n, hspace=0.45, wspace=1.2, top=0.95, bottom=0.04)
    width = grid.ncols
    half = width // 2
    plots.draw_preflight(fig.add_subplot(grid[0, :half]), fig.add_subplot(grid[0, half:]),
                         [x.preflight for x in nets])
    residual = [x for x in nets if x.split] or nets[-1:]
    target = residual[-1]
    plots.draw_split(fig.add_subplot(grid[1, :half]), target.split, target.name)
    plots.draw_split_norms(fig.add_subplot(grid[1, half:]), target.split, target.name)
    top = plots.lesion_ymax([x.lesion for x in nets])
    cell = width // n
    for k, x in enumerate(nets):
        plots.draw_lesion(fig.add_subplot(grid[2, k * cell:(k + 1) * cell]), x.lesion,
                          plots.COLORS[k % len(plots.COLORS)], top)
    _landscape_row(fig, grid, [x.landscape for x in nets])
    plots.save(fig, path, title, tight=False)


def _landscape_row(fig: Any, grid: Any, lands: list[Landscape]) -> None:
    panels = 1 + 2 * len(lands)
    cell = grid.ncols // panels
    plots.draw_lines(fig.add_subplot(grid[3, :cell]), lands)
    low, high = plots.shared_levels(lands)
    levels = np.linspace(low, high, 25)
    for k, land in enumerate(lands):
        start = cell * (1 + 2 * k)
        plots.draw_contour(fig.add_subplot(grid[3, start:start + cell]), land, levels)
        image = plots.draw_heat(fig.add_subplot(grid[3, start + cell:start + 2 * cell]), land, low, high)
        if k == len(lands) - 1:
            fig.colorbar(image, ax=fig.axes[-1], shrink=0.7)


def open_run(path: str | os.PathLike[str], say: Say) -> Run:
    run = load_run(path)
    say(f"{run.name}: using the run in {run.folder} (epoch {run.epoch})")
    return run
