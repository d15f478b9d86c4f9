"""Start the desktop editor: ``python main.py [graph.json]`` → :func:`run`.

With no file (and no crash to recover) the window opens on its start page; nothing is put on
the canvas unasked.

Start-up stays torch-free until the window is drawn: the window, the canvas and validation
need only the Qt-free core, and torch (for the parameter summary) is imported in a
background thread after the first paint. With ``SKIPWIRE_FIRST_PAINT=1`` in the
environment the app prints ``first_paint_s=… torch_loaded=…`` at its first paint and
quits (used by ``bench/bench_gui.py``); ``first_paint_s`` counts from entering :func:`run`,
``process_s`` from the start of the process (interpreter, imports of the core and Qt included).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QWidget

FIRST_PAINT_ENV = "SKIPWIRE_FIRST_PAINT"


class _AfterFirstPaint(QObject):
    """Calls ``action`` once, on the event loop turn after ``target``'s first paint."""

    def __init__(self, action: Any, parent: QObject) -> None:
        super().__init__(parent)
        self.action = action
        self.done = False

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Paint and not self.done:
            self.done = True
            QTimer.singleShot(0, self.action)
        return False


class _FirstPaint(QObject):
    """Prints the time to the first paint of ``target`` and quits the app."""

    def __init__(self, started: float, app: QApplication) -> None:
        super().__init__(app)
        self.started = started
        self.app = app
        self.done = False

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Paint and not self.done:
            self.done = True
            elapsed = time.perf_counter() - self.started
            QTimer.singleShot(0, lambda: self._report(elapsed))
        return False

    def _report(self, elapsed: float) -> None:
        since_start = process_age()
        whole = f" process_s={since_start:.2f}" if since_start is not None else ""
        print(f"first_paint_s={elapsed:.3f}{whole} torch_loaded={'torch' in sys.modules}", flush=True)
        self.app.exit(0)


def guard_none_refcount() -> None:
    """Work around shiboken6 6.12 on CPython < 3.12 dropping a reference to None per void call.

    Every call of a Qt method that returns nothing (``update()``, ``setPos()``…) decrements
    None's reference count without having incremented it (the binding assumes an immortal
    None, which only CPython 3.12+ has). After some tens of thousands of calls None would be
    "deallocated" and the interpreter aborts ("none_dealloc"). Detect the leak once and, if
    present, give None a reference count no session can exhaust.
    """
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    import ctypes

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(8):
        probe.setObjectName("probe")
    if sys.getrefcount(None) < before - 4:
        ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40


def process_age() -> float | None:
    """Seconds since this process started (Linux /proc, 10 ms resolution), or None."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat, open("/proc/uptime", encoding="ascii") as up:
            start_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
            uptime = float(up.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def no_display_problem() -> str | None:
    """On Linux without X11/Wayland (and no QT_QPA_PLATFORM), what to do instead of a Qt abort."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return ("skipwire: no display (DISPLAY and WAYLAND_DISPLAY are unset). Run it on a desktop, "
            "under Xvfb (DISPLAY=:99), or use the command line: python main.py summary FILE.json")


def install_excepthook(window: Any) -> None:
    """An exception escaping a Qt slot is a bug: keep its traceback on stderr, autosave the
    document at once, and say so in the status bar (the editor keeps running)."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        previous(kind, value, tb)
        saved = False
        try:
            saved = window.autosaver.save_now()
        except Exception:  # noqa: BLE001 (reporting must not raise again)
            pass
        note = " — your work was autosaved" if saved else ""
        window.statusBar().showMessage(f"Internal error: {kind.__name__}: {value}{note}", 15000)

    sys.excepthook = hook


def _move_legacy_data(files: Any) -> None:
    """Bring runs and recovery files from the old ``…/Skipwire/main.py/`` folder (a failure is
    one line on stderr: the old files stay where they were)."""
    try:
        files.migrate_legacy_data()
    except OSError as exc:
        print(f"skipwire: could not move data from an older version's folder: {exc}", file=sys.stderr)


def run(argv: list[str]) -> int:
    """Open the editor on ``argv[0]`` (a graph file), or the start page; returns the exit code."""
    started = time.perf_counter()
    guard_none_refcount()
    problem = no_display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "skipwire"])
    from gui import files
    from gui.mainwindow import MainWindow

    files.ensure_app_names()
    _move_legacy_data(files)
    measuring = bool(os.environ.get(FIRST_PAINT_ENV))
    window = MainWindow(background=not measuring, training=False)
    # Offer a crash's recovery file before opening anything: loading a graph discards it.
    restored = False if measuring else window.files.offer_recovery()
    opened = restored or bool(argv) and window.files.load(Path(argv[0]))
    if not opened:
        window.show_start_page()
    viewport = _first_painted(window)
    if measuring:
        viewport.installEventFilter(_FirstPaint(started, app))  # type: ignore[arg-type]
    else:  # the training docks import numpy and pyqtgraph: after the window is drawn
        viewport.installEventFilter(_AfterFirstPaint(window.install_training, window))
    install_excepthook(window)
    window.show()
    QTimer.singleShot(0, window.frame_graph)
    return app.exec()


def _first_painted(window: Any) -> QWidget:
    """What the window draws first: the viewport of its canvas or of its start page."""
    page = window.pages.currentWidget()
    return page.viewport() if isinstance(page, QAbstractScrollArea) else page
