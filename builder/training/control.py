"""Pause and stop for every process of a run: the trainer's flags, a control file, one agreement.

A run is told to pause or stop by its :class:`~builder.training.trainer.Trainer`'s thread-safe
flags (the window's own thread) or by the file ``control`` in its run folder, which holds one
word: ``run``, ``pause`` or ``stop`` (the window writes it for a run it launched under torchrun;
``echo pause > runs/NAME/control`` works for any run). Every process reads the file itself, at
most every :data:`POLL_S`; with several processes their views are then combined with one
all-reduce (the maximum: stop beats pause beats run) before every step, so all ranks take the
same decision at the same step and none is left waiting in a collective.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import torch

from builder.training.distributed import DistContext

FILE = "control"
RUN, PAUSE, STOP = 0, 1, 2
WORDS = {"run": RUN, "resume": RUN, "pause": PAUSE, "stop": STOP}
POLL_S = 0.2  # how often the control file is read


def write(run_dir: str | os.PathLike[str], word: str) -> None:
    """Tell the run in ``run_dir`` to ``run``, ``pause`` or ``stop`` (atomically replaced)."""
    if word not in WORDS:
        raise ValueError(f"control word must be one of {', '.join(WORDS)}; got {word!r}")
    path = Path(run_dir) / FILE
    tmp = path.with_name(FILE + ".tmp")
    tmp.write_text(word + "\n", encoding="utf-8")
    os.replace(tmp, path)


class Control:
    """The state the run should be in, agreed across ranks."""

    def __init__(self, stop: threading.Event, go: threading.Event, run_dir: str | None,
                 dist: DistContext, device: torch.device) -> None:
        self.stop_flag, self.go = stop, go
        self.path = Path(run_dir) / FILE if run_dir else None
        self.dist, self.device = dist, device
        self._file_state, self._read_at, self._stamp = RUN, -POLL_S, 0.0

    def local(self) -> int:
        """This process's view: its flags and the control file."""
        flags = STOP if self.stop_flag.is_set() else PAUSE if not self.go.is_set() else RUN
        return max(flags, self._from_file())

    def _from_file(self) -> int:
        now = time.monotonic()
        if self.path is None or now - self._read_at < POLL_S:
            return self._file_state
        self._read_at = now
        try:
            stamp = self.path.stat().st_mtime_ns
            if stamp != self._stamp:
                self._stamp = stamp
                word = self.path.read_text(encoding="utf-8").strip().lower()
                self._file_state = WORDS.get(word, RUN)
        except OSError:
            self._file_state = RUN
        return self._file_state

    def state(self) -> int:
        """RUN, PAUSE or STOP: the same answer on every rank (one all-reduce when distributed)."""
        state = self.local()
        if not self.dist.active:
            return state
        import torch.distributed as dist

        value = torch.tensor([state], dtype=torch.int32, device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return int(value.item())

    def wait(self) -> bool:
        """Block while paused (polling, in step with the other ranks); False when the run stops."""
        state = self.state()
        while state == PAUSE:
            if self.go.is_set():  # paused through the file: poll it
                time.sleep(0.05)
            else:  # paused through the flag: wake at once on resume
                self.go.wait(0.05)
            state = self.state()
        return state != STOP
