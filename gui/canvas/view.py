"""The canvas view: navigation, selection, wire drawing, drops, finding and the context menus.

The gestures, listed once in :data:`GESTURES` (the Keyboard Shortcuts help shows these rows):
left-drag on the background draws a rubber band (Ctrl adds to the selection); middle-drag, or
Space held while left-dragging, pans; the wheel zooms around the cursor. Dragging from a port
draws a wire (see ``wiredrag``; a refusal is shown beside the cursor); dragging blocks, or a
group frame's name, moves them and pushes one ``Move`` command, snapped to the grid, when the
mouse is released. Clicking the ▾ of a frame's name collapses the group, the ▸ of a collapsed
box expands it (double-clicking the name does too). Keys: Delete/Backspace delete the
selection, F fits the view, Escape drops a wire in progress; Ctrl+F (the Edit menu's Find
Block) opens the finder (see ``finder``). Zoomed out, names are drawn over the canvas (see
``overview``). A dropped block lands on free space inside the visible part of the canvas.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QLineF, QPoint, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication, QGraphicsView, QMenu, QWidget

from builder.graph import group_problem
from builder.layout import GRID
from gui import commands
from gui.canvas import overview, placing
from gui.canvas.editing import Editor
from gui.canvas.finder import BlockFinder
from gui.canvas.groups import GroupFrameItem
from gui.canvas.items import FULL_LOD, BlockItem
from gui.canvas.scene import CanvasScene
from gui.canvas.wiredrag import OK_COLOR, WireDrag
from gui.canvas.wires import WireItem
from gui.canvas.wiring import PortRef
from gui.document import Document

BLOCK_MIME = "application/x-skipwire-block"
MIN_ZOOM, MAX_ZOOM = 0.03, 4.0
GRID_COLOR = QColor("#eceef2")

# What the mouse does on the canvas: (gesture, how). The Keyboard Shortcuts help lists these.
GESTURES: tuple[tuple[str, str], ...] = (
    ("Select", "click a block; drag on the background for a rubber band (Ctrl adds)"),
    ("Pan", "middle-drag, or hold Space and drag"),
    ("Zoom", "mouse wheel (around the cursor)"),
    ("Move", "drag blocks, or a group frame's name"),
    ("Wire", "drag from an output port (right) to an input port (left); drag a wired input to move its wire"),
    ("Collapse / expand a group", "click the ▾ or ▸ before its name (or double-click the name)"),
    ("Find a block", "Ctrl+F, type part of its name; Enter or F3 for the next match, Escape to close"),
)


def snap(x: float, y: float) -> tuple[float, float]:
    return (round(x / GRID) * GRID, round(y / GRID) * GRID)


class CanvasView(QGraphicsView):
    """The editable picture of the document's graph."""

    selection_changed = Signal(list)  # selected block ids
    status_message = Signal(str)  # e.g. why a wire was refused

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        self.graph_scene = CanvasScene(document, self)
        self.editor = Editor(document, partial(placing.free_offset, self.graph_scene))
        self.finder = BlockFinder(self, self)
        self.setScene(self.graph_scene)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setAcceptDrops(True)
        self.viewport().setMouseTracking(True)  # hover over a port shows the wiring cursor
        self.setBackgroundBrush(QColor("#f7f8fa"))
        self._wire_drag: WireDrag | None = None
        self._pan_from: QPoint | None = None
        self._frame_drag: tuple[QPointF, dict[str, QPointF]] | None = None
        self._dragging_blocks = False  # a left press on a block: Qt drags the selection
        self._space = False
        self._last_toggle = ("", -1 << 40)  # (group, time) of the last ▾ click
        self._selection_later = QTimer(self, singleShot=True, interval=0)  # one signal per turn
        self._selection_later.timeout.connect(self._emit_selection)
        self.graph_scene.selectionChanged.connect(self._selection_later.start)
        document.graph_replaced.connect(self._on_replaced)

    # ------------------------------------------------------------------ navigation
    def fit_all(self) -> None:
        """Show everything, with room at the edges for the names drawn when zoomed out."""
        rect = self.graph_scene.itemsBoundingRect()
        if rect.isNull():
            return
        area = self.viewport().rect()
        guess = min(area.width() / max(rect.width(), 1.0), area.height() / max(rect.height(), 1.0))
        margin = 40 + 36 / max(guess, MIN_ZOOM)  # about 36 screen pixels whatever the zoom
        self.fitInView(rect.adjusted(-margin, -margin, margin, margin), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.5:
            self._set_zoom(1.5)

    def zoom(self) -> float:
        return self.transform().m11()

    def _set_zoom(self, zoom: float) -> None:
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        self.scale(zoom / self.zoom(), zoom / self.zoom())

    def zoom_in(self) -> None:
        self._set_zoom(self.zoom() * 1.25)

    def zoom_out(self) -> None:
        self._set_zoom(self.zoom() / 1.25)

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Zoom so the scene point under the cursor stays under the cursor."""
        steps = event.angleDelta().y() / 120.0
        if steps:
            anchor = event.position().toPoint()
            fixed = self.mapToScene(anchor)
            self._set_zoom(self.zoom() * 1.15 ** steps)
            drift = self.mapFromScene(fixed) - anchor
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + drift.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() + drift.y())
        event.accept()

    def center_on_block(self, block_id: str) -> None:
        """Select ``block_id`` (expanding any collapsed group around it) and centre it."""
        if block_id not in self.graph_scene.blocks:
            return
        for group in list(self.graph_scene.collapsed):
            if block_id in self.graph_scene.members(group):
                self.graph_scene.set_collapsed(group, False)
        self.select_blocks([block_id])
        self.centerOn(self.graph_scene.blocks[block_id])

    def _on_replaced(self) -> None:
        self.resetTransform()
        self.fit_all()

    def drawForeground(self, painter: QPainter, area: QRectF | QRect) -> None:
        """Names of groups (and loose blocks) when zoomed out too far for their own text."""
        super().drawForeground(painter, area)
        overview.paint(self, painter)

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802 (Qt override)
        super().scrollContentsBy(dx, dy)
        if self.zoom() < FULL_LOD:  # names stay on screen while their frame does: draw them afresh
            self.viewport().update()

    def show_finder(self) -> None:
        """Open the find-a-block bar (Ctrl+F)."""
        self.finder.open()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.finder.isVisible():
            self.finder.place()

    def drawBackground(self, painter: QPainter, area: QRectF | QRect) -> None:
        """A light grid (the snap grid when zoomed in, every fifth line when further out)."""
        super().drawBackground(painter, area)
        rect = QRectF(area)
        zoom = self.zoom()
        if zoom < 0.3:
            return
        step = GRID if zoom >= 0.8 else GRID * 5
        painter.setPen(QPen(GRID_COLOR, 0))
        left = int(rect.left() // step) * step
        top = int(rect.top() // step) * step
        lines = [QLineF(x, rect.top(), x, rect.bottom()) for x in _frange(left, rect.right(), step)]
        lines += [QLineF(rect.left(), y, rect.right(), y) for y in _frange(top, rect.bottom(), step)]
        painter.drawLines(lines)

    # ------------------------------------------------------------------ selection
    def select_blocks(self, ids: list[str]) -> None:
        wanted = set(ids)
        with _Quiet(self.graph_scene):
            self.graph_scene.clearSelection()
            for block_id, item in self.graph_scene.blocks.items():
                if block_id in wanted and item.isVisible():
                    item.setSelected(True)
        self._emit_selection()

    def selected_block_ids(self) -> list[str]:
        return self.graph_scene.selected_block_ids()

    def select_all(self) -> None:
        self.select_blocks(list(self.graph_scene.blocks))

    def _emit_selection(self) -> None:
        self._selection_later.stop()
        self.selection_changed.emit(self.selected_block_ids())

    # ------------------------------------------------------------------ edits
    def add_block_at_center(self, type_id: str) -> None:
        center = self.mapToScene(self.viewport().rect().center())
        self._add_block(type_id, center)

    def _add_block(self, type_id: str, scene_pos: QPointF) -> None:
        """Add a block centred near ``scene_pos``: on the nearest free space, fully visible."""
        command = commands.AddBlock(self.doc, type_id, placing.drop_spot(self, type_id, scene_pos))
        self.doc.undo_stack.push(command)
        if command.block_id:
            self.select_blocks([command.block_id])
            self.reveal([command.block_id])

    def reveal(self, block_ids: list[str]) -> None:
        """Scroll so the given blocks are in view (all of them when they fit)."""
        placing.reveal(self, block_ids)

    def delete_selection(self) -> None:
        wires = [(w.target, w.port) for w in self.graph_scene.selected_wires()]
        if self.editor.delete(self.selected_block_ids(), wires):
            self.status_message.emit(self.doc.undo_stack.undoText())

    def copy_selection(self) -> None:
        ids = self.selected_block_ids()
        if self.editor.copy(ids):
            self.status_message.emit(f"Copied {len(ids)} block(s)")

    def paste(self) -> None:
        try:
            new = self.editor.paste()
        except (ValueError, KeyError) as exc:
            self.status_message.emit(f"Cannot paste: {exc}")
            return
        self.select_blocks(new)
        self.reveal(new)

    def duplicate_selection(self) -> None:
        new = self.editor.duplicate(self.selected_block_ids())
        self.select_blocks(new)
        self.reveal(new)

    def group_selection(self, group: str) -> None:
        """Put the selected blocks into group path ``group`` (one SetGroup step)."""
        ids = self.selected_block_ids()
        problem = group_problem(group)
        if problem or not ids:
            self.status_message.emit(f"Cannot group: {problem or 'no blocks are selected'}")
            return
        self.editor.group(ids, group)
        self.graph_scene.flush()
        self.status_message.emit(f"Grouped {len(ids)} block(s) as {group}" if group else "Ungrouped")

    def tidy_up(self) -> None:
        if self.editor.tidy_up():
            self.graph_scene.flush()
            self.fit_all()

    def set_group_collapsed(self, group: str, collapsed: bool) -> None:
        """Collapse or expand a group frame (view state only)."""
        self.graph_scene.set_collapsed(group, collapsed)

    # ------------------------------------------------------------------ mouse
    def port_at(self, view_pos: QPoint) -> PortRef | None:
        scene_pos = self.mapToScene(view_pos)
        radius = max(8.0, 6.0 / max(self.zoom(), 1e-6))
        area = QRectF(scene_pos.x() - radius, scene_pos.y() - radius, 2 * radius, 2 * radius)
        for item in self.graph_scene.items(area):
            if isinstance(item, BlockItem) and item.isVisible():
                hit = item.port_at(scene_pos, radius)
                if hit is not None:
                    return PortRef(item.block_id, hit[0], hit[1])
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space):
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if button == Qt.MouseButton.LeftButton:
            port = self.port_at(event.position().toPoint())
            if port is not None:
                self._start_wire(port)
                event.accept()
                return
            item = self.itemAt(event.position().toPoint())
            if isinstance(item, GroupFrameItem):
                scene_pos = self.mapToScene(event.position().toPoint())
                if item.toggle_rect().contains(scene_pos):  # the ▾ / ▸ collapses or expands
                    self._toggle(item, event.timestamp())
                else:
                    self._start_frame_drag(item, scene_pos)
                event.accept()
                return
            self._dragging_blocks = isinstance(item, BlockItem)
        super().mousePressEvent(event)

    def _toggle(self, frame: GroupFrameItem, stamp: int) -> None:
        """Collapse or expand ``frame`` (the second press of a double-click does nothing more)."""
        last_path, last_stamp = self._last_toggle
        if last_path == frame.path and 0 <= stamp - last_stamp < QApplication.doubleClickInterval():
            return
        self._last_toggle = (frame.path, stamp)
        self.graph_scene.set_collapsed(frame.path, not frame.collapsed)

    def _start_frame_drag(self, frame: GroupFrameItem, scene_pos: QPointF) -> None:
        """Pressing a frame's label (or a collapsed box) selects its blocks and drags them."""
        members = self.graph_scene.members(frame.path)
        self.select_blocks(members)
        self._frame_drag = (scene_pos, {b: self.graph_scene.blocks[b].pos() for b in members})

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            delta = event.position().toPoint() - self._pan_from
            self._pan_from = event.position().toPoint()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            event.accept()
            return
        if self._wire_drag is not None:
            self._follow_wire(self.mapToScene(event.position().toPoint()))
            event.accept()
            return
        if self._frame_drag is not None:
            start, origins = self._frame_drag
            offset = self.mapToScene(event.position().toPoint()) - start
            for block_id, origin in origins.items():
                self.graph_scene.blocks[block_id].setPos(origin + offset)
                self.graph_scene.item_moved(block_id)
            event.accept()
            return
        super().mouseMoveEvent(event)
        if self._dragging_blocks:  # Qt moved the selected items: their wires follow
            for block_id in self.selected_block_ids():
                self.graph_scene.item_moved(block_id)
        if event.buttons() == Qt.MouseButton.NoButton and not self._space:
            if self.port_at(event.position().toPoint()) is not None:
                self.viewport().setCursor(Qt.CursorShape.CrossCursor)  # a port: drag to wire
            else:
                self.viewport().unsetCursor()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        if self._wire_drag is not None:
            self._finish_wire(self.port_at(event.position().toPoint()))
            event.accept()
            return
        if self._frame_drag is not None:
            self._frame_drag = None
            self._commit_moves()
            event.accept()
            return
        super().mouseReleaseEvent(event)
        self._dragging_blocks = False
        self._commit_moves()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        item = self.itemAt(event.position().toPoint())
        if isinstance(item, GroupFrameItem):
            if not item.toggle_rect().contains(self.mapToScene(event.position().toPoint())):
                self.graph_scene.set_collapsed(item.path, not item.collapsed)  # the ▾ toggled on press
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def _commit_moves(self) -> None:
        """After a drag: one Move command for every block whose item left its model position."""
        moves: dict[str, tuple[float, float]] = {}
        for block_id, item in self.graph_scene.blocks.items():
            if item.pos() != self.graph_scene.view_pos(block_id):
                moves[block_id] = snap(*self.graph_scene.model_pos(item.pos()))
        if not moves:
            return
        changed = {b: p for b, p in moves.items() if p != self.doc.graph.block(b).pos}
        for block_id in set(moves) - set(changed):
            self.graph_scene.blocks[block_id].setPos(self.graph_scene.view_pos(block_id))
            self.graph_scene.item_moved(block_id)
        if changed:
            self.doc.undo_stack.push(commands.Move(self.doc, changed))
            self.graph_scene.flush()  # wires settle around the dropped blocks now

    # ------------------------------------------------------------------ wire drawing
    def _start_wire(self, port: PortRef) -> None:
        self._wire_drag = WireDrag(self.graph_scene, port)
        self._follow_wire(self._wire_drag.anchor())

    def _follow_wire(self, scene_pos: QPointF) -> None:
        assert self._wire_drag is not None
        self._wire_drag.follow(scene_pos, self.port_at(self.mapFromScene(scene_pos)))
        hint = self._wire_drag.hint
        if hint.isVisible():  # the reason stays inside the canvas: left of or above the cursor at its edges
            cursor, size, area = self.mapFromScene(scene_pos), hint.boundingRect(), self.viewport().rect()
            left = cursor.x() + 20 + size.width() > area.right() and cursor.x() > size.width() + 20
            up = cursor.y() + 20 + size.height() > area.bottom() and cursor.y() > size.height() + 20
            hint.set_side(left, up)

    def wire_in_progress(self) -> bool:
        return self._wire_drag is not None

    def _finish_wire(self, end: PortRef | None) -> None:
        assert self._wire_drag is not None
        drag, self._wire_drag = self._wire_drag, None
        self.status_message.emit(drag.finish(end))

    # ------------------------------------------------------------------ keys
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selection()
        elif key == Qt.Key.Key_F and not event.modifiers():
            self.fit_all()
        elif key == Qt.Key.Key_Escape and self._wire_drag is not None:
            self._finish_wire(None)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    # ------------------------------------------------------------------ drops
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(BLOCK_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(BLOCK_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        if not event.mimeData().hasFormat(BLOCK_MIME):
            super().dropEvent(event)
            return
        type_id = bytes(event.mimeData().data(BLOCK_MIME).data()).decode("utf-8", "replace")
        try:
            self._add_block(type_id, self.mapToScene(event.position().toPoint()))
        except KeyError as exc:
            self.status_message.emit(str(exc.args[0]))
            return
        event.acceptProposedAction()

    # ------------------------------------------------------------------ context menus
    def context_menu_at(self, view_pos: QPoint) -> QMenu:
        """The context menu for what is under ``view_pos`` (also used by screenshots and tests)."""
        from gui.canvas.menus import build_menu

        return build_menu(self, self.itemAt(view_pos), self.mapToScene(view_pos))

    def context_menu_for_block(self, block_id: str) -> QMenu:
        from gui.canvas.menus import build_menu

        item = self.graph_scene.blocks[block_id]
        return build_menu(self, item, item.sceneBoundingRect().center())

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        item = self.itemAt(event.pos())
        if isinstance(item, BlockItem) and not item.isSelected():
            self.select_blocks([item.block_id])
        menu = self.context_menu_at(event.pos())
        menu.exec(event.globalPos())


def _frange(start: float, stop: float, step: float) -> list[float]:
    count = max(0, int((stop - start) // step) + 1)
    return [start + i * step for i in range(count)]


class _Quiet:
    """Block a scene's signals while the selection is changed in bulk."""

    def __init__(self, scene: CanvasScene) -> None:
        self.scene = scene

    def __enter__(self) -> None:
        self._was = self.scene.blockSignals(True)

    def __exit__(self, *exc: object) -> None:
        self.scene.blockSignals(self._was)


__all__ = ["BLOCK_MIME", "GESTURES", "GRID", "OK_COLOR", "CanvasView", "WireItem", "snap"]
