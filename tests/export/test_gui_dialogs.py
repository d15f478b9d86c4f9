"""File-menu export/import actions: they write files, and every failure is a message."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtWidgets import QMainWindow

from builder import templates
from builder.compile import compile_graph
from gui import export_dialogs as dialogs
from gui.document import Document

from .conftest import load_source
from .test_import import HAND_WRITTEN


@pytest.fixture
def window(qtbot):
    win = QMainWindow()
    qtbot.addWidget(win)
    return win


@pytest.fixture
def errors(monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(dialogs, "_show_error", lambda window, title, text: shown.append(text))
    return shown


def _answers(monkeypatch, **values):
    for name, value in values.items():
        monkeypatch.setattr(dialogs, f"_ask_{name}", lambda *args, v=value: v)


def test_export_code_writes_a_module_and_reports_in_the_status_bar(window, monkeypatch, tmp_path, errors):
    document = Document(templates.cifar_resnet(8, input_shape=(3, 8, 8)))
    _answers(monkeypatch, save=tmp_path / "r8.py")
    assert dialogs.export_code(window, document) == tmp_path / "r8.py"
    module = load_source((tmp_path / "r8.py").read_text(encoding="utf-8"), tmp_path / "r8.py", "gui_r8")
    assert sum(p.numel() for p in module.Resnet8().parameters()) > 0
    assert "Resnet8" in window.statusBar().currentMessage() and not errors


def test_cancelled_dialog_does_nothing(window, monkeypatch, errors):
    _answers(monkeypatch, save=None, open=None)
    monkeypatch.setattr(dialogs, "_confirm", lambda *args: True)
    document = Document(templates.lenet())
    assert dialogs.export_code(window, document) is None
    assert dialogs.export_onnx(window, document) is None
    assert dialogs.export_weights(window, document) is None
    assert dialogs.import_module(window, document) is None
    assert not errors


def test_export_of_a_broken_graph_shows_a_message(window, monkeypatch, tmp_path, errors):
    graph = templates.lenet()
    graph.disconnect("fc1", 0)
    _answers(monkeypatch, save=tmp_path / "bad.py")
    assert dialogs.export_code(window, Document(graph)) is None
    assert len(errors) == 1 and "fc1" in errors[0]
    assert not (tmp_path / "bad.py").exists()


def test_export_weights_from_a_checkpoint_and_from_a_module(window, monkeypatch, tmp_path, errors):
    graph = templates.cifar_resnet(8, input_shape=(3, 8, 8))
    trained = compile_graph(graph)
    torch.save({"model": trained.state_dict()}, tmp_path / "ck.pt")
    _answers(monkeypatch, open=tmp_path / "ck.pt", save=tmp_path / "w.pt")
    assert dialogs.export_weights(window, Document(graph)) == tmp_path / "w.pt"
    saved = torch.load(tmp_path / "w.pt", weights_only=True)
    assert all(torch.equal(saved[k], v) for k, v in trained.state_dict().items())
    _answers(monkeypatch, save=tmp_path / "w2.pt")
    assert dialogs.export_weights(window, Document(graph), module=trained) == tmp_path / "w2.pt"
    _answers(monkeypatch, open=tmp_path / "ck.pt", save=tmp_path / "w3.pt")
    assert dialogs.export_weights(window, Document(templates.lenet())) is None
    assert "do not fit the graph" in errors[-1]


def test_export_onnx_with_or_without_trained_weights(window, monkeypatch, tmp_path, errors):
    graph = templates.cifar_resnet(8, input_shape=(3, 8, 8))
    torch.save({"model": compile_graph(graph).state_dict()}, tmp_path / "ck.pt")
    document = Document(graph)
    monkeypatch.setattr(dialogs, "_confirm", lambda *args: False)
    _answers(monkeypatch, save=tmp_path / "m.onnx")
    assert dialogs.export_onnx(window, document) == tmp_path / "m.onnx"
    monkeypatch.setattr(dialogs, "_confirm", lambda *args: True)
    _answers(monkeypatch, open=tmp_path / "ck.pt", save=tmp_path / "w.onnx")
    assert dialogs.export_onnx(window, document) == tmp_path / "w.onnx"
    assert (tmp_path / "m.onnx").stat().st_size > 1000 and (tmp_path / "w.onnx").stat().st_size > 1000
    assert not errors
    _answers(monkeypatch, open=tmp_path / "missing.pt", save=tmp_path / "x.onnx")
    assert dialogs.export_onnx(window, document) is None
    assert "not found" in errors[-1]


def test_import_replaces_the_graph_or_explains_why_not(window, monkeypatch, tmp_path, errors):
    source = tmp_path / "hand.py"
    source.write_text(HAND_WRITTEN, encoding="utf-8")
    monkeypatch.setattr(dialogs, "_confirm", lambda *args: True)
    document = Document(templates.lenet())
    _answers(monkeypatch, open=source, item="TinyResNet", text="3x8x8")
    graph = dialogs.import_module(window, document)
    assert graph is not None and document.graph is graph and "layer1_0_conv1" in graph
    _answers(monkeypatch, item="Unsupported")
    assert dialogs.import_module(window, document) is None
    assert "softmax" in errors[-1]
    _answers(monkeypatch, item="TinyResNet", text="three by eight")
    assert dialogs.import_module(window, document) is None
    assert "3x32x32" in errors[-1]
    assert document.graph is graph  # failures leave the document alone
