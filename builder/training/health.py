"""Training health: divergence and stalls that show before (or without) a NaN.

A :class:`HealthMonitor` watches each step's loss and total gradient norm and each epoch's
training accuracy, and returns a :class:`Finding` when a run has gone wrong: the symptom, the
evidence (numbers), the likely cause and what to try, in the words of the non-finite message.
Each kind is reported once per run. The thresholds (measured on scikit-learn digits: plain-56
at learning rate 10 with SGD or Adam, and the healthy He et al. runs at lr 0.05 with warm-up,
whose first epochs are near chance and whose validation loss reaches 10⁶ while BatchNorm's
running statistics settle, so validation loss is evidence only, never a trigger):

- **Loss diverged** — ends the run early with status ``diverged``. The median training loss
  over the last ``W`` steps is above ``LOSS_FACTOR`` (10) × the start, where ``W`` is half an
  epoch clamped to ``WINDOW`` (10…100) steps and the start is the run's first loss (measured
  before any update), at least ln(classes) — the loss of a uniform guess. The median ignores
  a short spike, which deep nets recover from. Under torchrun the check uses the epoch's mean
  loss (the same number on every process), so all processes stop together.
- **Accuracy at chance** — a warning; the run goes on (stalls can end, e.g. after a warm-up).
  Training accuracy stayed within ``chance + max(3σ, CHANCE_MARGIN)`` for ``CHANCE_EPOCHS`` (2)
  epochs in a row and at least ``CHANCE_MIN_STEPS`` (20) steps, where chance is the share of the
  most common training class and σ the standard deviation of a chance score over the epoch.
- **Gradient norm blew up** — a warning. The median total gradient norm (before clipping) over
  the last ``W`` steps is above ``GRAD_FACTOR`` (100) × its median over the first ``W`` steps;
  the block whose weight gradient grew most since the first measurement is named.

:func:`non_finite` describes the step where a run went non-finite (for the plots' marker);
:func:`save` and :func:`load` keep the findings beside a run folder's CSVs (``health.json``).
"""

from __future__ import annotations

import json
import math
import os
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import median
from typing import Any

LOSS_FACTOR = 10.0
GRAD_FACTOR = 100.0
WINDOW = (10, 100)  # steps in the sliding median: half an epoch, clamped to this range
CHANCE_EPOCHS = 2
CHANCE_MIN_STEPS = 20
CHANCE_MARGIN = 0.02
TYPICAL_LR = {"sgd": 0.1, "adam": 1e-3, "adamw": 1e-3}  # where each optimizer usually trains
FILE = "health.json"


@dataclass(frozen=True)
class Finding:
    """One health problem: where it was seen, a short title for plot markers and the advice."""

    kind: str  # loss_diverged | chance | grad_exploded | non_finite
    epoch: int  # 1-based epoch in which it was seen
    step: int  # the run's step counter when it was seen
    x: float  # position on the plots' epoch axis (epoch − 1 + batch / batches, or the epoch)
    title: str  # a few words: "diverged", "at chance", …
    message: str  # symptom, evidence, likely cause and what to try
    stops: bool = False  # the run was ended because of it


@dataclass(frozen=True)
class RunFacts:
    """What the advice needs to know about the run."""

    optimizer: str
    lr: float
    warmup_epochs: float
    clip: str
    clip_value: float
    num_classes: int
    chance: float  # the accuracy of always guessing the most common training class
    n_train: int
    steps_per_epoch: int
    batchnorm: bool = True
    residual: bool = False
    layers: int = 0  # convolution and linear blocks
    distributed: bool = False  # torchrun: step losses differ between processes


def facts_of(graph: Any, config: Any, labels: Any, num_classes: int, steps_per_epoch: int,
             distributed: bool = False) -> RunFacts:
    """:class:`RunFacts` from a graph, a TrainConfig and the training labels (a tensor)."""
    from builder.twin import residual_adds

    types = [b.type for b in graph.blocks()]
    n = max(1, len(labels))
    counts = labels.bincount() if len(labels) else None
    chance = float(counts.max()) / n if counts is not None else 1.0 / max(1, num_classes)
    return RunFacts(config.optimizer, config.lr, config.warmup_epochs, config.clip, config.clip_value,
                    num_classes, chance, n, steps_per_epoch, "batchnorm2d" in types,
                    bool(residual_adds(graph)), sum(t in ("conv2d", "linear") for t in types),
                    distributed)


class HealthMonitor:
    """Feeds on steps and epochs; returns a new :class:`Finding` when one is seen."""

    def __init__(self, facts: RunFacts) -> None:
        self.facts = facts
        self.window = min(WINDOW[1], max(WINDOW[0], facts.steps_per_epoch // 2))
        self.findings: list[Finding] = []
        self.start = math.nan
        self._losses: deque[float] = deque(maxlen=self.window)
        self._norms: deque[float] = deque(maxlen=self.window)
        self._early_norms: list[float] = []
        self._chance_epochs: list[tuple[int, float]] = []
        self._steps = 0
        self._first_blocks: tuple[list[str], list[float]] | None = None
        self._last_blocks: list[float] = []
        self._val_loss = math.nan

    @property
    def steps(self) -> int:
        """Steps seen so far."""
        return self._steps

    @property
    def floor(self) -> float:
        return math.log(max(2, self.facts.num_classes))

    def _found(self, finding: Finding) -> Finding | None:
        if any(f.kind == finding.kind for f in self.findings):
            return None
        self.findings.append(finding)
        return finding

    # ---- inputs ----
    def step(self, epoch: int, batch: int, batches: int, step: int, loss: float,
             grad_norm: float) -> Finding | None:
        """One finished step (``epoch`` and ``batch`` 1-based); a finding that is new, or None."""
        self._steps += 1
        if math.isfinite(loss) and not math.isfinite(self.start):
            self.start = max(loss, self.floor) if not self.facts.distributed else self.floor
        if math.isfinite(loss):
            self._losses.append(loss)
        if math.isfinite(grad_norm):
            self._norms.append(grad_norm)
            if len(self._early_norms) < self.window:
                self._early_norms.append(grad_norm)
        x = epoch - 1 + batch / max(1, batches)
        if not self.facts.distributed and len(self._losses) == self.window:
            now = median(self._losses)
            if now > LOSS_FACTOR * self.start:
                how = f"median of the last {self.window} steps"
                return self._found(self._diverged(epoch, step, x, now, how))
        return self._check_norms(epoch, step, x)

    def gradients(self, block_ids: list[str], weight_norms: list[float]) -> None:
        """A per-block gradient sample (used to name the block whose gradient grew most)."""
        if self._first_blocks is None:
            self._first_blocks = (list(block_ids), list(weight_norms))
        self._last_blocks = list(weight_norms)

    def epoch(self, epoch: int, step: int, train_loss: float, train_acc: float,
              val_loss: float = math.nan) -> Finding | None:
        """One finished epoch's training loss and accuracy (all processes' mean)."""
        if math.isfinite(val_loss):
            self._val_loss = val_loss
        if self.facts.distributed and math.isfinite(train_loss) and train_loss > LOSS_FACTOR * self.floor:
            return self._found(self._diverged(epoch, step, float(epoch), train_loss,
                                              f"mean of epoch {epoch}"))
        limit = self.chance_limit()
        if not train_acc < limit:
            self._chance_epochs.clear()
            return None
        self._chance_epochs.append((epoch, train_acc))
        if len(self._chance_epochs) >= CHANCE_EPOCHS and self._steps >= CHANCE_MIN_STEPS:
            return self._found(self._at_chance(epoch, step, train_loss))
        return None

    def chance_limit(self) -> float:
        """Training accuracy below this counts as chance."""
        p, n = self.facts.chance, self.facts.n_train
        return p + max(3 * math.sqrt(p * (1 - p) / max(1, n)), CHANCE_MARGIN)

    # ---- checks ----
    def _check_norms(self, epoch: int, step: int, x: float) -> Finding | None:
        if len(self._norms) < self.window or len(self._early_norms) < self.window:
            return None
        early, now = median(self._early_norms), median(self._norms)
        if not (early > 0 and now > GRAD_FACTOR * early):
            return None
        return self._found(self._exploded(epoch, step, x, now, early))

    def _grown_block(self) -> str:
        if self._first_blocks is None or not self._last_blocks:
            return ""
        ids, first = self._first_blocks
        ratios = [(b / a, i) for i, (a, b) in enumerate(zip(first, self._last_blocks, strict=False))
                  if a > 0 and math.isfinite(a) and math.isfinite(b)]
        if not ratios:
            return ""
        ratio, i = max(ratios)
        return f"; the largest growth is in block {ids[i]} (×{ratio:.3g} since the first measurement)" \
            if ratio > 1 else ""

    # ---- advice ----
    def _lr_is_high(self) -> bool:
        return self.facts.lr > 10 * TYPICAL_LR.get(self.facts.optimizer, 0.1)

    def _smaller_lr(self) -> str:
        f = self.facts
        typical = TYPICAL_LR.get(f.optimizer, 0.1)
        if self._lr_is_high():
            return (f"a much smaller learning rate ({f.optimizer} usually trains at about {typical:g}, "
                    f"not {f.lr:g})")
        return f"a learning rate 10× smaller ({f.lr / 10:g})"

    def _remedies(self, first: str, clipping: bool = True) -> str:
        """``first``, then what the run lacks of warm-up, clipping and BatchNorm, as one phrase."""
        f = self.facts
        tries = [first]
        if f.warmup_epochs <= 0:
            tries.append("a warm-up of 1–2 epochs")
        if clipping and f.clip == "none":
            tries.append("gradient clipping by norm (threshold 1)")
        if not f.batchnorm:
            tries.append("BatchNorm after each convolution")
        return ", ".join(tries[:-1]) + f" or {tries[-1]}" if len(tries) > 1 else tries[0]

    def _lr(self) -> str:
        return f"{self.facts.lr:g}, {self.facts.optimizer}"

    def _diverged(self, epoch: int, step: int, x: float, now: float, how: str) -> Finding:
        f = self.facts
        no_warmup = ", no warm-up" if f.warmup_epochs <= 0 else ""
        cause = (f"The learning rate ({self._lr()}) is too large: each update overshoots, so the loss grows "
                 "instead of falling." if self._lr_is_high() else
                 f"The updates overshoot (learning rate {self._lr()}{no_warmup}).")
        message = (f"Training diverged: the loss climbed to {now:.3g} ({how}), "
                   f"{_times(now / self.start)} its start ({self.start:.3g}), after {step + 1} steps "
                   f"(epoch {epoch}). {cause} "
                   f"Try {self._remedies(self._smaller_lr())}. "
                   "The run was stopped early; its data so far is kept.")
        return Finding("loss_diverged", epoch, step, x, "diverged", message, stops=True)

    def _at_chance(self, epoch: int, step: int, train_loss: float) -> Finding:
        f = self.facts
        recent = self._chance_epochs[-CHANCE_EPOCHS:]
        accs = ", ".join(f"{100 * a:.1f}%" for _e, a in recent)
        evidence = (f"Not learning: training accuracy stayed at or below chance for {CHANCE_EPOCHS} epochs "
                    f"({accs} in epochs {recent[0][0]}–{epoch}; always guessing the most common class scores "
                    f"{100 * f.chance:.1f}%), training loss {train_loss:.3g}")
        if math.isfinite(self._val_loss) and self._val_loss > LOSS_FACTOR * self.floor:
            evidence += f", validation loss {self._val_loss:.3g}"
        cause, tries = self._chance_cause()
        message = f"{evidence}. {cause} Try {tries}. The run continues."
        return Finding("chance", epoch, step, float(epoch), "at chance", message)

    def _chance_cause(self) -> tuple[str, str]:
        """The likely cause of a stall at chance, and what to try."""
        f = self.facts
        if self._lr_is_high():
            return (f"The learning rate ({self._lr()}) is most likely far too large: the first updates threw "
                    "the weights so far that the units saturated and the net now guesses.",
                    self._remedies(self._smaller_lr()))
        if f.lr < TYPICAL_LR.get(f.optimizer, 0.1) / 100:
            return (f"The learning rate ({self._lr()}) may be too small to move the weights.",
                    f"a learning rate 10× larger ({10 * f.lr:g})")
        if f.layers >= 30 and not f.residual:
            return (f"A deep plain net ({f.layers} weighted layers, no shortcuts) is hard to optimise "
                    "(He et al.'s degradation): the gradient reaching the first layers is distorted.",
                    self._remedies("the residual version of the net (shortcuts)", clipping=False))
        return ("The net may not be able to fit yet, or the labels may not match the images "
                "(check the data set preview).", self._remedies(self._smaller_lr(), clipping=False))

    def _exploded(self, epoch: int, step: int, x: float, now: float, early: float) -> Finding:
        f = self.facts
        clipped = (f" Clipping ({f.clip} at {f.clip_value:g}) is on, so the updates stayed bounded, but the "
                   "net is in a steep region." if f.clip != "none" else "")
        unnormalised = "" if f.batchnorm else " for a net without BatchNorm"
        message = (f"Gradients exploded without a NaN: the total gradient norm reached {now:.3g} (median of "
                   f"the last {self.window} steps), {_times(now / early)} its early level ({early:.3g}), "
                   f"after {step + 1} steps (epoch {epoch}){self._grown_block()}. Likely cause: the learning "
                   f"rate ({self._lr()}) is too large{unnormalised}, so weights and gradients grow each step."
                   f"{clipped} Try {self._remedies(self._smaller_lr())}. The run continues.")
        return Finding("grad_exploded", epoch, step, x, "‖g‖ blow-up", message)


def _times(ratio: float) -> str:
    """A factor as people write it: "75×", "3.7e+06×"."""
    return f"{ratio:.0f}×" if ratio < 1e4 else f"{ratio:.2g}×"


def non_finite(epoch: int, batch: int, batches: int, step: int, error: str) -> Finding:
    """The step where the loss or a gradient went non-finite (the run ends there)."""
    return Finding("non_finite", epoch, step, epoch - 1 + batch / max(1, batches), "non-finite", error,
                   stops=True)


def warning_text(findings: list[Finding]) -> str:
    """The advice of the findings that did not end the run, one paragraph each."""
    return "\n".join(f.message for f in findings if not f.stops)


def save(run_dir: str | os.PathLike[str], findings: list[Finding], steps_per_epoch: int) -> None:
    """Write ``health.json`` in ``run_dir`` (nothing when there are no findings).

    ``steps_per_epoch`` places a run's steps on the epoch axis when it ended inside its first epoch.
    """
    if findings:
        path = Path(run_dir) / FILE
        tmp = path.with_name(FILE + ".tmp")
        record = {"steps_per_epoch": steps_per_epoch, "findings": [asdict(f) for f in findings]}
        tmp.write_text(json.dumps(record, indent=1), encoding="utf-8")
        os.replace(tmp, path)


def load(run_dir: str | os.PathLike[str]) -> tuple[list[Finding], int]:
    """The findings saved in ``run_dir`` and the run's steps per epoch (``[], 0`` without a file).

    Raises ``ValueError`` naming the file when it is unreadable.
    """
    path = Path(run_dir) / FILE
    if not path.is_file():
        return [], 0
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        findings = [Finding(str(r["kind"]), int(r["epoch"]), int(r["step"]), float(r["x"]), str(r["title"]),
                            str(r["message"]), bool(r.get("stops", False))) for r in record["findings"]]
        return findings, int(record.get("steps_per_epoch", 0))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a readable health record ({type(exc).__name__})") from None
