"""Screenshots of every journey step of issue 10 in the real window, at two window sizes.

    Xvfb :51 -screen 0 1600x1000x24 -nolisten tcp &
    DISPLAY=:51 python tools/journey_shots.py /tmp/me/journeys            # both sizes
    DISPLAY=:51 python tools/journey_shots.py /tmp/me/journeys --sizes 1280x800

The journeys are those of the tests (``tests/gui/journeys/scenes.py``), driven through the
widgets only: a residual block built from the palette and its Add fixed (a), one epoch (b),
exports of the trained weights checked against the run (f), Compare depths from the button and
the menu (c), the plain twin (d), pause/resume/stop (e), and a restarted window (g). For each
size the window is made anew, on settings, recent files and runs in a fresh temporary folder,
and placed at the screen's top-left corner with that size (the X screen must be at least as
large: there is no window manager). Each step is saved as ``OUT/WxH/STEP.png`` (the window's
part of the screen, popups included). Each size runs in a process of its own. OUT must be
outside the repository. Needs DISPLAY.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


class Shooter:
    """Saves the window's part of the X screen as ``folder/NAME.png``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.window: Any = None
        self.saved: list[Path] = []

    def __call__(self, name: str) -> None:
        from PySide6.QtWidgets import QApplication

        frame = self.window.frameGeometry()
        screen = QApplication.primaryScreen()
        pixmap = screen.grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
        if pixmap.isNull():
            pixmap = self.window.grab()
        path = self.folder / f"{name}.png"
        pixmap.save(str(path))
        self.saved.append(path)
        print(path, flush=True)


def new_window(size: tuple[int, int], shooter: Shooter) -> Any:
    """A shown main window at the top-left corner, ``size`` pixels, that the shooter grabs: as
    ``main.py`` opens it without a file (the start page, the app's own exception hook)."""
    from PySide6.QtTest import QTest

    from gui.app import install_excepthook
    from gui.mainwindow import MainWindow

    window = MainWindow()
    window.show_start_page()
    install_excepthook(window)
    window.setGeometry(0, 0, *size)
    window.show()
    QTest.qWaitForWindowExposed(window)
    window.setGeometry(0, 0, *size)  # no window manager: the first show may keep the saved size
    shooter.window = window
    return window


def journeys(window: Any, shooter: Shooter, size: tuple[int, int], exports: Path) -> None:
    """The steps a–g in one window (f right after b: it exports b's completed run)."""
    from tests.gui.journeys import scenes
    from tests.gui.journeys.driver import Journey

    def restart() -> Any:
        return new_window(size, shooter)

    with Journey(window, shot=shooter) as j:
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("a", lambda: scenes.build_residual_block(j)),
            ("b", lambda: scenes.train_one_epoch(j)),
            ("f", lambda: scenes.check_exports(scenes.export_trained(j, exports))),
            ("c", lambda: scenes.compare_depths(j)),
            ("d", lambda: scenes.plain_twin(j)),
            ("e", lambda: scenes.pause_resume_stop(j)),
            ("g", lambda: scenes.restart_finds_runs_and_settings(j, restart)),
        ]
        for letter, step in steps:
            began = time.monotonic()
            step()
            print(f"step {letter}: {time.monotonic() - began:.1f} s", flush=True)
        if j.closed:
            print(f"closed by the watchdog: {j.closed}", flush=True)
        for message in j.messages:
            if message.startswith("Internal error"):
                print(message, flush=True)
        j.window.document.undo_stack.setClean()  # type: ignore[attr-defined]
        j.window.close()


def shoot(size: tuple[int, int], folder: Path) -> int:
    """All the steps at one window size, in this process, with settings and runs of its own."""
    home = Path(tempfile.mkdtemp(prefix="skipwire-journey-shots-"))
    os.environ["HOME"] = str(home)
    for name in ("CONFIG", "DATA", "CACHE"):
        os.environ[f"XDG_{name}_HOME"] = str(home / name.lower())
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    folder.mkdir(parents=True, exist_ok=True)

    from PySide6.QtWidgets import QApplication

    from gui import files

    app = QApplication(["skipwire-journey-shots"])
    files.ensure_app_names()
    shooter = Shooter(folder)
    journeys(new_window(size, shooter), shooter, size, home)
    print(f"{len(shooter.saved)} screenshots in {folder}", flush=True)
    app.quit()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the PNGs (outside the repository)")
    parser.add_argument("--sizes", default="1600x1000,1280x800", help="window sizes, comma-separated")
    args = parser.parse_args()
    out = args.out.resolve()
    if out == ROOT or ROOT in out.parents:
        parser.error(f"{out} is inside the repository: screenshots are not committed")
    if not os.environ.get("DISPLAY"):
        parser.error("no DISPLAY: start Xvfb (see the docstring) and give its display")
    sizes = [text.strip() for text in args.sizes.split(",") if text.strip()]
    if len(sizes) == 1:
        size = parse_size(sizes[0])
        return shoot(size, out / f"{size[0]}x{size[1]}")
    failed = 0
    for text in sizes:  # one process per size: Qt reads the settings folders once per process
        failed |= subprocess.call([sys.executable, __file__, str(out), "--sizes", text])
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
