"""Start-up stays torch-free; the summary arrives from the background; inspector input checks."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtWidgets import QLineEdit

from builder import fileformat
from gui import commands
from gui.document import Document
from gui.summary_view import SummaryService, compute

from .conftest import GRAPHS, ROOT


def test_gui_modules_do_not_import_torch() -> None:
    code = ("import sys; import gui.app, gui.mainwindow, gui.summary_view, gui.files, gui.template_dialog; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_main_py_draws_the_window_before_torch(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SKIPWIRE_FIRST_PAINT="1",
               XDG_CONFIG_HOME=str(tmp_path / "c"), XDG_DATA_HOME=str(tmp_path / "d"))
    out = subprocess.run([sys.executable, "main.py"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("first_paint_s="))
    assert line.endswith("torch_loaded=False")


def test_summary_counts_parameters_in_the_background(qtbot) -> None:  # type: ignore[no-untyped-def]
    doc = Document(fileformat.load(GRAPHS / "lenet.json"))
    service = SummaryService(doc, start=False)
    with qtbot.waitSignal(service.ready, timeout=120_000) as blocker:
        service.start()
    result = blocker.args[0]
    assert result.summary is not None and result.problem == ""
    expected = compute(doc.graph.copy(), None).summary
    assert result.summary.total_params == expected.total_params > 0
    service.shutdown()


def test_summary_of_a_broken_graph_says_why(resnet20) -> None:  # type: ignore[no-untyped-def]
    resnet20.disconnect("output", 0)
    result = compute(resnet20, "v")
    assert result.summary is None and "error" in result.problem


def test_stale_summary_is_dropped(qtbot) -> None:  # type: ignore[no-untyped-def]
    doc = Document(fileformat.load(GRAPHS / "lenet.json"))
    service = SummaryService(doc, start=False)
    seen = []
    service.ready.connect(seen.append)
    service._on_finished(compute(doc.graph.copy(), ("old graph", -1)))
    assert seen == [] and service.latest is None


def test_float_editor_refuses_bad_input_without_a_command(window) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    window.canvas.select_blocks(["bn1"])
    eps = window.inspector.editors["eps"].widget
    assert isinstance(eps, QLineEdit) and float(eps.text()) == doc.graph.block("bn1").params["eps"]
    for bad in ("abc", "-1"):
        eps.setText(bad)
        eps.editingFinished.emit()
        assert doc.undo_stack.count() == 0
        assert "eps" in window.inspector.error.text()
    eps.setText("0.001")
    eps.editingFinished.emit()
    assert doc.graph.block("bn1").params["eps"] == 0.001 and doc.undo_stack.count() == 1
    assert not window.inspector.error.text()


def test_inspector_follows_undo_and_multi_selection(window) -> None:  # type: ignore[no-untyped-def]
    doc = window.document
    window.canvas.select_blocks(["fc"])
    doc.undo_stack.push(commands.SetParam(doc, "fc", "out_features", 100))
    assert window.inspector.editors["out_features"].widget.value() == 100
    doc.undo_stack.undo()
    assert window.inspector.editors["out_features"].widget.value() == 10
    doc.undo_stack.push(commands.Rename(doc, "fc", "head"))
    assert window.inspector.block_id == "head" and window.inspector.id_edit.text() == "head"
    window.canvas.select_blocks(["head", "flatten"])
    assert window.inspector.block_id is None and "2 blocks" in window.inspector.title.text()


def test_no_display_gives_one_line_not_a_qt_abort() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "main.py"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 2
    assert out.stderr.strip().startswith("skipwire: no display") and len(out.stderr.strip().splitlines()) == 1


def test_excepthook_autosaves_and_tells_the_user(window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gui.app import install_excepthook

    monkeypatch.setattr(sys, "excepthook", lambda *args: None)
    doc = window.document
    doc.undo_stack.push(commands.SetParam(doc, "fc", "out_features", 5))
    install_excepthook(window)
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    assert "RuntimeError: boom" in window.statusBar().currentMessage()
    assert "autosaved" in window.statusBar().currentMessage()
    from gui import files

    assert files.find_recovery(window.autosaver.folder) is not None
