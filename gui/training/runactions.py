"""What the Runs list's context menu does with the selected run.

*Evaluate…* opens :class:`~gui.training.evaluation.EvaluationDialog`; the three exports go
through :func:`gui.export_dialogs.export_run`, always with the graph the run trained (its
``graph.json``), so the weights load with ``strict=True``; *Use this run's settings* hands the
run's TrainConfig to the training form (``TrainingPanel.apply_config``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox

from gui.training.history import RunData


class RunActions(QObject):
    """Connects the Runs list's row actions for one :class:`TrainingController`."""

    def __init__(self, controller: Any) -> None:
        super().__init__(controller)
        self.ctl = controller
        self.dialogs: list[Any] = []  # open evaluation dialogs (kept alive while shown)
        handlers = {"evaluate": self.evaluate, "export_code": lambda: self.export("code"),
                    "export_onnx": lambda: self.export("onnx"),
                    "export_weights": lambda: self.export("weights"), "settings": self.use_settings}
        for key, action in controller.runs.run_actions.items():
            action.triggered.connect(lambda _checked=False, h=handlers[key]: h())

    def _run(self) -> RunData | None:
        runs = self.ctl.runs.selected()
        return runs[0] if len(runs) == 1 else None

    def evaluate(self) -> Any:
        """Open the evaluation of the selected run (returns the dialog)."""
        from gui.training.evaluation import EvaluationDialog

        run = self._run()
        if run is None or not run.run_dir:
            return None
        data = self.ctl.dataset  # a ready data set given to the window is the one its runs trained on
        dialog = EvaluationDialog(run.name, run.run_dir, data, self.ctl.window)
        self.dialogs = [d for d in self.dialogs if d.isVisible()] + [dialog]
        dialog.finished.connect(lambda _result: self._forget(dialog))
        dialog.show()
        return dialog

    def _forget(self, dialog: Any) -> None:
        if dialog in self.dialogs:
            self.dialogs.remove(dialog)

    def export(self, what: str) -> Any:
        from gui import export_dialogs

        run = self._run()
        if run is None or not run.run_dir:
            return None
        return export_dialogs.export_run(self.ctl.window, run.run_dir, what)

    def use_settings(self) -> bool:
        """Put the selected run's settings into the training form."""
        run = self._run()
        apply = getattr(self.ctl.panel, "apply_config", None)
        if run is None:
            return False
        if apply is None:
            QMessageBox.information(self.ctl.window, "Use this run's settings",
                                    "This version of the training form cannot take a run's settings.")
            return False
        apply(run.config)
        self.ctl.panel_dock.raise_()
        self.ctl.window.statusBar().showMessage(f"Training settings of {run.name}", 5000)
        return True
