"""The Qt-free trainer: a graph, a config and a dataset in; callbacks and a result out.

Each step makes one host sync: loss, correct count, total gradient norm (before clipping) and,
on measured steps, the per-block gradient norms travel to the host in one vector. Pause,
resume and stop are thread-safe flags checked before every step. A non-finite loss or
gradient ends the run with status ``non_finite`` and names the first block (topological
order) whose gradient went non-finite. A :class:`~builder.training.health.HealthMonitor`
watches the loss, accuracy and gradient norm: a diverged loss ends the run with status
``diverged``; a stall at chance or a gradient blow-up is a warning in ``TrainResult.error``
(printed by ``main.py train``) and in ``TrainResult.health`` (``health.json`` in the run folder).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from builder.compile import compile_graph
from builder.graph import Graph
from builder.training import health, optim, precision, records, step
from builder.training.adapt import fit_problem
from builder.training.config import TrainConfig
from builder.training.control import RUN, Control
from builder.training.datasets import Dataset, load_dataset
from builder.training.distributed import SINGLE, DistContext, all_sum
from builder.training.loader import Batches, epoch_generator
from builder.training.metrics import EpochMetrics, StepMetrics
from builder.training.probes import GradientProbe, GradientSample
from builder.training.runsetup import RunSetup
from builder.validate import parameterised, validate

Status = Literal["completed", "stopped", "non_finite", "diverged"]
FLUSH_S = 1.0  # the run folder's CSVs are flushed at least this often while training


@dataclass
class TrainResult:
    """How a run ended: ``completed``, ``stopped``, ``non_finite`` or ``diverged`` (see ``error``).

    ``error`` says why the run ended early, or for a run that ended normally, the health
    warnings (accuracy at chance, gradient blow-up); ``health`` holds every finding, each with
    the epoch/step where it was seen, for plot markers.
    """

    status: Status
    epochs_done: int
    steps: int
    history: list[EpochMetrics] = field(default_factory=list)
    error: str = ""
    bad_block: str | None = None
    first_gradients: GradientSample | None = None
    last_gradients: GradientSample | None = None
    run_dir: str | None = None
    seconds: float = 0.0
    module: nn.Module | None = None
    health: list[health.Finding] = field(default_factory=list)

    @property
    def warning(self) -> str:
        """The advice of the findings that did not end the run."""
        return health.warning_text(self.health)

    @property
    def final(self) -> EpochMetrics | None:
        return self.history[-1] if self.history else None


class NonFiniteError(RuntimeError):
    def __init__(self, message: str, block_id: str | None) -> None:
        super().__init__(message)
        self.block_id = block_id


class DivergedError(RuntimeError):
    def __init__(self, finding: health.Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


class Trainer:
    """Train ``graph`` under ``config`` on ``dataset`` (loaded from the config when None)."""

    def __init__(self, graph: Graph, config: TrainConfig, dataset: Dataset | None = None, *,
                 on_step: Callable[[StepMetrics], None] | None = None,
                 on_epoch: Callable[[EpochMetrics], None] | None = None,
                 on_gradients: Callable[[GradientSample], None] | None = None,
                 on_health: Callable[[health.Finding], None] | None = None,
                 run_dir: str | None = None, resume_from: str | None = None,
                 dist: DistContext = SINGLE, split_probe: Any = None) -> None:
        self.graph, self.config = graph, config
        self.split_probe = split_probe  # optional builder.xray.split.SplitProbe (off by default)
        self.dataset = dataset
        self.on_step, self.on_epoch, self.on_gradients = on_step, on_epoch, on_gradients
        self.on_health = on_health  # each finding as it is seen (a stall, a blow-up, divergence)
        self.run_dir, self.resume_from, self.dist = run_dir, resume_from, dist
        self.module: nn.Module | None = None
        self.device: torch.device | None = None
        self.setup: RunSetup | None = None  # how the run computes, once run() has set it up
        self._stop = threading.Event()
        self._go = threading.Event()
        self._go.set()

    # ---- control (any thread) ----
    def stop(self) -> None:
        self._stop.set()
        self._go.set()

    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    # ---- run ----
    def run(self) -> TrainResult:
        """Train until done, stopped or non-finite; returns the :class:`TrainResult`."""
        setup = _Setup(self)
        self.module, self.device = setup.module, setup.device  # for callers that inspect it
        self.setup = setup.facts
        run = _Run(self, setup)
        gc.freeze()  # the heap built so far (torch, the module, a window) is not rescanned while training
        try:
            return run.loop()
        finally:
            gc.unfreeze()
            setup.close()


def _fits(data: Dataset, device: torch.device) -> bool:
    """Whether the whole set fits comfortably (half the free memory) on a CUDA device."""
    if device.type != "cuda":
        return True
    free, _ = torch.cuda.mem_get_info(device)
    return data.nbytes() < free // 2


class _Setup:
    """Everything built before the first step: device, data, module, optimizer, records."""

    def __init__(self, trainer: Trainer) -> None:
        cfg, ctx = trainer.config, trainer.dist
        self.device = optim.resolve_device(cfg.device, ctx.local_rank if ctx.active else None)
        self.precision = precision.resolve(cfg.precision, self.device)
        self.amp = self.precision.dtype
        self._load_data(trainer)
        self._build(trainer)
        self.start_epoch, self.start_step = 0, 0
        self.history: list[EpochMetrics] = []
        if trainer.resume_from:
            self._restore(trainer.resume_from)
        self.forward: nn.Module = self.module
        if ctx.active:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.forward = nn.parallel.DistributedDataParallel(self.module, device_ids=ids)
        if cfg.compile:
            self.forward = torch.compile(self.forward)  # type: ignore[assignment]
        self.step = self._make_step(trainer)
        self.one = torch.ones((), device=self.device)  # MixUp's weight when MixUp is off
        self.facts = self._facts(trainer)
        self.control = Control(trainer._stop, trainer._go, trainer.run_dir, ctx, self.device)
        self.recorder = None
        if trainer.run_dir and ctx.is_main:
            resume = self.start_epoch if trainer.resume_from else None
            self.recorder = records.RunRecorder(trainer.run_dir, trainer.graph, cfg, resume)
            self.facts.save(trainer.run_dir)

    def _make_step(self, trainer: Trainer) -> step.TrainStep:
        cfg = trainer.config
        loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
        body = step.StepBody(self.forward, loss_fn, self.probe, cfg, self.amp, self.scaler,
                             self.optimizer)
        hooks = getattr(trainer, "split_probe", None) is not None  # builder.xray's tensor hooks
        self.capture_blockers = step.capture_blockers(cfg, self.device, trainer.dist.active, hooks)
        backend = None if self.capture_blockers else step.CudaGraphs(self.device)
        return step.TrainStep(body, self.optimizer, backend)

    def _facts(self, trainer: Trainer) -> RunSetup:
        cfg, p = trainer.config, self.precision
        note = ""
        if self.device.type == "cuda" and self.capture_blockers:
            note = f"no CUDA graph: {', '.join(self.capture_blockers)}"
        n_train = len(self.data.y_train) // trainer.dist.world
        return RunSetup(str(self.device), p.requested, p.name, p.reason, cfg.channels_last,
                        torch.get_num_threads(), trainer.dist.world, cfg.compile,
                        cuda_graph=self.step.capturing, cuda_graph_note=note,
                        steps_per_epoch=max(1, -(-n_train // cfg.batch_size)), data=self.data.describe())

    def _load_data(self, trainer: Trainer) -> None:
        data = trainer.dataset or load_dataset(trainer.config)
        problem = fit_problem(trainer.graph, data.input_shape, data.num_classes)
        if problem:
            raise ValueError(problem)
        self.batch_device = None  # set when the data stay on the host
        if _fits(data, self.device):
            self.data = data.to(self.device)
        else:
            self.data = data.to("cpu").pin()
            self.batch_device = self.device
        if trainer.config.channels_last:
            self.data.x_train = self.data.x_train.contiguous(memory_format=torch.channels_last)
            self.data.x_val = self.data.x_val.contiguous(memory_format=torch.channels_last)

    def _build(self, trainer: Trainer) -> None:
        cfg = trainer.config
        torch.manual_seed(cfg.seed)
        module = compile_graph(trainer.graph, validate(trainer.graph, batch_size=cfg.batch_size))
        self.block_ids = parameterised(trainer.graph)
        self.module = module.to(self.device)
        if cfg.channels_last:
            self.module = self.module.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        paths: dict[str, str] = module.block_paths  # type: ignore[assignment]
        self.probe = GradientProbe(self.module, paths, self.block_ids, cfg.probe_outputs)
        self.split = trainer.split_probe
        if self.split is not None:
            self.split.attach(self.module, trainer.graph)
        self.optimizer = optim.make_optimizer(cfg, self.module)
        self.scaler = torch.amp.GradScaler("cuda") if self.precision.name == "fp16" else None

    def _restore(self, path: str) -> None:
        state = records.load_checkpoint(path)
        try:
            self.module.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, KeyError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValueError(f"{path}: the checkpoint does not fit this graph ({first})") from None
        if self.scaler is not None and "scaler" in state:
            self.scaler.load_state_dict(state["scaler"])
        if "rng" in state:
            records.set_rng_state(state["rng"])
        self.start_epoch, self.start_step = int(state["epoch"]), int(state["step"])
        self.history = [EpochMetrics(**h) for h in state.get("history", [])]

    def checkpoint(self, epoch: int, step: int, history: list[EpochMetrics]) -> None:
        if self.recorder is None:
            return
        state = {"model": self.module.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "epoch": epoch, "step": step, "rng": records.rng_state(),
                 "history": [asdict(h) for h in history]}
        if self.scaler is not None:
            state["scaler"] = self.scaler.state_dict()
        records.save_checkpoint(self.recorder.checkpoint_path(), state)

    def note_capture(self, run_dir: str | None) -> None:
        """Record that capture stopped mid-run (an op that a CUDA graph cannot hold)."""
        if self.step.note and self.facts.cuda_graph:
            self.facts.cuda_graph, self.facts.cuda_graph_note = False, self.step.note
            if self.recorder is not None and run_dir:
                self.facts.save(run_dir)

    def close(self) -> None:
        self.probe.remove()
        if self.split is not None:
            self.split.detach()
        if self.recorder is not None:
            self.recorder.close()


class _Run:
    """The epoch and step loops of one run."""

    def __init__(self, trainer: Trainer, setup: _Setup) -> None:
        self.t, self.s, self.cfg = trainer, setup, trainer.config
        self.steps_per_epoch = setup.facts.steps_per_epoch
        self.step = setup.start_step
        self.result = TrainResult("completed", setup.start_epoch, self.step, list(setup.history),
                                  run_dir=trainer.run_dir, module=setup.module)
        self.params = setup.probe.params
        facts = health.facts_of(trainer.graph, self.cfg, setup.data.y_train, setup.data.num_classes,
                                self.steps_per_epoch, trainer.dist.active)
        self.health = health.HealthMonitor(facts)
        self._at = (1, 1, 1)  # epoch, batch, batches of the step being taken
        self._flushed = time.monotonic()

    def loop(self) -> TrainResult:
        start = time.perf_counter()
        try:
            for epoch in range(self.s.start_epoch, self.cfg.epochs):
                if not self._epoch(epoch):
                    break
        except NonFiniteError as exc:
            self.result.status, self.result.error = "non_finite", str(exc)
            self.result.bad_block = exc.block_id
            self.health.findings.append(health.non_finite(*self._at, self.step, str(exc)))
        except DivergedError as exc:
            self.result.status, self.result.error = "diverged", str(exc)
        self.result.steps = self.step
        self.result.seconds = time.perf_counter() - start
        self._report_health()
        return self.result

    def _report_health(self) -> None:
        self.result.health = list(self.health.findings)
        if not self.result.error:
            self.result.error = self.result.warning
        if self.t.run_dir and self.t.dist.is_main:
            health.save(self.t.run_dir, self.result.health, self.steps_per_epoch)

    def _watch(self, finding: health.Finding | None) -> None:
        if finding is None:
            return
        if self.t.on_health and self.t.dist.is_main:
            self.t.on_health(finding)
        if finding.stops:
            raise DivergedError(finding)

    def _epoch(self, epoch: int) -> bool:
        data, ctx = self.s.data, self.t.dist
        gen = epoch_generator(self.cfg.seed, epoch, data.x_train.device)
        batches = Batches(data.x_train, data.y_train, self.cfg.batch_size, shuffle=True, gen=gen,
                          rank=ctx.rank, world=ctx.world, augment_images=self.cfg.augment,
                          device=self.s.batch_device)
        mix = np.random.default_rng([self.cfg.seed, epoch])
        self.s.module.train()
        sums = np.zeros(3)  # loss × n, correct, n
        t0 = tick = time.perf_counter()
        for i, (xb, yb) in enumerate(batches):
            if self.s.control.state() != RUN:
                self._flush()
                if not self.s.control.wait():
                    self.result.status = "stopped"
                    return False
                tick = time.perf_counter()  # paused time is not training time
            self._at = (epoch + 1, i + 1, len(batches))
            values = self._timed_step(xb, yb, mix)
            n = len(yb)
            sums += (values[0] * n, values[1], n)
            speed = n / max(time.perf_counter() - tick, 1e-9)
            self._report_step(epoch, i, len(batches), values, n, speed)
            tick = time.perf_counter()
            self.step += 1
            self._watch(self.health.step(*self._at, self.step - 1, values[0], values[2]))
        self._finish_epoch(epoch, sums, time.perf_counter() - t0)
        return True

    def _timed_step(self, xb: torch.Tensor, yb: torch.Tensor, mix: np.random.Generator) -> list[float]:
        """A step; the first one under torch.compile is timed (it compiles) and recorded."""
        facts = self.s.facts
        if not facts.compiled or facts.compile_seconds is not None:
            return self._train_step(xb, yb, mix)
        start = time.perf_counter()
        values = self._train_step(xb, yb, mix)
        facts.compile_seconds = time.perf_counter() - start
        if self.s.recorder is not None and self.t.run_dir:
            facts.save(self.t.run_dir)
        return values

    def _train_step(self, xb: torch.Tensor, yb: torch.Tensor, mix: np.random.Generator) -> list[float]:
        s, cfg = self.s, self.cfg
        lr = optim.lr_at(cfg, self.step, self.steps_per_epoch)
        for group in s.optimizer.param_groups:
            group["lr"] = lr
        measured = bool(cfg.probe_every) and self.step % cfg.probe_every == 0 and self.t.dist.is_main
        s.probe.arm(measured)
        if s.split is not None:
            s.split.arm(measured)
        lam, yb2 = 1.0, yb
        if cfg.mixup_alpha > 0:
            lam = float(mix.beta(cfg.mixup_alpha, cfg.mixup_alpha))
            perm = torch.from_numpy(mix.permutation(len(yb))).to(xb.device)
            xb, yb2 = lam * xb + (1 - lam) * xb[perm], yb[perm]
        out = s.step(xb, yb, yb2, s.one if lam == 1.0 else torch.full((), lam, device=xb.device))
        norms = out.norms
        if s.scaler is not None:
            s.scaler.step(s.optimizer)
            s.scaler.update()
        else:
            s.optimizer.step()
        s.note_capture(self.t.run_dir)
        packed = torch.cat([out.head, s.probe.pack(norms)]) if measured else out.head
        values = packed.cpu().tolist()
        s.probe.arm(False)
        if s.split is not None:
            s.split.collect(self.step, self.result.epochs_done + 1)
        self._check_finite(values, norms)
        if measured:
            self._report_gradients(values[3:])
        return values

    def _check_finite(self, values: list[float], norms: torch.Tensor) -> None:
        loss_ok, grads_ok = np.isfinite(values[0]), np.isfinite(values[2])
        if loss_ok and (grads_ok or self.s.scaler is not None):
            return
        block = self.s.probe.first_non_finite(norms)
        where = f"; first non-finite gradient in block {block}" if block else ""
        what = "loss" if not loss_ok else "gradient"
        raise NonFiniteError(f"{what} became non-finite at step {self.step} "
                             f"(loss {values[0]:g}){where}", block)

    def _report_step(self, epoch: int, i: int, batches: int, v: list[float], n: int,
                     speed: float) -> None:
        if not self.t.dist.is_main:
            return
        lr = self.s.optimizer.param_groups[0]["lr"]
        m = StepMetrics(epoch + 1, self.step, i + 1, batches, v[0], v[1] / n, lr, speed, v[2])
        if self.s.recorder is not None:
            self.s.recorder.step(m)
            if time.monotonic() - self._flushed > FLUSH_S:
                self._flush()
        if self.t.on_step:
            self.t.on_step(m)

    def _flush(self) -> None:
        """Write the records so far (a window follows the run folder while it grows)."""
        if self.s.recorder is not None:
            self.s.recorder.flush()
        self._flushed = time.monotonic()

    def _report_gradients(self, values: list[float]) -> None:
        sample = self.s.probe.sample(values, self.step, self.result.epochs_done + 1)
        if self.result.first_gradients is None:
            self.result.first_gradients = sample
        self.result.last_gradients = sample
        self.health.gradients(sample.block_ids, sample.weight_norms)
        if self.s.recorder is not None:
            self.s.recorder.gradients(sample)
        if self.t.on_gradients:
            self.t.on_gradients(sample)

    def _finish_epoch(self, epoch: int, sums: np.ndarray, seconds: float) -> None:
        s, ctx = self.s, self.t.dist
        train = all_sum(torch.tensor(sums, dtype=torch.float64, device=s.device), ctx).tolist()
        every, last = self.cfg.val_every, epoch + 1 == self.cfg.epochs
        due = last or (every and (epoch + 1) % every == 0)
        val_loss, val_acc = self._validate() if due else (float("nan"), float("nan"))
        lr = s.optimizer.param_groups[0]["lr"]
        m = EpochMetrics(epoch + 1, self.cfg.epochs, train[0] / train[2], train[1] / train[2],
                         val_loss, val_acc, lr, seconds, train[2] / max(seconds, 1e-9))
        self.result.history.append(m)
        self.result.epochs_done = epoch + 1
        if s.recorder is not None:
            s.recorder.epoch(m)
            every = self.cfg.checkpoint_every
            if (every and (epoch + 1) % every == 0) or epoch + 1 == self.cfg.epochs:
                s.checkpoint(epoch + 1, self.step, self.result.history)
        if self.t.on_epoch and ctx.is_main:
            self.t.on_epoch(m)
        self._watch(self.health.epoch(epoch + 1, self.step, m.train_loss, m.train_acc, val_loss))

    @torch.no_grad()
    def _validate(self) -> tuple[float, float]:
        s, ctx = self.s, self.t.dist
        s.module.eval()
        batches = Batches(s.data.x_val, s.data.y_val, self.cfg.batch_size * 2, rank=ctx.rank,
                          world=ctx.world, device=s.batch_device)
        sums = torch.zeros(3, dtype=torch.float64, device=s.device)
        for xb, yb in batches:
            with torch.autocast(s.device.type, dtype=s.amp or torch.float32, enabled=s.amp is not None):
                out = s.module(xb)
            sums += torch.stack([F.cross_entropy(out.float(), yb, reduction="sum").double(),
                                 (out.argmax(1) == yb).sum().double(),
                                 torch.tensor(float(len(yb)), dtype=torch.float64, device=s.device)])
        s.module.train()
        loss, correct, n = all_sum(sums, ctx).tolist()
        return (loss / n, correct / n) if n else (float("nan"), float("nan"))
