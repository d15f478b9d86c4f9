"""Loss landscape (Li, Xu, Taylor, Studer, Goldstein 2018): slices through a trained net's loss.

Two random Gaussian directions δ and η with the shapes of the parameters are *filter
normalised*: each filter (the slice of a Conv2d weight for one output channel, the row of a
Linear weight for one output) is rescaled to the norm of the same filter of the trained
weights, so that the scale invariance of ReLU/BatchNorm nets does not distort the picture.
As in the paper (and the authors' ``ignore='biasbn'``), parameters with one dimension —
BatchNorm weights and biases, and biases — get a zero direction, and BatchNorm running
statistics keep their trained values: every point is evaluated in eval mode.

The 2-D slice is the loss at θ + αδ + βη on an ``n × n`` grid over ``[-span, span]²``; its
centre row and column are the 1-D slices along δ and along η. The loss is the mean
cross-entropy on a fixed subset of the training images. Progress is reported after every
point and a stop flag is checked before each; a stopped scan keeps the points it has (the
rest are nan) and the weights are always restored.
"""

from __future__ import annotations

import csv
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from builder.xray.lesion import channels_last, evaluate

Evaluate = Callable[[], tuple[float, float]]  # current weights → (loss, accuracy)


@dataclass
class Landscape:
    """A 2-D loss surface: ``loss[i][j]`` at ``alphas[j]`` along δ and ``betas[i]`` along η."""

    graph_name: str
    alphas: list[float]
    betas: list[float]
    loss: np.ndarray  # (len(betas), len(alphas)); nan where not evaluated
    accuracy: np.ndarray
    samples: int = 0
    seconds: float = 0.0
    status: str = "completed"  # or "stopped"
    metrics: dict[str, float] = field(default_factory=dict)

    def line(self, axis: str = "alpha") -> tuple[list[float], list[float]]:
        """The 1-D slice through the centre along δ (``alpha``) or η (``beta``)."""
        if axis == "alpha":
            return self.alphas, self.loss[len(self.betas) // 2, :].tolist()
        return self.betas, self.loss[:, len(self.alphas) // 2].tolist()

    def write_csv(self, path: str | os.PathLike[str]) -> None:
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["alpha", "beta", "loss", "accuracy"])
            for i, b in enumerate(self.betas):
                for j, a in enumerate(self.alphas):
                    writer.writerow([f"{a:.6g}", f"{b:.6g}", f"{self.loss[i, j]:.6g}",
                                     f"{self.accuracy[i, j]:.6g}"])

    def text(self) -> str:
        m = self.metrics
        head = (f"{self.graph_name}: {len(self.betas)}×{len(self.alphas)} grid on {self.samples} "
                f"images, {self.seconds:.1f} s ({self.status})")
        if not m:
            return head
        return (f"{head}\n  loss at the centre {m['centre']:.4g}, mean over the grid {m['mean']:.4g}, "
                f"max {m['max']:.4g}; local minima {m['local_minima']:.0f}; non-convex points "
                f"{100 * m['nonconvex']:.0f}%; roughness {m['roughness']:.3g}")


def filter_normalised(params: Sequence[torch.Tensor], generator: torch.Generator) -> list[torch.Tensor]:
    """A random direction, each filter scaled to its parameter's filter norm; zero for 1-D tensors."""
    directions = []
    for p in params:
        d = torch.randn(p.shape, generator=generator, dtype=torch.float32).to(p.device, p.dtype)
        if p.dim() <= 1:
            d.zero_()
        else:
            dims = tuple(range(1, p.dim()))
            target = torch.linalg.vector_norm(p.detach(), dim=dims, keepdim=True)
            d.mul_(target / (torch.linalg.vector_norm(d, dim=dims, keepdim=True) + 1e-10))
        directions.append(d)
    return directions


def scan(params: Sequence[torch.Tensor], evaluate_point: Evaluate, delta: Sequence[torch.Tensor],
         eta: Sequence[torch.Tensor], alphas: Sequence[float], betas: Sequence[float], *,
         on_progress: Callable[[int, int], None] | None = None,
         should_stop: Callable[[], bool] | None = None,
         on_row: Callable[[np.ndarray], None] | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(loss, accuracy, completed)`` at θ + αδ + βη for every (β, α); θ is restored at the end.

    ``on_row`` gets the loss grid (nan where not yet evaluated) after each row of β.
    """
    loss = np.full((len(betas), len(alphas)), np.nan)
    acc = np.full_like(loss, np.nan)
    origin = [p.detach().clone() for p in params]
    total, done = loss.size, 0
    try:
        with torch.no_grad():
            for i, b in enumerate(betas):
                for j, a in enumerate(alphas):
                    if should_stop is not None and should_stop():
                        return loss, acc, False
                    for p, p0, d, e in zip(params, origin, delta, eta, strict=True):
                        torch.add(p0, d, alpha=a, out=p).add_(e, alpha=b)
                    loss[i, j], acc[i, j] = evaluate_point()
                    done += 1
                    if on_progress is not None:
                        on_progress(done, total)
                if on_row is not None:
                    on_row(loss)
    finally:
        with torch.no_grad():
            for p, p0 in zip(params, origin, strict=True):
                p.copy_(p0)
    return loss, acc, True


def grid(points: int, span: float) -> list[float]:
    return [float(v) for v in np.linspace(-span, span, points)]


def landscape(module: nn.Module, x: torch.Tensor, y: torch.Tensor, *, points: int = 21,
              span: float = 1.0, seed: int = 0, name: str = "",
              on_progress: Callable[[int, int], None] | None = None,
              should_stop: Callable[[], bool] | None = None,
              on_row: Callable[[np.ndarray], None] | None = None) -> Landscape:
    """The 2-D slice of ``module``'s loss on ``(x, y)`` (a fixed subset) around its weights."""
    start = time.perf_counter()
    params = [p for p in module.parameters() if p.requires_grad]
    gen = torch.Generator().manual_seed(seed)
    delta, eta = filter_normalised(params, gen), filter_normalised(params, gen)
    axis = grid(points, span)
    with channels_last(module, x) as fast:

        def point() -> tuple[float, float]:
            error, loss = evaluate(module, fast, y, batch_size=len(y))
            return loss, 1.0 - error

        loss, acc, complete = scan(params, point, delta, eta, axis, axis, on_progress=on_progress,
                                   should_stop=should_stop, on_row=on_row)
    result = Landscape(name, axis, axis, loss, acc, len(y), time.perf_counter() - start,
                       "completed" if complete else "stopped")
    if complete:
        result.metrics = roughness(loss)
    return result


def roughness(loss: np.ndarray) -> dict[str, float]:
    """Numbers that tell a smooth bowl from a chaotic surface.

    ``local_minima``: interior points below all 8 neighbours. ``nonconvex``: the fraction of
    interior points where the finite-difference Hessian has a negative eigenvalue larger than a
    tenth of its largest (Li et al. map |λmin/λmax|). ``roughness``: the mean absolute second
    difference of log₁₀ loss along both axes (decades per grid step²).
    """
    z = np.log10(np.clip(loss, 1e-12, None))
    finite = np.isfinite(loss).all()
    c = loss[loss.shape[0] // 2, loss.shape[1] // 2]
    out = {"centre": float(c), "mean": float(np.nanmean(loss)), "max": float(np.nanmax(loss))}
    if not finite or min(loss.shape) < 3:
        return {**out, "local_minima": math.nan, "nonconvex": math.nan, "roughness": math.nan}
    inner = loss[1:-1, 1:-1]
    neighbours = [loss[1 + di:loss.shape[0] - 1 + di, 1 + dj:loss.shape[1] - 1 + dj]
                  for di in (-1, 0, 1) for dj in (-1, 0, 1) if di or dj]
    minima = np.all([inner < n for n in neighbours], axis=0).sum()
    hxx = loss[1:-1, 2:] - 2 * inner + loss[1:-1, :-2]
    hyy = loss[2:, 1:-1] - 2 * inner + loss[:-2, 1:-1]
    hxy = (loss[2:, 2:] - loss[2:, :-2] - loss[:-2, 2:] + loss[:-2, :-2]) / 4
    mean, dev = (hxx + hyy) / 2, np.sqrt(((hxx - hyy) / 2) ** 2 + hxy ** 2)
    low, high = mean - dev, mean + dev
    nonconvex = (low < 0) & (np.abs(low) > 0.1 * np.maximum(np.abs(high), 1e-30))
    second = np.concatenate([np.abs(np.diff(z, 2, axis=0)).ravel(), np.abs(np.diff(z, 2, axis=1)).ravel()])
    return {**out, "local_minima": float(minima), "nonconvex": float(nonconvex.mean()),
            "roughness": float(second.mean())}


def subset(x: torch.Tensor, y: torch.Tensor, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed random subset of ``n`` samples (all of them when there are fewer)."""
    if n >= len(y):
        return x, y
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[:n].sort().values
    return x[order.to(x.device)], y[order.to(y.device)]
