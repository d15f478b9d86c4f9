"""PySide6 views over the Qt-free core."""

from __future__ import annotations

import sys


def _guard_none_refcount() -> None:
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

    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(8):
        probe.setObjectName("probe")
    if sys.getrefcount(None) < before - 4:
        ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40


# The core (networkx's ~400 modules) before PySide6: once PySide6 is loaded, shiboken's
# __feature__ hook reads the source of every module imported after it (~0.4 s at start-up).
import builder.graph  # noqa: E402, F401

_guard_none_refcount()
