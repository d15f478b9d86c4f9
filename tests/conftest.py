"""Suite-wide settings: Qt runs headless everywhere (before any test imports it)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
