"""Training from the window: the training dock, the worker thread, live plots, runs, heat.

``install(window)`` adds the Training, Runs and Plots docks and the Train menu to a
:class:`gui.mainwindow.MainWindow` and returns the :class:`~gui.training.controller.TrainingController`.
Nothing here imports torch at start-up; the worker thread imports it when a run starts.

Modules: ``panel`` (settings form, device picker, run controls, progress), ``worker``
(:class:`TrainThread`, :func:`devices`), ``history`` (bounded run histories, run folders read
back), ``runindex`` (run.json, names, the start-up scan of the runs folder), ``plots``
(pyqtgraph plots), ``runs`` (runs list, CSV/PNG export, row actions), ``runactions`` (evaluate,
export with the trained graph, use a run's settings), ``evaluation`` (confusion matrix and
mistakes dialog), ``adaptview`` (how a run fits the graph to the data, shown before Start),
``bar`` (progress text and the paused-time clock), ``heat`` (canvas gradient heat and legend),
``controller`` (the glue).
"""

from __future__ import annotations

from typing import Any


def install(window: Any) -> Any:
    """Add training to ``window``; returns its TrainingController."""
    from gui.training.controller import TrainingController

    return TrainingController(window)
