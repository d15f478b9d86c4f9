"""What the training panel's progress bar says, and the clock behind its time-left estimate.

:class:`RunClock` keeps when each job of a start began and how long it was paused, so the
estimate counts training time only and holds still while paused. :func:`running_text` is the
bar during a run (epoch, step, images/s, time left); :func:`finished_text` after the thread has
ended: ``done: 4/4 completed``, or where a run stopped (``stopped at epoch 3/30``; ``stopped
after 1 of 4 runs`` when Stop came between two runs). No Qt.
"""

from __future__ import annotations

import time
from typing import Any


class RunClock:
    """Training seconds per job, paused time left out."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.started: dict[int, float] = {}
        self.paused_for: dict[int, float] = {}
        self.paused_at: float | None = None  # when the pause in progress began

    def job_started(self, index: int) -> None:
        self.started[index] = time.perf_counter()
        if self.paused_at is not None:  # paused before this job began: count from now
            self.paused_at = self.started[index]

    def pause(self) -> None:
        if self.paused_at is None:
            self.paused_at = time.perf_counter()

    def resume(self, index: int) -> None:
        if self.paused_at is not None:
            self.paused_for[index] = self.paused_for.get(index, 0.0) + time.perf_counter() - self.paused_at
        self.paused_at = None

    def seconds(self, index: int, current: int) -> float:
        """Seconds job ``index`` has trained (``current``: the job running now)."""
        now = time.perf_counter()
        paused = self.paused_for.get(index, 0.0)
        if self.paused_at is not None and index == current:
            paused += now - self.paused_at
        return max(0.0, now - self.started.get(index, now) - paused)


def running_text(run: Any, index: int, count: int, seconds: float, paused: bool) -> tuple[float, str]:
    """(fraction done, text) for job ``index`` of ``count`` whose latest step is ``run.last_step``."""
    m = run.last_step
    total = run.config.epochs * m.batches
    done = (m.epoch - 1) * m.batches + m.batch
    left = seconds / max(done, 1) * (total - done)
    prefix = f"{run.name} ({index + 1}/{count}) · " if count > 1 else ""
    state = " · paused" if paused else ""
    return done / max(total, 1), (f"{prefix}epoch {m.epoch}/{run.config.epochs} · step {m.batch}/{m.batches} "
                                  f"· {m.images_per_s:,.0f} img/s · {clock(left)} left{state}")


def finished_text(runs: list[Any], planned: int = 0) -> tuple[float | None, str]:
    """(fraction or None to keep the bar where it is, text) once the runs of a start have ended;
    ``planned``: how many runs the start had when Stop was pressed (0: it was not)."""
    if not runs:
        return (0.0, "stopped before the first step") if planned else (0.0, "idle")
    done = [r for r in runs if r.status == "completed"]
    if len(done) == len(runs) and planned > len(runs):  # Stop came between two runs
        return None, f"stopped after {len(done)} of {planned} runs" + health_note(runs)
    if len(done) == len(runs):
        return 1.0, f"done: {len(done)}/{len(runs)} completed" + health_note(runs)
    last = next(r for r in runs if r.status != "completed")
    epoch = last.last_step.epoch if last.last_step is not None else len(last.epochs)
    what = {"non_finite": "non-finite values"}.get(last.status, last.status)
    name = f" ({last.name})" if len(runs) > 1 else ""
    others = health_note(runs) if len(runs) > 1 else ""
    return None, f"{what} at epoch {epoch}/{last.config.epochs}{name}{others}"


def health_note(runs: list[Any]) -> str:
    """" · 1 diverged · 1 with warnings" for the bar once the runs have ended."""
    counts = {"diverged": sum(r.status == "diverged" for r in runs),
              "non-finite": sum(r.status == "non_finite" for r in runs),
              "with warnings": sum(bool(r.warning) and r.status in ("completed", "stopped") for r in runs)}
    return "".join(f" · {n} {what}" for what, n in counts.items() if n)


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"
