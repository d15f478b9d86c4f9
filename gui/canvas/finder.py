"""Find a block by name on the canvas (Ctrl+F): a small search bar over the view's top-right.

Typing searches as it goes: the best match (the whole id, then ids starting with the text,
then ids containing it, each in graph order; case does not matter) is selected and centred,
expanding a collapsed group around it. Enter or F3 goes to the next match, Shift+Enter or
Shift+F3 to the previous one, Escape closes the bar and gives the keyboard back to the canvas.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from gui.canvas.viewapi import CanvasViewApi


def matches(ids: list[str], text: str) -> list[str]:
    """Ids matching ``text``: exact, then prefix, then substring (case-insensitive, stable)."""
    needle = text.strip().lower()
    if not needle:
        return []
    ranked = []
    for i, block_id in enumerate(ids):
        low = block_id.lower()
        if needle in low:
            ranked.append((0 if low == needle else 1 if low.startswith(needle) else 2, i, block_id))
    return [block_id for *_, block_id in sorted(ranked)]


class BlockFinder(QFrame):
    """The search bar; hidden until :meth:`open` is called."""

    def __init__(self, view: CanvasViewApi, parent: QWidget) -> None:
        super().__init__(parent)  # the view itself: the bar floats over its top right corner
        self.view = view
        self.setObjectName("blockFinder")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Find block by name…")
        self.edit.setClearButtonEnabled(True)
        self.edit.setMinimumWidth(200)
        self.count = QLabel(self)
        self.count.setMinimumWidth(90)
        close = QToolButton(self)
        close.setText("✕")
        close.setToolTip("Close (Escape)")
        close.clicked.connect(lambda _checked=False: self.close_bar())
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 4, 4)
        row.addWidget(self.edit)
        row.addWidget(self.count)
        row.addWidget(close)
        self.found: list[str] = []
        self.index = -1
        self.edit.textChanged.connect(self._search)
        self.edit.installEventFilter(self)
        self.hide()

    def open(self) -> None:
        """Show the bar with its text selected (searching again from the top)."""
        self.place()
        self.show()
        self.raise_()
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()
        if self.edit.text():
            self._search(self.edit.text())

    def place(self) -> None:
        self.adjustSize()
        self.move(max(4, self.view.width() - self.width() - 24), 6)

    def close_bar(self) -> None:
        self.hide()
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _search(self, text: str) -> None:
        self.found = matches(list(self.view.graph_scene.blocks), text)
        self.index = -1
        self.step(+1)

    def step(self, direction: int) -> None:
        """Go to the next (+1) or previous (-1) match and show it."""
        if not self.found:
            empty = not self.edit.text().strip()
            self.count.setText("" if empty else "no match")
            self.count.setStyleSheet("" if empty else "color: #b3261e;")
            return
        self.index = (self.index + direction) % len(self.found)
        self.count.setStyleSheet("")
        self.count.setText(f"{self.index + 1} of {len(self.found)}")
        self.view.center_on_block(self.found[self.index])

    def current(self) -> str | None:
        return self.found[self.index] if self.found and self.index >= 0 else None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.edit and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key, back = event.key(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F3):
                self.step(-1 if back else +1)
                return True
            if key == Qt.Key.Key_Escape:
                self.close_bar()
                return True
        return False
