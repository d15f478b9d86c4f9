"""Shared look of Skipwire's views: one colour per block category.

The canvas, the palette and the inspector all take block colours from here so that a
Conv2d is the same blue everywhere.
"""

from __future__ import annotations

from PySide6.QtGui import QColor

from builder import catalog

# One calm, distinguishable colour per catalog category (fill colour of a block).
CATEGORY_COLORS: dict[str, str] = {
    "Input / Output": "#8d99ae",
    "Convolution": "#4f8fd6",
    "Normalization": "#9b7fd1",
    "Activations": "#e0a03c",
    "Pooling": "#3fae8c",
    "Shape": "#a0a8b0",
    "Dense": "#d96b6b",
    "Regularization": "#c9b44a",
    "Merge": "#5cb85c",
}
FALLBACK_COLOR = "#b0b0b0"  # a category added to the catalog before it gets a colour here

ERROR_COLOR = "#e53935"
WARNING_COLOR = "#f0a020"


def category_color(category: str) -> QColor:
    """The fill colour of blocks in ``category``."""
    return QColor(CATEGORY_COLORS.get(category, FALLBACK_COLOR))


def color_for(type_id: str) -> QColor:
    """The fill colour of a block of catalog type ``type_id`` (grey for unknown types)."""
    block_type = catalog.CATALOG.get(type_id)
    return category_color(block_type.category if block_type else "")
