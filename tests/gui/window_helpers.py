"""Reaching the window as a person does: actions found through the menu bar by their text
(one path, or every item of every menu), and a record of every exception that escapes a slot
(``sys.excepthook``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu


def plain(text: str) -> str:
    """A menu or button text as it reads: without its & marks (``&&`` is a literal &)."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def menu_action(window: QMainWindow, *path: str) -> QAction:
    """The action at ``path`` (menu titles, then the item's text, without the & marks) in the
    window's menu bar, e.g. ``menu_action(window, "File", "Open Recent", "Clear list")``."""
    actions = window.menuBar().actions()
    action: QAction | None = None
    for depth, text in enumerate(path):
        action = next((a for a in actions if plain(a.text()) == text), None)
        if action is None:
            found = [plain(a.text()) for a in actions if not a.isSeparator()]
            raise AssertionError(f"no {text!r} in {' › '.join(path[:depth]) or 'the menu bar'}: {found}")
        if depth < len(path) - 1:
            menu = action.menu()
            assert isinstance(menu, QMenu), f"{text!r} is not a menu"
            menu.aboutToShow.emit()  # menus filled on show (Open Recent) fill now
            actions = menu.actions()
    assert action is not None
    return action


def menu_texts(window: QMainWindow, *path: str) -> list[str]:
    """The item texts of the menu at ``path`` (after it has been filled for showing)."""
    menu = menu_action(window, *path).menu()
    assert isinstance(menu, QMenu)
    menu.aboutToShow.emit()
    return [plain(a.text()) for a in menu.actions() if not a.isSeparator()]


def menu_items(window: QMainWindow) -> list[tuple[tuple[str, ...], QAction]]:
    """Every item of every menu in the menu bar, submenus walked (filled for showing first),
    as (path of texts, action); separators and the submenus' own entries are left out."""
    found: list[tuple[tuple[str, ...], QAction]] = []

    def walk(menu: QMenu, path: tuple[str, ...]) -> None:
        menu.aboutToShow.emit()
        for action in menu.actions():
            if action.isSeparator():
                continue
            here = (*path, plain(action.text()))
            sub = action.menu()
            if isinstance(sub, QMenu):
                walk(sub, here)
            else:
                found.append((here, action))

    for top in window.menuBar().actions():
        menu = top.menu()
        if isinstance(menu, QMenu):
            walk(menu, (plain(top.text()),))
    return found


@pytest.fixture
def escaped(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Exceptions that reached ``sys.excepthook`` during the test (it fails if there are any)."""
    seen: list[Any] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, value, tb: seen.append(value))
    yield seen
    assert not seen, f"exceptions escaped a slot: {seen!r}"
