"""What a run reports as it goes: one record per optimisation step and one per epoch.

The trainer fills them (:mod:`builder.training.trainer`); the run folder's CSVs, the
checkpoint's history, the window's plots and ``main.py compare`` read them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class StepMetrics:
    """One optimisation step (``epoch`` is 1-based, ``step`` counts from 0 over the run)."""

    epoch: int
    step: int
    batch: int
    batches: int
    loss: float
    accuracy: float
    lr: float
    images_per_s: float
    grad_norm: float  # global L2 norm of all gradients before clipping


@dataclass
class EpochMetrics:
    epoch: int
    epochs: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    lr: float
    seconds: float
    images_per_s: float
