"""Where new blocks go: on free space (clear of blocks and group frames), in view.

A dropped block is centred on the drop point, moved inside the visible part of the canvas,
then onto the nearest free spot there; pasted and duplicated blocks take the nearest free
offset from one step right and down. After an addition the view scrolls to show it.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF

from builder.layout import BLOCK_W, GRID, ITEM_PAD_X, ITEM_PAD_Y, Rect, block_height
from gui.canvas.items import BlockItem
from gui.canvas.scene import CanvasScene
from gui.canvas.viewapi import CanvasViewApi

FREE_GAP = 20.0  # least space kept between a placed block and other blocks or frames
SEARCH = 40  # free spots are looked for up to this many grid steps (of 40 px) away
VISIBLE_MARGIN = 24.0  # a dropped block keeps this far inside the visible canvas


def is_free(scene: CanvasScene, rects: list[Rect], gap: float = FREE_GAP) -> bool:
    """True when block boxes at these model rectangles would touch no visible block or frame."""
    frames = [f.box_rect() for f in scene.frames.values() if f.isVisible()]
    for left, top, right, bottom in rects:
        dy = scene.shifts.dy(None, top)
        area = QRectF(left - ITEM_PAD_X - gap, top + dy - ITEM_PAD_Y - gap,
                      right - left + 2 * (ITEM_PAD_X + gap), bottom - top + 2 * (ITEM_PAD_Y + gap))
        if any(isinstance(item, BlockItem) and item.isVisible() for item in scene.items(area)):
            return False
        if any(frame.intersects(area) for frame in frames):
            return False
    return True


def free_offset(scene: CanvasScene, rects: list[Rect], start: tuple[float, float],
                keep_in: QRectF | None = None) -> tuple[float, float]:
    """The offset nearest ``start`` that puts ``rects`` on free space (outside blocks and frames).

    Offsets lie on the snap grid; with ``keep_in`` the shifted rectangles must also lie inside
    it (the visible part of the canvas). Nothing free nearby: below everything drawn.
    """
    def inside(dx: float, dy: float) -> bool:
        return keep_in is None or all(
            keep_in.contains(QRectF(r[0] + dx, r[1] + dy, r[2] - r[0], r[3] - r[1])) for r in rects)

    for dx, dy in _spiral(start):
        moved = [(r[0] + dx, r[1] + dy, r[2] + dx, r[3] + dy) for r in rects]
        if inside(dx, dy) and is_free(scene, moved):
            return (dx, dy)
    bottom = scene.itemsBoundingRect().bottom() + 3 * FREE_GAP
    return (start[0], start[1] + max(0.0, bottom - min(r[1] + start[1] for r in rects)))


def _spiral(start: tuple[float, float]) -> list[tuple[float, float]]:
    """Offsets on a 40 px lattice around ``start``, nearest first (below before above on a tie)."""
    step = 2 * GRID
    offsets = [(start[0] + i * step, start[1] + j * step)
               for i in range(-SEARCH, SEARCH + 1) for j in range(-SEARCH, SEARCH + 1)]
    return sorted(offsets, key=lambda o: ((o[0] - start[0]) ** 2 + (o[1] - start[1]) ** 2, -o[1], o[0]))


def drop_spot(view: CanvasViewApi, type_id: str, scene_pos: QPointF) -> tuple[float, float]:
    """The model position for a block of ``type_id`` dropped at ``scene_pos``."""
    height = block_height(type_id, ())
    x, y = _inside_view(view, scene_pos - QPointF(BLOCK_W / 2, height / 2), height)
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    keep = seen if seen.width() > BLOCK_W + 60 and seen.height() > height + 60 else None
    model = view.graph_scene.model_pos(QPointF(x, y))
    start = (round(model[0] / GRID) * GRID, round(model[1] / GRID) * GRID)
    return free_offset(view.graph_scene, [(0.0, 0.0, BLOCK_W, height)], start, keep)


def _inside_view(view: CanvasViewApi, top_left: QPointF, height: float) -> tuple[float, float]:
    """``top_left`` moved so a block there lies inside the visible canvas (when it can)."""
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    m = VISIBLE_MARGIN
    x = min(max(top_left.x(), seen.left() + m), seen.right() - m - BLOCK_W)
    y = min(max(top_left.y(), seen.top() + m), seen.bottom() - m - height)
    return (x if seen.width() > BLOCK_W + 2 * m else top_left.x(),
            y if seen.height() > height + 2 * m else top_left.y())


def reveal(view: CanvasViewApi, block_ids: list[str]) -> None:
    """Scroll so the given blocks are in view (the scene grows around new items first)."""
    items = [view.graph_scene.blocks[b] for b in block_ids if b in view.graph_scene.blocks]
    if not items:
        return
    view.graph_scene.fit_scene_rect()
    rect = items[0].sceneBoundingRect()
    for item in items[1:]:
        rect = rect.united(item.sceneBoundingRect())
    seen = view.mapToScene(view.viewport().rect()).boundingRect()
    if rect.width() > seen.width() or rect.height() > seen.height():
        rect = items[0].sceneBoundingRect()  # too big to show whole: its first block at least
    view.ensureVisible(rect, int(VISIBLE_MARGIN), int(VISIBLE_MARGIN))
