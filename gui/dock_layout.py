"""The main window's dock layout: default sizes in proportion to the window, saved and restored
with the window geometry in QSettings, and put away while the start page shows.

One :class:`DockLayout` per window. Default sizes (:func:`gui.window_geometry.dock_sizes`) are
applied once the docks are on screen and only when no saved layout was restored; the bottom row
grows for the training plots the first time they come to the front in a default layout.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar

from gui import files, window_geometry

STATE_VERSION = 1
PLOTS_DOCK = "plots_dock"  # gui.training's plots (the bottom row grows for them once)
AREAS = ((Qt.DockWidgetArea.LeftDockWidgetArea, "left", Qt.Orientation.Horizontal),
         (Qt.DockWidgetArea.RightDockWidgetArea, "right", Qt.Orientation.Horizontal),
         (Qt.DockWidgetArea.BottomDockWidgetArea, "bottom", Qt.Orientation.Vertical))


def stray_tab_bars(window: QMainWindow) -> list[QTabBar]:
    """Dock tab bars that show no current tab group.

    Qt 6 keeps the bar of an intermediate group visible when docks are tabified one by one
    before the window is first shown (Inspector + Training, then + Runs, leaves an
    "Inspector | Training" bar floating over the canvas); ``restoreState`` adds more.
    """
    docks = window.findChildren(QDockWidget)
    groups = {frozenset([d.windowTitle()] + [o.windowTitle() for o in window.tabifiedDockWidgets(d)])
              for d in docks}
    bars = [b for b in window.findChildren(QTabBar) if b.parent() is window and b.isVisibleTo(window)]
    return [b for b in bars if frozenset(b.tabText(i) for i in range(b.count())) not in groups]


class _StrayBars(QObject):
    """Hides :func:`stray_tab_bars` whenever the window lays itself out."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest and isinstance(watched, QMainWindow):
            for bar in stray_tab_bars(watched):
                bar.hide()
        return False


class DockLayout:
    """Sizes, saves, restores and stashes ``window``'s docks; ``on_start_page`` says whether
    the start page is in front (the docks are away then)."""

    def __init__(self, window: QMainWindow, on_start_page: Callable[[], bool]) -> None:
        self.window = window
        self.on_start_page = on_start_page
        self.default_state = window.saveState(STATE_VERSION)  # what Reset Layout goes back to
        self.stashed: QByteArray | None = None  # the docks' layout while the start page shows
        self.restored = False
        self.need_sizes = True
        self.plots_need_room = False
        self._strays = _StrayBars(window)
        window.installEventFilter(self._strays)

    def docks(self) -> list[QDockWidget]:
        return self.window.findChildren(QDockWidget)

    # ------------------------------------------------------------------ sizes
    def apply_default_sizes(self) -> None:
        """Narrow side columns and a bottom row for diagnostics (only meaningful once shown)."""
        window = self.window
        sizes = window_geometry.dock_sizes(window.size())
        for area, name, orientation in AREAS:
            docks = [d for d in self.docks()
                     if window.dockWidgetArea(d) == area and not d.isFloating() and not d.isHidden()]
            if docks:
                window.resizeDocks(docks, [getattr(sizes, name)] * len(docks), orientation)
        self.plots_need_room = True

    def size_once(self) -> None:
        """Default sizes, once, when no saved layout was restored (the docks must be shown)."""
        if self.need_sizes and self.window.isVisible() and not self.on_start_page():
            self.need_sizes = False
            self.apply_default_sizes()

    def watch_plots(self) -> None:
        dock = self.window.findChild(QDockWidget, PLOTS_DOCK)
        if dock is not None:
            dock.visibilityChanged.connect(partial(self._on_plots_shown, dock))

    def _on_plots_shown(self, dock: QDockWidget, visible: bool) -> None:
        """The first time the Plots tab comes to the front in a default layout, make the bottom
        row tall enough for its plots (later sizes are the user's)."""
        if visible and self.plots_need_room and not self.on_start_page() and not dock.isFloating():
            self.plots_need_room = False
            height = window_geometry.dock_sizes(self.window.size()).plots
            QTimer.singleShot(0, lambda: self.window.resizeDocks([dock], [height], Qt.Orientation.Vertical))

    # ------------------------------------------------------------------ persistence
    def restore(self) -> bool:
        """Geometry (only if it still fits the screen) and dock state from QSettings; True when
        both were applied (else the docks get their default sizes when shown)."""
        store, window = files.settings(), self.window
        fits = window_geometry.place(window, store.value("window/geometry"), store.value("window/rect"))
        state = store.value("window/state")
        self.restored = isinstance(state, QByteArray) and window.restoreState(state, STATE_VERSION) and fits
        self.need_sizes = not self.restored
        return self.restored

    def save(self) -> None:
        store, window = files.settings(), self.window
        store.setValue("window/geometry", window.saveGeometry())
        store.setValue("window/rect", window_geometry.saved_rect(window))
        store.setValue("window/state", self.stashed or window.saveState(STATE_VERSION))

    def reset(self) -> None:
        """Every dock back in its default place and size, shown and docked."""
        if self.on_start_page():  # the editor's docks come back reset when it shows again
            self.stashed = self.default_state
            self.need_sizes = True
            return
        self.window.restoreState(self.default_state, STATE_VERSION)
        self.apply_default_sizes()
        for dock in self.docks():
            dock.setFloating(False)
            dock.setVisible(True)

    def adopt(self, before: set[QDockWidget]) -> None:
        """Docks added since ``before`` (the training docks): shown, part of the default layout,
        then placed where the saved layout had them."""
        for dock in set(self.docks()) - before:
            dock.show()  # docks added to a shown window stay hidden until shown
        self.watch_plots()
        self.default_state = self.window.saveState(STATE_VERSION)
        state = files.settings().value("window/state")
        if isinstance(state, QByteArray):
            self.window.restoreState(state, STATE_VERSION)
        self.need_sizes = not self.restored

    # ------------------------------------------------------------------ start page
    def stash(self) -> None:
        """Put every dock away, remembering the layout."""
        self.stashed = self.window.saveState(STATE_VERSION)
        for dock in self.docks():
            dock.hide()

    def unstash(self) -> bool:
        """Bring the docks put away back as they were; True if they had been put away."""
        state, self.stashed = self.stashed, None
        if state is not None:
            self.window.restoreState(state, STATE_VERSION)
        return state is not None
