"""A one-line terminal progress bar for ``main.py train`` (epoch, loss, accuracy, images/s, ETA)."""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO


class Progress:
    """Redraws one line per step (at most 10 times a second) and prints one line per epoch."""

    def __init__(self, epochs: int, enabled: bool = True, stream: TextIO | None = None,
                 width: int = 24) -> None:
        self.epochs, self.enabled, self.width = epochs, enabled, width
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self.last_draw = 0.0
        self.first_epoch: int | None = None
        self.steps_done = 0
        self.mid_line = False  # a step line is drawn and not yet ended

    def step(self, m: Any) -> None:
        if not self.enabled:
            return
        if self.first_epoch is None:
            self.first_epoch, self.start = m.epoch, time.perf_counter()
        self.steps_done += 1
        now = time.perf_counter()
        if now - self.last_draw < 0.1 and m.batch != m.batches:
            return
        self.last_draw = now
        done = (m.epoch - self.first_epoch) * m.batches + m.batch
        total = (self.epochs - self.first_epoch + 1) * m.batches
        left = (now - self.start) / max(done, 1) * (total - done)
        filled = int(self.width * m.batch / max(m.batches, 1))
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\repoch {m.epoch}/{self.epochs} [{bar}] loss {m.loss:.4f} "
                          f"acc {100 * m.accuracy:5.1f}% {m.images_per_s:7.0f} img/s "
                          f"left {_clock(left)} ")
        self.stream.flush()
        self.mid_line = True

    def epoch(self, m: Any) -> None:
        if not self.enabled:
            return
        val = "" if math.isnan(m.val_loss) else (f"  val loss {m.val_loss:.4f} "
                                                 f"acc {100 * m.val_acc:.2f}%")
        self.stream.write(f"\repoch {m.epoch}/{m.epochs}  train loss {m.train_loss:.4f} "
                          f"acc {100 * m.train_acc:.2f}%{val}  lr {m.lr:.3g}  {m.seconds:.1f} s"
                          f"{' ' * 20}\n")
        self.stream.flush()
        self.mid_line = False

    def close(self) -> None:
        if self.enabled and self.mid_line:
            self.stream.write("\n")  # a stopped run ends mid-epoch
        if self.enabled:
            self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
