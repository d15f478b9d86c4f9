"""Optimizer, learning-rate schedule and device choice for a :class:`TrainConfig`.

(The precision a run computes in is :mod:`builder.training.precision`'s.)

The schedule is a pure function of the step (``lr_at``), so a resumed run needs no scheduler
state: multi-step decays by ``gamma`` at each milestone (fractions of the run, as the paper's
32k/48k of 64k iterations ≈ 0.5/0.75), cosine anneals to zero, and a linear warm-up from
``warmup_start × lr`` can precede either (He et al. warm ResNet-110 up at lr 0.01).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from builder.training.config import ConfigError, TrainConfig


def lr_at(config: TrainConfig, step: int, steps_per_epoch: int) -> float:
    """The learning rate for global ``step`` (0-based)."""
    epoch = step / max(1, steps_per_epoch)
    warm = config.warmup_epochs
    if warm > 0 and epoch < warm:
        frac = epoch / warm
        return config.lr * (config.warmup_start + (1 - config.warmup_start) * frac)
    if config.schedule == "multistep":
        passed = sum(1 for m in config.milestones if epoch >= m * config.epochs)
        return config.lr * config.gamma ** passed
    if config.schedule == "cosine":
        span = max(1e-9, config.epochs - warm)
        t = min(1.0, (epoch - warm) / span)
        return config.lr * 0.5 * (1 + math.cos(math.pi * t))
    return config.lr


def make_optimizer(config: TrainConfig, module: nn.Module) -> torch.optim.Optimizer:
    """The optimizer; on CUDA its fused form (one kernel for every parameter's update)."""
    params = [p for p in module.parameters() if p.requires_grad]
    fused = True if params and params[0].is_cuda else None
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                               nesterov=config.nesterov, weight_decay=config.weight_decay, fused=fused)
    kind = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
    return kind(params, lr=config.lr, weight_decay=config.weight_decay, fused=fused)


def resolve_device(name: str, local_rank: int | None = None) -> torch.device:
    """``auto`` → CUDA, then MPS, then CPU; a device that is not there is a :class:`ConfigError`."""
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda" if local_rank is None else f"cuda:{local_rank}"
        elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            name = "mps"
        else:
            name = "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:  # "cuda:99999999999999999999" passes the config's pattern
        raise ConfigError([f"device: {name!r} is not a device torch knows"]) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError([f"device: {name} requested but CUDA is not available"])
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError([f"device: {name} does not exist "
                               f"({torch.cuda.device_count()} CUDA device(s))"])
    if device.type == "mps" and not (getattr(torch.backends, "mps", None)
                                     and torch.backends.mps.is_available()):
        raise ConfigError([f"device: {name} requested but MPS is not available"])
    return device
