"""File → Export PyTorch code / ONNX / weights and Import PyTorch module; exports from a run.

Each action asks for a file with a QFileDialog, does the work with :mod:`builder.export`,
and reports any failure in a message box; none of them raises. Each returns the path it
wrote (or the imported graph), or None when cancelled or failed. The small ``_ask_*``
helpers are the only places that open dialogs (tests replace them).

Trained weights always travel with the graph they were trained as: a checkpoint from a run
folder is paired with that run's ``graph.json`` (the graph fitted to its data set), and the
weights are checked against it *before* the destination is asked for. Checkpoint pickers
open in the runs folder. :func:`export_run` exports a run listed in the Runs dock.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from builder.catalog import parse_input_shape
from builder.graph import Graph
from gui.document import Document

RUN_EXPORTS = {  # what → (title, suffix, file filter)
    "code": ("Export PyTorch code + weights", ".py", "Python files (*.py)"),
    "onnx": ("Export ONNX", ".onnx", "ONNX models (*.onnx)"),
    "weights": ("Export weights", ".pt", "State dicts (*.pt)"),
}

_WEIGHTS_FILTER = "Checkpoints and state dicts (*.pt *.pth);;All files (*)"


def export_code(window: QWidget, document: Document) -> Path | None:
    """Write the graph as a standalone PyTorch module (an untitled graph takes the file's name)."""
    path = _ask_save(window, "Export PyTorch code", _suggest(document, ".py"), "Python files (*.py)")
    if path is None:
        return None

    def work() -> str:
        from builder.export.codegen import export_code as generate
        from builder.fileformat import atomic_write

        graph = document.graph
        if graph.name.strip().lower() in ("", "untitled") and path.stem:
            graph = graph.copy()
            graph.name = path.stem
        code = generate(graph, document.report())
        atomic_write(path, code.source)
        return f"Wrote {path.name}: class {code.class_name}, {code.parameter_count:,} parameters"

    return path if _run(window, "Export PyTorch code", work) else None


def export_onnx(window: QWidget, document: Document, weights: str | Path | None = None) -> Path | None:
    """Write the graph as ONNX, with trained weights from ``weights`` or a checkpoint the user picks."""
    if weights is None and _confirm(window, "Export ONNX", "Put trained weights from a checkpoint into "
                                    "the ONNX file?\n\n(No: freshly initialised weights.)"):
        weights = _ask_checkpoint(window, "Weights for the ONNX model: a checkpoint or state_dict")
        if weights is None:
            return None
    target = _checked_target(window, "Export ONNX", document, weights, ".onnx", "ONNX models (*.onnx)")
    if target is None:
        return None
    graph, module, note, path = target

    def work() -> str:
        from builder.export.onnx_export import sample_size, write_onnx

        write_onnx(module, sample_size(graph), path)
        return f"Wrote {path.name}{note}"

    return path if _run(window, "Export ONNX", work) else None


def export_weights(window: QWidget, document: Document, module: object | None = None) -> Path | None:
    """Save trained weights as a state_dict: from ``module`` if given, else from a checkpoint."""
    source = None
    if module is None:
        source = _ask_checkpoint(window, "Weights to export: a training checkpoint or state_dict")
        if source is None:
            return None
    chosen = _checked_target(window, "Export weights", document, source, ".pt", "State dicts (*.pt)")
    if chosen is None:
        return None
    _graph, target, note, path = chosen

    def work() -> str:
        from builder.export.weights import load_into, save_state_dict

        if module is not None:
            load_into(target, module.state_dict(), "the trained model")  # type: ignore[attr-defined]
        save_state_dict(target, path)
        return f"Wrote {path.name}{note}"

    return path if _run(window, "Export weights", work) else None


def export_run(window: QWidget, run_dir: str | Path, what: str) -> Path | None:
    """Export a run's trained weights with the graph it trained: ``code`` (.py + .pt), ``onnx``, ``weights``.

    The checkpoint is checked against the run's graph first; the save dialog opens in the run folder.
    """
    from builder.export.weights import trained_graph

    title, suffix, filters = RUN_EXPORTS[what]
    try:
        graph = trained_graph(run_dir)
    except ValueError as exc:
        _show_error(window, title, _one_line(exc))
        return None
    checked = _checked(window, title, graph, run_dir)
    if checked is None:
        return None
    _graph, module, _note = checked
    path = _ask_save(window, title, str(Path(run_dir) / f"{graph.name or 'model'}{suffix}"), filters)
    if path is None:
        return None
    return path if _run(window, title, lambda: _write_run_export(what, graph, module, path)) else None


def _write_run_export(what: str, graph: Graph, module: Any, path: Path) -> str:
    from builder.export.weights import save_state_dict

    if what == "onnx":
        from builder.export.onnx_export import sample_size, write_onnx

        write_onnx(module, sample_size(graph), path)
        return f"Wrote {path.name}: ONNX model of the trained {graph.name}"
    if what == "weights":
        save_state_dict(module, path)
        return f"Wrote {path.name}: state_dict of the trained {graph.name}"
    from builder.export.codegen import export_code as generate
    from builder.fileformat import atomic_write

    code = generate(graph)
    atomic_write(path, code.source)
    weights = path.with_suffix(".pt")
    save_state_dict(module, weights)
    return (f"Wrote {path.name} and {weights.name}: {code.class_name}().load_state_dict("
            f"torch.load({weights.name!r}, weights_only=True))")


def _checked_target(window: QWidget, title: str, document: Document, weights: str | Path | None,
                    suffix: str, filters: str) -> tuple[Graph, Any, str, Path] | None:
    """Check ``weights`` against the graph they go with, then ask where to write (None: stop)."""
    checked = _checked(window, title, document.graph, weights)
    if checked is None:
        return None
    graph, module, note = checked
    path = _ask_save(window, title, _suggest_for(document, graph, weights, suffix), filters)
    return None if path is None else (graph, module, note, path)


def _checked(window: QWidget, title: str, graph: Graph, weights: str | Path | None
             ) -> tuple[Graph, Any, str] | None:
    """(graph to export, its module with ``weights`` loaded, a note) or None after a message.

    Weights from a run folder take the run's trained graph; a mismatch is reported here,
    before any destination is asked for.
    """
    def work() -> tuple[Graph, Any, str]:
        from builder.export.weights import compiled_with_weights, graph_for_weights

        chosen = graph_for_weights(graph, weights)
        note = "" if chosen is graph else " (with the graph the run trained, from its graph.json)"
        return chosen, compiled_with_weights(chosen, weights), note

    try:
        return _busy(work)  # type: ignore[no-any-return]
    except Exception as exc:  # a bad file or graph becomes a message
        _show_error(window, title, _one_line(exc))
        return None


def import_module(window: QWidget, document: Document) -> Graph | None:
    """Trace a class from a Python file into a new graph that replaces the document's."""
    file = _ask_open(window, "Import PyTorch module", "Python files (*.py)")
    if file is None or not _confirm(
            window, "Import PyTorch module",
            f"Importing runs the Python code in {file.name}. Only continue for code you trust."
            + ("\n\nThe current graph has unsaved changes; they will be lost." if document.modified else "")):
        return None
    graph = _import_graph(window, file)
    if graph is not None:
        document.set_graph(graph, None)
    return graph


def _import_graph(window: QWidget, file: Path) -> Graph | None:
    from builder.export.fx_import import ImportFailure, module_classes, trace_module

    try:
        classes = _busy(lambda: module_classes(file))
        if not classes:
            raise ImportFailure(f"{file.name}: defines no nn.Module class")
        names = sorted(classes)
        buildable = [n for n in names if not needed_arguments(classes[n])]
        first = names.index(buildable[0]) if buildable else 0
        name = _ask_item(window, "Import PyTorch module", "Class to import (built with no arguments):",
                         names, first)
        if name is None:
            return None
        needed = needed_arguments(classes[name])
        if needed:
            raise ImportFailure(f"{file.name}: {name}() needs the argument(s) {', '.join(needed)}; "
                                "import a class that can be built with no arguments")
        text = _ask_text(window, "Import PyTorch module", "Input shape (C×H×W):", "3x32x32")
        if text is None:
            return None
        shape = parse_input_shape(text)
        return _busy(lambda: trace_module(classes[name](), shape, name=name.lower()))
    except Exception as exc:  # the user's code may raise anything; never crash the window
        _show_error(window, "Import PyTorch module", _one_line(exc))
        return None


def needed_arguments(cls: type) -> list[str]:
    """The constructor parameters of ``cls`` that have no default (none: it builds with ``cls()``)."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
             inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in signature.parameters.values()
            if p.kind in kinds and p.default is inspect.Parameter.empty]


# ------------------------------------------------------------------------------ helpers


def _run(window: QWidget, title: str, work) -> bool:  # type: ignore[no-untyped-def]
    """Run ``work``; show its message in the status bar, or its error in a message box."""
    try:
        message = _busy(work)
    except Exception as exc:  # any failure becomes a message, never a crash
        _show_error(window, title, _one_line(exc))
        return False
    status = getattr(window, "statusBar", None)
    if callable(status):
        status().showMessage(message, 5000)
    return True


def _busy(work):  # type: ignore[no-untyped-def]
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        return work()
    finally:
        QGuiApplication.restoreOverrideCursor()


def _suggest(document: Document, suffix: str) -> str:
    if document.path is not None:
        return str(Path(document.path).with_suffix(suffix))
    return (document.graph.name or "model") + suffix


def _suggest_for(document: Document, graph: Graph, weights: str | Path | None, suffix: str) -> str:
    """Beside the run for a run's weights, else beside the document."""
    from builder.export.weights import run_folder

    folder = run_folder(weights) if weights is not None else None
    return str(folder / f"{graph.name or 'model'}{suffix}") if folder else _suggest(document, suffix)


def _runs_root(window: QWidget) -> str:
    """Where checkpoint pickers open: the window's runs folder, when it has one."""
    root = getattr(getattr(window, "training", None), "runs_root", None)
    return str(root) if root is not None and Path(root).is_dir() else ""


def _ask_checkpoint(window: QWidget, title: str) -> Path | None:
    return _ask_open(window, title, _WEIGHTS_FILTER, _runs_root(window))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 600 else text[:597] + "..."


def _ask_save(window: QWidget, title: str, suggested: str, filters: str) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(window, title, suggested, filters)
    return Path(path) if path else None


def _ask_open(window: QWidget, title: str, filters: str, start: str = "") -> Path | None:
    path, _ = QFileDialog.getOpenFileName(window, title, start, filters)
    return Path(path) if path else None


def _ask_item(window: QWidget, title: str, label: str, items: list[str], current: int = 0) -> str | None:
    item, ok = QInputDialog.getItem(window, title, label, items, current, False)
    return item if ok else None


def _ask_text(window: QWidget, title: str, label: str, default: str) -> str | None:
    text, ok = QInputDialog.getText(window, title, label, text=default)
    return text if ok else None


def _confirm(window: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(window, title, text)
    return answer == QMessageBox.StandardButton.Yes


def _show_error(window: QWidget, title: str, text: str) -> None:
    QMessageBox.warning(window, title, text)
