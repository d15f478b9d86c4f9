"""The training engine (Qt-free): datasets, config, trainer, gradient probes, run records.

Public API (the GUI runs :meth:`Trainer.run` in a worker thread and turns callbacks into
queued signals)::

    from builder.training import TrainConfig, Trainer, load_dataset

    config = TrainConfig(dataset="digits", epochs=30, lr=0.05)   # ConfigError names bad fields
    data = load_dataset(config)                                   # or datasets.synthetic(...)
    graph, notes = adapt_graph(graph, data.input_shape, data.num_classes)
    trainer = Trainer(graph, config, data,
                      on_step=lambda m: ...,       # StepMetrics: loss, accuracy, lr, images/s, grad_norm
                      on_epoch=lambda m: ...,      # EpochMetrics: train/val loss and accuracy
                      on_gradients=lambda g: ...,  # GradientSample: one norm per parameterised block
                      run_dir="runs/x")            # optional run folder (CSV, checkpoints)
    result = trainer.run()   # TrainResult: status completed | stopped | non_finite | diverged,
                             # history, error (or the health warnings), health (findings)

``trainer.pause()``, ``trainer.resume()`` and ``trainer.stop()`` may be called from any thread
and take effect before the next step. Callbacks run on the training thread. Problems found
before the first step are raised by ``run()`` with one-line messages: ``CompileError`` (graph
errors), ``ConfigError`` (e.g. ``cuda:3`` missing), ``DatasetError``, ``ValueError`` (a bad
checkpoint). ``trainer.module`` is the compiled module once ``run()`` has built it. ``Trainer(...,
resume_from="runs/x/checkpoint.pt")`` continues a run; ``compare.compare`` trains several
graphs on identical data and settings; ``cli`` adds ``train`` and ``compare`` to ``main.py``.

Modules: ``config`` (TrainConfig, ConfigError), ``datasets`` (Dataset, digits, synthetic,
load_dataset, DatasetError), ``readers`` (IDX, CIFAR binary, image folders), ``loader``
(device-side batches and augmentation), ``optim`` (optimizers, lr schedule, device choice),
``probes`` (GradientProbe, GradientSample), ``trainer``, ``health`` (divergence and stalls
without a NaN, with advice), ``records`` (run folders, checkpoints), ``distributed``
(torchrun/DDP), ``adapt`` (fit a graph to a dataset), ``compare``.
Importing this package does not import torch; the names above load their module on first use
(PEP 562), so ``main.py --help`` and the GUI start without waiting for torch.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name → the submodule that defines it (imported on first access)
_WHERE = {
    "adapt_graph": "adapt", "ConfigError": "config", "TrainConfig": "config",
    "Dataset": "datasets", "DatasetError": "datasets", "digits": "datasets",
    "load_dataset": "datasets", "synthetic": "datasets", "GradientSample": "probes",
    "EpochMetrics": "metrics", "StepMetrics": "metrics", "Trainer": "trainer",
    "TrainResult": "trainer",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'builder.training' has no attribute {name!r}")
    return getattr(importlib.import_module(f"builder.training.{_WHERE[name]}"), name)


__all__ = [
    "ConfigError", "Dataset", "DatasetError", "EpochMetrics", "GradientSample", "StepMetrics",
    "TrainConfig", "TrainResult", "Trainer", "adapt_graph", "digits", "load_dataset", "synthetic",
]
