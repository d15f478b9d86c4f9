"""Every menu item and every button of the main window and its docks, one after another, with
a graph loaded, a block selected and a finished run selected in the Runs list: none may raise
(``sys.excepthook`` is captured) or say "Internal error" in the status bar (the app's own
hook, ``gui.app.install_excepthook``, is installed as ``main.py`` installs it).

Nothing is listed by hand: the menus are walked (submenus too, filled as for showing) and the
buttons found among the window's children, so items other branches add are covered when they
appear. Items that are disabled at first (Pause, Stop…) are tried again while a run is going.
Modal dialogs are answered (file dialogs: a file in the test's folder for saving, cancel for
opening; questions: Cancel; input dialogs: cancel) and any other dialog or popup is closed by the
journey's watchdog. After each item every run is stopped, stray windows are closed, and the
graph, the selection and the editor are put back as they were.
"""

from __future__ import annotations

import re
import shutil
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QThread
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QDockWidget,
    QLineEdit,
    QMenu,
    QPushButton,
    QScrollArea,
    QScrollBar,
    QStackedWidget,
    QTabBar,
    QTabWidget,
    QToolButton,
    QTreeWidget,
    QWidget,
)

from gui.app import install_excepthook
from tests.gui.conftest import GRAPHS
from tests.gui.journeys import scenes
from tests.gui.journeys.driver import LEFT, NONE, Journey
from tests.gui.window_helpers import escaped, menu_items, plain  # noqa: F401 (escaped: a fixture)

# Qt's own buttons inside these (tab scrollers, spin arrows, a line edit's clear button: its action
# is triggered with the widgets' actions); dialogs are answered, not toured
NOT_OURS = (QTabBar, QAbstractSpinBox, QComboBox, QScrollBar, QLineEdit, QDialog, QMenu)
# the only items not tried, each with its reason (a regular expression on the item's name)
EXCLUDED = {
    r"xray_dock/.*/(PreflightPanel|LesionPanel|LandscapePanel)/JobBar › QPushButton 'Stop'":
        "shown only while that panel's job runs; the same JobBar class and connection as the Gradient "
        "Split panel's Stop, which is clicked here; the landscape's Stop is driven in "
        "tests/xray/test_gui.py::test_landscape_progress_and_stop",
}
SELECTED_BLOCK = "layer1_0_conv1"
WAIT_MS = 120_000


class Tour:
    """Activates items one by one and puts the window back after each."""

    def __init__(self, j: Journey, graph: Path, caught: list[Any]) -> None:
        self.j, self.window, self.graph = j, j.window, graph
        self.escaped = caught  # what reached sys.excepthook (the ``escaped`` fixture's list)
        self.done: list[str] = []  # what was clicked or triggered
        self.problems: list[str] = []  # "item: what went wrong"
        self.strays: list[str] = []  # windows left open by an item (closed here)
        self.baseline = ""
        self.run = ""  # the finished run kept selected in the Runs list

    # ------------------------------------------------------------------ the state to return to
    def reset(self) -> None:
        """The graph file as loaded, one block selected, the newest run selected, the editor shown."""
        w = self.window
        self.stop_everything()
        for top in QApplication.topLevelWidgets():
            if top.isVisible() and top is not w and not isinstance(top, (QMenu, QDockWidget)):
                self.strays.append(top.windowTitle() or type(top).__name__)
                top.close()
        if not w.isVisible():
            w.show()
            QTest.qWaitForWindowExposed(w)
        if w.on_start_page():
            w.hide_start_page()
        doc = w.document
        if doc.path != self.graph or doc.graph.signature() != self.baseline or doc.modified:
            doc.undo_stack.setClean()
            w.files.load(self.graph)
            self.j.settle(100)
        if w.canvas.selected_block_ids() != [SELECTED_BLOCK]:
            w.canvas.center_on_block(SELECTED_BLOCK)
            scenes.select_block(self.j, SELECTED_BLOCK)
        tree = self.j.dock("Runs").findChild(QTreeWidget)
        assert tree is not None
        if self.run and [item.text(0) for item in tree.selectedItems()] != [self.run]:
            at = self.j.row_point(tree, lambda row: row[0] == self.run)
            QTest.mouseClick(tree.viewport(), LEFT, NONE, at)

    def stop_everything(self) -> None:
        ctl = self.window.training
        if ctl is not None and ctl.running:
            assert ctl.stop_and_wait(WAIT_MS), "a run did not stop"
        for thread in self.window.findChildren(QThread):
            if thread.isRunning() and callable(getattr(thread, "stop", None)):
                thread.stop()
                assert thread.wait(WAIT_MS), f"{type(thread).__name__} did not stop"
        self.j.settle(50)

    # ------------------------------------------------------------------ one item
    def activate(self, name: str, act: Callable[[], None]) -> None:
        seen, said = len(self.escaped), len(self.j.messages)
        try:
            act()
            self.j.settle(150)
        except AssertionError as exc:
            self.problems.append(f"{name}: {exc}")
        self.done.append(name)
        if len(self.escaped) > seen:
            first = self.escaped[seen]
            where = "".join(traceback.format_tb(first.__traceback__)[-3:])
            self.problems.append(f"{name}: raised {self.escaped[seen:]!r}\n{where}")
        internal = [m for m in self.j.messages[said:] if m.startswith("Internal error")]
        if internal:
            self.problems.append(f"{name}: {internal}")
        self.reset()

    # ------------------------------------------------------------------ the items
    def actions(self) -> dict[str, QAction]:
        """Menu items by path, then actions on the window's widgets (row actions, button menus)."""
        found = {" › ".join(path): action for path, action in menu_items(self.window)}
        known = set(found.values())
        for widget in [self.window, *self.window.findChildren(QWidget)]:
            if isinstance(widget, QMenu) or _inside(widget, (QDialog,)):
                continue
            extra = list(widget.actions())
            if isinstance(widget, QToolButton) and widget.menu() is not None:
                extra += widget.menu().actions()
            for action in extra:
                if action not in known and not action.isSeparator() and action.menu() is None:
                    found[f"{type(widget).__name__} › {plain(action.text()) or action.objectName()}"] = action
                    known.add(action)
        return found

    def buttons(self) -> dict[str, QAbstractButton]:
        found = {}
        for button in self.window.findChildren(QAbstractButton):
            if (isinstance(button, (QPushButton, QToolButton)) and not button.objectName().startswith("qt_")
                    and not _inside(button, NOT_OURS)):
                found[_key(button)] = button
        return found

    def reveal(self, key: str) -> QAbstractButton | None:
        """The button ``key`` made reachable as a person would (its dock's tab, its page, its tab,
        scrolled to), found again after each step (showing a page may make its buttons anew)."""
        for _step in range(4):
            button = self.buttons().get(key)
            if button is None or not self._bring_nearer(button):
                return button
            self.j.settle()
        return self.buttons().get(key)

    def _bring_nearer(self, widget: QWidget) -> bool:
        """One step towards showing ``widget``; False when there is nothing left to do."""
        chain = _ancestors(widget)
        for parent, child in zip(chain, chain[1:], strict=False):
            if isinstance(child, QDockWidget) and child.visibleRegion().isEmpty():
                self.j.dock(child.windowTitle())
                return True
            if isinstance(parent, QStackedWidget) and parent.currentWidget() is not child:
                tabs = parent.parentWidget()
                if isinstance(tabs, QTabWidget):
                    bar = tabs.tabBar()
                    QTest.mouseClick(bar, LEFT, NONE, bar.tabRect(tabs.indexOf(child)).center())
                elif child is getattr(self.window, "start_page", None):
                    self.j.menu(*self.j.menu_path("Start Page"))
                else:
                    parent.setCurrentWidget(child)
                return True
        for area in chain:
            if isinstance(area, QScrollArea) and area is not widget:
                area.ensureWidgetVisible(widget)
        return False


def _ancestors(widget: QWidget) -> list[QWidget]:
    """From the top-level window down to ``widget``."""
    chain = [widget]
    while chain[-1].parentWidget() is not None:
        chain.append(chain[-1].parentWidget())
    return chain[::-1]


def _inside(widget: QWidget, kinds: tuple[type, ...]) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, kinds):
            return True
        parent = parent.parentWidget()
    return False


def _key(button: QAbstractButton) -> str:
    """A name for a button that survives the window being rebuilt around it."""
    where = "/".join(w.objectName() or type(w).__name__ for w in _ancestors(button)[1:-1])
    text = plain(button.text()).split("\n")[0] or button.toolTip().split("\n")[0] or button.objectName()
    return f"{where} › {type(button).__name__} {text!r}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "file"


@pytest.fixture
def tour(window: Any, tmp_path: Path, escaped: list[Any]) -> Iterator[Tour]:  # noqa: F811 (the fixture)
    graph = tmp_path / "resnet20.json"  # a copy: Save must not write into graphs/
    shutil.copy(GRAPHS / "resnet20.json", graph)
    install_excepthook(window)  # as main.py does: an escaped exception says "Internal error"

    def save_here(static: str, title: str, suggested: str) -> str:
        if static != "getSaveFileName":
            return ""  # opening: cancelled
        return str(tmp_path / "saved" / f"{_slug(title)}{Path(suggested).suffix or '.out'}")

    (tmp_path / "saved").mkdir()
    with Journey(window, timeout_ms=WAIT_MS) as j:
        j.dialogs.file_answer = save_here
        window.files.load(graph)
        t = Tour(j, graph, escaped)
        t.baseline = window.document.graph.signature()
        scenes.training_form(j)
        j.click("Start", j.dock("Training"))  # a finished run: its row actions apply
        scenes.wait_done(j)
        t.run = scenes.runs_rows(j)[0][0]
        t.reset()
        yield t
        t.stop_everything()
    window.document.undo_stack.setClean()


def test_every_menu_item_and_button_works_without_an_internal_error(tour: Tour) -> None:
    first = tour.actions()  # the QActions as found at first: Undo's text changes once it applies
    later: list[str] = []
    for name in list(first):
        action = tour.actions().get(name)  # found again: Open Recent is made anew on every show
        if action is None:
            continue
        if action.isEnabled():
            tour.activate(name, lambda n=name: _trigger(tour, n))
        else:
            later.append(name)
    clicked: set[str] = set()
    for _round in range(3):  # buttons made by earlier clicks (the plots' Save PNG) come next round
        fresh = {k: b for k, b in tour.buttons().items() if k not in clicked}
        for key in fresh:
            clicked.add(key)
            button = tour.reveal(key)
            if button is None or not button.isVisible():
                if button is not None and not button.isHidden():
                    tour.problems.append(f"{key}: cannot be reached")
                if button is not None:
                    later.append(key)  # hidden here (Resume, a finder's ✕): a state below shows it
                continue
            if button.isEnabled():
                tour.activate(key, lambda b=button: QTest.mouseClick(b, LEFT))
            else:
                later.append(key)
        if not fresh:
            break
    tried = {state: _tried_in(tour, state, later, first) for state in STATES}
    never = [name for name in later if not any(name in names for names in tried.values())
             and not any(re.fullmatch(pattern, name) for pattern in EXCLUDED)]
    print(f"\n{len(tour.done)} tried: {len(first)} actions, {len(clicked)} buttons; disabled at first, "
          f"then tried {tried}", *tour.done, sep="\n")
    assert not tour.problems, "\n".join(tour.problems)
    assert not never, f"never enabled (add the state that enables them to STATES): {never}"
    texts = " ".join(tour.done)
    for expected in ("Compare depths", "Train plain twin", "Start Training", "Quit", "Evaluate",
                     "Export ONNX", "Open run"):
        assert expected in texts, f"{expected!r} was never tried: {tour.done}"
    assert {"Pause", "Stop"} <= {name.rsplit("'", 2)[-2] for name in tried["a run going"] if "'" in name}


def test_an_item_that_raises_is_caught_by_the_tour(window: Any, escaped: list[Any]) -> None:  # noqa: F811
    """A new menu item whose slot raises: the tour finds it by walking the menus and reports both
    the escaped exception and the status bar's "Internal error"."""
    install_excepthook(window)
    help_menu = window.menuBar().actions()[-1].menu()
    help_menu.addAction("Explode").triggered.connect(lambda: [][0])
    with Journey(window) as j:
        tour = Tour(j, GRAPHS / "resnet20.json", escaped)
        tour.baseline = window.document.graph.signature()
        (name,) = [n for n in tour.actions() if n.endswith("Explode")]
        tour.activate(name, lambda: _trigger(tour, name))
    assert [p.split(":", 1)[0] for p in tour.problems] == [name, name], tour.problems
    assert "IndexError" in tour.problems[0] and "Internal error: IndexError" in tour.problems[1]
    escaped.clear()  # caught on purpose


def _trigger(tour: Tour, name: str, first: dict[str, QAction] | None = None) -> None:
    """Trigger the item now at ``name`` (menus filled on show are made again each time), or the
    same QAction as at first when its text has changed (Undo reads "Undo Duplicate …")."""
    action = tour.actions().get(name) or (first or {}).get(name)
    assert action is not None, "gone from its menu"
    action.trigger()


# ------------------------------------------------------------------ states that enable the rest
def _long_run(tour: Tour) -> None:
    j = tour.j
    scenes.training_form(j, **{"Epochs": "30", "Batch size": "8"})
    j.click("Start", j.dock("Training"))
    j.wait_until(lambda: j.progress().startswith("epoch"), "a step of the long run")


def _edited(tour: Tour) -> None:
    tour.j.menu("Edit", "Duplicate")  # the selected block, copied: one step to undo


def _undone(tour: Tour) -> None:
    _edited(tour)
    tour.j.menu(*tour.j.menu_path("Undo"))  # its text names the step: "Undo Duplicate …"


def _folder_data(tour: Tour) -> None:
    j = tour.j
    data = j.field("Data set", j.dock("Training"))
    assert isinstance(data, QComboBox)
    j.choose(data, "Image folder")


def _synthetic_data(tour: Tour) -> None:
    j = tour.j
    data = j.field("Data set", j.dock("Training"))
    assert isinstance(data, QComboBox)
    j.choose(data, scenes.SYNTHETIC)


# name: (make the state through the window, put the form back afterwards or None)
STATES: dict[str, tuple[Callable[[Tour], None], Callable[[Tour], None] | None]] = {
    "a run going": (_long_run, None),  # Pause, Stop
    "after an edit": (_edited, None),  # Undo
    "after an undo": (_undone, None),  # Redo
    "an image-folder data set": (_folder_data, _synthetic_data),  # the Folder field's "…"
}


def _tried_in(tour: Tour, state: str, names: list[str], first: dict[str, QAction]) -> list[str]:
    """Try the items still disabled (at first and in the states before) with ``state`` made anew
    for each (every item's reset undoes it)."""
    make, unmake = STATES[state]
    tried = []
    for name in names:
        if name in tour.done:
            continue
        make(tour)
        button = tour.reveal(name) if name in tour.buttons() else None
        action = None if button is not None else tour.actions().get(name) or first.get(name)
        if button is not None and button.isEnabled() and button.isVisible():
            tour.activate(name, lambda b=button: QTest.mouseClick(b, LEFT))
            tried.append(name)
        elif action is not None and action.isEnabled():
            tour.activate(name, lambda n=name: _trigger(tour, n, first))
            tried.append(name)
        else:
            tour.reset()
        if unmake is not None:
            unmake(tour)
    return tried
