"""The main window: the canvas in the middle, docks around it, menus, status bar.

Docks: palette (left), inspector (right), diagnostics and summary (bottom). Their layout and
the window geometry are remembered in QSettings. Menu actions call the canvas API
(:class:`gui.canvas.view.CanvasView`) and :class:`gui.files.FileController`.
"""

from __future__ import annotations

import html
import importlib
import importlib.util
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QWidget,
)

from builder.graph import Graph, group_problem
from builder.validate import Report
from gui import files
from gui.canvas.view import GESTURES, CanvasView
from gui.diagnostics_view import DiagnosticsWidget
from gui.document import Document
from gui.inspector import InspectorWidget
from gui.palette import PaletteWidget
from gui.summary_view import SummaryService, SummaryWidget

EXPORTS = (  # (menu text, function name in gui.export_dialogs)
    ("Export PyTorch code…", "export_code"),
    ("Export ONNX…", "export_onnx"),
    ("Export weights…", "export_weights"),
    ("Import PyTorch module…", "import_module"),
)
EXPORT_MODULE = "gui.export_dialogs"
STATE_VERSION = 1
Key = QKeySequence | QKeySequence.StandardKey | str
OPEN_MIN_ZOOM = 0.52  # below about 0.45 the canvas draws blocks without text
OPEN_MAX_ZOOM = 0.8


def _export_module_available() -> bool:
    try:
        return importlib.util.find_spec(EXPORT_MODULE) is not None
    except (ImportError, ValueError):
        return False


def _install_training(window: MainWindow) -> Any:
    """The training docks and Train menu (``gui.training.install``), when that package is present."""
    try:
        from gui.training import install
    except ImportError:
        return None
    return install(window)


class MainWindow(QMainWindow):
    """One editor window over one :class:`Document`."""

    def __init__(self, document: Document | None = None, parent: QWidget | None = None,
                 background: bool = True, training: bool = True) -> None:
        super().__init__(parent)
        files.ensure_app_names()
        self.setObjectName("SkipwireMainWindow")
        self.setAcceptDrops(True)  # a graph file dropped on the window opens it
        self.document = document or Document(Graph("untitled"))
        self.canvas = CanvasView(self.document, self)
        self.setCentralWidget(self.canvas)
        self.autosaver = files.Autosaver(self.document, parent=self)
        self.files = files.FileController(self, self.document, autosaver=self.autosaver)
        self.summary_service = SummaryService(self.document, self, start=False)
        self._summary_timer = QTimer(self, singleShot=True, interval=150)
        self._summary_timer.timeout.connect(self._refresh_summary)
        self._background = background
        self._build_docks()
        self._build_status_bar()
        self._build_menus()
        self._connect()
        # False: the caller installs training after the first paint (install_training).
        self.training = _install_training(self) if training else None
        self.resize(1400, 860)
        self._default_state = self.saveState(STATE_VERSION)
        self._sized = False
        self._restored = self.restore_layout()
        self.setWindowTitle(self.document.title())

    # ------------------------------------------------------------------ construction
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)  # saveState/restoreState key
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        self.block_palette = PaletteWidget()
        self.inspector = InspectorWidget(self.document)
        self.diagnostics = DiagnosticsWidget()
        self.summary = SummaryWidget()
        self.palette_dock = self._dock("Blocks", "palette_dock", self.block_palette,
                                       Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector_dock = self._dock("Inspector", "inspector_dock", self.inspector,
                                         Qt.DockWidgetArea.RightDockWidgetArea)
        self.diagnostics_dock = self._dock("Diagnostics", "diagnostics_dock", self.diagnostics,
                                           Qt.DockWidgetArea.BottomDockWidgetArea)
        self.summary_dock = self._dock("Summary", "summary_dock", self.summary,
                                       Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.diagnostics_dock, self.summary_dock)
        self.diagnostics_dock.raise_()

    def _default_dock_sizes(self) -> None:
        """Narrow side docks and a short bottom row (only meaningful once the window is shown)."""
        self.resizeDocks([self.palette_dock, self.inspector_dock], [190, 290], Qt.Orientation.Horizontal)
        self.resizeDocks([self.diagnostics_dock], [150], Qt.Orientation.Vertical)

    def _build_status_bar(self) -> None:
        self.totals = QLabel()
        self.statusBar().addPermanentWidget(self.totals)

    def _action(self, menu: QMenu, text: str, slot: Callable[[], Any],
                shortcuts: tuple[Key, ...] = (), tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        self.addAction(action)  # shortcuts work while a dock has focus
        return action

    def _build_menus(self) -> None:
        self.actions_by_name: dict[str, QAction] = {}
        self._build_file_menu(self.menuBar().addMenu("&File"))
        self._build_edit_menu(self.menuBar().addMenu("&Edit"))
        self._build_view_menu(self.menuBar().addMenu("&View"))
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "Keyboard Shortcuts", self.show_shortcuts, ("F1",))
        self._action(help_menu, "About Skipwire", self.show_about)

    def _build_file_menu(self, menu: QMenu) -> None:
        add, names = self._action, self.actions_by_name
        names["new"] = add(menu, "&New", self.files.new, (QKeySequence.StandardKey.New,))
        names["open"] = add(menu, "&Open…", self.files.open, (QKeySequence.StandardKey.Open,))
        names["template"] = add(menu, "Open &Template…", self.files.open_template, ("Ctrl+Shift+N",))
        self.recent_menu = menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        menu.addSeparator()
        names["save"] = add(menu, "&Save", self.files.save, (QKeySequence.StandardKey.Save,))
        names["save_as"] = add(menu, "Save &As…", self.files.save_as, ("Ctrl+Shift+S",))
        menu.addSeparator()
        available = _export_module_available()
        for text, function in EXPORTS:
            action = add(menu, text, partial(self.run_export, function))
            action.setEnabled(available)
            if not available:
                action.setStatusTip("Export is not installed in this build")
            names[function] = action
        menu.addSeparator()
        names["quit"] = add(menu, "&Quit", self.close, (QKeySequence.StandardKey.Quit, "Ctrl+Q"))

    def _build_edit_menu(self, menu: QMenu) -> None:
        add, names, canvas = self._action, self.actions_by_name, self.canvas
        undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)])
        redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        menu.addActions([undo, redo])
        names["undo"], names["redo"] = undo, redo
        menu.addSeparator()
        names["cut"] = add(menu, "Cu&t", self.cut, (QKeySequence.StandardKey.Cut,))
        names["copy"] = add(menu, "&Copy", canvas.copy_selection, (QKeySequence.StandardKey.Copy,))
        names["paste"] = add(menu, "&Paste", canvas.paste, (QKeySequence.StandardKey.Paste,))
        names["duplicate"] = add(menu, "&Duplicate", canvas.duplicate_selection, ("Ctrl+D",))
        names["delete"] = add(menu, "&Delete", canvas.delete_selection, ("Delete",))
        menu.addSeparator()
        names["select_all"] = add(menu, "Select &All", canvas.select_all,
                                    (QKeySequence.StandardKey.SelectAll,))
        names["group"] = add(menu, "&Group Selection…", self.group_selection, ("Ctrl+G",))
        names["find"] = add(menu, "&Find Block…", canvas.show_finder, (QKeySequence.StandardKey.Find,))

    def _build_view_menu(self, menu: QMenu) -> None:
        add, names, canvas = self._action, self.actions_by_name, self.canvas
        names["fit"] = add(menu, "&Fit to View", canvas.fit_all, ("F", "Ctrl+0"))
        names["zoom_in"] = add(menu, "Zoom &In", canvas.zoom_in, (QKeySequence.StandardKey.ZoomIn, "Ctrl+="))
        names["zoom_out"] = add(menu, "Zoom &Out", canvas.zoom_out, (QKeySequence.StandardKey.ZoomOut,))
        names["tidy"] = add(menu, "&Tidy Up", canvas.tidy_up, ("Ctrl+L",))
        menu.addSeparator()
        for dock in (self.palette_dock, self.inspector_dock, self.diagnostics_dock, self.summary_dock):
            menu.addAction(dock.toggleViewAction())
        menu.addSeparator()
        names["reset_layout"] = add(menu, "&Reset Layout", self.reset_layout)

    def _connect(self) -> None:
        doc = self.document
        doc.title_changed.connect(self.setWindowTitle)
        doc.validated.connect(self._on_validated)
        self.canvas.selection_changed.connect(self.inspector.show_selection)
        self.canvas.status_message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.block_palette.block_activated.connect(self.canvas.add_block_at_center)
        self.diagnostics.block_clicked.connect(self.canvas.center_on_block)
        self.summary_service.ready.connect(self._on_summary)
        self.summary_dock.visibilityChanged.connect(lambda _v: self._refresh_summary())
        self.summary.block_clicked.connect(self.canvas.center_on_block)

    # ------------------------------------------------------------------ start-up
    def start_background(self) -> None:
        """Import torch in the background and start counting parameters (after first paint)."""
        self.summary_service.start()

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            if not self._restored:
                self._default_dock_sizes()
        if self._background:
            self._background = False
            QTimer.singleShot(200, self.start_background)

    def graph_loaded(self) -> None:
        """After New/Open/template/recovery: show the new graph."""
        self.inspector.show_selection([])
        QTimer.singleShot(0, self.frame_graph)

    def frame_graph(self) -> None:
        """Fit the graph in the view, unless that makes its text too small to read: then show
        its beginning (top left), as wide as fits, at a legible zoom."""
        canvas = self.canvas
        canvas.fit_all()
        if canvas.zoom() >= OPEN_MIN_ZOOM:
            return
        items = canvas.scene().itemsBoundingRect()
        fit_width = (canvas.viewport().width() - 40) / max(items.width(), 1.0)
        zoom = min(max(fit_width, OPEN_MIN_ZOOM), OPEN_MAX_ZOOM)
        canvas.resetTransform()
        canvas.scale(zoom, zoom)
        seen = canvas.viewport().size() / zoom
        margin = 20 / zoom
        canvas.centerOn(items.left() - margin + seen.width() / 2, items.top() - margin + seen.height() / 2)

    # ------------------------------------------------------------------ actions
    def cut(self) -> None:
        self.canvas.copy_selection()
        self.canvas.delete_selection()

    def group_selection(self) -> None:
        ids = self.canvas.selected_block_ids()
        if not ids:
            self.statusBar().showMessage("Select the blocks to group first", 5000)
            return
        taken = {b.group for b in self.document.graph.blocks()}
        suggestion = next(f"group{i}" for i in range(1, len(taken) + 2) if f"group{i}" not in taken)
        name, ok = QInputDialog.getText(self, "Group selection",
                                        f"Group path for {len(ids)} block(s) (e.g. layer2.0):",
                                        text=suggestion)
        if not ok:
            return
        problem = group_problem(name.strip())
        if problem or not name.strip():
            QMessageBox.warning(self, "Group selection", problem or "A group needs a name.")
            return
        self.canvas.group_selection(name.strip())

    def run_export(self, function: str) -> None:
        """Call ``gui.export_dialogs.<function>(window, document)``."""
        try:
            module = importlib.import_module(EXPORT_MODULE)
            getattr(module, function)(self, self.document)
        except (ImportError, AttributeError) as exc:
            QMessageBox.warning(self, "Export", f"This export is not available: {exc}")

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        paths = self.files.recent.paths()
        for path in paths:
            action = self.recent_menu.addAction(path.name)
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            action.triggered.connect(lambda _c=False, p=path: self.files.open(p))
        if not paths:
            self.recent_menu.addAction("(no recent files)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self.files.recent.clear)

    def show_shortcuts(self) -> None:
        rows = [(a.text().replace("&", ""), ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText)
                                                      for s in a.shortcuts()))
                for a in self.actions_by_name.values() if a.shortcuts()]
        rows += list(GESTURES)  # the canvas's own list of what the mouse does
        table = "".join(f"<tr><td>{html.escape(t)}</td><td><b>{html.escape(k)}</b></td></tr>"
                        for t, k in rows)
        QMessageBox.information(self, "Keyboard shortcuts", f"<table cellspacing=4>{table}</table>")

    def show_about(self) -> None:
        QMessageBox.about(self, "About Skipwire",
                          "<b>Skipwire</b><br>Design, train and understand convolutional and "
                          "residual networks as block graphs.")

    # ------------------------------------------------------------------ document updates
    def _on_validated(self, report: Report) -> None:
        self.diagnostics.show_report(report)
        count = len(report.diagnostics)
        self.diagnostics_dock.setWindowTitle(f"Diagnostics ({count})" if count else "Diagnostics")
        self._update_totals()
        self._summary_timer.start()  # the table follows a little later, off the typing path

    def _on_summary(self, result: Any) -> None:
        self._update_totals()
        rows = result.summary.rows if result.summary is not None else []
        self.inspector.set_stats({r.block_id: (r.params, r.mult_adds) for r in rows})
        self._refresh_summary()

    def _refresh_summary(self) -> None:
        if not self.summary_dock.isVisible():
            return
        graph, report, result = self.document.graph, self.document.report(), self.summary_service.latest
        if result is None:
            self.summary.show_shapes(graph, report)
        else:
            self.summary.show_summary(result, graph, report)

    def totals_text(self) -> str:
        graph, report, result = self.document.graph, self.document.report(), self.summary_service.latest
        errors = len(report.errors)
        parts = [f"{len(graph)} blocks"]
        if result is not None and result.summary is not None:
            parts += [f"{result.summary.total_params:,} parameters",
                      f"{result.summary.total_mult_adds / 1e6:,.1f}M mult-adds"]
        elif result is None:
            parts += ["parameters …"]
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
        return "   ·   ".join(parts)

    def _update_totals(self) -> None:
        self.totals.setText(self.totals_text())
        result = self.summary_service.latest
        self.totals.setToolTip(result.problem if result is not None else "")
        bad = bool(self.document.report().errors)
        self.totals.setStyleSheet("color: #c62828;" if bad else "")

    # ------------------------------------------------------------------ graph files dropped on the window
    @staticmethod
    def dropped_graph(event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> Path | None:
        """The local .json file a drag carries, if it carries exactly one."""
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        paths = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
        return paths[0] if len(paths) == 1 and paths[0].suffix.lower() == ".json" else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        if self.dropped_graph(event) is not None:
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 (Qt override)
        if self.dropped_graph(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        path = self.dropped_graph(event)
        if path is not None:
            event.acceptProposedAction()
            QTimer.singleShot(0, lambda: self.files.open(path))  # prompts run after the drop ends

    # ------------------------------------------------------------------ layout persistence
    def restore_layout(self) -> bool:
        """Geometry and dock layout from QSettings; True when a saved layout was applied."""
        store = files.settings()
        geometry, state = store.value("window/geometry"), store.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        return isinstance(state, QByteArray) and self.restoreState(state, STATE_VERSION)

    def save_layout(self) -> None:
        store = files.settings()
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/state", self.saveState(STATE_VERSION))

    def reset_layout(self) -> None:
        self.restoreState(self._default_state, STATE_VERSION)
        self._default_dock_sizes()
        for dock in self.findChildren(QDockWidget):
            dock.setFloating(False)
            dock.setVisible(True)
        self.diagnostics_dock.raise_()
        self.inspector_dock.raise_()

    def install_training(self) -> None:
        """Add the training docks now (start-up defers them, with their numpy/pyqtgraph imports,
        until the window has been drawn) and put them where the saved layout had them."""
        if self.training is not None:
            return
        self.training = _install_training(self)
        state = files.settings().value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state, STATE_VERSION)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if not self.files.maybe_save():
            event.ignore()
            return
        self.save_layout()
        self.autosaver.timer.stop()
        self.autosaver.discard()
        self.summary_service.shutdown()
        event.accept()
