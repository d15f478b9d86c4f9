"""Suite-wide settings: Qt runs headless everywhere (before any test imports it).

The offscreen platform's own screen is 800×800, smaller than any real one; the window sizes
itself to fit its screen, so the tests give it a 1600×1000 screen (``offscreen_screen.json``).
"""

from __future__ import annotations

import os
from pathlib import Path

SCREEN = Path(__file__).with_name("offscreen_screen.json")

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if os.environ["QT_QPA_PLATFORM"] == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={SCREEN}"


def pytest_configure(config: object) -> None:
    """The app guards against PySide6 6.12's None-refcount leak at start-up (gui.app); long GUI
    test runs need the same guard, taken here once per test process where PySide6 is installed."""
    try:
        from gui.app import guard_none_refcount
    except ImportError:  # a core-only environment: no Qt, nothing to guard
        return
    guard_none_refcount()
