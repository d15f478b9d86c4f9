"""Optional dependencies: what the window needs, and one line saying how to get it.

The command line needs only the core dependencies; the window needs the ``gui`` extra
(PySide6 and pyqtgraph). ``python main.py`` without them prints :func:`gui_missing`'s line
and exits 2 instead of ending in a traceback.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import TextIO

GUI_MODULES = ("PySide6", "pyqtgraph")  # import names of the `gui` extra's distributions


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken package, or one blocked in sys.modules
        return False


def missing_gui_modules() -> list[str]:
    """The window's packages that cannot be imported (empty when the window can start)."""
    return [m for m in GUI_MODULES if not _installed(m)]


def gui_missing(stream: TextIO | None = None) -> bool:
    """When this tree has the window but not its packages: print one line and return True."""
    missing = missing_gui_modules()
    if not missing or not _installed("gui"):
        return False
    print(f"skipwire: the window needs {' and '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
          "not installed: pip install 'skipwire[gui]' (./scripts/app does it), or use the command "
          "line: skipwire --help", file=stream or sys.stderr)
    return True
