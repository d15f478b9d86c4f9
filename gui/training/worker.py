"""The training thread: runs the Qt-free :class:`builder.training.Trainer` off the GUI thread.

A :class:`TrainThread` trains a list of :class:`Job` s one after the other on one data set
(loaded once, in the thread). The trainer's callbacks run on this thread; each one emits a
signal, which Qt queues to the window's thread (the receivers live there). ``stop()``,
``pause()`` and ``resume()`` may be called from the GUI thread: the trainer checks its flags
before every step, so a stop lands within one step. Errors never escape: a bad setting or data
set (``ConfigError``, ``DatasetError``, ``ValueError``) is reported as a user error, anything
else as a failure with the exception's type, and the thread ends normally either way.

:func:`devices` lists where training can run (the CPU always; CUDA devices by index, name and
memory; MPS where present). It imports torch, so the window calls it lazily.
"""

from __future__ import annotations

import os
import shutil
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from builder.graph import Graph


@dataclass
class Job:
    """One net to train: its name, graph (fitted to the data in the thread), config, folder."""

    name: str
    graph: Graph
    config: Any  # TrainConfig
    run_dir: str | None = None
    adapt: bool = True
    meta: dict[str, Any] = field(default_factory=dict)  # run.json: name, graph_name, kind, dataset


@dataclass
class JobStart:
    """What the GUI learns when a job's trainer is built."""

    device: str
    block_ids: list[str]
    block_types: list[str]
    notes: list[str]
    data: str


def devices() -> list[tuple[str, str]]:
    """``(config value, label)`` for every device: CPU first, then CUDA by index, then MPS."""
    out = [("cpu", "CPU")]
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return out
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            out.append((f"cuda:{i}", f"cuda:{i} — {props.name}, {props.total_memory / 2**30:.1f} GiB"))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append(("mps", "MPS (Apple GPU)"))
    return out


class TrainThread(QThread):
    """Trains ``jobs`` in order; every signal carries the job's index."""

    job_started = Signal(int, object)  # JobStart
    setup = Signal(int, object)  # RunSetup: precision as resolved, compile time (after the first step)
    step = Signal(int, object)  # StepMetrics
    epoch = Signal(int, object)  # EpochMetrics
    gradients = Signal(int, object)  # GradientSample
    health = Signal(int, object)  # health.Finding, as soon as it is seen
    job_finished = Signal(int, object)  # TrainResult (module dropped)
    failed = Signal(int, str, bool)  # message, user error (bad setting/data) or crash
    all_done = Signal()

    def __init__(self, jobs: list[Job], dataset: Any = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.dataset = dataset  # a ready Dataset (tests), else loaded from the first job's config
        self._lock = threading.Lock()
        self._trainer: Any = None
        self._stopped = False
        self._paused = False
        self.current = -1

    # ---- control (GUI thread) ----
    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            if self._trainer is not None:
                self._trainer.stop()

    def pause(self) -> None:
        with self._lock:
            self._paused = True
            if self._trainer is not None:
                self._trainer.pause()

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            if self._trainer is not None:
                self._trainer.resume()

    @property
    def paused(self) -> bool:
        return self._paused

    # ---- the thread ----
    def run(self) -> None:  # noqa: D401 (Qt override)
        index = 0
        try:
            data = self._load()
            for index, job in enumerate(self.jobs):
                if self._stopped:
                    break
                self.current = index
                self._train(index, job, data)
        except Exception as exc:  # noqa: BLE001 - every error becomes a message
            self._report(index, exc)
        finally:
            with self._lock:
                self._trainer = None
            self.all_done.emit()

    def _load(self) -> Any:
        from builder.training.datasets import load_dataset

        if self.jobs:
            import torch

            torch.set_num_threads(self.jobs[0].config.cpu_threads)  # the jobs share one config
        return self.dataset if self.dataset is not None else load_dataset(self.jobs[0].config)

    def _train(self, index: int, job: Job, data: Any) -> None:
        from builder.training.adapt import plan_adaptation
        from builder.training.trainer import Trainer
        from builder.validate import parameterised

        notes = []
        graph = job.graph
        if job.adapt:
            plan = plan_adaptation(job.graph, data.input_shape, data.num_classes)
            graph, notes = plan.graph, plan.notes
        record = _Record(job, notes)

        def on_step(m: Any) -> None:
            if not record.started:
                record.begin(trainer.setup)
                self.setup.emit(index, trainer.setup)
            self.step.emit(index, m)

        trainer = Trainer(graph, job.config, data, run_dir=job.run_dir, on_step=on_step,
                          on_epoch=lambda m: self.epoch.emit(index, m),
                          on_gradients=lambda g: self.gradients.emit(index, g),
                          on_health=lambda f: self.health.emit(index, f))
        with self._lock:
            if self._stopped:
                return
            self._trainer = trainer
            if self._paused:
                trainer.pause()
        ids = parameterised(graph)
        start = JobStart(job.config.device, ids, [graph.block(b).type for b in ids], notes,
                         data.describe())
        self.job_started.emit(index, start)
        try:
            result = trainer.run()
        except Exception as exc:
            record.fail(exc)
            raise
        result.module = None  # the window keeps numbers only
        start.device = str(trainer.device) if trainer.device is not None else job.config.device
        with self._lock:
            self._trainer = None
        record.finish(result, start.device)
        self.job_finished.emit(index, result)

    def _report(self, index: int, exc: Exception) -> None:
        from builder.compile import CompileError
        from builder.training.config import ConfigError
        from builder.training.datasets import DatasetError

        user = isinstance(exc, (ConfigError, DatasetError, CompileError, ValueError))
        if user:
            message = str(exc)
        else:
            where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            place = f" (at {where.filename.rsplit('/', 1)[-1]}:{where.lineno})" if where else ""
            message = f"{type(exc).__name__}: {exc}{place}"
        self.failed.emit(index, message, user)


class _Record:
    """The window's part of a run folder: ``original_graph.json`` and ``run.json``.

    Written once the first step has run (a run that never started leaves no folder: the
    engine creates it only after the data, the module and the device are ready, and a
    failure before the first step removes what it made), updated when the run ends.
    """

    def __init__(self, job: Job, notes: list[str]) -> None:
        self.job, self.notes = job, notes
        self.started = False

    def begin(self, setup: Any = None) -> None:
        if self.started:
            return
        self.started = True
        if not self.job.run_dir:
            return
        from builder import fileformat
        from gui.training.runindex import ORIGINAL, write_meta

        fileformat.save(self.job.graph, os.path.join(self.job.run_dir, ORIGINAL))
        write_meta(self.job.run_dir, **self.job.meta, status="running", changes=self.notes,
                   setup=setup.describe() if setup is not None else "")

    def finish(self, result: Any, device: str) -> None:
        if not self.started:
            self._discard()  # stopped before its first step: not a run
        elif self.job.run_dir:
            from gui.training.runindex import write_meta

            write_meta(self.job.run_dir, status=result.status, error=result.error, device=device,
                       epochs_done=result.epochs_done)

    def fail(self, exc: Exception) -> None:
        if not self.started:
            self._discard()
        elif self.job.run_dir:
            from gui.training.runindex import write_meta

            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            write_meta(self.job.run_dir, status="failed", error=first)

    def _discard(self) -> None:
        """Remove the engine's record of a run that made no step (its folder is new, see Job)."""
        run_dir = self.job.run_dir
        if run_dir and os.path.isdir(run_dir) and not os.path.exists(os.path.join(run_dir, "checkpoint.pt")):
            shutil.rmtree(run_dir, ignore_errors=True)
