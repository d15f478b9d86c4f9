"""Context menus of the canvas: on a block (with fix-its), a wire, a group frame, the background."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QGraphicsItem, QMenu

from gui.canvas.groups import GroupFrameItem
from gui.canvas.items import BlockItem
from gui.canvas.viewapi import CanvasViewApi
from gui.canvas.wires import WireItem


def build_menu(view: CanvasViewApi, item: QGraphicsItem | None, scene_pos: QPointF) -> QMenu:
    """A menu for ``item`` (None: the background); actions call the view's methods."""
    menu = QMenu(view.viewport())
    if isinstance(item, BlockItem):
        _block_menu(view, menu, item)
    elif isinstance(item, WireItem):
        menu.addAction(f"Delete wire {item.source} → {item.target}",
                       lambda: view.editor.delete([], [(item.target, item.port)]))
    elif isinstance(item, GroupFrameItem):
        _frame_menu(view, menu, item)
    else:
        menu.addAction("Paste", view.paste)
        menu.addAction("Select all", view.select_all)
        menu.addSeparator()
        menu.addAction("Tidy up", view.tidy_up)
        menu.addAction("Fit to view", view.fit_all)
    return menu


def _block_menu(view: CanvasViewApi, menu: QMenu, item: BlockItem) -> None:
    fixes = view.editor.fixits_for(item.block_id)
    for fix in fixes:
        action = menu.addAction(f"Fix: {fix.title}", partial(view.editor.apply_fixit, fix))
        action.setObjectName(f"fixit_{fix.code}")
    if fixes:
        menu.addSeparator()
    menu.addAction("Copy", view.copy_selection)
    menu.addAction("Duplicate", view.duplicate_selection)
    menu.addAction("Delete", view.delete_selection)


def _frame_menu(view: CanvasViewApi, menu: QMenu, frame: GroupFrameItem) -> None:
    group = frame.path
    if frame.collapsed:
        menu.addAction(f"Expand {group}", lambda: view.set_group_collapsed(group, False))
    else:
        menu.addAction(f"Collapse {group}", lambda: view.set_group_collapsed(group, True))
    menu.addAction(f"Select blocks of {group}", lambda: view.select_blocks(view.graph_scene.members(group)))
