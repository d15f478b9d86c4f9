"""GUI speed: time to the first drawn window, and re-validation after one edit.

Run: ``python bench/bench_gui.py [--runs N]`` (headless: QT_QPA_PLATFORM=offscreen).

1. Start-up: launches ``python main.py [graph]`` with ``SKIPWIRE_FIRST_PAINT=1``; the app prints
   ``first_paint_s`` (from entering ``gui.app.run`` to the canvas's first paint; the core and Qt
   are already imported by then) and whether torch was imported by then, and quits. The wall
   time from launching the process to that line is measured here too: the figure that counts.
   Baseline, launched the same way: a bare QApplication + QMainWindow that
   quits at its first paint, so the ratio shows what Skipwire adds to Qt's own start-up.
2. Edit → re-validated: in a shown main window on ResNet-110, one SetParam pushed on the undo
   stack and the document re-validated (canvas items, diagnostics, inspector and status bar
   all update from these signals), median over many edits. Baseline: ``validate(graph)`` alone
   in the same process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

BARE_QT = """
import sys, time
t0 = time.perf_counter()
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QLabel
app = QApplication(sys.argv[:1])
w = QMainWindow(); w.setCentralWidget(QLabel("x")); w.resize(1400, 860)
class F(QObject):
    done = False
    def eventFilter(self, o, e):
        if e.type() == QEvent.Type.Paint and not self.done:
            self.done = True
            print(f"first_paint_s={time.perf_counter() - t0:.3f} torch_loaded=False", flush=True)
            QTimer.singleShot(0, app.quit)
        return False
f = F(); w.centralWidget().installEventFilter(f); w.show(); app.exec()
"""


def launch(args: list[str]) -> tuple[float, float, bool]:
    """(in-app first paint s, wall s from launch to the printed line, torch loaded)."""
    env = dict(os.environ, SKIPWIRE_FIRST_PAINT="1", QT_QPA_PLATFORM="offscreen")
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("first_paint_s="):
            wall = time.perf_counter() - start
            fields = dict(part.split("=") for part in line.split() if "=" in part)
            proc.wait(timeout=30)
            return float(fields["first_paint_s"]), wall, fields["torch_loaded"] == "True"
    proc.wait(timeout=30)
    raise RuntimeError(f"{args}: no first_paint line (exit code {proc.returncode})")


def bench_startup(runs: int) -> None:
    cases = [("bare Qt window (baseline)", ["-c", BARE_QT]),
             ("python main.py (start page)", ["main.py"]),
             ("python main.py graphs/resnet20.json", ["main.py", "graphs/resnet20.json"]),
             ("python main.py graphs/resnet110.json", ["main.py", "graphs/resnet110.json"])]
    base_wall = None
    for name, args in cases:
        results = [launch(args) for _ in range(runs)]
        inner = statistics.median(r[0] for r in results)
        wall = statistics.median(r[1] for r in results)
        torch_loaded = any(r[2] for r in results)
        base_wall = base_wall or wall
        print(f"{name:40s} first paint {inner * 1000:7.0f} ms in-app, {wall * 1000:7.0f} ms from "
              f"launch (median of {runs}); {wall / base_wall:4.2f}× baseline; torch imported: {torch_loaded}")


def bench_edit(edits: int) -> None:
    from PySide6.QtWidgets import QApplication

    from builder.validate import validate
    from gui import commands
    from gui.mainwindow import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(background=False)
    window.files.load(ROOT / "graphs" / "resnet110.json")
    window.show()
    app.processEvents()
    doc = window.document
    window.canvas.select_blocks(["layer3_17_conv1"])  # the inspector shows a block too
    app.processEvents()
    graph = doc.graph
    core, push, gui = [], [], []
    for i in range(edits):
        start = time.perf_counter()
        validate(graph)
        core.append(time.perf_counter() - start)
        start = time.perf_counter()
        doc.undo_stack.push(commands.SetParam(doc, "layer3_17_conv1", "out_channels", 64 + (i % 2)))
        pushed = time.perf_counter()
        doc.report()
        gui.append(time.perf_counter() - start)
        push.append(pushed - start)
        app.processEvents()
    c, p, g = statistics.median(core), statistics.median(push), statistics.median(gui)
    print(f"ResNet-110 ({len(graph)} blocks): validate() alone {c * 1000:.1f} ms (baseline); one edit "
          f"→ re-validated window {g * 1000:.1f} ms (median of {edits}, p90 "
          f"{sorted(gui)[int(0.9 * edits)] * 1000:.1f} ms); {g / c:.2f}× baseline; goal < 20 ms")
    print(f"  of which: push + graph_event handlers {p * 1000:.1f} ms, validation {c * 1000:.1f} ms, "
          f"validated handlers (canvas, diagnostics, inspector, status) ≈ {(g - p - c) * 1000:.1f} ms")
    doc.undo_stack.setClean()
    window.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="launches per start-up case")
    parser.add_argument("--edits", type=int, default=60, help="edits on ResNet-110")
    args = parser.parse_args()
    print(f"bench_gui: offscreen, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    bench_startup(args.runs)
    bench_edit(args.edits)


if __name__ == "__main__":
    main()
