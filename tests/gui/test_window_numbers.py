"""Numbers that are never stale: the status bar and the Summary show one graph's counts only
beside that graph, "counting…" until they are ready (however long that takes), and why there
are none when the graph has errors. Typing in the Summary selects the block on the canvas."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from builder import fileformat
from gui import commands, summary_view
from gui.summary_view import COUNTING, compute

from .conftest import GRAPHS
from .window_helpers import escaped, menu_action  # noqa: F401 (escaped: a fixture, used below)

pytestmark = pytest.mark.usefixtures("escaped")  # no exception may escape a slot


class Gate:
    """Holds each background summary until the test lets it finish (the real computation)."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.started = threading.Semaphore(0)

    def compute(self, graph: Any, version: Any) -> Any:
        self.started.release()
        self.open.wait(120)
        return compute(graph, version)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    held = Gate()
    monkeypatch.setattr(summary_view, "compute", held.compute)
    yield held
    held.open.set()


def _open(window: Any, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """File › Open… with the file dialog answering ``graphs/<name>.json``."""
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(GRAPHS / f"{name}.json"), "")))
    menu_action(window, "File", "Open…").trigger()
    assert window.document.path == GRAPHS / f"{name}.json"


def _show_summary(window: Any) -> None:
    window.summary_dock.show()
    window.summary_dock.raise_()


def _column(window: Any, column: int) -> set[str]:
    return {window.summary.cell_text(row, column) for row in range(window.summary.table.rowCount())}


def test_opening_another_graph_never_shows_the_previous_count(window, qtbot, gate, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _show_summary(window)
    service = window.summary_service
    expected = {name: compute(fileformat.load(GRAPHS / f"{name}.json"), None).summary.total_params
                for name in ("resnet20", "lenet")}
    gate.open.set()
    service.start()
    qtbot.waitUntil(lambda: service.current() is not None, timeout=120_000)
    assert f"{expected['resnet20']:,} parameters" in window.totals.text()
    gate.open.clear()  # from now on the count takes as long as the test wants
    _open(window, monkeypatch, "lenet")
    for _ in range(5):  # the old count never comes back while the new one is being made
        QTest.qWait(100)
        text = window.totals.text()
        assert f"{len(window.document.graph)} blocks" in text and COUNTING in text
        assert f"{expected['resnet20']:,}" not in text
        assert _column(window, 3) == {COUNTING}
        assert set(window.summary.table.rows) and {r[0] for r in window.summary.table.rows} <= set(
            window.document.graph.ids())
    gate.open.set()
    qtbot.waitUntil(lambda: f"{expected['lenet']:,} parameters" in window.totals.text(), timeout=120_000)
    assert COUNTING not in window.totals.text()
    qtbot.waitUntil(lambda: COUNTING not in _column(window, 3))
    rows = {r[0]: r[3] for r in window.summary.table.rows}
    assert sum(int(v.replace(",", "")) for v in rows.values()) == expected["lenet"]


def test_a_late_result_for_a_graph_no_longer_open_is_never_shown(window, qtbot, gate, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _show_summary(window)
    service = window.summary_service
    service.start()
    qtbot.waitUntil(lambda: gate.started.acquire(blocking=False), timeout=30_000)  # ResNet-20's count …
    _open(window, monkeypatch, "lenet")  # … when LeNet replaces it
    gate.open.set()
    qtbot.waitUntil(lambda: service.current() is not None, timeout=120_000)
    lenet = compute(fileformat.load(GRAPHS / "lenet.json"), None).summary.total_params
    assert f"{lenet:,} parameters" in window.totals.text()


def test_an_edit_makes_the_numbers_count_again(window, qtbot, gate) -> None:  # type: ignore[no-untyped-def]
    _show_summary(window)
    gate.open.set()
    window.summary_service.start()
    qtbot.waitUntil(lambda: window.summary_service.current() is not None, timeout=120_000)
    qtbot.waitUntil(lambda: COUNTING not in _column(window, 3))
    gate.open.clear()
    doc = window.document
    doc.undo_stack.push(commands.SetParam(doc, "fc", "out_features", 100))
    assert COUNTING in window.totals.text() and _column(window, 3) == {COUNTING}
    QTest.qWait(300)
    assert COUNTING in window.totals.text()
    gate.open.set()
    qtbot.waitUntil(lambda: COUNTING not in window.totals.text(), timeout=120_000)
    fc = next(r for r in window.summary.table.rows if r[0] == "fc")
    assert fc[3] == f"{64 * 100 + 100:,}"


def test_errors_explain_the_missing_counts(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Without any background summary (none is started here: the GUI knows the reason itself)."""
    _show_summary(window)
    doc = window.document
    doc.undo_stack.push(commands.Disconnect(doc, "output", 0))
    doc.report()
    expected = "1 error: fix it to count parameters and mult-adds"
    assert expected in window.totals.text() and "counting" not in window.totals.text()
    qtbot.waitUntil(lambda: _column(window, 3) == {expected})
    assert window.summary.columnWidth(3) >= window.summary.fontMetrics().horizontalAdvance(expected)
    assert window.summary.note == expected
    doc.undo_stack.undo()
    doc.report()
    qtbot.waitUntil(lambda: _column(window, 3) == {COUNTING})
    assert COUNTING in window.totals.text()


def test_typing_in_the_summary_selects_and_centres_the_block(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    _show_summary(window)
    window.document.report()
    qtbot.waitUntil(lambda: window.summary.table.rowCount() == len(window.document.graph))
    window.activateWindow()
    qtbot.waitActive(window)
    table = window.summary
    table.setFocus()
    zoom = window.canvas.zoom()
    QTest.keyClicks(table, "layer2_1_b")
    assert window.canvas.selected_block_ids() == ["layer2_1_bn1"]
    _assert_centred(window, "layer2_1_bn1")
    QTest.keyClick(table, Qt.Key.Key_Down)
    below = table.cell_text(table.currentIndex().row(), 0)
    assert below != "layer2_1_bn1" and window.canvas.selected_block_ids() == [below]
    _assert_centred(window, below)
    QTest.qWait(1100)  # a new search, not a continuation of the last one
    QTest.keyClicks(table, "fc")  # F alone is Fit to View elsewhere: here it is typing
    assert window.canvas.selected_block_ids() == ["fc"] and window.canvas.zoom() == zoom
    assert table.hasFocus()


def _assert_centred(window: Any, block_id: str) -> None:
    canvas = window.canvas
    centre = canvas.mapToScene(canvas.viewport().rect().center())
    block = canvas.graph_scene.blocks[block_id].sceneBoundingRect()
    assert abs(block.center().x() - centre.x()) < block.width() and \
        abs(block.center().y() - centre.y()) < block.height() * 2, (block, centre)
