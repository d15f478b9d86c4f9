"""The main window: the canvas in the middle, docks around it, menus, status bar.

Docks: palette (left), inspector (right), diagnostics and summary (bottom). Their layout and
the window geometry are remembered in QSettings. Menu actions call the canvas API
(:class:`gui.canvas.view.CanvasView`) and :class:`gui.files.FileController`.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
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
    QScrollArea,
    QStackedWidget,
    QWidget,
)

from builder.graph import Graph, group_problem
from builder.validate import Report
from gui import export_dialogs, files, start_page, window_geometry
from gui.canvas.view import GESTURES, CanvasView
from gui.counts import Counts
from gui.diagnostics_view import DiagnosticsWidget
from gui.dock_layout import DockLayout
from gui.document import Document
from gui.inspector import InspectorWidget
from gui.palette import PaletteWidget
from gui.start_page import StartPage
from gui.summary_view import SummaryService, SummaryWidget
from gui.training import install as install_training_docks
from gui.xray import install_xray

EXPORTS: tuple[tuple[str, str, Callable[[Any, Document], object]], ...] = (  # (text, name, dialog)
    ("Export PyTorch code…", "export_code", export_dialogs.export_code),
    ("Export ONNX…", "export_onnx", export_dialogs.export_onnx),
    ("Export weights…", "export_weights", export_dialogs.export_weights),
    ("Import PyTorch module…", "import_module", export_dialogs.import_module),
)
# Shortcuts are written out, never QKeySequence.StandardKey: a standard key's bindings depend on
# the platform (xcb: Quit = Ctrl+Q, Delete = Del and Ctrl+D), so one could silently collide
# with a written-out shortcut ("Ambiguous shortcut overload") where the tests cannot see it.
Key = QKeySequence | str
OPEN_MIN_ZOOM = 0.52  # below about 0.45 the canvas draws blocks without text
OPEN_MAX_ZOOM = 0.8


def _scrolled(widget: QWidget) -> QScrollArea:
    """``widget`` in a vertical scroll area: on a short screen it scrolls instead of being cut."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area


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
        self.start_page = StartPage()
        self.pages = QStackedWidget()  # the canvas, or the start page in its place
        self.pages.addWidget(self.canvas)
        self.pages.addWidget(self.start_page)
        self.setCentralWidget(self.pages)
        self.autosaver = files.Autosaver(self.document, parent=self)
        self.files = files.FileController(self, self.document, autosaver=self.autosaver)
        self.summary_service = SummaryService(self.document, self, start=False)
        self._background = background
        self._build_docks()
        self._build_status_bar()
        self._build_menus()
        self._connect()
        # False: the caller installs training and X-ray after the first paint (install_training).
        self.training: Any = None
        self.xray: Any = None
        if training:
            self._install_features()
        self.docks = DockLayout(self, self.on_start_page)
        self._sized = False
        self.docks.restore()
        self.docks.watch_plots()
        self._show_title(self.document.title())

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
        self.inspector_dock = self._dock("Inspector", "inspector_dock", _scrolled(self.inspector),
                                         Qt.DockWidgetArea.RightDockWidgetArea)
        self.diagnostics_dock = self._dock("Diagnostics", "diagnostics_dock", self.diagnostics,
                                           Qt.DockWidgetArea.BottomDockWidgetArea)
        self.summary_dock = self._dock("Summary", "summary_dock", self.summary,
                                       Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.diagnostics_dock, self.summary_dock)
        self.diagnostics_dock.raise_()

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
        names["new"] = add(menu, "&New", self.files.new, ("Ctrl+N",))
        names["open"] = add(menu, "&Open…", self.files.open, ("Ctrl+O",))
        names["template"] = add(menu, "Open &Template…", self.files.open_template, ("Ctrl+Shift+N",))
        self.recent_menu = menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        names["start_page"] = add(menu, "Start &Page", self.show_start_page,
                                  tip="New graph, templates, recent files and one-click experiments")
        menu.addSeparator()
        names["save"] = add(menu, "&Save", self.files.save, ("Ctrl+S",))
        names["save_as"] = add(menu, "Save &As…", self.files.save_as, ("Ctrl+Shift+S",))
        menu.addSeparator()
        for text, name, dialog in EXPORTS:
            names[name] = add(menu, text, partial(dialog, self, self.document))
        menu.addSeparator()
        names["quit"] = add(menu, "&Quit", self.close, ("Ctrl+Q",))

    def _build_edit_menu(self, menu: QMenu) -> None:
        add, names, canvas = self._action, self.actions_by_name, self.canvas
        undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcuts([QKeySequence("Ctrl+Z")])
        redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        menu.addActions([undo, redo])
        names["undo"], names["redo"] = undo, redo
        menu.addSeparator()
        names["cut"] = add(menu, "Cu&t", self.cut, ("Ctrl+X",))
        names["copy"] = add(menu, "&Copy", canvas.copy_selection, ("Ctrl+C",))
        names["paste"] = add(menu, "&Paste", canvas.paste, ("Ctrl+V",))
        names["duplicate"] = add(menu, "&Duplicate", canvas.duplicate_selection, ("Ctrl+D",))
        names["delete"] = add(menu, "&Delete", canvas.delete_selection, ("Delete",))
        menu.addSeparator()
        names["select_all"] = add(menu, "Select &All", canvas.select_all,
                                    ("Ctrl+A",))
        names["group"] = add(menu, "&Group Selection…", self.group_selection, ("Ctrl+G",))
        names["find"] = add(menu, "&Find Block…", canvas.show_finder, ("Ctrl+F",))

    def _build_view_menu(self, menu: QMenu) -> None:
        add, names, canvas = self._action, self.actions_by_name, self.canvas
        names["fit"] = add(menu, "&Fit to View", canvas.fit_all, ("F", "Ctrl+0"))
        names["zoom_in"] = add(menu, "Zoom &In", canvas.zoom_in, ("Ctrl++", "Ctrl+="))
        names["zoom_out"] = add(menu, "Zoom &Out", canvas.zoom_out, ("Ctrl+-",))
        names["tidy"] = add(menu, "&Tidy Up", canvas.tidy_up, ("Ctrl+L",))
        menu.addSeparator()
        for dock in (self.palette_dock, self.inspector_dock, self.diagnostics_dock, self.summary_dock):
            menu.addAction(dock.toggleViewAction())
        menu.addSeparator()
        names["reset_layout"] = add(menu, "&Reset Layout", self.reset_layout)

    def _connect(self) -> None:
        doc = self.document
        doc.title_changed.connect(self._show_title)
        doc.graph_replaced.connect(self.hide_start_page)  # any graph opened: the editor shows
        page = self.start_page
        page.new_requested.connect(self.files.new)
        page.open_requested.connect(lambda: self.files.open())
        page.templates_requested.connect(self.files.open_template)
        page.template_chosen.connect(self.files.open_copy)
        page.recent_chosen.connect(self.files.open)
        page.experiment_chosen.connect(partial(start_page.run_experiment, self))
        page.back_requested.connect(self.hide_start_page)
        doc.validated.connect(self._on_validated)
        self.canvas.selection_changed.connect(self.inspector.show_selection)
        self.canvas.status_message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.block_palette.block_activated.connect(self.canvas.add_block_at_center)
        self.diagnostics.block_clicked.connect(self.canvas.center_on_block)
        self.counts = Counts(doc, self.summary_service, self.totals, self.summary, self.summary_dock,
                             self.inspector)
        doc.validated.connect(self.counts.on_validated)
        self.summary.block_clicked.connect(self.canvas.center_on_block)

    # ------------------------------------------------------------------ start-up
    def start_background(self) -> None:
        """Import torch in the background and start counting parameters (after first paint)."""
        self.summary_service.start()

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            QTimer.singleShot(0, partial(window_geometry.keep_on_screen, self))
        self.docks.size_once()
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

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        paths = self.files.recent.paths()
        for path in paths:
            action = self.recent_menu.addAction(files.recent_label(path).replace("&", "&&"))
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
        empty = len(self.document.graph) == 0
        self.diagnostics.show_report(report, empty=empty)
        count = 0 if empty else len(report.diagnostics)
        self.diagnostics_dock.setWindowTitle(f"Diagnostics ({count})" if count else "Diagnostics")

    def totals_text(self) -> str:
        """The status bar's blocks · parameters · errors for the graph as it is now."""
        return self.counts.totals_text()

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
    def save_layout(self) -> None:
        self.docks.save()

    def reset_layout(self) -> None:
        self.docks.reset()
        self.diagnostics_dock.raise_()
        self.inspector_dock.raise_()

    def install_training(self) -> None:
        """Add the training docks now (start-up defers them, with their numpy/pyqtgraph imports,
        until the window has been drawn) and put them where the saved layout had them."""
        if self.training is not None:
            return
        on_start_page = self.docks.unstash()
        before = set(self.findChildren(QDockWidget))
        self._install_features()
        self.docks.adopt(before)
        if on_start_page:
            self.docks.stash()
        self.docks.size_once()

    def _install_features(self) -> None:
        """The Training, Runs and Plots docks with the Train menu, then the X-ray dock and menu,
        its dock a tab beside the plots. The Diagnostics tab stays in front (the bottom row at its
        design-time height); Start brings the Plots forward."""
        self.training = install_training_docks(self)
        self.xray = install_xray(self)
        plots = getattr(self.training, "plots_dock", None)
        if plots is not None:
            self.tabifyDockWidget(plots, self.xray.dock)
        self.diagnostics_dock.raise_()

    # ------------------------------------------------------------------ start page
    def on_start_page(self) -> bool:
        return self.pages.currentWidget() is self.start_page

    def show_start_page(self) -> None:
        """The start page in place of the canvas, the docks put away (File › Start Page)."""
        self.start_page.set_recent(self.files.recent.paths())
        self.start_page.set_back(self.document.display_name() if len(self.document.graph) else None)
        if self.on_start_page():
            return
        self.docks.stash()
        self.pages.setCurrentWidget(self.start_page)
        self.totals.hide()
        self._show_title(self.document.title())
        self.start_page.setFocus()

    def hide_start_page(self) -> None:
        """Back to the editor: the canvas and the docks as they were."""
        if not self.on_start_page():
            return
        self.pages.setCurrentWidget(self.canvas)
        self.docks.unstash()
        self.totals.show()
        self._show_title(self.document.title())
        self.docks.size_once()
        self.canvas.setFocus()

    def _show_title(self, title: str) -> None:
        self.setWindowTitle("Start — Skipwire" if self.on_start_page() else title)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if not self.files.maybe_save():
            event.ignore()
            return
        self.save_layout()
        self.autosaver.timer.stop()
        self.autosaver.discard()
        self.summary_service.shutdown()
        event.accept()
