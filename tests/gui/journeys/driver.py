"""Driving the real window as a person does, and nothing else.

A :class:`Journey` clicks buttons found by their text (``QTest.mouseClick`` on the real button,
which must be shown and enabled), triggers actions found through the menu bar by their texts,
types key sequences for shortcuts, types into fields found by their labels, picks combo-box
items from the opened list, clicks tabs and tree rows, drops palette blocks on the canvas, drags
wires between ports with mouse press/move/release on the canvas's viewport, and opens context
menus with a context-menu event and clicks an item of the menu that opens. It never calls a
slot. Modal dialogs are answered by :class:`Dialogs` (file, input and message boxes, from
queues); any other modal dialog or stray popup is closed by a watchdog timer and recorded in
:attr:`Journey.closed`. ``shot(name)`` hands a step to a screenshot callback (the tool
``tools/journey_shots.py``); in the tests it does nothing.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QTabBar,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from tests.gui.window_helpers import menu_action, menu_items, plain

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.KeyboardModifier.NoModifier
Answer = QMessageBox.StandardButton
FILE_STATICS = ("getOpenFileName", "getSaveFileName", "getExistingDirectory", "getOpenFileNames")
BOX_STATICS = ("question", "information", "warning", "critical", "about")
INPUT_STATICS = ("getText", "getItem", "getInt", "getDouble")
FIELD_TYPES = (QAbstractSpinBox, QComboBox, QLineEdit, QCheckBox)
POLL_MS = 50  # how often a wait looks again (Python here takes the GIL from the training thread)


class Dialogs:
    """Answers the window's modal dialogs from queues and records each one asked.

    ``files``: paths for the file dialogs ("" cancels), then ``file_answer(static, title,
    suggested)`` if set; ``texts``: answers of the input dialogs; ``answers``: answers of
    ``QMessageBox.question`` (then ``answer``). An empty queue cancels. ``asked`` holds (kind,
    title, text) of every dialog in order.
    """

    def __init__(self) -> None:
        self.files: list[str] = []
        self.texts: list[str] = []
        self.answers: list[Answer] = []
        self.answer = Answer.Cancel
        self.file_answer: Callable[[str, str, str], str] | None = None
        self.asked: list[tuple[str, str, str]] = []
        self._saved: list[tuple[type, str, Any]] = []

    def install(self) -> None:
        for name in FILE_STATICS:
            self._patch(QFileDialog, name, self._file(name))
        for name in INPUT_STATICS:
            self._patch(QInputDialog, name, self._input(name))
        for kind in BOX_STATICS:
            self._patch(QMessageBox, kind, self._box(kind))

    def uninstall(self) -> None:
        for cls, name, original in reversed(self._saved):
            setattr(cls, name, original)
        self._saved.clear()

    def _patch(self, cls: type, name: str, function: Callable[..., Any]) -> None:
        self._saved.append((cls, name, inspect.getattr_static(cls, name)))
        setattr(cls, name, staticmethod(function))

    def texts_of(self, kind: str) -> list[str]:
        """The titles and texts of the dialogs of ``kind`` asked so far (``warning``, ``file``…)."""
        return [f"{title}: {text}" for k, title, text in self.asked if k == kind]

    def _file(self, name: str) -> Callable[..., Any]:
        def ask(*args: Any, **kwargs: Any) -> Any:
            title = str(args[1] if len(args) > 1 else kwargs.get("caption", ""))
            suggested = str(args[2] if len(args) > 2 else kwargs.get("dir", ""))
            self.asked.append(("file", title, name))
            path = self.files.pop(0) if self.files else ""
            if not path and self.file_answer is not None:
                path = self.file_answer(name, title, suggested)
            if name == "getExistingDirectory":
                return path
            if name == "getOpenFileNames":
                return ([path] if path else [], "")
            return (path, "")
        return ask

    def _input(self, name: str) -> Callable[..., Any]:
        def ask(*args: Any, **kwargs: Any) -> Any:
            self.asked.append(("input", str(args[1] if len(args) > 1 else ""), name))
            if name in ("getText", "getItem") and self.texts:
                return (self.texts.pop(0), True)
            return ("", False) if name in ("getText", "getItem") else (0, False)
        return ask

    def _box(self, kind: str) -> Callable[..., Any]:
        def ask(_parent: Any, title: str, text: str, *args: Any, **kwargs: Any) -> Any:
            self.asked.append((kind, title, text))
            if kind != "question":
                return Answer.Ok
            return self.answers.pop(0) if self.answers else self.answer
        return ask


class Journey:
    """One person at one main window (see the module docstring)."""

    def __init__(self, window: QMainWindow, shot: Callable[[str], None] | None = None,
                 timeout_ms: int = 180_000) -> None:
        self.dialogs = Dialogs()
        self.timeout_ms = timeout_ms
        self.closed: list[str] = []  # modal dialogs and popups the watchdog closed
        self.chosen: list[str] = []  # context-menu items clicked
        self.messages: list[str] = []  # every status-bar message shown
        self._shot = shot
        self._choice: str | None = None
        self._hold = 0
        self._bar: QProgressBar | None = None
        self._watch = QTimer(interval=40)
        self._watch.timeout.connect(self._watch_modals)
        self.window = window
        self.attach(window)

    # ------------------------------------------------------------------ set-up
    def attach(self, window: QMainWindow) -> None:
        """Drive ``window`` from now on (a restarted window)."""
        self.window = window
        window.statusBar().messageChanged.connect(lambda text: self.messages.append(text) if text else None)

    def __enter__(self) -> Journey:
        self.dialogs.install()
        self._watch.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._watch.stop()
        self.dialogs.uninstall()

    @contextmanager
    def holding_popups(self) -> Iterator[None]:
        """The watchdog leaves popups and dialogs alone meanwhile (a combo box list is open)."""
        self._hold += 1
        try:
            yield
        finally:
            self._hold -= 1

    # ------------------------------------------------------------------ time
    def settle(self, ms: int = 30) -> None:
        QTest.qWait(ms)

    def wait_until(self, condition: Callable[[], object], what: str, timeout_ms: int | None = None) -> None:
        """Let the window run until ``condition()`` holds; fails naming ``what`` after the timeout."""
        end = time.monotonic() + (timeout_ms or self.timeout_ms) / 1000
        while not condition():
            if time.monotonic() > end:
                raise AssertionError(f"timed out waiting for {what}; the progress bar: {self._bar_text()!r}")
            QTest.qWait(POLL_MS)

    def shot(self, name: str) -> None:
        """A step worth a screenshot (only when a callback was given)."""
        if self._shot is not None:
            self.settle(250)
            self._shot(name)

    # ------------------------------------------------------------------ buttons, menus, keys
    def button(self, text: str, within: QWidget | None = None) -> QAbstractButton:
        """The shown button reading ``text`` (without & marks) in ``within`` (default: the window)."""
        where = within or self.window
        found = [b for b in where.findChildren(QAbstractButton) if plain(b.text()) == text and b.isVisible()]
        if not found:
            shown = sorted({plain(b.text()) for b in where.findChildren(QAbstractButton)
                            if b.isVisible() and b.text()})
            raise AssertionError(f"no shown button {text!r}; shown: {shown}")
        return found[0]

    def click(self, target: str | QAbstractButton, within: QWidget | None = None) -> None:
        """Click a shown, enabled button (a disabled one fails with its tooltip: the reason)."""
        button = self.button(target, within) if isinstance(target, str) else target
        assert button.isVisible(), f"{plain(button.text())!r} is not shown"
        assert button.isEnabled(), f"{plain(button.text())!r} is disabled: {button.toolTip()}"
        QTest.mouseClick(button, LEFT)
        self.settle()

    def menu(self, *path: str) -> None:
        """Trigger the menu item at ``path``, e.g. ``menu("Train", "Start Training")``."""
        action = menu_action(self.window, *path)
        assert action.isEnabled(), f"{' › '.join(path)} is disabled: {action.toolTip()}"
        action.trigger()
        self.settle()

    def menu_path(self, prefix: str) -> tuple[str, ...]:
        """The path of the one menu item whose text starts with ``prefix``."""
        paths = [path for path, _action in menu_items(self.window) if path[-1].startswith(prefix)]
        assert len(paths) == 1, f"menu items starting with {prefix!r}: {paths}"
        return paths[0]

    def activate(self) -> None:
        self.window.activateWindow()
        self.wait_until(lambda: QApplication.activeWindow() is self.window, "the window to be active", 5000)

    def key(self, sequence: str) -> None:
        """Press a key sequence (a shortcut) in the active window, at the widget with focus."""
        self.activate()
        QTest.keySequence(QApplication.focusWidget() or self.window, QKeySequence(sequence))
        self.settle()

    # ------------------------------------------------------------------ fields
    def field(self, label: str, within: QWidget) -> QWidget:
        """The editor beside the shown label reading ``label`` in a form inside ``within``."""
        def find() -> list[QLabel]:
            return [w for w in within.findChildren(QLabel) if plain(w.text()) == label and w.isVisible()]

        if not find():  # a form made anew after a click (the Inspector's) may take a moment
            try:
                self.wait_until(find, f"the label {label!r}", 5000)
            except AssertionError:
                shown = [plain(w.text()) for w in within.findChildren(QLabel) if w.isVisible()]
                raise AssertionError(f"no shown label {label!r} in {within.objectName()}: {shown}") from None
        labels = find()
        editor = labels[0].buddy()
        if editor is None:
            form = labels[0].parentWidget().layout()
            assert isinstance(form, QFormLayout), f"{label!r} is not a form label"
            row, _role = form.getWidgetPosition(labels[0])
            editor = form.itemAt(row, QFormLayout.ItemRole.FieldRole).widget()
        if not isinstance(editor, FIELD_TYPES):
            inner = [w for w in editor.findChildren(QWidget) if isinstance(w, FIELD_TYPES)]
            assert inner, f"no editor beside {label!r}"
            editor = inner[0]
        return editor

    def type_into(self, widget: QWidget, text: str) -> None:
        """Click the field, select all, type ``text`` and press Return."""
        target = widget.lineEdit() if isinstance(widget, (QAbstractSpinBox, QComboBox)) else widget
        assert target is not None and widget.isEnabled(), f"{widget.objectName()} cannot be typed into"
        QTest.mouseClick(target, LEFT)
        QTest.keyClick(target, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        QTest.keyClicks(target, text)
        QTest.keyClick(target, Qt.Key.Key_Return)
        self.settle()

    def choose(self, combo: QComboBox, text: str) -> None:
        """Open the combo box's list with a click and click the item that starts with ``text``."""
        index = next((i for i in range(combo.count()) if combo.itemText(i).startswith(text)), -1)
        assert index >= 0, f"no {text!r} in {[combo.itemText(i) for i in range(combo.count())]}"
        with self.holding_popups():
            QTest.mouseClick(combo, LEFT)
            view = combo.view()
            self.wait_until(view.isVisible, "the combo box's list", 5000)
            model_index = view.model().index(index, combo.modelColumn(), view.rootIndex())
            view.scrollTo(model_index)
            QTest.qWait(QApplication.doubleClickInterval() + 50)  # a release sooner is not a choice
            at = view.visualRect(model_index).center()
            QTest.mouseMove(view.viewport(), at)  # the item under the pointer becomes current
            QTest.mouseClick(view.viewport(), LEFT, NONE, at)
            self.wait_until(lambda: not view.isVisible(), "the combo box's list to close", 5000)
        assert combo.currentIndex() == index, f"{combo.currentText()!r} chosen instead of {text!r}"
        self.settle()

    def check(self, box: QCheckBox, on: bool) -> None:
        if box.isChecked() != on:
            QTest.mouseClick(box, LEFT, NONE, QPoint(8, box.height() // 2))
        assert box.isChecked() == on

    # ------------------------------------------------------------------ docks, tabs, trees
    def dock(self, title: str) -> QDockWidget:
        """The dock whose title starts with ``title``, brought to the front with a click on its
        tab (or shown through its menu entry if it was closed)."""
        docks = [d for d in self.window.findChildren(QDockWidget) if d.windowTitle().startswith(title)]
        assert docks, f"no dock {title!r}"
        dock = docks[0]
        if dock.isHidden():
            self.menu(*self.menu_path(dock.windowTitle()))
        for bar in self.window.findChildren(QTabBar):
            for i in range(bar.count()):
                behind = i != bar.currentIndex()
                if bar.isVisible() and plain(bar.tabText(i)) == dock.windowTitle() and behind:
                    QTest.mouseClick(bar, LEFT, NONE, bar.tabRect(i).center())
        self.wait_until(lambda: not dock.visibleRegion().isEmpty(), f"the {title} dock in front", 5000)
        return dock

    @staticmethod
    def rows(tree: QTreeWidget) -> list[list[str]]:
        """The texts of a tree's top-level rows, column by column."""
        items = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
        return [[item.text(c) for c in range(tree.columnCount())] for item in items if item is not None]

    def row_point(self, tree: QTreeWidget, match: Callable[[list[str]], bool]) -> QPoint:
        """Where the first row ``match`` accepts is drawn in the tree's viewport (scrolled into view)."""
        for i in range(tree.topLevelItemCount()):
            item = tree.topLevelItem(i)
            if item is not None and match([item.text(c) for c in range(tree.columnCount())]):
                tree.scrollToItem(item)
                cell = tree.visualRect(tree.indexFromItem(item, 0))  # the first column's cell
                return QPoint(min(cell.center().x(), tree.viewport().width() // 2), cell.center().y())
        raise AssertionError(f"no such row in {self.rows(tree)}")

    def click_row(self, tree: QTreeWidget, match: Callable[[list[str]], bool]) -> None:
        QTest.mouseClick(tree.viewport(), LEFT, NONE, self.row_point(tree, match))
        self.settle()

    def context_menu(self, widget: QWidget, at: QPoint, item: str) -> None:
        """Right-click ``widget`` at ``at`` and click the menu item that starts with ``item``."""
        self._choice = item
        event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, widget.mapToGlobal(at))
        QApplication.sendEvent(widget, event)  # the menu's own event loop runs until it closes
        self.settle()
        picked, self._choice = self._choice is None, None
        assert picked, f"no menu item {item!r} clicked at {at}: {self.closed[-1:] or 'no menu opened'}"

    # ------------------------------------------------------------------ canvas
    @property
    def viewport(self) -> QWidget:
        return self.window.canvas.viewport()  # type: ignore[attr-defined, no-any-return]

    def palette_item(self, label: str) -> tuple[QTreeWidget, QTreeWidgetItem]:
        """The palette's tree and its item reading ``label``."""
        tree = self.dock("Blocks").findChild(QTreeWidget)
        assert tree is not None
        items = tree.findItems(label, Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive)
        items = [i for i in items if i.parent() is not None]  # blocks, not category headers
        assert items, f"no {label!r} in the palette"
        return tree, items[0]

    def double_click_palette(self, label: str) -> None:
        """Double-click a palette block: it is added in the middle of the view."""
        tree, item = self.palette_item(label)
        tree.scrollToItem(item)
        at = tree.visualItemRect(item).center()
        QTest.mouseClick(tree.viewport(), LEFT, NONE, at)  # QTest's double click sends no press
        QTest.mouseDClick(tree.viewport(), LEFT, NONE, at)
        self.settle()

    def drop_palette(self, label: str, at: QPoint) -> None:
        """Drag a palette block onto the canvas and drop it at ``at`` (viewport pixels).

        The drag carries what the palette's own drag carries (its tree's ``mimeData``); the
        enter/move/drop events go to the canvas's viewport as a drag from another widget does
        (QDrag's own event loop cannot be driven by QTest)."""
        tree, item = self.palette_item(label)
        mime: QMimeData = tree.mimeData([item])
        copy = Qt.DropAction.CopyAction
        for event in (QDragEnterEvent(at, copy, mime, LEFT, NONE), QDragMoveEvent(at, copy, mime, LEFT, NONE),
                      QDropEvent(QPointF(at), copy, mime, LEFT, NONE)):
            QApplication.sendEvent(self.viewport, event)
        self.settle()

    def block_rect(self, block_id: str) -> Any:
        """The block's box on screen (viewport pixels)."""
        view = self.window.canvas  # type: ignore[attr-defined]
        item = view.graph_scene.blocks[block_id]
        return view.mapFromScene(item.sceneBoundingRect()).boundingRect()

    def port(self, block_id: str, port: int | None = None) -> QPoint:
        """Where a block's output port (``port`` None) or input ``port`` is on screen."""
        view = self.window.canvas  # type: ignore[attr-defined]
        item = view.graph_scene.blocks[block_id]
        scene = item.output_port_pos() if port is None else item.input_port_pos(port)
        return view.mapFromScene(scene)  # type: ignore[no-any-return]

    def drag(self, start: QPoint, end: QPoint, steps: int = 8, release: bool = True) -> None:
        """Press the left button at ``start``, move to ``end`` in steps, release there."""
        QTest.mousePress(self.viewport, LEFT, NONE, start)
        for k in range(1, steps + 1):
            QTest.mouseMove(self.viewport, start + (end - start) * k / steps)
        if release:
            QTest.mouseRelease(self.viewport, LEFT, NONE, end)
        self.settle()

    def wire(self, source: str, target: str, port: int = 0) -> None:
        """Drag from ``source``'s output port to ``target``'s input ``port``."""
        self.drag(self.port(source), self.port(target, port))

    # ------------------------------------------------------------------ what the window says
    def progress(self) -> str:
        """The training panel's progress bar text (the bar is looked up once per window)."""
        if self._bar is None or self._bar.window() is not self.window:
            self._bar = self.dock("Training").findChild(QProgressBar)
        assert self._bar is not None
        return self._bar.text()

    def _bar_text(self) -> str:
        try:
            return self.progress()
        except AssertionError as exc:
            return str(exc)

    def _watch_modals(self) -> None:
        if self._hold:
            return
        popup = QApplication.activePopupWidget()
        if isinstance(popup, QMenu) and self._choice is not None:
            self._pick(popup, self._choice)
            return
        if popup is not None and self._choice is None:
            self.closed.append(f"popup {type(popup).__name__}")
            popup.close()
        modal = QApplication.activeModalWidget()
        if isinstance(modal, QDialog):
            self.closed.append(f"dialog {modal.windowTitle()!r}")
            modal.reject()

    def _pick(self, menu: QMenu, prefix: str) -> None:
        action = next((a for a in menu.actions() if plain(a.text()).startswith(prefix)), None)
        if action is None:
            self.closed.append(f"menu without {prefix!r}: {[plain(a.text()) for a in menu.actions()]}")
            menu.close()
            return
        if not action.isEnabled():
            self.closed.append(f"menu item {plain(action.text())!r} disabled")
            menu.close()
            return
        self._choice = None
        self.chosen.append(plain(action.text()))
        QTest.mouseClick(menu, LEFT, NONE, menu.actionGeometry(action).center())
