"""The training controller states what it needs of its window (a Protocol), and says so when it is missing."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMainWindow

from gui.training.controller import TrainingController, TrainingWindow


def test_the_main_window_is_a_training_window(window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(window, TrainingWindow)
    controller = window.training
    assert isinstance(controller, TrainingController)
    assert controller.document is window.document and controller.window is window


def test_a_window_without_document_and_canvas_is_refused_in_words(qtbot) -> None:  # type: ignore[no-untyped-def]
    bare = QMainWindow()
    qtbot.addWidget(bare)
    with pytest.raises(TypeError, match="QMainWindow has no document and canvas to train from"):
        TrainingController(bare, runs_root=None)
