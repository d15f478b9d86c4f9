"""Training from the window: the training dock, the worker thread, live plots, runs, heat.

``install(window)`` adds the Training, Runs and Plots docks and the Train menu to a
:class:`gui.mainwindow.MainWindow` and returns the :class:`~gui.training.controller.TrainingController`.
Nothing here imports torch at start-up; the worker thread imports it when a run starts.

Modules: ``panel`` (settings form, device picker, run controls, progress), ``worker``
(:class:`TrainThread`, :func:`devices`), ``history`` (bounded run histories), ``plots``
(pyqtgraph plots), ``runs`` (runs list, CSV/PNG export), ``heat`` (canvas gradient heat and
legend), ``controller`` (the glue).
"""

from __future__ import annotations

from typing import Any


def install(window: Any) -> Any:
    """Add training to ``window``; returns its TrainingController."""
    from gui.training.controller import TrainingController

    return TrainingController(window)
