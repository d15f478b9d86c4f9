"""The diagnostics list: one row per problem validation found (severity, block, message).

Clicking a row emits ``block_clicked(block_id)``; the window selects and centres that block.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from builder.validate import ERROR, WARNING, Report
from gui import style

BLOCK_ROLE = Qt.ItemDataRole.UserRole
EMPTY_HINT = ("An empty graph: drag an Input block from the Blocks palette, then layers and an "
              "Output block, and wire them (or File › Open Template…).")


def severity_icon(severity: str, size: int = 14) -> QIcon:
    """A red disc with a cross for errors, an amber triangle for warnings."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = QColor(style.ERROR_COLOR if severity == ERROR else style.WARNING_COLOR)
    painter.setBrush(color)
    painter.setPen(Qt.PenStyle.NoPen)
    if severity == ERROR:
        painter.drawEllipse(1, 1, size - 2, size - 2)
    else:
        painter.drawPolygon([QPointF(size / 2, 1), QPointF(size - 1, size - 1), QPointF(1, size - 1)])
    painter.setPen(QColor("white"))
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, "×" if severity == ERROR else "!")
    painter.end()
    return QIcon(pixmap)


class DiagnosticsWidget(QTreeWidget):
    """A flat list of the current report's diagnostics, errors first."""

    block_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["", "Block", "Problem"])
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setColumnWidth(0, 28)
        self.setColumnWidth(1, 150)
        self.setWordWrap(True)
        self._icons = {sev: severity_icon(sev) for sev in (ERROR, WARNING)}
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)
        self.show_report(Report())

    def show_report(self, report: Report, empty: bool = False) -> None:
        """Replace the rows with ``report``'s diagnostics; for an ``empty`` graph, a hint how to
        start instead of its "no Input / no Output" errors (nothing is wrong yet)."""
        self.clear()
        if empty:
            item = QTreeWidgetItem(self, ["", "", EMPTY_HINT])
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            return
        ordered = sorted(report.diagnostics, key=lambda d: d.severity != ERROR)
        for diag in ordered:
            item = QTreeWidgetItem(self, ["", diag.block_id or "(graph)", diag.message])
            item.setIcon(0, self._icons.get(diag.severity, self._icons[WARNING]))
            item.setToolTip(0, diag.severity)
            item.setToolTip(2, f"{diag.message}\n[{diag.code}]")
            item.setData(0, BLOCK_ROLE, diag.block_id)
        if not ordered:
            item = QTreeWidgetItem(self, ["", "", "No problems: the graph is valid."])
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)

    def rows(self) -> list[tuple[str, str]]:
        """(block id, message) of every diagnostic row, in display order."""
        items = [self.topLevelItem(i) for i in range(self.topLevelItemCount())]
        return [(item.data(0, BLOCK_ROLE), item.text(2)) for item in items
                if item is not None and item.data(0, BLOCK_ROLE) is not None]

    def _clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        block_id = item.data(0, BLOCK_ROLE)
        if block_id:
            self.block_clicked.emit(block_id)
