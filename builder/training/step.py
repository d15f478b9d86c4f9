"""One training step's device work, the same function run eagerly or replayed as a CUDA graph.

:class:`StepBody` is forward under autocast, the loss (MixUp's blend when on), backward (through
the fp16 loss scaler when there is one), the per-parameter gradient norms of the probe, the
total norm and clipping, and the step's head vector ``[loss, correct, total norm]``. The
optimizer step stays outside: it reads the gradients wherever they live.

:class:`TrainStep` runs the body. With capture off (CPU, MPS, fp16, several processes,
torch.compile, output-gradient probes, or ``SKIPWIRE_CUDA_GRAPHS=0``) it calls it directly.
With capture on, each batch shape is warmed up for :data:`WARMUP` eager steps on a side stream,
then captured once into a graph whose inputs are static tensors; later steps of that shape copy
the batch into those tensors and replay the graph: one launch for the whole forward and backward
instead of hundreds, which is what a launch-bound step needs. The last, smaller batch of an
epoch gets a second graph sharing the first one's memory pool, so no batch is dropped and
nothing is captured twice. A capture that fails turns capture off for the run and the step is
taken eagerly (the reason is kept in :attr:`TrainStep.note`).

The graph backend is injectable (:class:`CudaGraphs`): the tests drive the capture logic on the
CPU with a backend whose "replay" calls the captured function on the static tensors.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import nn

WARMUP = 2  # eager steps per batch shape before it is captured
ENV = "SKIPWIRE_CUDA_GRAPHS"  # "0" turns capture off


@dataclass
class StepOutput:
    """Device tensors of one step: ``head`` = [loss, correct, total norm]; ``norms`` per parameter."""

    head: torch.Tensor
    norms: torch.Tensor


class StepBody:
    """Forward, loss, backward, gradient norms and clipping (no host sync, no Python branching on
    tensor values, so it can be captured)."""

    def __init__(self, forward: nn.Module, loss_fn: nn.Module, probe: Any, config: Any,
                 amp: torch.dtype | None, scaler: Any = None, optimizer: Any = None) -> None:
        self.forward, self.loss_fn, self.probe, self.cfg = forward, loss_fn, probe, config
        self.amp, self.scaler, self.optimizer = amp, scaler, optimizer
        self.mixup = config.mixup_alpha > 0
        self.cache = True  # autocast's cast cache (off while captured)

    def __call__(self, x: torch.Tensor, y: torch.Tensor, y2: torch.Tensor,
                 lam: torch.Tensor) -> StepOutput:
        with torch.autocast(x.device.type, dtype=self.amp or torch.float32, enabled=self.amp is not None,
                            cache_enabled=self.cache):
            out = self.forward(x)
            loss = self.loss_fn(out, y)
            if self.mixup:
                loss = lam * loss + (1 - lam) * self.loss_fn(out, y2)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
        else:
            loss.backward()
        norms = self.probe.norms()
        total = torch.linalg.vector_norm(norms)
        self._clip(total)
        pred = out.detach().argmax(1)
        correct = (pred == y).sum().float()
        if self.mixup:
            correct = lam * correct + (1 - lam) * (pred == y2).sum().float()
        head = torch.stack([loss.detach().float(), correct, total.float()])
        return StepOutput(head, norms)

    def _clip(self, total: torch.Tensor) -> None:
        params = self.probe.params
        if self.cfg.clip == "norm":
            grads = [p.grad for p in params if p.grad is not None]
            coef = (self.cfg.clip_value / (total + 1e-6)).clamp(max=1.0)
            torch._foreach_mul_(grads, coef)
        elif self.cfg.clip == "value":
            nn.utils.clip_grad_value_(params, self.cfg.clip_value)


class GraphBackend(Protocol):
    """How a function is captured and replayed (CUDA graphs, or a CPU stand-in in tests)."""

    def warm(self, fn: Callable[[], StepOutput]) -> StepOutput: ...

    def capture(self, fn: Callable[[], StepOutput]) -> tuple[Callable[[], None], StepOutput]: ...


class CudaGraphs:
    """``torch.cuda.CUDAGraph`` capture: warm-up on a side stream, graphs sharing one memory pool."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.side = torch.cuda.Stream(device)  # type: ignore[no-untyped-call]
        self.pool: Any = None

    def warm(self, fn: Callable[[], StepOutput]) -> StepOutput:
        self.side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(self.side):
            out = fn()
        torch.cuda.current_stream(self.device).wait_stream(self.side)
        return out

    def capture(self, fn: Callable[[], StepOutput]) -> tuple[Callable[[], None], StepOutput]:
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self.pool):
            out = fn()
        if self.pool is None:
            self.pool = graph.pool()
        return graph.replay, out


@dataclass
class _Static:
    """A captured shape: its input tensors, its replay and its output tensors."""

    x: torch.Tensor
    y: torch.Tensor
    y2: torch.Tensor
    lam: torch.Tensor
    replay: Callable[[], None] | None = None
    out: StepOutput | None = None
    seen: int = 0


def capture_blockers(config: Any, device: torch.device, distributed: bool,
                     extra_hooks: bool = False) -> list[str]:
    """Why the step cannot be captured as a CUDA graph (empty: it can)."""
    reasons = []
    if device.type != "cuda":
        reasons.append(f"{device.type} (CUDA graphs are a CUDA feature)")
    if os.environ.get(ENV, "1") == "0":
        reasons.append(f"{ENV}=0")
    if config.compile:
        reasons.append("torch.compile")
    if distributed:
        reasons.append("several processes")
    if config.precision == "fp16":
        reasons.append("fp16 loss scaling checks for overflow on the host")
    if config.probe_outputs or extra_hooks:
        reasons.append("output-gradient probes (Python hooks)")
    return reasons


class TrainStep:
    """Runs :class:`StepBody` eagerly, or per batch shape as a captured graph (``backend``).

    Under capture the gradients live in fixed tensors made before the first capture: every
    graph (and every eager warm-up step) zeroes them and accumulates into them, so all graphs
    and the optimizer see the same gradient tensors whichever shape ran last.
    """

    def __init__(self, body: StepBody, optimizer: Any, backend: GraphBackend | None = None) -> None:
        self.body, self.optimizer, self.backend = body, optimizer, backend
        self.shapes: dict[tuple[int, ...], _Static] = {}
        self.note = ""  # why capture stopped, when it did
        body.cache = backend is None  # autocast's weight cache must be off inside a graph

    @property
    def capturing(self) -> bool:
        return self.backend is not None

    def __call__(self, x: torch.Tensor, y: torch.Tensor, y2: torch.Tensor,
                 lam: torch.Tensor) -> StepOutput:
        """The step's outputs; gradients are left in ``p.grad`` for the optimizer."""
        if self.backend is None:
            self.optimizer.zero_grad(set_to_none=True)
            return self.body(x, y, y2, lam)
        key = tuple(x.shape)
        if key not in self.shapes:
            self.shapes[key] = _Static(torch.empty_like(x), torch.empty_like(y), torch.empty_like(y2),
                                       torch.empty_like(lam))
        s = self.shapes[key]
        for static, value in ((s.x, x), (s.y, y), (s.y2, y2), (s.lam, lam)):
            static.copy_(value)
        s.seen += 1
        try:
            return self._run(s)
        except RuntimeError as exc:  # an op that cannot be captured: the rest of the run is eager
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.note = f"CUDA graph off: {first}"
            self.backend, self.body.cache = None, True
            return self(x, y, y2, lam)

    def _zeroed_body(self, s: _Static) -> StepOutput:
        grads = [p.grad for p in self.body.probe.params]
        torch._foreach_zero_(grads)
        return self.body(s.x, s.y, s.y2, s.lam)

    def _run(self, s: _Static) -> StepOutput:
        assert self.backend is not None
        for p in self.body.probe.params:
            if p.grad is None:  # fixed gradient tensors, outside any graph's memory pool
                p.grad = torch.zeros_like(p)
        if s.replay is None and s.seen <= WARMUP:
            return self.backend.warm(lambda: self._zeroed_body(s))
        if s.replay is None:
            s.replay, s.out = self.backend.capture(lambda: self._zeroed_body(s))
        s.replay()
        assert s.out is not None
        return s.out
