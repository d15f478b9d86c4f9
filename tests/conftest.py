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
