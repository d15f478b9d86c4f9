"""Runs the real app (``gui.app.run``) with a scripted user, for the kill-and-recover test.

``python tests/hardening/app_driver.py edit GRAPH OUT`` opens GRAPH, makes three edits through
the undo stack once the window is up, writes the edited graph to OUT and keeps running
(the test kills it). ``… recover GRAPH OUT`` answers "Yes" to the recovery question and writes
the graph the window then shows to OUT, then quits. Dialogs never block: QMessageBox is scripted.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from builder import fileformat  # noqa: E402


def _script_dialogs(mode: str) -> None:
    def question(_parent, title, text, *_args, **_kwargs):  # type: ignore[no-untyped-def]
        print(f"QUESTION {title}: {text!r}", flush=True)
        return QMessageBox.StandardButton.Yes if mode == "recover" else QMessageBox.StandardButton.No

    def critical(_parent, title, text, *_args, **_kwargs):  # type: ignore[no-untyped-def]
        print(f"CRITICAL {title}: {text!r}", flush=True)

    QMessageBox.question = staticmethod(question)  # type: ignore[method-assign]
    QMessageBox.critical = staticmethod(critical)  # type: ignore[method-assign]
    QMessageBox.warning = staticmethod(critical)  # type: ignore[method-assign]


def _edit(window, out: Path) -> None:  # type: ignore[no-untyped-def]
    from gui import commands as c

    doc = window.document
    conv = next(b.id for b in doc.graph.blocks() if b.type == "conv2d")
    stack = doc.undo_stack
    stack.push(c.SetParam(doc, conv, "out_channels", 7))
    stack.push(c.AddBlock(doc, "relu", (123.0, 456.0), block_id="added_by_the_test"))
    stack.push(c.Move(doc, {conv: (-50.0, 75.5)}))
    fileformat.save(doc.graph, out)
    print(f"EDITED modified={doc.modified}", flush=True)


def _report(window, out: Path) -> None:  # type: ignore[no-untyped-def]
    fileformat.save(window.document.graph, out)
    print(f"SHOWN modified={window.document.modified} title={window.document.title()!r}", flush=True)
    window.document.undo_stack.setClean()  # so closing asks nothing
    from PySide6.QtWidgets import QApplication

    QApplication.instance().exit(0)


def main() -> int:
    mode, graph, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    _script_dialogs(mode)
    from gui import app, mainwindow

    original_show = mainwindow.MainWindow.show

    def show(window) -> None:  # type: ignore[no-untyped-def]
        original_show(window)
        if mode == "edit":
            QTimer.singleShot(300, lambda: _edit(window, out))
        else:
            QTimer.singleShot(1500, lambda: _report(window, out))  # after offer_recovery has run

    mainwindow.MainWindow.show = show  # type: ignore[method-assign]
    return app.run([graph])


if __name__ == "__main__":
    sys.exit(main())
