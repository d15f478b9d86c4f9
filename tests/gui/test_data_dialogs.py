"""Get Data Set, the fetch progress dialog with Cancel, ensure_dataset, and Preview Data Set.

Driven through the Train menu and real buttons; the archives come from the local server of
tests/fetching (nothing leaves the machine), and ``sys.excepthook`` must stay silent.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog, QPushButton

from builder.training import fetch
from gui import data_dialogs
from gui.data_preview import PreviewDialog
from gui.files import settings
from tests.fetching import server as fetching
from tests.fetching.server import LocalServer, Rule

CIFAR = "/cifar10/cifar-10-binary.tar.gz"
private_data, server = fetching.private_data, fetching.server  # the fetching tests' fixtures


@pytest.fixture(autouse=True)
def quiet_hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """No exception may escape a slot; data settings start empty; no fetch thread outlives a test."""
    errors: list[Any] = []
    monkeypatch.setattr(sys, "excepthook", lambda *args: errors.append(args))
    settings().remove("data")
    yield errors
    assert data_dialogs.wait_for_jobs(30)
    assert errors == []


def menu_action(window: Any, menu_text: str, action_text: str) -> QAction:
    for top in window.menuBar().actions():
        if top.text() == menu_text and top.menu() is not None:
            for action in top.menu().actions():
                if action.text() == action_text:
                    return action
    raise AssertionError(f"no {menu_text} → {action_text}")


def click_row(table: Any, name: str) -> None:
    for row in range(table.rowCount()):
        if table.item(row, 0).text() == name:
            rect = table.visualItemRect(table.item(row, 0))
            QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
            return
    raise AssertionError(name)


def progress_dialog() -> QProgressDialog | None:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, QProgressDialog) and w.isVisible()]
    return found[0] if found else None


def cancel_button(dialog: QProgressDialog) -> QPushButton:
    return next(b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel")


def open_get_dialog(window: Any, qtbot: Any) -> data_dialogs.GetDataDialog:
    menu_action(window, "&Train", "&Get Data Set…").trigger()
    dialog = window._get_data_dialog
    qtbot.waitExposed(dialog)
    return dialog


def test_get_data_set_fetches_with_a_progress_dialog(window: Any, qtbot: Any, server: LocalServer,
                                                     private_data: Path) -> None:
    dialog = open_get_dialog(window, qtbot)
    assert [dialog.table.item(r, 0).text() for r in range(4)] == ["mnist", "fashion_mnist", "cifar10",
                                                                  "cifar100"]
    assert not dialog.download_button.isEnabled()  # nothing chosen yet
    server.rules[CIFAR] = Rule("stall", 100_000)
    click_row(dialog.table, "cifar10")
    QTest.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: progress_dialog() is not None and progress_dialog().value() > 0, timeout=10_000)
    shown = progress_dialog()
    assert shown is not None and shown.windowTitle() == "Getting CIFAR-10"
    assert shown.labelText().startswith("cifar-10-binary.tar.gz\n") and " of " in shown.labelText()
    assert not dialog.download_button.isEnabled()  # one fetch at a time
    server.release.set()  # the server cuts the stalled answer; the fetch resumes and finishes
    qtbot.waitUntil(lambda: dialog.progress is None, timeout=20_000)
    assert dialog.status.text() == f"cifar10 is ready in {private_data / 'cifar10'}."
    assert fetch.fetched_dir("cifar10") is not None
    assert server.requests_for(CIFAR)[1].startswith("bytes=")  # continued, not restarted
    row = next(r for r in range(4) if dialog.table.item(r, 0).text() == "cifar10")
    assert dialog.table.item(row, 3).text() != "—"


def test_cancel_stops_the_download_and_keeps_the_part(window: Any, qtbot: Any, server: LocalServer,
                                                      private_data: Path) -> None:
    dialog = open_get_dialog(window, qtbot)
    server.rules[CIFAR] = Rule("stall", 100_000)
    click_row(dialog.table, "cifar10")
    QTest.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: progress_dialog() is not None and progress_dialog().value() > 0, timeout=10_000)
    QTest.mouseClick(cancel_button(progress_dialog()), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.progress is None, timeout=5_000)  # at once, not when the server ends
    assert dialog.status.text() == "cifar10 was not fetched." and progress_dialog() is None
    server.release.set()
    assert data_dialogs.wait_for_jobs(20)
    assert fetch.fetched_dir("cifar10") is None and not (private_data / "cifar10").exists()
    assert (private_data / ".downloads" / "cifar10" / "cifar-10-binary.tar.gz.part").is_file()
    assert dialog.download_button.isEnabled()


def test_mirrors_and_folder_from_the_dialog_are_used_and_remembered(
        window: Any, qtbot: Any, server: LocalServer, tmp_path: Path) -> None:
    for path, data in list(server.archives.items()):
        if path.startswith("/mnist/"):
            server.files["/alt" + path] = data
    dialog = open_get_dialog(window, qtbot)
    dialog.folder.setText(str(tmp_path / "sets"))
    dialog.mirrors.setText(f"{server.url}/alt/{{name}}")
    click_row(dialog.table, "mnist")
    QTest.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.progress is None, timeout=20_000)
    assert (tmp_path / "sets" / "mnist" / fetch.MARKER).is_file()
    assert all(p.startswith("/alt/mnist/") for p, _ in server.log)
    assert data_dialogs.folder_setting() == str(tmp_path / "sets")
    assert data_dialogs.mirrors_setting() == [f"{server.url}/alt/{{name}}"]


def test_ensure_dataset_asks_then_fetches_and_says_whether_it_is_there(
        window: Any, qtbot: Any, server: LocalServer, boxes: Any) -> None:
    assert data_dialogs.ensure_dataset(window, "digits") and boxes.calls == []
    boxes.answer = QMessageBox.StandardButton.No
    assert not data_dialogs.ensure_dataset(window, "mnist")
    assert boxes.kinds() == ["question"] and "MNIST handwritten digits" in boxes.calls[0][2]
    assert server.log == [] and fetch.fetched_dir("mnist") is None
    boxes.answer = QMessageBox.StandardButton.Yes
    assert data_dialogs.ensure_dataset(window, "cifar10")
    assert fetch.fetched_dir("cifar10") is not None and "Download it now" in boxes.calls[1][2]
    asked = len(boxes.calls)
    assert data_dialogs.ensure_dataset(window, "cifar10") and len(boxes.calls) == asked  # no second ask


def test_ensure_dataset_failure_is_one_message_and_false(window: Any, server: LocalServer,
                                                         boxes: Any) -> None:
    boxes.answer = QMessageBox.StandardButton.Yes
    server.rules[CIFAR] = Rule("error", 500, times=9)
    assert not data_dialogs.ensure_dataset(window, "cifar10")
    assert boxes.calls[-1] == ("critical", "Get data set", "cifar-10-binary.tar.gz: could not be "
                               f"downloaded — {server.url}{CIFAR}: HTTP 500 Internal Server Error")


def test_ensure_dataset_cancel_returns_false_at_once(window: Any, server: LocalServer, boxes: Any) -> None:
    boxes.answer = QMessageBox.StandardButton.Yes
    server.rules[CIFAR] = Rule("stall", 100_000)
    clicked: list[bool] = []

    def press_cancel() -> None:
        shown = progress_dialog()
        if shown is not None and shown.value() > 0:
            QTest.mouseClick(cancel_button(shown), Qt.MouseButton.LeftButton)
            clicked.append(True)
        else:
            QTimer.singleShot(50, press_cancel)

    QTimer.singleShot(50, press_cancel)
    assert not data_dialogs.ensure_dataset(window, "cifar10")
    assert clicked == [True] and fetch.fetched_dir("cifar10") is None
    server.release.set()


def preview_dialog(window: Any, qtbot: Any) -> PreviewDialog:
    menu_action(window, "&Train", "Pre&view Data Set…").trigger()
    found = [w for w in QApplication.topLevelWidgets()
             if isinstance(w, PreviewDialog) and w.isVisible() and w.parent() is window]
    assert len(found) == 1
    qtbot.waitExposed(found[0])
    return found[0]


def show(dialog: PreviewDialog, source: str, folder: str = "") -> None:
    dialog.source.setCurrentIndex(dialog.source.findData(source))
    dialog.folder.setText(folder)
    QTest.mouseClick(dialog.show_button, Qt.MouseButton.LeftButton)


def test_preview_shows_samples_labels_counts_and_shape(window: Any, qtbot: Any, server: LocalServer,
                                                       tmp_path: Path) -> None:
    dialog = preview_dialog(window, qtbot)  # the form's data set: digits by default
    p = dialog.preview
    assert p.name == "digits" and p.input_shape == (1, 8, 8) and len(p.images) == 32
    assert "input shape <b>1×8×8</b>" in dialog.info.text() and dialog.grid.count() == 32
    assert sorted(set(p.labels)) == [str(i) for i in range(10)]  # every class shows
    assert dialog.counts.rowCount() == 10
    assert sum(int(dialog.counts.item(r, 1).text().replace(",", "")) for r in range(10)) == p.n_train
    show(dialog, "cifar10")
    assert "not on this computer yet" in dialog.error.text() and dialog.grid.count() == 0
    fetch.fetch("cifar10")
    show(dialog, "cifar10")
    assert dialog.preview.input_shape == (3, 32, 32) and dialog.error.text() == ""
    assert set(dialog.preview.labels) == {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                          "horse", "ship", "truck"}  # names from batches.meta.txt
    assert dialog.preview.images.shape == (32, 32, 32, 3) and dialog.preview.images.dtype == np.uint8
    show(dialog, "synthetic")
    assert dialog.preview.input_shape == (3, 8, 8) and dialog.grid.count() == 32


def test_preview_of_an_image_folder_and_its_one_class_problem(window: Any, qtbot: Any,
                                                              tmp_path: Path) -> None:
    from PIL import Image

    tmp_path = tmp_path / "imgs"
    for k, name in enumerate(("cat", "dog")):
        (tmp_path / name).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (20, 10), (80 * k, 100, 10 * i)).save(tmp_path / name / f"{i}.png")
    dialog = preview_dialog(window, qtbot)
    show(dialog, "folder", str(tmp_path))
    assert dialog.preview.input_shape == (3, 32, 32) and set(dialog.preview.labels) <= {"cat", "dog"}
    shutil.rmtree(tmp_path / "dog")
    show(dialog, "folder", str(tmp_path))
    assert dialog.error.text().endswith("only one class sub-folder ('cat'); classification needs two or "
                                        "more classes — put each class's images in its own sub-folder")
    assert dialog.preview is None and dialog.grid.count() == 0


def test_a_run_folder_without_event_files_still_opens(tmp_path: Path) -> None:
    from builder.training import Trainer, datasets
    from gui.training.history import load_run
    from tests.training.conftest import quick_config, tiny_net

    data = datasets.synthetic(n=64, shape=(3, 8, 8), num_classes=4, seed=3)
    Trainer(tiny_net(), quick_config(epochs=1), data, run_dir=str(tmp_path / "run")).run()
    events = list((tmp_path / "run").glob("events.out.tfevents.*"))
    assert len(events) == 1
    with_events = load_run(tmp_path / "run")
    events[0].unlink()
    without = load_run(tmp_path / "run")
    assert [m.train_loss for m in without.epochs] == [m.train_loss for m in with_events.epochs]
    assert len(without.epochs) == 1 and without.status == "completed"
