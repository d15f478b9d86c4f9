"""The main window's size on any screen, and the default sizes of its dock areas.

The window opens at :data:`PREFERRED` or, on a smaller screen, at the screen's available area
less room for a window manager's frame, centred; a saved geometry is restored only while it
still fits the screen it was on. The dock areas' default sizes follow the window: narrow side
columns that leave the canvas most of the width, a bottom row for diagnostics, grown to give
the training plots room the first time they come to the front.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QRect, QSize
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QMainWindow

PREFERRED = QSize(1600, 1000)
FRAME_ROOM = QSize(16, 48)  # a frame and title bar, before the window manager reports them


@dataclass(frozen=True)
class DockSizes:
    """Default widths of the side dock areas and heights of the bottom one, in pixels."""

    left: int
    right: int
    bottom: int  # with Diagnostics or Summary in front
    plots: int  # the first time the Plots tab comes to the front: its 2×3 plots need the room


def dock_sizes(window: QSize) -> DockSizes:
    """Side columns of about a seventh and a quarter of the width; a bottom row of about 30% of
    the height, and 55% once the plots show (legible down to an 800-pixel-high screen)."""
    return DockSizes(left=_clamp(window.width() * 0.14, 180, 220),
                     right=_clamp(window.width() * 0.24, 280, 380),
                     bottom=_clamp(window.height() * 0.3, 210, 320),
                     plots=_clamp(window.height() * 0.55, 380, 560))


def _clamp(value: float, low: int, high: int) -> int:
    return int(min(max(value, low), high))


def available(window: QMainWindow) -> QRect:
    """The available geometry of the screen the window is on (or the primary screen)."""
    screen: QScreen | None = window.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else QRect(0, 0, 1280, 800)


def fitted(area: QRect, preferred: QSize = PREFERRED) -> QRect:
    """The first geometry of a window in ``area``: ``preferred`` if it fits with room for a
    frame, else as much as fits, centred."""
    width = min(preferred.width(), area.width() - FRAME_ROOM.width())
    height = min(preferred.height(), area.height() - FRAME_ROOM.height())
    rect = QRect(0, 0, max(width, 1), max(height, 1))
    rect.moveCenter(area.center())
    return rect


def fits(rect: QRect, area: QRect) -> bool:
    """Whether the window geometry ``rect`` lies inside ``area``."""
    return area.contains(rect)


def place(window: QMainWindow, saved: object, saved_rect: object = None) -> bool:
    """Restore the geometry ``saved`` (a QSettings value) if the window rectangle it was saved
    with, ``saved_rect`` ([x, y, width, height]), fits the available area of its screen now;
    else size the window to fit. True when the saved geometry was used."""
    rect = _rect(saved_rect)
    if isinstance(saved, QByteArray) and (rect is None or fits(rect, _area_at(rect, window))):
        restored = window.restoreGeometry(saved)
        now = window.geometry()
        if restored and (window.isMaximized() or fits(now, _area_at(now, window))):
            return True
    window.setGeometry(fitted(available(window)))
    return False


def saved_rect(window: QMainWindow) -> list[int]:
    """The window's normal rectangle as stored beside its geometry (see :func:`place`)."""
    rect = window.normalGeometry() if window.isMaximized() or window.isFullScreen() else window.geometry()
    return [rect.x(), rect.y(), rect.width(), rect.height()]


def _rect(value: object) -> QRect | None:
    """[x, y, width, height] read back from QSettings (which may return strings)."""
    try:
        x, y, width, height = (int(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return None
    return QRect(x, y, width, height)


def _area_at(rect: QRect, window: QMainWindow) -> QRect:
    screen = QGuiApplication.screenAt(rect.center())
    return screen.availableGeometry() if screen is not None else available(window)


def keep_on_screen(window: QMainWindow) -> None:
    """Once shown (the frame is known): shrink and move the window so its frame fits."""
    if window.isMaximized() or window.isFullScreen():
        return
    area, frame = available(window), window.frameGeometry()
    if fits(frame, area):
        return
    extra = QSize(frame.width() - window.width(), frame.height() - window.height())
    width = min(window.width(), area.width() - extra.width())
    height = min(window.height(), area.height() - extra.height())
    window.resize(width, height)
    left = min(max(frame.left(), area.left()), area.right() + 1 - width - extra.width())
    top = min(max(frame.top(), area.top()), area.bottom() + 1 - height - extra.height())
    window.move(left, top)
