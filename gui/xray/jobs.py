"""Background work for the X-ray panels: one thread per job, progress, Stop, no escaping errors.

A :class:`Job` runs ``work(progress, should_stop)`` off the GUI thread; ``progress(done, total)``
and the result reach the panel as queued signals. A user error (``XrayError``, ``ValueError``
such as a bad checkpoint or data set) arrives as ``failed(message, True)``; anything else as
``failed(type: message, False)``. :func:`dataset` caches loaded data sets (digits takes a second
to load the first time) for every job of the process.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

Progress = Callable[[int, int], None]
Work = Callable[[Progress, Callable[[], bool]], Any]

_DATA: dict[str, Any] = {}
_DATA_LOCK = threading.Lock()


def dataset(config: Any) -> Any:
    """The data set ``config`` names, loaded once per process (call from a worker thread)."""
    from builder.training.datasets import load_dataset

    key = repr((config.dataset, config.data_dir, config.image_size, config.val_fraction, config.seed))
    with _DATA_LOCK:
        if key not in _DATA:
            _DATA[key] = load_dataset(config)
        return _DATA[key]


class Job(QThread):
    """Runs one piece of X-ray work; emits ``progress``, then ``done`` or ``failed``."""

    progress = Signal(int, int)
    done = Signal(object)
    failed = Signal(str, bool)  # message, user error

    def __init__(self, work: Work, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.work = work
        self._stop = threading.Event()
        self.seconds = 0.0

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        import time

        start = time.perf_counter()
        try:
            result = self.work(self.progress.emit, self._stop.is_set)
        except ValueError as exc:  # XrayError, DatasetError, ConfigError, CompileError, bad checkpoints
            self.failed.emit(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                             True)
        except Exception as exc:  # noqa: BLE001 - a failed job must not take the window down
            traceback.print_exc()
            self.failed.emit(f"{type(exc).__name__}: {exc}", False)
        else:
            self.seconds = time.perf_counter() - start
            self.done.emit(result)


def finish(job: Job | None, wait_ms: int = 30_000) -> None:
    """Ask a job to stop and wait for its thread (window closing, panel replaced)."""
    if job is not None and job.isRunning():
        job.stop()
        job.wait(wait_ms)
