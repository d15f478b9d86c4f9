"""Matplotlib drawings of the X-ray instruments (Agg backend, no window).

Each ``draw_*`` function draws one instrument into axes it is given, so the single-command
figures (``figure_*``) and ``main.py xray``'s combined figure share them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from builder.xray.landscape import Landscape
from builder.xray.lesion import LesionResult
from builder.xray.preflight import Preflight
from builder.xray.split import SplitSample

Path = str | os.PathLike[str]
COLORS = ("C3", "C0", "C2", "C1", "C4", "C5")  # plain nets usually come first: red, then blue


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, path: Path, title: str = "", tight: bool = True) -> None:
    if title:
        fig.suptitle(title)
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    pyplot().close(fig)


def _note(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9, wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


# ---------------------------------------------------------------------------- pre-flight
def draw_preflight(ax_act: Any, ax_grad: Any, results: Sequence[Preflight]) -> None:
    """Activation std along the trunk and weight-gradient norm of each Conv2d/Linear by depth."""
    for k, p in enumerate(results):
        color = COLORS[k % len(COLORS)]
        trunk = p.trunk
        ax_act.plot([r.depth for r in trunk], [max(r.act_std, 1e-30) for r in trunk], color=color,
                    marker=".", markersize=3, label=p.graph_name)
        layers = p.layers
        ax_grad.plot([r.layer for r in layers], [max(r.weight_grad_norm, 1e-30) for r in layers],
                     color=color, label=f"{p.graph_name} (first/last {p.grad_ratio():.3g})")
    ax_act.set(yscale="log", xlabel="layer (input → output)", ylabel="output std",
               title="Pre-flight: signal along the trunk")
    ax_grad.set(yscale="log", xlabel="layer (input → output)", ylabel="‖∂L/∂W‖₂",
                title="Pre-flight: weight gradient by depth")
    for ax in (ax_act, ax_grad):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)


def figure_preflight(results: Sequence[Preflight], path: Path, title: str = "") -> None:
    plt = pyplot()
    fig, (ax_act, ax_grad, ax_text) = plt.subplots(1, 3, figsize=(16, 4.6),
                                                   gridspec_kw={"width_ratios": [1, 1, 0.9]})
    draw_preflight(ax_act, ax_grad, results)
    lines = []
    for p in results:
        lines += [f"{p.graph_name} (loss {p.loss:.3g}):"] + [f"  {v}" for v in p.verdicts] + [""]
    ax_text.axis("off")
    ax_text.text(0, 1, "\n".join(_wrap(line, 60) for line in lines), va="top", fontsize=8,
                 family="monospace", transform=ax_text.transAxes)
    save(fig, path, title)


def _wrap(line: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(line, width, subsequent_indent="    ")) or line


# ---------------------------------------------------------------------------- gradient split
def split_epochs(samples: Sequence[SplitSample]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """``{epoch: (mean skip norms, mean branch norms)}`` per unit, over the epoch's samples."""
    by_epoch: dict[int, list[SplitSample]] = {}
    for s in samples:
        by_epoch.setdefault(s.epoch, []).append(s)
    return {e: (np.mean([s.skip for s in group], axis=0), np.mean([s.branch for s in group], axis=0))
            for e, group in sorted(by_epoch.items())}


def draw_split(ax: Any, samples: Sequence[SplitSample], name: str = "") -> None:
    """Skip/branch gradient ratio by unit depth: step 0, then the mean of chosen epochs."""
    if not samples:
        _note(ax, f"{name}: no residual Add blocks,\nso no gradient split" if name else "no samples")
        return
    plt = pyplot()
    units = np.arange(1, len(samples[0].labels) + 1)
    first = samples[0]
    ax.plot(units, np.maximum(first.ratio, 1e-3), color="0.4", linestyle=":", marker=".",
            label=f"step {first.step}")
    epochs = split_epochs(samples)
    chosen = _spread(sorted(epochs), 5)
    cmap = plt.get_cmap("viridis")
    for k, epoch in enumerate(chosen):
        skip, branch = epochs[epoch]
        ratio = skip / np.maximum(branch, 1e-30)
        ax.plot(units, ratio, color=cmap(k / max(1, len(chosen) - 1)), marker=".",
                label=f"epoch {epoch}")
    ax.axhline(1.0, color="k", linewidth=0.6)
    _integer_ticks(ax)
    ax.set(yscale="log", xlabel="residual unit (input → output)", ylabel="‖skip part‖ / ‖branch part‖",
           title=f"Gradient split at each Add{f' — {name}' if name else ''}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=2)


def _integer_ticks(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _spread(items: list[int], n: int) -> list[int]:
    if len(items) <= n:
        return items
    return sorted({items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)})


def draw_split_norms(ax: Any, samples: Sequence[SplitSample], name: str = "") -> None:
    """Skip and branch gradient norms by unit over training (last epoch solid, step 0 dotted)."""
    if not samples:
        _note(ax, "no samples")
        return
    units = np.arange(1, len(samples[0].labels) + 1)
    epochs = split_epochs(samples)
    last = max(epochs)
    skip, branch = epochs[last]
    ax.plot(units, skip, color="C0", marker=".", label=f"through the skip (epoch {last})")
    ax.plot(units, branch, color="C1", marker=".", label=f"through the branch (epoch {last})")
    ax.plot(units, samples[0].skip, color="C0", linestyle=":", label="skip (step 0)")
    ax.plot(units, samples[0].branch, color="C1", linestyle=":", label="branch (step 0)")
    _integer_ticks(ax)
    ax.set(yscale="log", xlabel="residual unit (input → output)", ylabel="‖∂L/∂x‖₂ part",
           title=f"Gradient reaching each unit's input{f' — {name}' if name else ''}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)


def figure_split(samples: Sequence[SplitSample], path: Path, name: str = "", title: str = "") -> None:
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.6))
    draw_split(ax1, samples, name)
    draw_split_norms(ax2, samples, name)
    save(fig, path, title)


# ---------------------------------------------------------------------------- lesion
def draw_lesion(ax: Any, result: LesionResult, color: str = "C0", ymax: float | None = None) -> None:
    """Validation error after deleting each block; the full net's error dashed."""
    labels = [r.label for r in result.rows]
    x = np.arange(len(labels))
    errors = np.array([100 * r.error for r in result.rows])
    ax.plot(x, errors, color=color, marker="o", markersize=4, label="one block deleted")
    bad = [i for i, r in enumerate(result.rows) if r.reason]
    if bad:
        ax.plot(bad, [0] * len(bad), "x", color="k", markersize=7, clip_on=False,
                label="cannot be deleted (shape changes)")
    ax.axhline(100 * result.full_error, color=color, linestyle="--", linewidth=1,
               label=f"full net {100 * result.full_error:.1f}%")
    every = max(1, -(-len(x) // 14))  # at most 14 labels
    ax.set_xticks(x[::every])
    ax.set_xticklabels(labels[::every], rotation=60, fontsize=7)
    ax.set(ylim=(0, ymax or max(5.0, 1.1 * float(np.nanmax(errors, initial=0.0)))),
           ylabel="validation error (%)", title=f"Lesion study — {result.graph_name}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)


def lesion_ymax(results: Sequence[LesionResult]) -> float:
    values = [100 * r.error for res in results for r in res.rows if not math.isnan(r.error)]
    values += [100 * res.full_error for res in results]
    return max(5.0, 1.1 * max(values, default=0.0))


def figure_lesion(results: Sequence[LesionResult], path: Path, title: str = "") -> None:
    plt = pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(6.5 * len(results), 4.6), squeeze=False)
    top = lesion_ymax(results)
    for k, (ax, result) in enumerate(zip(axes[0], results, strict=True)):
        draw_lesion(ax, result, COLORS[k % len(COLORS)], top)
    save(fig, path, title)


# ---------------------------------------------------------------------------- landscape
def _log_loss(land: Landscape) -> np.ndarray:
    logged: np.ndarray = np.log10(np.clip(land.loss, 1e-6, None))
    return logged


def draw_contour(ax: Any, land: Landscape, levels: np.ndarray | None = None) -> None:
    """Contour lines of log₁₀ loss over the (α, β) plane."""
    z = _log_loss(land)
    if not np.isfinite(z).any():
        _note(ax, "no points")
        return
    lv = levels if levels is not None else np.linspace(np.nanmin(z), np.nanmax(z), 25)
    cs = ax.contour(land.alphas, land.betas, np.ma.masked_invalid(z), levels=lv, cmap="viridis",
                    linewidths=0.8)
    ax.clabel(cs, cs.levels[::4], fontsize=6, fmt="%.2f")
    ax.plot([0], [0], "k+", markersize=8)
    ax.set(xlabel="α (direction δ)", ylabel="β (direction η)", aspect="equal",
           title=f"{land.graph_name}: contours")


def draw_heat(ax: Any, land: Landscape, vmin: float | None = None, vmax: float | None = None) -> Any:
    """The same surface as a heat map (returns the image for a colour bar)."""
    z = _log_loss(land)
    extent = (land.alphas[0], land.alphas[-1], land.betas[0], land.betas[-1])
    image = ax.imshow(np.ma.masked_invalid(z), origin="lower", extent=extent, cmap="magma",
                      vmin=vmin, vmax=vmax, aspect="equal", interpolation="bilinear")
    ax.set(xlabel="α (direction δ)", ylabel="β (direction η)",
           title=f"{land.graph_name}: log₁₀ loss")
    m = land.metrics
    if m and not math.isnan(m.get("roughness", math.nan)):
        ax.text(0.02, 0.02, f"minima {m['local_minima']:.0f}, non-convex {100 * m['nonconvex']:.0f}%,\n"
                f"roughness {m['roughness']:.3g}", transform=ax.transAxes, fontsize=7, color="w",
                bbox={"facecolor": "k", "alpha": 0.45, "linewidth": 0, "pad": 2})
    return image


def draw_surface(ax: Any, land: Landscape, low: float, high: float) -> Any:
    """The heat map with contour lines on top (one panel per net, for narrow places)."""
    image = draw_heat(ax, land, low, high)
    z = np.ma.masked_invalid(_log_loss(land))
    if z.count() >= 4 and high > low:
        ax.contour(land.alphas, land.betas, z, levels=np.linspace(low, high, 16), colors="w",
                   linewidths=0.5, alpha=0.7)
    ax.plot([0], [0], "c+", markersize=8)
    ax.set_title(f"{land.graph_name}: log₁₀ loss")
    return image


def shared_levels(lands: Sequence[Landscape]) -> tuple[float, float]:
    zs = [_log_loss(land) for land in lands]
    finite = [z[np.isfinite(z)] for z in zs if np.isfinite(z).any()]
    if not finite:
        return 0.0, 1.0
    return float(min(f.min() for f in finite)), float(max(f.max() for f in finite))


def draw_lines(ax: Any, lands: Sequence[Landscape]) -> None:
    """The 1-D slices through the centre, along δ (solid) and η (dashed)."""
    for k, land in enumerate(lands):
        color = COLORS[k % len(COLORS)]
        a, la = land.line("alpha")
        b, lb = land.line("beta")
        ax.plot(a, la, color=color, label=f"{land.graph_name} along δ")
        ax.plot(b, lb, color=color, linestyle="--", label=f"{land.graph_name} along η")
    ax.set(yscale="log", xlabel="step along the direction", ylabel="loss", title="1-D slices")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)


def figure_landscape(lands: Sequence[Landscape], path: Path, title: str = "") -> None:
    plt = pyplot()
    fig, axes = plt.subplots(len(lands), 3, figsize=(15, 4.6 * len(lands)), squeeze=False)
    low, high = shared_levels(lands)
    levels = np.linspace(low, high, 25)
    for row, land in zip(axes, lands, strict=True):
        draw_lines(row[0], [land])
        draw_contour(row[1], land, levels)
        image = draw_heat(row[2], land, low, high)
        fig.colorbar(image, ax=row[2], shrink=0.8)
    save(fig, path, title)


# ---------------------------------------------------------------------------- diff
DIFF_COLORS = {"added": "tab:green", "removed": "tab:red", "changed": "tab:orange"}


def draw_graph(ax: Any, graph: Any, marks: dict[str, str], skip: set[Any]) -> None:
    """Blocks at their canvas positions (changed ones coloured), wires as lines (skip wires bold)."""
    pos = {b.id: b.pos for b in graph.blocks()}
    for w in graph.wires():
        (x0, y0), (x1, y1) = pos[w.source], pos[w.target]
        ax.plot([x0, x1], [y0, y1], color="tab:blue" if w in skip else "0.7",
                linewidth=1.6 if w in skip else 0.5, zorder=1)
    for b in graph.blocks():
        kind = marks.get(b.id)
        ax.scatter([b.pos[0]], [b.pos[1]], s=28 if kind else 10, zorder=2,
                   color=DIFF_COLORS.get(kind or "", "0.55"), marker="s")
    ax.invert_yaxis()
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])


def figure_diff(a: Any, b: Any, changes: Any, path: Path) -> None:
    from builder.xray.diff import skip_wires

    plt = pyplot()
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(14, 8))
    draw_graph(ax_a, a, changes.marks("a"), skip_wires(a))
    draw_graph(ax_b, b, changes.marks("b"), skip_wires(b))
    ax_a.set_title(f"{a.name}: removed (red), changed (orange)", fontsize=10)
    ax_b.set_title(f"{b.name}: added (green), changed (orange); skip wires blue", fontsize=10)
    save(fig, path, changes.summary())
