"""The X-ray dock (one tab per instrument) and the X-ray menu of one main window.

Each menu item raises the dock on its tab; *Pre-flight Check* also runs the check. When the
window closes (it is hidden after its close event was accepted) every job is stopped and its
thread waited for.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QFrame, QMenu, QScrollArea, QTabWidget, QWidget

from gui.xray.diff_panel import DiffPanel
from gui.xray.preflight_panel import PreflightPanel
from gui.xray.run_panels import LandscapePanel, LesionPanel
from gui.xray.split_panel import SplitPanel

DOCK_HEIGHT = 380


class XrayController(QObject):
    """Owns the X-ray panels of one window."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        doc, canvas = window.document, window.canvas
        self.preflight = PreflightPanel(doc, canvas)
        self.split = SplitPanel(doc, canvas)
        self.lesion = LesionPanel()
        self.landscape = LandscapePanel()
        self.diff = DiffPanel(doc, canvas)
        self.tabs = QTabWidget()
        self.panels = {"Pre-flight": self.preflight, "Gradient split": self.split,
                       "Lesion study": self.lesion, "Loss landscape": self.landscape,
                       "Graph diff": self.diff}
        self.areas: dict[QWidget, QScrollArea] = {}
        for title, panel in self.panels.items():
            self.areas[panel] = _scrolled(panel)  # the dock may be short: panels scroll
            self.tabs.addTab(self.areas[panel], title)
        self.dock = QDockWidget("X-ray", window)
        self.dock.setObjectName("xray_dock")
        self.dock.setWidget(self.tabs)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self._build_menu()
        window.installEventFilter(self)

    def _build_menu(self) -> None:
        bar = self.window.menuBar()
        self.menu = QMenu("X-&ray", self.window)
        help_menu = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
        bar.insertMenu(help_menu, self.menu) if help_menu is not None else bar.addMenu(self.menu)
        self.actions: dict[str, QAction] = {}
        for key, text, tab in (("preflight", "&Pre-flight Check", "Pre-flight"),
                               ("split", "&Gradient Split", "Gradient split"),
                               ("lesion", "&Lesion Study", "Lesion study"),
                               ("landscape", "Loss &Landscape", "Loss landscape"),
                               ("diff", "Graph &Diff…", "Graph diff")):
            action = QAction(text, self.window)
            action.triggered.connect(lambda _c=False, k=key, t=tab: self.open(k, t))
            self.menu.addAction(action)
            self.actions[key] = action
        self.menu.addSeparator()
        self.menu.addAction(self.dock.toggleViewAction())

    def open(self, key: str, tab: str) -> None:
        """Show the dock on ``tab`` (tall enough for its plots); the pre-flight check runs."""
        self.dock.show()
        self.dock.raise_()
        self.tabs.setCurrentWidget(self.areas[self.panels[tab]])
        if self.dock.height() < DOCK_HEIGHT and not self.dock.isFloating():
            self.window.resizeDocks([self.dock], [DOCK_HEIGHT], Qt.Orientation.Vertical)
        if key == "preflight":
            self.preflight.check(forced=True)
        elif key == "diff" and not self.diff.file.path():
            self.diff.file.choose()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.window and event.type() == QEvent.Type.Close:
            QTimer.singleShot(0, self, self._after_close)
        return False

    def _after_close(self) -> None:
        if not self.window.isVisible():
            self.shutdown()

    def shutdown(self) -> None:
        """Stop every job and wait for its thread."""
        for panel in self.panels.values():
            stop = getattr(panel, "shutdown", None)
            if stop is not None:
                stop()


    def tab_index(self, panel: QWidget) -> int:
        """The tab that shows ``panel``."""
        return self.tabs.indexOf(self.areas[panel])

    def current_panel(self) -> QWidget | None:
        """The panel of the tab in front."""
        area = self.tabs.currentWidget()
        return area.widget() if isinstance(area, QScrollArea) else None

def _scrolled(panel: QWidget) -> QScrollArea:
    """``panel`` in a frameless scroll area, so it never forces the bottom dock row taller."""
    area = QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setMinimumSize(160, 120)
    return area
