"""An edit storm through the main window: the canvas mirrors the graph after every step.

The storm's successful edits are pushed as undo commands on a shown window's document; after
each push, each undo and each redo the scene holds exactly one block item per block (with the
block's id) and one wire item per wire (same source, target and port). The window ends on the
storm's final graph, undo-all returns the start, and validation diagnostics reach the items.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from builder import fileformat

from .conftest import GRAPHS
from .test_edit_storm import Storm, _command


@pytest.fixture
def window(qtbot: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from PySide6.QtWidgets import QMessageBox

    from gui.mainwindow import MainWindow

    for kind in ("question", "critical", "warning", "information"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(lambda *a, **k: QMessageBox.StandardButton.No))
    win = MainWindow(background=False)
    win.autosaver.folder = tmp_path / "appdata"
    win.autosaver.folder.mkdir()
    qtbot.addWidget(win)
    win.show()
    return win


def _check_scene(win: Any) -> None:
    scene, graph = win.canvas.graph_scene, win.document.graph
    scene.flush()
    assert set(scene.blocks) == set(graph.ids())
    for block_id, item in scene.blocks.items():
        assert item.block_id == block_id and item.scene() is scene
    wires = {(w.target, w.port): w.source for w in graph.wires()}
    assert set(scene.wires) == set(wires)
    for (target, port), item in scene.wires.items():
        assert (item.source, item.target, item.port) == (wires[(target, port)], target, port)


@pytest.mark.parametrize(("start", "seed", "collapse"), [("resnet20", 5, False), ("lenet", 6, False),
                                                       ("resnet20", 7, True)])
def test_canvas_follows_a_storm_and_its_undo_redo(qtbot: Any, window: Any, start: str, seed: int,
                                                  collapse: bool) -> None:
    graph = fileformat.load(GRAPHS / f"{start}.json")
    storm = Storm(graph.copy(), random.Random(seed))
    storm.run(200, check_every=25)
    from gui import commands as c

    window.document.set_graph(graph)
    stack = window.document.undo_stack
    scene, rng = window.canvas.graph_scene, random.Random(seed)
    if collapse:  # groups folded while their members are edited, renamed, regrouped and deleted
        for group in {b.group for b in graph.blocks() if b.group}:
            scene.set_collapsed(group, True)
    _check_scene(window)
    for i, (kind, args, result) in enumerate(storm.ops):
        stack.push(_command(c, window.document, kind, args, result))
        if i % 5 == 0:
            qtbot.wait(1)  # let deferred redraws and validation run now and then
        if collapse and i % 10 == 0:
            groups = sorted({b.group for b in window.document.graph.blocks() if b.group})
            if groups:
                group = rng.choice(groups)
                scene.set_collapsed(group, group not in scene.collapsed)
        _check_scene(window)
    assert window.document.graph.signature() == storm.graph.signature()
    while stack.canUndo():
        stack.undo()
        _check_scene(window)
    assert window.document.graph == graph
    while stack.canRedo():
        stack.redo()
        _check_scene(window)
    assert window.document.graph.signature() == storm.graph.signature()
    qtbot.wait(50)
    report = window.document.report()
    flagged = {d.block_id for d in report.errors if d.block_id}
    items = window.canvas.graph_scene.blocks
    assert all(items[b]._severity == "error" for b in flagged), "diagnostics reach the canvas"
