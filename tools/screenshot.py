"""Screenshots of the real Skipwire window on a virtual X screen (Xvfb).

    python tools/screenshot.py --out /tmp/shots            # the default scenario
    python tools/screenshot.py --out /tmp/shots --steps "open graphs/resnet56.json; fit; shot r56"

With no DISPLAY it starts ``Xvfb :99 -screen 0 1600x1000x24`` itself (``--screen 1280x800``
for another size; Debian: ``apt-get install xvfb libxcb-cursor0``) and stops it at the end. The
window fills the screen. Settings live in a temporary folder, so the default dock layout is
shown. Shots grab the whole X screen, popup menus included.

Steps, separated by ``;`` or new lines:
  open PATH | fit | zoomin N | zoomout N | select ID[,ID…] | deselect | center ID | wait MS
  start                        show the start page (File › Start Page); opening a graph leaves it
  zoom Z                       set the zoom to Z (1 = 100 %), keeping the centre
  new                          File → New (an empty canvas; unsaved edits are dropped)
  summary                      start the background summary and wait for its numbers
  dock NAME                    raise a dock (palette, inspector, diagnostics, summary)
  set ID PARAM JSON-VALUE      one SetParam command (e.g. ``set fc out_features 100``)
  collapse GROUP | expand GROUP
  wire ID DX DY                press on ID's output port and drag DX, DY view pixels (held)
  wireto ID PORT               move the wire being drawn onto input PORT of ID (still held)
  release                      let go of the wire being drawn
  keys SEQ                     a key sequence on the canvas (e.g. ``keys Ctrl+L``, ``keys Ctrl+V``)
  group PATH                   Ctrl+G on the selection, answering the dialog with PATH
  find TEXT                    Ctrl+F and type TEXT into the finder
  toggle GROUP                 click the ▾ (or ▸) of GROUP's frame
  drop TYPE X Y                drop a palette block of TYPE at view pixel X, Y
  heat                         tint the blocks with made-up gradient norms (the heat overlay)
  menu ID NAME                 open ID's context menu, shoot NAME while it is open, close it
  template NAME                open the Open Template dialog, shoot NAME, cancel it
  shot NAME                    save NAME.png
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT = """
open graphs/resnet20.json; summary; wait 400; shot 01_resnet20_open
fit; zoomin 4; center layer1_1_relu1; wait 200; wire layer1_1_relu1 170 150; wait 200
shot 02_wire_drawing; release
set layer1_0_conv2 out_channels 24; fit; zoomin 3; center layer1_0_add; deselect; wait 300
shot 03_mismatch_red; menu layer1_0_add 03_mismatch_fixit
set layer1_0_conv2 out_channels 16; collapse layer2; fit; wait 400; shot 04_collapsed_stage
"""


def start_xvfb(display: str = ":99", screen: str = "1600x1000") -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(["Xvfb", display, "-screen", "0", f"{screen}x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ["DISPLAY"] = display
    time.sleep(1.0)
    if proc.poll() is not None:
        raise SystemExit(f"Xvfb {display} did not start (is another server using it?)")
    return proc


class Director:
    """Runs scenario steps against one main window."""

    def __init__(self, out: Path) -> None:
        from PySide6.QtWidgets import QApplication

        from gui.mainwindow import MainWindow

        existing = QApplication.instance()
        self.app = existing if isinstance(existing, QApplication) else QApplication(["skipwire-screenshot"])
        self.out = out
        self.window = MainWindow(background=False)
        self.window.setGeometry(self.app.primaryScreen().availableGeometry())  # no window manager
        self.window.show()
        self.canvas = self.window.canvas
        self.shots: list[Path] = []
        self.settle(300)

    def settle(self, ms: int = 100) -> None:
        end = time.monotonic() + ms / 1000
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.01)

    def run(self, script: str) -> None:
        for raw in script.replace("\n", ";").split(";"):
            words = shlex.split(raw)
            if words:
                getattr(self, f"do_{words[0]}")(*words[1:])
                self.settle(60)

    # ------------------------------------------------------------------ steps
    def do_open(self, path: str) -> None:
        self.window.files.load(ROOT / path)
        self.settle(300)

    def do_start(self) -> None:
        """Show the start page and wait for its template previews."""
        self.window.show_start_page()
        end = time.monotonic() + 30
        while not self.window.start_page.previews_done() and time.monotonic() < end:
            self.settle(100)

    def do_summary(self, seconds: str = "90") -> None:
        """Start the background summary and wait for its numbers."""
        service = self.window.summary_service
        service.start()
        end = time.monotonic() + float(seconds)
        while service.latest is None and time.monotonic() < end:
            self.settle(200)

    def do_dock(self, name: str) -> None:
        """Raise a dock: palette, inspector, diagnostics or summary."""
        dock = getattr(self.window, f"{name}_dock")
        dock.show()
        dock.raise_()

    def do_fit(self) -> None:
        self.canvas.fit_all()

    def do_zoom(self, zoom: str) -> None:
        center = self.canvas.mapToScene(self.canvas.viewport().rect().center())
        self.canvas.resetTransform()
        self.canvas.scale(float(zoom), float(zoom))
        self.canvas.centerOn(center)

    def do_new(self) -> None:
        self.window.document.undo_stack.setClean()  # no "save changes?" prompt
        self.window.files.new()
        self.settle(200)

    def do_keys(self, sequence: str) -> None:
        """Type a key sequence on the canvas (through the window's action when no window is active)."""
        from PySide6.QtGui import QKeySequence
        from PySide6.QtTest import QTest

        self.window.activateWindow()
        self.canvas.setFocus()
        self.settle(100)
        keys = QKeySequence(sequence)
        if self.app.activeWindow() is None:  # a bare X server: no window manager gives focus
            action = next(a for a in self.window.actions() if keys in a.shortcuts())
            action.trigger()
        else:
            QTest.keySequence(self.canvas.viewport(), keys)
        self.settle(200)

    def do_group(self, path: str) -> None:
        from PySide6.QtWidgets import QInputDialog

        original = QInputDialog.getText
        QInputDialog.getText = staticmethod(lambda *a, **k: (path, True))  # type: ignore[assignment]
        try:
            self.do_keys("Ctrl+G")
        finally:
            QInputDialog.getText = original  # type: ignore[method-assign]

    def do_find(self, text: str) -> None:
        from PySide6.QtTest import QTest

        self.do_keys("Ctrl+F")
        QTest.keyClicks(self.canvas.finder.edit, text)
        self.settle(200)

    def do_toggle(self, group: str) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        frame = self.canvas.graph_scene.frames[group]
        spot = self.canvas.mapFromScene(frame.toggle_rect().center())
        left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        QTest.mouseClick(self.canvas.viewport(), left, none, spot)
        self.settle(200)

    def do_drop(self, type_id: str, x: str, y: str) -> None:
        from PySide6.QtCore import QMimeData, QPointF, Qt
        from PySide6.QtGui import QDragEnterEvent, QDropEvent

        from gui.canvas.view import BLOCK_MIME

        mime = QMimeData()
        mime.setData(BLOCK_MIME, type_id.encode())
        point, viewport = QPointF(float(x), float(y)), self.canvas.viewport()
        left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        copy = Qt.DropAction.CopyAction
        self.app.sendEvent(viewport, QDragEnterEvent(point.toPoint(), copy, mime, left, none))
        self.app.sendEvent(viewport, QDropEvent(point, copy, mime, left, none))
        self.settle(200)

    def do_zoomin(self, n: str = "1") -> None:
        for _ in range(int(n)):
            self.canvas.zoom_in()

    def do_zoomout(self, n: str = "1") -> None:
        for _ in range(int(n)):
            self.canvas.zoom_out()

    def do_select(self, ids: str) -> None:
        self.canvas.select_blocks(ids.split(","))

    def do_deselect(self) -> None:
        self.canvas.scene().clearSelection()

    def do_center(self, block_id: str) -> None:
        self.canvas.center_on_block(block_id)

    def do_wait(self, ms: str) -> None:
        self.settle(int(ms))

    def do_set(self, block_id: str, name: str, value: str) -> None:
        from gui import commands

        doc = self.window.document
        doc.undo_stack.push(commands.SetParam(doc, block_id, name, json.loads(value)))
        doc.report()

    def do_collapse(self, group: str) -> None:
        self.canvas.set_group_collapsed(group, True)

    def do_expand(self, group: str) -> None:
        self.canvas.set_group_collapsed(group, False)

    def do_wire(self, block_id: str, dx: str, dy: str) -> None:
        from PySide6.QtCore import QPoint, Qt
        from PySide6.QtTest import QTest

        item = self.canvas.graph_scene.blocks[block_id]
        start = self.canvas.mapFromScene(item.output_port_pos())
        viewport = self.canvas.viewport()
        QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
        for step in range(1, 11):
            QTest.mouseMove(viewport, start + QPoint(int(dx) * step // 10, int(dy) * step // 10))
        self._wire_end = start + QPoint(int(dx), int(dy))

    def do_heat(self) -> None:
        """Show the gradient heat of a made-up run: norms spread over five decades, in graph order."""
        from types import SimpleNamespace

        from gui.training.heat import CanvasHeat
        from gui.training.history import RunData

        ids = list(self.window.document.graph.ids())
        norms = [10 ** (-5 + 5 * i / max(1, len(ids) - 1)) for i in range(len(ids))]
        run = RunData("made-up run", "canvas", None)
        run.add_gradients(SimpleNamespace(block_ids=ids, weight_norms=norms, step=1))
        self._heat = CanvasHeat(self.canvas)
        self._heat.show_run(run)
        self.settle(200)

    def do_wireto(self, block_id: str, port: str) -> None:
        from PySide6.QtTest import QTest

        item = self.canvas.graph_scene.blocks[block_id]
        end = self.canvas.mapFromScene(item.input_port_pos(int(port)))
        QTest.mouseMove(self.canvas.viewport(), end)
        self._wire_end = end
        self.settle(150)

    def do_release(self) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        QTest.mouseRelease(self.canvas.viewport(), Qt.MouseButton.LeftButton,
                           Qt.KeyboardModifier.NoModifier, self._wire_end)

    def do_menu(self, block_id: str, name: str) -> None:
        from PySide6.QtCore import QTimer

        self.canvas.select_blocks([block_id])
        menu = self.canvas.context_menu_for_block(block_id)
        item = self.canvas.graph_scene.blocks[block_id]
        corner = self.canvas.mapFromScene(item.sceneBoundingRect().bottomRight())  # keep the block in view
        where = self.canvas.viewport().mapToGlobal(corner)
        actions = [a for a in menu.actions() if not a.isSeparator() and a.isEnabled()]

        def shoot_and_close() -> None:
            if actions:
                menu.setActiveAction(actions[0])
            self.settle(150)
            self.do_shot(name)
            menu.close()

        QTimer.singleShot(500, shoot_and_close)
        menu.exec(where)

    def do_template(self, name: str) -> None:
        """Open the Open Template dialog, shoot NAME while it is open, cancel it."""
        from PySide6.QtCore import QTimer

        from gui.template_dialog import TemplateDialog

        dialog = TemplateDialog(self.window)

        def shoot_and_close() -> None:
            self.settle(150)
            self.do_shot(name)
            dialog.reject()

        QTimer.singleShot(500, shoot_and_close)
        dialog.exec()

    def do_shot(self, name: str) -> None:
        screen = self.app.primaryScreen()
        pixmap = screen.grabWindow(0)
        if pixmap.isNull() or self.app.platformName() != "xcb":
            pixmap = self.window.grab()  # no X screen: the window only, without popups
        path = self.out / f"{name}.png"
        pixmap.save(str(path))
        self.shots.append(path)
        print(path, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/shots"))
    parser.add_argument("--steps", default=DEFAULT, help="scenario steps (default: the four views)")
    parser.add_argument("--screen", default="1600x1000", help="size of the Xvfb screen it starts")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    home = tempfile.mkdtemp(prefix="skipwire-shots-")
    os.environ["XDG_CONFIG_HOME"] = os.environ["XDG_DATA_HOME"] = home
    xvfb = start_xvfb(screen=args.screen) if not os.environ.get("DISPLAY") else None
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    try:
        director = Director(args.out)
        director.run(args.steps)
        director.window.document.undo_stack.setClean()
        director.window.close()
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
