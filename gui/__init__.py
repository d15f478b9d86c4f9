"""PySide6 views over the Qt-free core."""

from __future__ import annotations

# The core (networkx's ~400 modules) before PySide6: once PySide6 is loaded, shiboken's
# __feature__ hook reads the source of every module imported after it (~0.4 s at start-up).
import builder.graph  # noqa: E402, F401

