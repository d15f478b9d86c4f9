"""Canvas speed: opening a big graph to a drawn canvas, repainting, collapsing, editing.

Run: ``python bench/bench_canvas.py [--graph resnet110] [--rounds 5]`` (headless, offscreen).

1. Open: load ``graphs/<graph>.json``, make the Document and the CanvasView (scene, items,
   validation, shapes), show it at 1400×900 and paint it once (``view.grab()`` at 100 % zoom,
   then again fitted so every item is drawn). Goal: under 1 s for ResNet-110 (388 blocks).
   Baseline in the same process: a bare QGraphicsScene with one QGraphicsRectItem and one
   QGraphicsSimpleTextItem per block and one QGraphicsPathItem per wire, shown and painted the
   same way; the ratio says what Skipwire's items cost over Qt's simplest ones.
2. Collapse + expand the stage ``layer2`` (view state only), median.
3. One parameter edit through the undo stack until the canvas shows the new shapes
   (``doc.report()`` drives the scene), median; baseline ``validate(graph)`` alone.
4. Bulk edits: delete every block (one macro), undo it, tidy up after scrambling, each until
   the event loop is idle; baseline the same commands on a Document without a view.
Rounds alternate canvas and baseline; medians are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF  # noqa: E402
from PySide6.QtGui import QPainterPath  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QApplication,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
)

from builder import fileformat  # noqa: E402
from builder.validate import validate  # noqa: E402
from gui import commands  # noqa: E402
from gui.canvas.view import CanvasView  # noqa: E402
from gui.document import Document  # noqa: E402

GOAL_OPEN_S = 1.0
SIZE = (1400, 900)


def open_canvas(path: Path) -> tuple[float, dict[str, float], CanvasView]:
    """Seconds from reading the file to a painted canvas, with the parts."""
    t0 = time.perf_counter()
    graph = fileformat.load(path)
    t1 = time.perf_counter()
    view = CanvasView(Document(graph))
    view.resize(*SIZE)
    view.show()
    t2 = time.perf_counter()
    view.grab()
    t3 = time.perf_counter()
    view.fit_all()
    view.grab()
    t4 = time.perf_counter()
    parts = {"load": t1 - t0, "build": t2 - t1, "paint_100": t3 - t2, "paint_fit": t4 - t3}
    return t4 - t0, parts, view


def open_baseline(path: Path) -> tuple[float, QGraphicsView]:
    """The same file drawn with Qt's plainest items (a rectangle, a text, a path each)."""
    t0 = time.perf_counter()
    graph = fileformat.load(path)
    scene = QGraphicsScene()
    pos = {}
    for block in graph.blocks():
        x, y = block.pos
        pos[block.id] = (x, y)
        scene.addItem(QGraphicsRectItem(QRectF(x, y, 170, 60)))
        text = QGraphicsSimpleTextItem(block.id)
        text.setPos(x + 10, y + 10)
        scene.addItem(text)
    for wire in graph.wires():
        (sx, sy), (tx, ty) = pos[wire.source], pos[wire.target]
        path = QPainterPath(QPointF(sx + 170, sy + 30))
        path.cubicTo(QPointF(sx + 220, sy + 30), QPointF(tx - 50, ty + 30), QPointF(tx, ty + 30))
        scene.addItem(QGraphicsPathItem(path))
    view = QGraphicsView(scene)
    view.resize(*SIZE)
    view.show()
    view.grab()
    view.fitInView(scene.itemsBoundingRect())
    view.grab()
    return time.perf_counter() - t0, view


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_open(path: Path, rounds: int) -> None:
    ours, base, parts_all = [], [], []
    for i in range(rounds):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for which in order:
            if which == 0:
                total, parts, view = open_canvas(path)
                ours.append(total)
                parts_all.append(parts)
                blocks, wires = len(view.graph_scene.blocks), len(view.graph_scene.wires)
                view.close()
                view.deleteLater()
            else:
                total, bview = open_baseline(path)
                base.append(total)
                bview.close()
                bview.deleteLater()
            QApplication.processEvents()
    med = statistics.median(ours)
    part_text = ", ".join(f"{k} {statistics.median(p[k] for p in parts_all) * 1000:.0f} ms"
                          for k in parts_all[0])
    print(f"open {path.stem} ({blocks} blocks, {wires} wires) to a painted canvas: "
          f"median {med:.3f} s over {rounds} (min {min(ours):.3f}, max {max(ours):.3f}); {part_text}")
    print(f"  baseline (plain Qt items): median {statistics.median(base):.3f} s; "
          f"ratio canvas/baseline {med / statistics.median(base):.2f}")
    print(f"  goal < {GOAL_OPEN_S:.1f} s: {'met' if med < GOAL_OPEN_S else 'NOT met'}")


def bench_interaction(path: Path, rounds: int) -> None:
    _, _, view = open_canvas(path)
    doc = view.graph_scene.doc
    if "layer2" in view.graph_scene.frames:
        def toggle() -> None:
            view.set_group_collapsed("layer2", True)
            view.grab()
            view.set_group_collapsed("layer2", False)
            view.grab()
        print(f"collapse + expand layer2 (two paints): median "
              f"{median_time(toggle, rounds) * 1000:.1f} ms")
    conv = next(b.id for b in doc.graph.blocks() if b.type == "conv2d")
    values = iter(range(10**6))

    def edit() -> None:
        doc.undo_stack.push(commands.SetParam(doc, conv, "out_channels", 16 + next(values) % 2))
        doc.report()

    ours = median_time(edit, rounds * 10)
    base = median_time(lambda: validate(doc.graph), rounds * 10)
    print(f"one SetParam until the canvas shows new shapes: median {ours * 1000:.1f} ms; "
          f"validate() alone {base * 1000:.1f} ms; ratio {ours / base:.2f}")
    view.close()


def bulk_edits(path: Path, with_view: bool) -> dict[str, float]:
    """Seconds for delete-all, its undo and a tidy-up, with or without a canvas attached."""
    app = QApplication.instance()
    doc = Document(fileformat.load(path))
    view = CanvasView(doc) if with_view else None
    if view is not None:
        view.resize(*SIZE)
        view.show()
        view.grab()
    times: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], object]) -> None:
        t0 = time.perf_counter()
        fn()
        app.processEvents()  # type: ignore[union-attr]
        times[name] = time.perf_counter() - t0

    ids = doc.graph.ids()
    if view is not None:
        view.select_all()
        timed("delete_all", view.delete_selection)
    else:
        timed("delete_all", lambda: _delete_all(doc, ids))
    timed("undo_delete", doc.undo_stack.undo)
    doc.undo_stack.push(commands.Move(doc, {b: (0.0, 0.0) for b in ids}))
    app.processEvents()  # type: ignore[union-attr]
    timed("tidy_up", lambda: view.tidy_up() if view is not None else _tidy(doc))
    if view is not None:
        view.close()
    return times


def _delete_all(doc: Document, ids: list[str]) -> None:
    doc.undo_stack.beginMacro("delete")
    for block_id in ids:
        doc.undo_stack.push(commands.RemoveBlock(doc, block_id))
    doc.undo_stack.endMacro()


def _tidy(doc: Document) -> None:
    from builder.layout import layout

    doc.undo_stack.push(commands.Move(doc, layout(doc.graph), "Tidy up"))


def bench_bulk(path: Path, rounds: int) -> None:
    ours = [bulk_edits(path, True) for _ in range(rounds)]
    base = [bulk_edits(path, False) for _ in range(rounds)]
    for key in ours[0]:
        a = statistics.median(t[key] for t in ours)
        b = statistics.median(t[key] for t in base)
        print(f"{key}: with canvas median {a * 1000:.0f} ms, document alone {b * 1000:.0f} ms, "
              f"ratio {a / b:.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", default="resnet110", help="a stem in graphs/ (default resnet110)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    path = ROOT / "graphs" / f"{args.graph}.json"
    open_canvas(path)[2].close()  # warm up fonts and Qt's caches once
    bench_open(path, args.rounds)
    bench_interaction(path, args.rounds)
    bench_bulk(path, max(1, args.rounds // 2))
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
