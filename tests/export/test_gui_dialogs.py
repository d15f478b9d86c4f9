"""File-menu export/import actions: they write files, and every failure is a message."""

from __future__ import annotations

import sys

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


@pytest.fixture
def asked(monkeypatch):
    """Records every file prompt: (kind, args); answers from ``answers`` (kind → value)."""
    calls: list[tuple[str, tuple]] = []
    answers: dict[str, object] = {}
    for kind in ("save", "open", "item", "text"):
        def ask(*args, kind=kind):
            calls.append((kind, args))
            return answers.get(kind)
        monkeypatch.setattr(dialogs, f"_ask_{kind}", ask)
    return calls, answers


def test_file_menu_exports_pair_a_runs_checkpoint_with_its_trained_graph(window, monkeypatch, tmp_path,
                                                                         errors, asked):
    from types import SimpleNamespace

    import numpy as np
    import onnxruntime

    from builder import fileformat

    from .trained_run import make_run, trained_module

    calls, answers = asked
    original, run, data = make_run(tmp_path)
    window.training = SimpleNamespace(runs_root=tmp_path)  # where the window keeps its runs
    document = Document(fileformat.load(original))  # the document's graph: 3×8×8, 10 classes
    monkeypatch.setattr(dialogs, "_confirm", lambda *args: True)
    answers.update(open=run / "checkpoint.pt", save=tmp_path / "m.onnx")
    assert dialogs.export_onnx(window, document) == tmp_path / "m.onnx", errors
    assert calls[0][0] == "open" and calls[0][1][-1] == str(tmp_path)  # the picker opens in the runs folder
    assert calls[1][0] == "save" and calls[1][1][2] == str(run / "resnet8.onnx")
    x = data.x_val[:4]
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        np.testing.assert_allclose(session.run(None, {"input": x.numpy()})[0], trained_module(run)(x).numpy(),
                                   atol=1e-4)
    assert "graph the run trained" in window.statusBar().currentMessage()
    answers.update(open=run, save=tmp_path / "w.pt")
    assert dialogs.export_weights(window, document) == tmp_path / "w.pt"
    model = compile_graph(fileformat.load(run / "graph.json"))
    model.load_state_dict(torch.load(tmp_path / "w.pt", weights_only=True), strict=True)
    assert not errors


def test_weights_that_do_not_fit_are_reported_before_the_destination_is_asked(window, monkeypatch,
                                                                               tmp_path, errors, asked):
    calls, answers = asked
    torch.save({"model": compile_graph(templates.lenet()).state_dict()}, tmp_path / "lenet.pt")
    answers.update(open=tmp_path / "lenet.pt", save=tmp_path / "x.onnx")
    monkeypatch.setattr(dialogs, "_confirm", lambda *args: True)
    document = Document(templates.cifar_resnet(8, input_shape=(3, 8, 8)))
    assert dialogs.export_onnx(window, document) is None
    assert dialogs.export_weights(window, document) is None
    assert [kind for kind, _args in calls] == ["open", "open"]  # never asked where to write
    assert len(errors) == 2 and all("lenet.pt" in e and "do not fit the graph" in e for e in errors)
    assert not (tmp_path / "x.onnx").exists()


def test_an_untitled_graph_exports_a_class_named_after_the_file(window, tmp_path, errors, asked):
    calls, answers = asked
    graph = templates.lenet()
    graph.name = "untitled"
    answers["save"] = tmp_path / "my_net.py"
    assert dialogs.export_code(window, Document(graph)) == tmp_path / "my_net.py"
    written = tmp_path / "my_net.py"
    module = load_source(written.read_text(encoding="utf-8"), written, "gui_my")
    assert hasattr(module, "MyNet") and not hasattr(module, "Untitled")
    assert graph.name == "untitled"  # the document keeps its name


def test_import_defaults_to_a_class_built_without_arguments_and_checks_first(window, monkeypatch,
                                                                              tmp_path, errors, asked):
    calls, answers = asked
    source = tmp_path / "hand.py"
    source.write_text(HAND_WRITTEN, encoding="utf-8")
    monkeypatch.setattr(dialogs, "_confirm", lambda *args: True)
    answers.update(open=source, item="Block", text="3x8x8")
    document = Document(templates.lenet())
    assert dialogs.import_module(window, document) is None
    (_, (_w, _title, _label, items, current)), = [c for c in calls if c[0] == "item"]
    assert items[0] == "Block" and items[current] != "Block"
    assert not dialogs.needed_arguments(getattr(sys.modules["skipwire_import_hand"], items[current]))
    assert "text" not in [kind for kind, _args in calls]  # refused before asking for the shape
    assert "Block() needs the argument(s) cin, cout" in errors[-1]
