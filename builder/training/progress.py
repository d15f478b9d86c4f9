"""Progress for ``main.py train`` and ``main.py compare``: a tqdm bar in a terminal, lines in a log.

When the stream is a terminal, one `tqdm <https://tqdm.github.io>`_ bar spans the whole run
(its ETA is the run's, not the epoch's) with the loss, accuracy and images/s of the latest
step, and each finished epoch is printed above it as a line. When the stream is a file or a
pipe (``… 2> train.log``, a CI log) there is no bar and no carriage return: one plain line per
epoch, ending with the time left. Only rank 0 of a ``torchrun`` job draws anything (``RANK``).
tqdm's monitor thread is not started, so no helper thread outlives a run.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any, TextIO

from tqdm import tqdm


class _Bar(tqdm):  # type: ignore[misc]  # tqdm ships no types: the base is Any
    """tqdm without its monitor thread (nothing left running at interpreter exit)."""

    monitor_interval = 0


# tqdm writes the postfix as ", loss …": it ends the bracket as in tqdm's own default format
BAR_FORMAT = "{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} steps [{elapsed}<{remaining}{postfix}]"


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal (a bar may redraw in place)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def is_main_process() -> bool:
    """False on every ``torchrun`` rank but 0 (``RANK`` unset: a single process)."""
    try:
        return int(os.environ.get("RANK", "0")) == 0
    except ValueError:
        return True


class Progress:
    """Progress of one training run: ``step`` after every step, ``epoch`` after every epoch."""

    def __init__(self, epochs: int, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.epochs = epochs
        self.enabled = enabled and is_main_process()
        self.stream = stream or sys.stderr
        self.terminal = is_terminal(self.stream)
        self.label = ""  # a prefix for every line (the net's name in a comparison)
        self.bar: _Bar | None = None
        self.start = time.perf_counter()
        self.first_epoch: int | None = None  # the first epoch this process trains (resume)
        self.total_steps = 0

    def step(self, m: Any) -> None:
        """Advance the bar by one step (nothing is written to a file or pipe)."""
        if not self.enabled:
            return
        self._begin(m.epoch, m.batches)
        if self.bar is None:
            return
        self.bar.set_description_str(f"{self.label}epoch {m.epoch}/{self.epochs}", refresh=False)
        self.bar.set_postfix_str(f"loss {m.loss:.4f} acc {100 * m.accuracy:5.1f}% "
                                 f"{m.images_per_s:>6,.0f} img/s", refresh=False)
        self.bar.update(1)

    def epoch(self, m: Any) -> None:
        """Print the finished epoch's line (above the bar in a terminal)."""
        if not self.enabled:
            return
        self._begin(m.epoch, 0)
        line = self.label + epoch_line(m) + self._left(m.epoch)
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        """End the bar (a stopped run leaves it where it stopped); safe to call twice."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.enabled:
            self.stream.flush()

    def _begin(self, epoch: int, batches: int) -> None:
        """On the first call: remember where the run starts and open the bar in a terminal."""
        if self.first_epoch is not None:
            return
        self.first_epoch, self.start = epoch, time.perf_counter()
        self.total_steps = (self.epochs - epoch + 1) * batches
        if self.terminal and batches:
            self.bar = _Bar(total=self.total_steps, file=self.stream, dynamic_ncols=True,
                            bar_format=BAR_FORMAT, leave=False, mininterval=0.1,
                            desc=f"{self.label}epoch {epoch}/{self.epochs}")

    def _left(self, epoch: int) -> str:
        """``left H:MM:SS`` from the mean time of the epochs done so far ('' after the last)."""
        done = epoch - (self.first_epoch or epoch) + 1
        remaining = self.epochs - epoch
        if remaining <= 0:
            return ""
        per_epoch = (time.perf_counter() - self.start) / max(done, 1)
        return f"  left {clock(per_epoch * remaining)}"


def epoch_line(m: Any) -> str:
    """``epoch 3/30  train loss … acc …%  val loss … acc …%  lr …  1.2 s  5,120 img/s``."""
    val = "" if math.isnan(m.val_loss) else f"  val loss {m.val_loss:.4f} acc {100 * m.val_acc:.2f}%"
    return (f"epoch {m.epoch}/{m.epochs}  train loss {m.train_loss:.4f} acc {100 * m.train_acc:.2f}%"
            f"{val}  lr {m.lr:.3g}  {m.seconds:.1f} s  {m.images_per_s:,.0f} img/s")


class CompareProgress:
    """Progress of ``compare``: the nets train one after another, each with its own bar.

    :func:`~builder.training.compare.compare` calls :meth:`start_net` before each net,
    :meth:`step` and :meth:`epoch` while it trains and :meth:`close` at the end. Every line
    starts with the net's place and name (``[2/4] plain56``).
    """

    def __init__(self, nets: int, epochs: int, enabled: bool = True,
                 stream: TextIO | None = None) -> None:
        self.nets, self.epochs = nets, epochs
        self.enabled, self.stream = enabled, stream
        self.index = 0
        self.current: Progress | None = None

    def start_net(self, name: str) -> None:
        """End the previous net's bar and begin this one's."""
        self.close()
        self.index += 1
        self.current = Progress(self.epochs, self.enabled, self.stream)
        self.current.label = f"[{self.index}/{self.nets}] {name}  "

    def step(self, m: Any) -> None:
        if self.current is not None:
            self.current.step(m)

    def epoch(self, m: Any) -> None:
        if self.current is not None:
            self.current.epoch(m)

    def close(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None


def clock(seconds: float) -> str:
    """``H:MM:SS`` (negative and NaN read as 0)."""
    seconds = 0 if not math.isfinite(seconds) else max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
