"""Any screen: the window opens at a size that fits the screen, with every dock tab and the
status bar on it, the Inspector uncut, room for the canvas and a bottom row tall enough for the
plots; a saved geometry is used only while it still fits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QByteArray, QRect, QSize

from gui import files, window_geometry

from .conftest import ROOT
from .window_helpers import escaped  # noqa: F401 (escaped: a fixture)

DRIVER = Path(__file__).with_name("screen_fit_driver.py")
SCREENS = {  # name: (offscreen screen in logical pixels, device pixel ratio, extra environment)
    "1280x800": ((1280, 800), 1, {}),
    "1600x1000": ((1600, 1000), 1, {}),
    "2560x1600 at 2x": ((2560, 1600), 1, {"QT_SCALE_FACTOR": "2"}),
}


def _inside(rect: list[int], area: list[int]) -> bool:
    x, y, w, h = rect
    ax, ay, aw, ah = area
    return w > 0 and h > 0 and ax <= x and ay <= y and x + w <= ax + aw and y + h <= ay + ah


def _open_on(screen: str, tmp_path: Path) -> dict[str, Any]:
    (width, height), ratio, extra = SCREENS[screen]
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "s", "x": 0, "y": 0, "width": width, "height": height,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": ratio}]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}", **extra,
               XDG_CONFIG_HOME=str(tmp_path / "c"), XDG_DATA_HOME=str(tmp_path / "d"))
    out = subprocess.run([sys.executable, str(DRIVER)], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_window_fits_the_screen(screen: str, tmp_path: Path) -> None:
    seen = _open_on(screen, tmp_path)
    area, frame = seen["screen"], seen["frame"]
    if screen.endswith("2x"):
        assert seen["ratio"] == 2 and area[2:] == [1280, 800]  # what Qt lays out in
    assert _inside(frame, area), seen
    assert frame[2] >= area[2] * 0.9 and frame[3] >= area[3] * 0.85  # and uses most of it
    assert seen["status_visible"] and _inside(seen["status"], frame), seen
    on_screen = [text for text, rect in seen["tabs"].items() if _inside(rect, frame)]
    assert any("Diagnostics" in t and "Summary" in t and "Plots" in t for t in on_screen), seen["tabs"]
    assert any("Inspector" in t and "Training" in t for t in on_screen), seen["tabs"]
    tab_titles = {title for text in on_screen for title in text.split(" | ")}
    for name, (title, rect) in seen["docks"].items():  # each dock: on screen, or its tab is
        assert _inside(rect, frame) or title in tab_titles, (name, title, rect, on_screen)
    canvas = seen["canvas"]
    assert canvas[2] >= frame[2] * 0.45 and canvas[3] >= 300, canvas
    bottom = seen["docks"]["diagnostics_dock"][1]
    assert bottom[3] >= 180 and bottom[1] > canvas[1] + canvas[3] - 1, (bottom, canvas)
    plots, rest = seen["plots"], seen["canvas_with_plots"]  # the plots get room when they show
    assert plots[3] >= max(360, 0.45 * frame[3]) and _inside(plots, frame), (plots, frame)
    assert rest[3] >= 200, rest
    for side in ("palette_dock", "inspector_dock"):
        assert seen["docks"][side][1][2] <= frame[2] * 0.36, (side, seen["docks"][side])
    assert seen["inspector_editors"] >= 6 and seen["inspector_cut"] == [], seen
    assert seen["inspector_min_width"] <= seen["inspector_viewport_width"], seen


def test_dock_sizes_follow_the_window() -> None:
    small, large = window_geometry.dock_sizes(QSize(1264, 752)), window_geometry.dock_sizes(QSize(1584, 952))
    assert small.bottom >= 200 and large.bottom > small.bottom
    assert small.plots >= 380 and large.plots > large.bottom
    assert small.left + small.right <= 0.45 * 1264


@pytest.fixture
def fresh_layout():  # type: ignore[no-untyped-def]
    """No saved window layout before the test, and none left behind for the tests after it."""
    keys = ("window/geometry", "window/rect", "window/state")
    for key in keys:
        files.settings().remove(key)
    windows: list[Any] = []
    yield windows
    for window in windows:
        window.close()  # closing saves the layout: then it is removed
    for key in keys:
        files.settings().remove(key)


@pytest.mark.usefixtures("escaped")
def test_a_saved_geometry_is_used_only_if_it_still_fits(qtbot, fresh_layout) -> None:  # type: ignore[no-untyped-def]
    from gui.mainwindow import MainWindow

    def window() -> MainWindow:
        made = MainWindow(background=False, training=False)
        qtbot.addWidget(made)
        fresh_layout.append(made)
        return made

    first = window()
    area = window_geometry.available(first)
    assert first.geometry() == window_geometry.fitted(area)  # nothing saved: fitted to the screen
    inside = QRect(area.x() + 20, area.y() + 30, area.width() // 2, area.height() // 2)
    first.setGeometry(inside)
    first.save_layout()
    assert window().geometry() == inside
    huge = QRect(area.x() - 50, area.y(), area.width() + 900, area.height() + 600)
    files.settings().setValue("window/rect", [huge.x(), huge.y(), huge.width(), huge.height()])
    third = window()
    assert area.contains(third.geometry()) and third.geometry() == window_geometry.fitted(area)
    files.settings().setValue("window/geometry", QByteArray(b"not a geometry"))
    files.settings().remove("window/rect")
    assert window().geometry() == window_geometry.fitted(area)
