"""From pressing Start to the first training step, in the window, for ResNet-20 on the CPU.

Each measurement is a fresh process (nothing imported yet) that opens the window as
``python main.py`` does — the training docks are installed after the first paint, which
starts the background warm-up (torch, torch._dynamo, the trainer, scikit-learn, the digits data
set: :mod:`gui.training.warmup`) — then clicks the real Start button with the default settings
(the shipped ``graphs/resnet20.json``, digits, device auto, precision auto) and waits for the
first step to reach the window. Three cases, alternated:

- ``after warm-up``: Start is clicked once the warm-up is done (a person who looks at the window
  for a few seconds first); the goal is under 2 s;
- ``at once``: Start is clicked right after the docks appear (the warm-up still running);
- ``no warm-up``: the warm-up switched off, Start clicked at once (how the window behaved before).

Usage: ``python bench/bench_start.py [--runs 3]`` (headless: QT_QPA_PLATFORM=offscreen).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import os, sys, time
sys.path.insert(0, {root!r})
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
app = QApplication(sys.argv[:1])
from gui.mainwindow import MainWindow
from gui.training import warmup
case = {case!r}
if case == "no warm-up":
    warmup.Warmup.start = lambda self, config: None
w = MainWindow(background=True, training=False)
w.files.load(__import__("pathlib").Path({root!r}) / "graphs" / "resnet20.json")
w.show()
def pump(until, limit=300.0):
    end = time.perf_counter() + limit
    while not until() and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.002)
pump(lambda: w.canvas.viewport().isVisible())
app.processEvents()
w.install_training()
ctl = w.training
installed = time.perf_counter()
if case == "after warm-up":
    pump(lambda: ctl.warmup.done)
ready = time.perf_counter() - installed
pressed = time.perf_counter()
QTest.mouseClick(ctl.panel.start_button, Qt.MouseButton.LeftButton)
pump(lambda: bool(ctl.active) and ctl.active[0].steps.seen >= 1)
first = time.perf_counter() - pressed
print(f"RESULT ready_s={{ready:.2f}} first_step_s={{first:.2f}} setup={{ctl.active[0].device}}", flush=True)
ctl.stop_and_wait(60000)
w.document.undo_stack.setClean()
os._exit(0)
"""


def once(case: str) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=f"{tmp}/c",
                   XDG_DATA_HOME=f"{tmp}/d", XDG_CACHE_HOME=f"{tmp}/cache")
        code = CHILD.format(root=str(ROOT), case=case)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                             timeout=900, cwd=ROOT)
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT")), None)
    if line is None:
        raise SystemExit(f"{case}: no result\n{out.stderr[-2000:]}")
    head, _, setup = line.partition(" setup=")
    return {**dict(part.split("=", 1) for part in head.split()[1:]), "setup": setup}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cases = ("after warm-up", "at once", "no warm-up")
    seen: dict[str, list[float]] = {c: [] for c in cases}
    print(f"load average before: {os.getloadavg()}", flush=True)
    for r in range(args.runs):
        for case in cases[r % 3:] + cases[:r % 3]:
            result = once(case)
            seen[case].append(float(result["first_step_s"]))
            print(f"  run {r + 1} {case}: Start → first step {result['first_step_s']} s "
                  f"(clicked {result['ready_s']} s after the docks appeared; {result['setup']})", flush=True)
    for case, values in seen.items():
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"{case}: median {statistics.median(values):.2f} s (runs {runs})")
    print(f"load average after: {os.getloadavg()}  ({time.strftime('%H:%M:%S')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
