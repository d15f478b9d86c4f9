"""The block palette: catalog blocks by category, with a search box.

Drag a block onto the canvas (MIME type :data:`BLOCK_MIME`, data = the type id in UTF-8)
or double-click it to add it at the centre of the view (``block_activated``).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QMimeData, QPoint, Qt, Signal
from PySide6.QtGui import QColor, QDrag, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from builder import catalog
from gui import style

BLOCK_MIME = "application/x-skipwire-block"
TYPE_ROLE = Qt.ItemDataRole.UserRole


def block_mime(type_id: str) -> QMimeData:
    """The drag payload for one block type (what the canvas accepts on drop)."""
    mime = QMimeData()
    mime.setData(BLOCK_MIME, type_id.encode("utf-8"))
    mime.setText(type_id)
    return mime


def swatch(color: QColor, size: int = 14) -> QIcon:
    """A small rounded square of ``color`` for list items."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(color)
    painter.setPen(color.darker(140))
    painter.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
    painter.end()
    return QIcon(pixmap)


def drag_pixmap(type_id: str) -> QPixmap:
    """What follows the cursor while a block is dragged: a small block in its colour."""
    label = catalog.get(type_id).label
    color = style.color_for(type_id)
    pixmap = QPixmap(120, 30)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(color.lighter(160))
    painter.setPen(color.darker(130))
    painter.drawRoundedRect(1, 1, 118, 28, 5, 5)
    painter.setPen(QColor("#222"))
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, label)
    painter.end()
    return pixmap


class _BlockTree(QTreeWidget):
    """A tree whose block items drag out as :data:`BLOCK_MIME` (always a copy)."""

    def mimeTypes(self) -> list[str]:  # noqa: N802 (Qt override)
        return [BLOCK_MIME]

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:  # noqa: N802 (Qt override)
        type_ids = [item.data(0, TYPE_ROLE) for item in items if item.data(0, TYPE_ROLE)]
        return block_mime(type_ids[0]) if type_ids else QMimeData()

    def startDrag(self, _actions: Qt.DropAction) -> None:  # noqa: N802 (Qt override)
        # Our own QDrag with CopyAction only: the default one could end as a MoveAction,
        # after which the item view removes the dragged item from the palette.
        item = self.currentItem()
        type_id = item.data(0, TYPE_ROLE) if item is not None else None
        if not type_id:
            return
        drag = QDrag(self)
        drag.setMimeData(block_mime(type_id))
        drag.setPixmap(drag_pixmap(type_id))
        drag.setHotSpot(QPoint(20, 15))
        drag.exec(Qt.DropAction.CopyAction, Qt.DropAction.CopyAction)


class PaletteWidget(QWidget):
    """Search box above a tree of block types grouped by category."""

    block_activated = Signal(str)  # a type id, on double-click or Enter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search blocks…")
        self.search.setClearButtonEnabled(True)
        self.tree = _BlockTree()
        self.tree.setHeaderHidden(True)
        self.sections: list[tuple[QTreeWidgetItem, list[QTreeWidgetItem]]] = []  # (category, blocks)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QTreeWidget.DragDropMode.DragOnly)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._populate()
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._activate_first_visible)
        self.tree.itemActivated.connect(self._on_activated)

    def _populate(self) -> None:
        for category in catalog.CATEGORIES:
            head = QTreeWidgetItem(self.tree, [category])
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)
            head.setIcon(0, swatch(style.category_color(category)))
            specs = [spec for spec in catalog.CATALOG.values() if spec.category == category]
            self.sections.append((head, [self._add_item(head, spec) for spec in specs]))
            head.setExpanded(True)

    def _add_item(self, head: QTreeWidgetItem, spec: catalog.BlockType) -> QTreeWidgetItem:
        item = QTreeWidgetItem(head, [spec.label])
        item.setData(0, TYPE_ROLE, spec.type_id)
        item.setIcon(0, swatch(style.color_for(spec.type_id)))
        item.setToolTip(0, f"<b>{spec.label}</b> <i>({spec.type_id})</i><br>{spec.help}")
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                      | Qt.ItemFlag.ItemIsDragEnabled)
        return item

    def items(self) -> list[QTreeWidgetItem]:
        """Every block item (not the category headers)."""
        return [item for _head, items in self.sections for item in items]

    def item_for(self, type_id: str) -> QTreeWidgetItem:
        return next(item for item in self.items() if item.data(0, TYPE_ROLE) == type_id)

    def visible_type_ids(self) -> list[str]:
        return [item.data(0, TYPE_ROLE) for item in self.items() if not item.isHidden()]

    def filter(self, text: str) -> None:
        """Show only blocks whose label, type id, category or help contains ``text``."""
        needle = text.strip().lower()
        for head, items in self.sections:
            shown = 0
            for item in items:
                spec = catalog.get(item.data(0, TYPE_ROLE))
                hay = f"{spec.label} {spec.type_id} {spec.category} {spec.help}".lower()
                item.setHidden(bool(needle) and needle not in hay)
                shown += not item.isHidden()
            head.setHidden(shown == 0)

    def _activate_first_visible(self) -> None:
        visible = self.visible_type_ids()
        if visible:
            self.block_activated.emit(visible[0])

    def _on_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        type_id = item.data(0, TYPE_ROLE)
        if type_id:
            self.block_activated.emit(type_id)
