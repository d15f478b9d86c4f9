"""File → Export PyTorch code / ONNX / weights and Import PyTorch module.

Each action asks for a file with a QFileDialog, does the work with :mod:`builder.export`,
and reports any failure in a message box; none of them raises. Each returns the path it
wrote (or the imported graph), or None when cancelled or failed. The small ``_ask_*``
helpers are the only places that open dialogs (tests replace them).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from builder.graph import Graph
from gui.document import Document

_WEIGHTS_FILTER = "Checkpoints and state dicts (*.pt *.pth);;All files (*)"


def export_code(window: QWidget, document: Document) -> Path | None:
    """Write the graph as a standalone PyTorch module."""
    path = _ask_save(window, "Export PyTorch code", _suggest(document, ".py"), "Python files (*.py)")
    if path is None:
        return None

    def work() -> str:
        from builder.export.codegen import export_code as generate
        from builder.fileformat import atomic_write

        code = generate(document.graph, document.report())
        atomic_write(path, code.source)
        return f"Wrote {path.name}: class {code.class_name}, {code.parameter_count:,} parameters"

    return path if _run(window, "Export PyTorch code", work) else None


def export_onnx(window: QWidget, document: Document, weights: str | Path | None = None) -> Path | None:
    """Write the graph as ONNX, with trained weights from ``weights`` or a checkpoint the user picks."""
    if weights is None and _confirm(window, "Export ONNX", "Put trained weights from a checkpoint into "
                                    "the ONNX file?\n\n(No: freshly initialised weights.)"):
        weights = _ask_open(window, "Weights for the ONNX model: a checkpoint or state_dict",
                            _WEIGHTS_FILTER)
        if weights is None:
            return None
    path = _ask_save(window, "Export ONNX", _suggest(document, ".onnx"), "ONNX models (*.onnx)")
    if path is None:
        return None

    def work() -> str:
        from builder.export.onnx_export import export_onnx as write

        write(document.graph, path, weights)
        return f"Wrote {path.name}"

    return path if _run(window, "Export ONNX", work) else None


def export_weights(window: QWidget, document: Document, module: object | None = None) -> Path | None:
    """Save trained weights as a state_dict: from ``module`` if given, else from a checkpoint."""
    source = None
    if module is None:
        source = _ask_open(window, "Weights to export: a training checkpoint or state_dict",
                           _WEIGHTS_FILTER)
        if source is None:
            return None
    path = _ask_save(window, "Export weights", _suggest(document, ".pt"), "State dicts (*.pt)")
    if path is None:
        return None

    def work() -> str:
        from builder.export.weights import compiled_with_weights, load_into, save_state_dict

        target = compiled_with_weights(document.graph, source)
        if module is not None:
            load_into(target, module.state_dict(), "the trained model")  # type: ignore[attr-defined]
        save_state_dict(target, path)
        return f"Wrote {path.name}"

    return path if _run(window, "Export weights", work) else None


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
    from builder.export.fx_import import ImportFailure, module_classes
    from builder.export.fx_import import import_module as trace

    try:
        classes = _busy(lambda: module_classes(file))
        if not classes:
            raise ImportFailure(f"{file.name}: defines no nn.Module class")
        name = _ask_item(window, "Import PyTorch module", "Class to import:", sorted(classes))
        if name is None:
            return None
        text = _ask_text(window, "Import PyTorch module", "Input shape (C×H×W):", "3x32x32")
        if text is None:
            return None
        shape = _parse_shape(text)
        return _busy(lambda: trace(classes[name](), shape, name=name.lower()))
    except Exception as exc:  # the user's code may raise anything; never crash the window
        _show_error(window, "Import PyTorch module", _one_line(exc))
        return None


def _parse_shape(text: str) -> tuple[int, int, int]:
    try:
        c, h, w = (int(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise ValueError(f"input shape must look like 3x32x32, got {text!r}") from None
    if min(c, h, w) < 1:
        raise ValueError(f"input shape must be positive, got {text!r}")
    return (c, h, w)


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


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 600 else text[:597] + "..."


def _ask_save(window: QWidget, title: str, suggested: str, filters: str) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(window, title, suggested, filters)
    return Path(path) if path else None


def _ask_open(window: QWidget, title: str, filters: str) -> Path | None:
    path, _ = QFileDialog.getOpenFileName(window, title, "", filters)
    return Path(path) if path else None


def _ask_item(window: QWidget, title: str, label: str, items: list[str]) -> str | None:
    item, ok = QInputDialog.getItem(window, title, label, items, 0, False)
    return item if ok else None


def _ask_text(window: QWidget, title: str, label: str, default: str) -> str | None:
    text, ok = QInputDialog.getText(window, title, label, text=default)
    return text if ok else None


def _confirm(window: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(window, title, text)
    return answer == QMessageBox.StandardButton.Yes


def _show_error(window: QWidget, title: str, text: str) -> None:
    QMessageBox.warning(window, title, text)
