"""Run by test_window_screens.py in a fresh process on a configured offscreen screen: open the
window the way ``python main.py graphs/resnet20.json`` does (training docks installed after
the first paint), select a block, and print what is on screen as JSON."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QTabBar, QWidget

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # this checkout's gui, not an installed one


def settle(app: QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def global_rect(widget: QWidget) -> list[int]:
    top_left = widget.mapToGlobal(widget.rect().topLeft())
    return [top_left.x(), top_left.y(), widget.width(), widget.height()]


def cut_labels(root: QWidget) -> list[str]:
    """Visible labels whose (wrapped) text needs more height than they have."""
    cut = []
    for label in root.findChildren(QLabel):
        if label.isVisible() and label.text():
            hint = label.sizeHint()
            needed = label.heightForWidth(label.width()) if label.wordWrap() else hint.height()
            too_narrow = not label.wordWrap() and hint.width() > label.width() + 1
            if needed > label.height() + 1 or too_narrow:
                cut.append(label.text()[:40])
    return cut


def main() -> int:
    app = QApplication(["skipwire"])
    from gui.mainwindow import MainWindow

    window = MainWindow(background=False, training=False)
    window.files.load(ROOT / "graphs" / "resnet20.json")
    window.show()
    settle(app, 0.5)
    window.install_training()
    window.frame_graph()
    window.canvas.select_blocks(["layer1_0_conv1"])
    settle(app, 1.0)
    screen = window.screen()
    area: QRect = screen.availableGeometry()
    frame = window.frameGeometry()
    tabs = {}
    for bar in window.findChildren(QTabBar):
        if bar.isVisible():
            tabs[" | ".join(bar.tabText(i) for i in range(bar.count()))] = global_rect(bar)
    docks = {d.objectName(): (d.windowTitle(), global_rect(d)) for d in window.findChildren(QDockWidget)
             if d.toggleViewAction().isChecked()}
    result: dict[str, Any] = {
        "screen": [area.x(), area.y(), area.width(), area.height()],
        "ratio": screen.devicePixelRatio(),
        "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
        "status": global_rect(window.statusBar()),
        "status_visible": window.statusBar().isVisible(),
        "canvas": global_rect(window.canvas),
        "tabs": tabs,
        "docks": docks,
        "inspector_cut": cut_labels(window.inspector),
        "inspector_editors": len(window.inspector.editors),
        "inspector_min_width": window.inspector.minimumSizeHint().width(),
        "inspector_viewport_width": window.inspector_dock.widget().viewport().width(),
    }
    plots = window.training.plots_dock
    plots.raise_()  # what a run does when it starts
    settle(app, 0.5)
    result["plots"] = global_rect(plots)
    result["canvas_with_plots"] = global_rect(window.canvas)
    print(json.dumps(result), flush=True)
    window.document.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
