"""Residual X-ray in the window: a dock with one panel per instrument, an X-ray menu, overlays.

``install_xray(window)`` adds them to a :class:`gui.mainwindow.MainWindow` and returns the
:class:`~gui.xray.controller.XrayController`. Nothing here imports torch or matplotlib at
start-up: the jobs import torch in their thread, a panel imports matplotlib when it first draws.

Modules: ``controller`` (dock, menu, shutdown), ``preflight_panel`` (automatic pre-flight check,
canvas tint), ``split_panel`` (gradient split, record with the probe), ``overlay`` (skip wires
drawn thicker), ``run_panels`` (lesion study, loss landscape), ``diff_panel`` (graph diff on two
canvases, runs overlaid), ``widgets`` (figure view, run field, job bar), ``jobs`` (worker thread).
"""

from __future__ import annotations

from typing import Any


def install_xray(window: Any) -> Any:
    """Add the X-ray dock and menu to ``window``; returns its XrayController."""
    from gui.xray.controller import XrayController

    return XrayController(window)
