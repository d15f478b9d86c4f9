"""The start page: what ``python main.py`` shows when no file is given.

New blank graph, Open, the Open Template dialog; one-click experiments (He et al.'s plain vs
residual comparison, ResNet-20 on the built-in digits) that open a shipped graph and start the
Train menu's own action; recent files with their folders; and the shipped graphs as templates,
each with a drawn miniature of its layout (drawn after the page is first painted, so start-up
stays quick). The window shows it in place of the canvas, with the docks put away
(:meth:`gui.mainwindow.MainWindow.show_start_page`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QCommandLinkButton,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from builder import fileformat, shipped
from builder.catalog import fmt_shape
from builder.graph import Graph
from gui import files, style

GRAPHS = shipped.graphs_dir()  # the repository's graphs/, or the installed package data
SHOWCASE = (  # (shipped graph file stem, title) in the order of the story
    ("resnet20", "ResNet-20"), ("plain20", "Plain-20"), ("resnet56", "ResNet-56"),
    ("plain56", "Plain-56"), ("lenet", "LeNet-5"), ("vgg16", "VGG-16"),
    ("preact_resnet18", "Pre-act ResNet-18"), ("resnet50", "ResNet-50"),
    ("wrn16_4", "Wide ResNet 16-4"), ("resnext29_32x4d", "ResNeXt-29"),
    ("densenet121", "DenseNet-121"), ("googlenet", "GoogLeNet"), ("mobilenet", "MobileNet"),
)
PREVIEW = QSize(148, 100)
MAX_RECENT_SHOWN = 6
PREVIEW_DELAY_MS = 50
DIGITS = "digits"  # the training form's built-in data set


@dataclass(frozen=True)
class Experiment:
    """A one-click experiment: open ``graph`` and trigger the Train menu item ``action``."""

    title: str
    description: str
    graph: str  # file in graphs/
    action: str  # the start of the Train menu item's text


EXPERIMENTS = {
    "he2015": Experiment(
        "Reproduce He et al.: plain vs residual, 20 vs 56 layers",
        "Trains plain-20, plain-56, ResNet-20 and ResNet-56 on the built-in digits side by side: "
        "the deeper plain net trains worse, the deeper residual one does not. A few minutes on a CPU.",
        "resnet56.json", "Compare Depths"),
    "resnet20": Experiment(
        "Train ResNet-20 on digits",
        "Opens ResNet-20 and trains it on the built-in 8×8 digits (1,797 images): loss, accuracy "
        "and gradient magnitudes live.",
        "resnet20.json", "Start Training"),
}


# ----------------------------------------------------------------------------- previews
def preview(graph: Graph, size: QSize = PREVIEW, ratio: float = 1.0) -> QPixmap:
    """A miniature of ``graph``'s canvas layout: blocks in their category colours where they
    sit on the canvas, wires between them (skip inputs of an Add in orange)."""
    from gui.canvas.items import BLOCK_H, BLOCK_W

    pixmap = QPixmap(size * ratio)
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(QColor("#f6f8fa"))
    blocks = list(graph.blocks())
    if not blocks:
        return pixmap
    left, top = min(b.pos[0] for b in blocks), min(b.pos[1] for b in blocks)
    width = max(b.pos[0] for b in blocks) + BLOCK_W - left
    height = max(b.pos[1] for b in blocks) + BLOCK_H - top
    margin = 6.0
    scale = min((size.width() - 2 * margin) / width, (size.height() - 2 * margin) / height)
    dx = (size.width() - width * scale) / 2 - left * scale
    dy = (size.height() - height * scale) / 2 - top * scale
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    where = {b.id: QRectF(b.pos[0] * scale + dx, b.pos[1] * scale + dy,
                          max(BLOCK_W * scale, 1.5), max(BLOCK_H * scale, 1.5)) for b in blocks}
    for wire in graph.wires():
        skip = wire.port > 0 and graph.block(wire.target).type == "add"
        painter.setPen(QPen(QColor("#e36414" if skip else "#8a94a3"), 0.8))
        start, end = where[wire.source], where[wire.target]
        painter.drawLine(QPointF(start.right(), start.center().y()), QPointF(end.left(), end.center().y()))
    painter.setPen(Qt.PenStyle.NoPen)
    for block in blocks:
        painter.setBrush(style.color_for(block.type))
        painter.drawRect(where[block.id])
    painter.end()
    return pixmap


class TemplateCard(QToolButton):
    """A shipped graph as a button: its miniature, name and size; clicking opens a copy."""

    def __init__(self, path: Path, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.title = title
        self.graph: Graph | None = None
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.setIconSize(PREVIEW)
        self.setAutoRaise(True)
        self.setText(f"{title}\n…")
        self.setFixedSize(PREVIEW.width() + 12, PREVIEW.height() + 2 * self.fontMetrics().height() + 16)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def load(self) -> None:
        """Read the graph file and draw its miniature (a damaged file says so on the card)."""
        try:
            graph = fileformat.load(self.path)
        except fileformat.GraphFileError as exc:
            self.setText(f"{self.title}\n(cannot be read)")
            self.setToolTip(str(exc))
            self.setEnabled(False)
            return
        self.graph = graph
        shape = next((b.params for b in graph.blocks() if b.type == "input"), None)
        size = fmt_shape((shape["channels"], shape["height"], shape["width"])) if shape else ""
        self.setText(f"{self.title}\n{len(graph)} blocks · {size}")
        self.setToolTip(f"<b>{self.title}</b> ({self.path.name})<br>{graph.description}<br>"
                        "Opens as a new, unsaved graph.")
        self.setIcon(QIcon(preview(graph, PREVIEW, self.devicePixelRatioF())))


class _CardGrid(QWidget):
    """Cards in as many columns as the width allows."""

    def __init__(self, cards: list[TemplateCard], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cards = cards
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(8)
        self.columns = 0
        self._arrange(4)
        # the width is the page's, not the cards' (a grid as wide as its columns never gets fewer)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(cards[0].sizeHint().width() if cards else 0)

    def _arrange(self, columns: int) -> None:
        if columns == self.columns:
            return
        self.columns = columns
        for card in self.cards:
            self.grid.removeWidget(card)
        for i, card in enumerate(self.cards):
            self.grid.addWidget(card, i // columns, i % columns, Qt.AlignmentFlag.AlignLeft)
        self.grid.setColumnStretch(columns, 1)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        card = self.cards[0].width() + self.grid.spacing() if self.cards else 1
        self._arrange(max(1, (self.width() + self.grid.spacing()) // card))


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.15)
    font.setBold(True)
    label.setFont(font)
    return label


class StartPage(QScrollArea):
    """The start page's widgets; the window connects their signals to its file actions."""

    new_requested = Signal()
    open_requested = Signal()
    templates_requested = Signal()  # the Open Template dialog (every template and its options)
    template_chosen = Signal(Path)  # a shipped graph, to open as a new unsaved copy
    recent_chosen = Signal(Path)
    experiment_chosen = Signal(str)  # a key of EXPERIMENTS
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("start_page")
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        body.setObjectName("start_body")
        body.setStyleSheet("#start_body { background: white; }")
        self.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(32, 20, 32, 20)
        layout.setSpacing(14)
        layout.addLayout(self._title_row())
        top = QHBoxLayout()
        top.setSpacing(28)
        top.addLayout(self._start_column(), 2)
        top.addLayout(self._experiment_column(), 4)
        top.addLayout(self._recent_column(), 3)
        layout.addLayout(top)
        layout.addWidget(_heading("Templates"))
        self.cards = [TemplateCard(GRAPHS / f"{stem}.json", title) for stem, title in SHOWCASE
                      if (GRAPHS / f"{stem}.json").is_file()]
        for card in self.cards:
            card.clicked.connect(lambda _checked=False, c=card: self.template_chosen.emit(c.path))
        layout.addWidget(_CardGrid(self.cards))
        layout.addStretch(1)
        self._pending = list(self.cards)

    # ------------------------------------------------------------------ construction
    def _title_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        title = QLabel("<span style='font-size:20pt; font-weight:600'>Skipwire</span>"
                       "&nbsp;&nbsp;<span style='color:#555'>design, train and understand "
                       "convolutional and residual networks</span>")
        row.addWidget(title, 1)
        self.back_button = QPushButton("Back to the graph")
        self.back_button.clicked.connect(lambda _checked=False: self.back_requested.emit())
        self.back_button.setVisible(False)
        row.addWidget(self.back_button)
        return row

    def _start_column(self) -> QVBoxLayout:
        column = QVBoxLayout()
        column.addWidget(_heading("Start"))
        self.new_button = self._link("New blank graph", "An empty canvas: drag blocks from the palette",
                                     self.new_requested)
        self.open_button = self._link("Open a graph file…", "A .json graph saved before (Ctrl+O)",
                                      self.open_requested)
        self.templates_button = self._link("More templates…", "Any depth of ResNet or plain net, other "
                                           "input shapes and classes", self.templates_requested)
        for button in (self.new_button, self.open_button, self.templates_button):
            column.addWidget(button)
        column.addStretch(1)
        return column

    def _experiment_column(self) -> QVBoxLayout:
        column = QVBoxLayout()
        column.addWidget(_heading("Experiments"))
        self.experiment_buttons: dict[str, QCommandLinkButton] = {}
        for key, experiment in EXPERIMENTS.items():
            button = QCommandLinkButton(experiment.title, experiment.description)
            button.clicked.connect(lambda _checked=False, k=key: self.experiment_chosen.emit(k))
            column.addWidget(button)
            self.experiment_buttons[key] = button
        column.addStretch(1)
        return column

    def _recent_column(self) -> QVBoxLayout:
        column = QVBoxLayout()
        column.addWidget(_heading("Recent files"))
        self.recent_box = QVBoxLayout()
        self.recent_box.setSpacing(0)
        column.addLayout(self.recent_box)
        self.no_recent = QLabel("No recent files yet: the graphs you open and save are listed here.")
        self.no_recent.setWordWrap(True)
        self.no_recent.setStyleSheet("color: #777;")
        column.addWidget(self.no_recent)
        column.addStretch(1)
        self.recent_buttons: list[QPushButton] = []
        return column

    @staticmethod
    def _link(title: str, description: str, signal: Any) -> QPushButton:
        """A compact start action: its title on the button, the description as its tooltip."""
        button = QPushButton(title)
        button.setToolTip(description)
        button.setStyleSheet("text-align: left; padding: 6px 10px; font-weight: 600;")
        button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.clicked.connect(lambda _checked=False: signal.emit())
        return button

    # ------------------------------------------------------------------ contents
    def set_recent(self, paths: list[Path]) -> None:
        """List ``paths`` (newest first) as buttons with name and folder."""
        for button in self.recent_buttons:
            self.recent_box.removeWidget(button)
            button.deleteLater()
        self.recent_buttons = []
        for path in paths[:MAX_RECENT_SHOWN]:
            button = QPushButton(files.recent_label(path).replace("&", "&&"))
            button.setFlat(True)
            button.setStyleSheet("text-align: left; padding: 4px;")
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)  # a long folder
            button.setMinimumWidth(120)  # is cut at the column's edge (the tooltip has it all)
            button.setToolTip(str(path))
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.clicked.connect(lambda _checked=False, p=path: self.recent_chosen.emit(p))
            self.recent_box.addWidget(button)
            self.recent_buttons.append(button)
        self.no_recent.setVisible(not paths)

    def set_back(self, name: str | None) -> None:
        """Offer "Back to ``name``" while a graph is open behind the page."""
        self.back_button.setVisible(bool(name))
        self.back_button.setText(f"Back to {name}")

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._pending:
            QTimer.singleShot(PREVIEW_DELAY_MS, self, self.load_previews)  # after the page is drawn

    def load_previews(self) -> None:
        """Draw the cards' miniatures, one per event-loop turn (the page stays responsive)."""
        if self._pending:
            self._pending.pop(0).load()
            QTimer.singleShot(0, self, self.load_previews)

    def previews_done(self) -> bool:
        return not self._pending


# ----------------------------------------------------------------------------- experiments
def _plain(text: str) -> str:
    return text.replace("&", "")


def train_menu_action(window: QMainWindow, prefix: str) -> QAction | None:
    """The Train menu's item whose text starts with ``prefix``, found through the menu bar."""
    for top in window.menuBar().actions():
        menu = top.menu()
        if isinstance(menu, QMenu) and _plain(top.text()) == "Train":
            return next((a for a in menu.actions() if _plain(a.text()).startswith(prefix)), None)
    return None


def run_experiment(window: Any, key: str) -> bool:
    """Open the experiment's graph, choose the built-in digits and trigger its Train menu
    item (the same QAction a person would pick); False, with a message in the status bar, when
    it cannot (during a run nothing is opened)."""
    experiment = EXPERIMENTS[key]
    window.install_training()
    if train_menu_action(window, experiment.action) is None:
        return _refuse(window, experiment, "training is not available in this build")
    if getattr(window.training, "running", False):
        return _refuse(window, experiment, "a run is in progress")
    if not window.files.open(GRAPHS / experiment.graph):
        return False
    panel = getattr(window.training, "panel", None)
    if panel is not None and hasattr(panel, "set_values"):
        panel.set_values(dataset=DIGITS)  # after opening: a graph may bring its own settings
    window.document.report()  # the Train menu follows validation (a graph with errors disables it)
    action = train_menu_action(window, experiment.action)
    if action is None or not action.isEnabled():
        return _refuse(window, experiment, action.toolTip() if action is not None else "no such action")
    action.trigger()
    return True


def _refuse(window: Any, experiment: Experiment, why: str) -> bool:
    window.statusBar().showMessage(f"Cannot start “{experiment.title}”: {why}", 10000)
    return False
