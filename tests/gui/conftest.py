"""GUI test set-up: headless Qt, and settings/app data in a private temporary folder.

Set before Qt is imported: ``QT_QPA_PLATFORM=offscreen`` and HOME/XDG folders under a
fresh temporary directory (one per test process), so QSettings, recent files and recovery
files never touch the developer's own. Message boxes are replaced by recorders (a modal
dialog would hang a headless run); tests set the answer they want.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_HOME = Path(tempfile.mkdtemp(prefix="skipwire-gui-tests-"))
os.environ["HOME"] = str(_HOME)
os.environ["XDG_CONFIG_HOME"] = str(_HOME / "config")
os.environ["XDG_DATA_HOME"] = str(_HOME / "data")
os.environ["XDG_CACHE_HOME"] = str(_HOME / "cache")

import pytest  # noqa: E402
from PySide6.QtCore import QStandardPaths  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from builder import fileformat  # noqa: E402
from builder.graph import Graph  # noqa: E402

QStandardPaths.setTestModeEnabled(True)

ROOT = Path(__file__).resolve().parents[2]
GRAPHS = ROOT / "graphs"


class Boxes:
    """Records QMessageBox calls; ``answer`` is returned by ``question``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []  # (kind, title, text)
        self.answer = QMessageBox.StandardButton.Cancel

    def kinds(self) -> list[str]:
        return [kind for kind, _title, _text in self.calls]

    def patch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def recorder(kind: str):  # type: ignore[no-untyped-def]
            def call(_parent, title, text, *args, **kwargs):  # type: ignore[no-untyped-def]
                self.calls.append((kind, title, text))
                return self.answer if kind == "question" else QMessageBox.StandardButton.Ok
            return call

        for kind in ("question", "critical", "warning", "information", "about"):
            monkeypatch.setattr(QMessageBox, kind, staticmethod(recorder(kind)))


@pytest.fixture(autouse=True)
def boxes(monkeypatch: pytest.MonkeyPatch) -> Boxes:
    """Every GUI test runs with message boxes recorded, never shown."""
    recorder = Boxes()
    recorder.patch(monkeypatch)
    return recorder


@pytest.fixture(autouse=True)
def fresh_training_settings() -> None:
    """No test inherits the training form settings another test left remembered."""
    from gui.files import settings
    from gui.training.panel import MEMORY

    settings().remove(MEMORY)


@pytest.fixture
def resnet20() -> Graph:
    return fileformat.load(GRAPHS / "resnet20.json")


@pytest.fixture
def window(qtbot, tmp_path):  # type: ignore[no-untyped-def]
    """A shown main window on ResNet-20, without the background torch import."""
    from gui import files
    from gui.mainwindow import MainWindow
    from gui.training.controller import default_runs_root

    files.discard_recovery()
    files.ensure_app_names()
    files.settings().clear()  # each test starts with nothing remembered: settings, recent files,
    shutil.rmtree(default_runs_root(), ignore_errors=True)  # and no runs an earlier test left
    win = MainWindow(background=False)
    win.autosaver.folder = tmp_path / "appdata"
    win.autosaver.folder.mkdir()
    qtbot.addWidget(win)
    win.files.load(GRAPHS / "resnet20.json")
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.document.undo_stack.setClean()  # no prompt while closing
