"""The canvas scene: one item per block, wire and group, kept in step with the document.

The scene listens to ``Document.graph_event`` and updates only the items an event touches,
rebuilds on ``graph_replaced`` and restyles on ``validated`` (shapes, red outlines, skip
wires). It never changes the graph: edits are commands pushed by the view.

Wires are routed around the blocks they do not connect (:mod:`builder.routing`) over an index
of what is visible: block boxes, and the boxes of collapsed groups. A block dragged by the
mouse re-routes its own wires at once; after an edit every wire is re-routed once, when the
event loop's turn ends (``flush``), so routes never depend on the order edits arrived in.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, QPointF, QRectF, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsScene

from builder.catalog import fmt_shape
from builder.geometry import label_strip, parents, passed_frames
from builder.graph import (
    BlockAdded,
    BlockMoved,
    BlockRemoved,
    BlockRenamed,
    Event,
    Graph,
    GroupChanged,
    ParamChanged,
    WireAdded,
    WireRemoved,
)
from builder.layout import BLOCK_W
from builder.routing import Obstacles, RouteBook, probed_route
from builder.validate import Report
from gui.canvas import collapse
from gui.canvas.groups import LABEL_H, PAD, GroupFrameItem
from gui.canvas.items import BlockItem
from gui.canvas.wires import WireItem
from gui.document import Document

Endpoint = BlockItem | GroupFrameItem
MARGIN = 1500.0


class CanvasScene(QGraphicsScene):
    """Items for the document's graph, with collapse state for group frames (view state)."""

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc = document
        self.blocks: dict[str, BlockItem] = {}
        self.wires: dict[tuple[str, int], WireItem] = {}  # (target, port) → wire
        self.frames: dict[str, GroupFrameItem] = {}
        self.collapsed: set[str] = set()
        self.shifts = collapse.Shifts()
        self._by_block: dict[str, set[tuple[str, int]]] = {}  # block id → keys of its wires
        self._structure = 0  # bumped when blocks or wires come or go
        self._depth_key = -1
        self._depth_cache: dict[str, int] = {}
        self._report: Report | None = None
        self._grow = QTimer(self, singleShot=True, interval=0)
        self._grow.timeout.connect(self.fit_scene_rect)
        self._settle = QTimer(self, singleShot=True, interval=0)
        self._settle.timeout.connect(self.flush)
        self._frames_dirty = False
        self._routes_dirty = False  # obstacles changed: re-route the wires they touch at the next flush
        self.obstacles = Obstacles()  # what wires go around: visible blocks, collapsed boxes
        self.book = RouteBook()  # which wires a change of obstacles may re-route
        self._regrouped: set[str] = set()  # blocks whose group changed since the last flush
        document.graph_event.connect(self._on_event)
        document.graph_replaced.connect(self.rebuild)
        document.validated.connect(self.apply_report)
        self.rebuild()

    @property
    def graph(self) -> Graph:
        return self.doc.graph

    # ------------------------------------------------------------------ building
    def rebuild(self) -> None:
        """Recreate every item from the graph (after New/Open)."""
        self.clear()
        self.blocks.clear()
        self.wires.clear()
        self.frames.clear()
        self.collapsed.clear()
        self._by_block.clear()
        self._regrouped.clear()
        self.obstacles.clear()
        self.book.clear()
        self._routes_dirty = False
        self.shifts = collapse.Shifts()
        self._structure += 1
        for block in self.graph.blocks():
            self._add_block_item(block.id)
        self.refresh_frames()
        for wire in self.graph.wires():
            self._add_wire_item(wire.source, wire.target, wire.port)
        self.apply_report(self.doc.report())
        self.fit_scene_rect()

    def fit_scene_rect(self) -> None:
        """Leave a wide margin around the items so the canvas can pan past its edges."""
        self.setSceneRect(self.itemsBoundingRect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN))

    def _add_block_item(self, block_id: str) -> BlockItem:
        item = BlockItem(self.graph.block(block_id), set(self.graph.inputs_of(block_id)))
        item.setPos(self.view_pos(block_id))
        self.blocks[block_id] = item
        if self.collapsed:
            item.setVisible(isinstance(self.endpoint(block_id), BlockItem))
        self.addItem(item)
        self._put_obstacle(block_id)
        return item

    def _add_wire_item(self, source: str, target: str, port: int) -> WireItem:
        item = WireItem(source, target, port)
        self.addItem(item)
        self.wires[(target, port)] = item
        self._by_block.setdefault(source, set()).add((target, port))
        self._by_block.setdefault(target, set()).add((target, port))
        self._place_wire(item)
        return item

    # ------------------------------------------------------------------ endpoints
    def endpoint(self, block_id: str) -> Endpoint:
        """What a wire to ``block_id`` attaches to: the block, or its outermost collapsed frame."""
        for group in parents(self.graph.block(block_id).group):
            if group in self.collapsed:
                return self.frames[group]
        return self.blocks[block_id]

    @staticmethod
    def _key(endpoint: Endpoint) -> str | tuple[str, str]:
        """An endpoint's key in the obstacle index."""
        return endpoint.block_id if isinstance(endpoint, BlockItem) else ("frame", endpoint.path)

    def _put_obstacle(self, block_id: str) -> None:
        """Index a block's box where it is drawn (or drop it while it is hidden)."""
        item = self.blocks[block_id]
        if item.isVisible():
            x, y = item.pos().x(), item.pos().y()
            self.obstacles.put(block_id, (x, y, x + BLOCK_W, y + item.height))
        else:
            self.obstacles.remove(block_id)

    def _index_all(self) -> None:
        """Rebuild the obstacle index from what is visible."""
        self.obstacles.clear()
        for block_id in self.blocks:
            self._put_obstacle(block_id)
        for group in self.frames:
            self._index_frame(group)

    def _index_frame(self, group: str) -> None:
        """A collapsed box is an obstacle; an open frame's name strip a soft one."""
        frame = self.frames.get(group)
        box, strip = ("frame", group), ("label", group)
        self.obstacles.remove(box)
        self.obstacles.remove(strip)
        if frame is None or not frame.isVisible():
            return
        if frame.collapsed:
            r = frame.box_rect()
            self.obstacles.put(box, (r.left(), r.top(), r.right(), r.bottom()))
        else:
            r = frame.expanded_rect()
            self.obstacles.put(strip, label_strip((r.left(), r.top(), r.right(), r.bottom())), soft=True)

    def _place_wire(self, wire: WireItem) -> None:
        src, dst = self.endpoint(wire.source), self.endpoint(wire.target)
        if src is dst and isinstance(src, GroupFrameItem):
            wire.setVisible(False)
            return
        wire.setVisible(True)
        p, q = src.output_port_pos(), dst.input_port_pos(wire.port)
        avoid = []
        for group in passed_frames(self.graph.block(wire.source).group, self.graph.block(wire.target).group):
            frame = self.frames.get(group)
            if frame is not None and frame.isVisible() and not frame.collapsed:
                r = frame.expanded_rect()
                avoid.append((r.left(), r.top(), r.right(), r.bottom()))
        points, probes = probed_route((p.x(), p.y()), (q.x(), q.y()), self.obstacles, self._key(src),
                                      self._key(dst), wire.port, avoid)
        self.book.record((wire.target, wire.port), probes)
        wire.set_route(points)

    def reroute(self, everything: bool = True) -> None:
        """Route again every wire, or only those the obstacles changed since the last time may alter."""
        self._routes_dirty = False
        changes, self.obstacles.changed = self.obstacles.changed, []
        self.book.everything |= everything
        for key in self.book.due(self.wires, changes):
            self._place_wire(self.wires[key])  # type: ignore[index]  # the book's keys are the wires' keys

    def _stale(self, groups: set[str] | None = None, block_id: str | None = None) -> None:
        """Mark the wires of ``block_id``, or with an end inside one of ``groups``, to be routed again."""
        for key, wire in self.wires.items():
            if block_id is not None and block_id in (wire.source, wire.target):
                self.book.stale.add(key)
            elif groups and any(g in groups for end in (wire.source, wire.target)
                                for g in parents(self.graph.block(end).group)):
                self.book.stale.add(key)

    def wires_of(self, block_id: str) -> list[WireItem]:
        return [self.wires[k] for k in self._by_block.get(block_id, ()) if k in self.wires]

    def view_pos(self, block_id: str) -> QPointF:
        """Where a block is drawn: its model position, moved up past collapsed groups."""
        x, y = self.graph.block(block_id).pos
        return QPointF(x, y + self.shifts.dy(block_id, y))

    def model_pos(self, view_pos: QPointF) -> tuple[float, float]:
        """The model position of a block drawn at ``view_pos``."""
        return (view_pos.x(), self.shifts.to_model(view_pos.y()))

    def item_moved(self, block_id: str) -> None:
        """A block's item moved by the mouse: its wires follow now, its frames soon."""
        self._put_obstacle(block_id)
        for wire in self.wires_of(block_id):
            self._place_wire(wire)
        if block_id in self.graph and self.graph.block(block_id).group:
            self._frames_later()

    # ------------------------------------------------------------------ events
    def _on_event(self, event: Event) -> None:
        if isinstance(event, BlockAdded | BlockRemoved | WireAdded | WireRemoved | BlockRenamed):
            self._structure += 1
        match event:
            case BlockAdded():
                self._ev_block_added(event)
            case BlockRemoved():
                self._ev_block_removed(event)
            case WireAdded():
                self._ev_wire_added(event)
            case WireRemoved():
                self._ev_wire_removed(event)
            case ParamChanged():
                self._ev_param_changed(event)
            case BlockMoved():
                self._ev_block_moved(event)
            case BlockRenamed():
                self._ev_block_renamed(event)
            case GroupChanged():
                self._ev_group_changed(event)
        self._grow.start()
        if isinstance(event, BlockAdded | BlockRemoved | BlockMoved | WireAdded | WireRemoved):
            self._routes_dirty = True
        if self.collapsed or self.shifts or self._routes_dirty:
            self._settle.start()  # once per event-loop turn: members may have moved or changed

    def _frames_later(self) -> None:
        """Re-measure group frames once, when this turn of the event loop is done."""
        self._frames_dirty = True
        self._settle.start()

    def flush(self) -> None:
        """Apply deferred work now: frame sizes, then collapse shifts (the event loop does it too)."""
        if self._frames_dirty:
            self.refresh_frames()
        regrouped, self._regrouped = self._regrouped, set()
        for block_id in regrouped & set(self.blocks):
            self.blocks[block_id].set_block(self.graph.block(block_id))  # its short name
        self._check_shifts()
        if self._routes_dirty:
            self.reroute(everything=False)

    def _ev_block_added(self, event: BlockAdded) -> None:
        self._add_block_item(event.block_id)
        if self.graph.block(event.block_id).group:
            self._frames_later()

    def _ev_block_removed(self, event: BlockRemoved) -> None:
        item = self.blocks.pop(event.block_id, None)
        self._by_block.pop(event.block_id, None)
        self.obstacles.remove(event.block_id)
        if item is not None:
            self.removeItem(item)
        if event.block.group:
            self._frames_later()

    def _ev_wire_added(self, event: WireAdded) -> None:
        self._add_wire_item(event.source, event.block_id, event.port)
        self._refresh_ports(event.block_id)

    def _ev_wire_removed(self, event: WireRemoved) -> None:
        key = (event.block_id, event.port)
        item = self.wires.pop(key, None)
        self.book.forget(key)
        if item is not None:
            self.removeItem(item)
            for block_id in (item.source, item.target):
                self._by_block.get(block_id, set()).discard(key)
        if event.block_id in self.blocks:
            self._refresh_ports(event.block_id)

    def _refresh_ports(self, block_id: str) -> None:
        """After a wire came or went: port fill, port count and (if the block grew) its wires."""
        item = self.blocks[block_id]
        height = item.height
        item.set_wired(set(self.graph.inputs_of(block_id)))
        grew = item.height != height
        if grew:
            self._put_obstacle(block_id)
        for wire in self.wires_of(block_id):
            if grew or wire.target == block_id:
                self._place_wire(wire)
        if grew and self.graph.block(block_id).group:
            self._frames_later()

    def _ev_param_changed(self, event: ParamChanged) -> None:
        self.blocks[event.block_id].set_block(self.graph.block(event.block_id))

    def _ev_block_moved(self, event: BlockMoved) -> None:
        item = self.blocks[event.block_id]
        pos = self.view_pos(event.block_id)
        if item.pos() != pos:
            item.setPos(pos)
            self._put_obstacle(event.block_id)  # its wires are routed with the others at the flush
            for wire in self.wires_of(event.block_id):
                self.book.stale.add((wire.target, wire.port))
            if self.graph.block(event.block_id).group:
                self._frames_later()

    def _ev_block_renamed(self, event: BlockRenamed) -> None:
        old, new = event.old, event.block_id
        item = self.blocks.pop(old)
        self.blocks[new] = item
        item.set_block(self.graph.block(new))
        rect = self.obstacles.rects.get(old)
        self.obstacles.remove(old)
        if rect is not None:
            self.obstacles.put(new, rect)
        for key in [k for k in self.wires if k[0] == old]:
            wire = self.wires.pop(key)
            wire.target = new
            self.wires[(new, key[1])] = wire
        for wire in self.wires.values():
            if wire.source == old:
                wire.source = new
            if new in (wire.source, wire.target):
                wire.refresh_tip()
        self._by_block.clear()
        for (target, port), wire in self.wires.items():
            self._by_block.setdefault(wire.source, set()).add((target, port))
            self._by_block.setdefault(target, set()).add((target, port))
        self.book.everything = True  # wires keyed by the old id route again
        self._routes_dirty = True

    def _ev_group_changed(self, event: GroupChanged) -> None:
        self._regrouped.update(event.old)  # their wires may enter other frames now
        self._frames_later()

    # ------------------------------------------------------------------ groups
    def group_paths(self) -> set[str]:
        paths: set[str] = set()
        for block in self.graph.blocks():
            paths.update(parents(block.group))
        return paths

    def members(self, group: str) -> list[str]:
        """Ids of the blocks inside ``group`` (nested groups included)."""
        prefix = group + "."
        return [b.id for b in self.graph.blocks() if b.group == group or b.group.startswith(prefix)]

    def refresh_frames(self, only: Iterable[str] | None = None) -> None:
        """Create, remove and re-measure group frames (innermost first so parents enclose them)."""
        if only is None:
            self._frames_dirty = False
        paths = self.group_paths()
        changed: set[str] = set()  # groups whose frame appeared, went or moved
        for group in [g for g in self.frames if g not in paths]:
            self.removeItem(self.frames.pop(group))
            self.collapsed.discard(group)
            changed.add(group)
        targets = paths if only is None else {g for g in only if g in paths}
        rects: dict[str, QRectF] = {}
        for block in self.graph.blocks():
            if block.group and block.id in self.blocks:
                rect = self.blocks[block.id].sceneBoundingRect()
                rects[block.group] = rects[block.group].united(rect) if block.group in rects else rect
        for group in sorted(paths, key=lambda g: -g.count(".")):
            frame = self.frames.get(group)
            if frame is None:
                frame = self.frames[group] = GroupFrameItem(group)
                self.addItem(frame)
                changed.add(group)
            rect = rects.get(group, QRectF())
            if group in targets and not rect.isNull():
                if frame.set_rect(rect.adjusted(-PAD, -PAD - LABEL_H, PAD, PAD)):
                    changed.add(group)
            outer = frame.expanded_rect()
            parent = group.rpartition(".")[0]
            if parent:
                rects[parent] = rects[parent].united(outer) if parent in rects else outer
        for group in changed:  # wires go around frame names and collapsed boxes
            self._index_frame(group)
        if changed:  # ... and keep out of the frames they only leave or enter
            self._stale(groups=changed)
        if changed & self.collapsed:  # ... and attach to collapsed boxes
            self._routes_dirty = True
            self._settle.start()
        if only is None:
            self._update_summaries()

    def set_collapsed(self, group: str, collapsed: bool) -> None:
        """Collapse a group frame to one box, or expand it (view state; the graph is untouched)."""
        self.flush()
        if group not in self.frames:
            raise KeyError(f"no group {group!r} on the canvas")
        if collapsed:
            self.collapsed.add(group)
        else:
            self.collapsed.discard(group)
        self.refresh_collapse()

    def refresh_collapse(self) -> None:
        """Show or hide blocks, frames and wires after collapse state changed."""
        self.collapsed &= set(self.frames)
        self.shifts = collapse.compute(self.graph, self.collapsed, lambda b: self.blocks[b].height)
        for block_id, item in self.blocks.items():
            item.setPos(self.view_pos(block_id))  # wires are all re-placed below
        self.refresh_frames()
        for group, frame in self.frames.items():
            hidden = any(p in self.collapsed for p in parents(group)[:-1])
            frame.set_collapsed(group in self.collapsed)
            frame.setVisible(not hidden)
        for block_id, item in self.blocks.items():
            item.setVisible(isinstance(self.endpoint(block_id), BlockItem))
            if not item.isVisible():
                item.setSelected(False)
        self._index_all()
        self.reroute()
        self._update_summaries()
        self._grow.start()

    def _check_shifts(self) -> None:
        """Re-place everything if edits changed how far collapsed groups pull rows up."""
        if not (self.collapsed or self.shifts):
            return
        fresh = collapse.compute(self.graph, self.collapsed & set(self.frames),
                                 lambda b: self.blocks[b].height)
        if fresh.regions != self.shifts.regions:
            self.refresh_collapse()

    def _update_summaries(self) -> None:
        """Set each frame's "input shape → output shape" from the wires that cross its edge."""
        report = self._report
        if report is None:
            return
        ins: dict[str, str] = {}
        outs: dict[str, str] = {}
        counts: dict[str, int] = {}
        for block in self.graph.blocks():
            for group in parents(block.group):
                counts[group] = counts.get(group, 0) + 1
        for wire in self.graph.wires():
            src_groups = parents(self.graph.block(wire.source).group)
            dst_groups = parents(self.graph.block(wire.target).group)
            for group in dst_groups:
                if group not in src_groups:
                    ins.setdefault(group, wire.source)
            for group in src_groups:
                if group not in dst_groups:
                    outs.setdefault(group, wire.source)
        for group, frame in self.frames.items():
            first_in = fmt_shape(report.shapes.get(ins[group])) if group in ins else "—"
            first_out = fmt_shape(report.shapes.get(outs[group])) if group in outs else "—"
            frame.summary = f"{first_in} → {first_out}"
            frame.count = counts.get(group, 0)
            if frame.collapsed:
                frame.update()

    # ------------------------------------------------------------------ validation
    def apply_report(self, report: Report) -> None:
        """Show shapes on blocks and wires, outline blocks with problems, mark skip wires."""
        self._report = report
        by_block: dict[str, list] = {}
        for diag in report.diagnostics:
            by_block.setdefault(diag.block_id, []).append(diag)
        texts = {block_id: fmt_shape(shape) for block_id, shape in report.shapes.items()}
        for block_id, item in self.blocks.items():
            item.set_shape(texts.get(block_id, "?"))
            item.set_diagnostics(by_block.get(block_id, ()))
        depth = self._depths(report)
        for wire in self.wires.values():
            skip = depth.get(wire.target, 0) - depth.get(wire.source, 0) > 1
            moved = skip != wire.skip
            wire.set_label(texts.get(wire.source, ""), skip)
            if moved:
                self._place_wire(wire)
        self._update_summaries()  # shapes on collapsed boxes and on zoomed-out frame names

    def _depths(self, report: Report) -> dict[str, int]:
        """Layer depths for skip-wire marking, recomputed only when blocks or wires changed."""
        if self._depth_key != self._structure:
            self._depth_cache = self.graph.depths(report.order)
            self._depth_key = self._structure
        return self._depth_cache

    def set_block_tints(self, tints: dict[str, QColor]) -> None:
        """Tint the named blocks (e.g. by gradient magnitude); every other block loses its tint."""
        for block_id, item in self.blocks.items():
            item.set_tint(tints.get(block_id))

    def selected_block_ids(self) -> list[str]:
        return [item.block_id for item in self.selectedItems() if isinstance(item, BlockItem)]

    def selected_wires(self) -> list[WireItem]:
        return [item for item in self.selectedItems() if isinstance(item, WireItem)]
