"""The block canvas: scene items for blocks, wires and groups, and the editing view."""

from __future__ import annotations

from gui.canvas.view import BLOCK_MIME, CanvasView

__all__ = ["BLOCK_MIME", "CanvasView"]
