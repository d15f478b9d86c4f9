"""A fixture for GUI tests: every exception that reaches ``sys.excepthook`` fails the test.

An exception escaping a Qt slot or virtual override is printed through ``sys.excepthook``
and the program carries on; a test importing :func:`hook` (an autouse fixture) fails on it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Collect what reaches ``sys.excepthook``; the test fails at teardown if anything did."""
    seen: list[Any] = []
    monkeypatch.setattr(sys, "excepthook", lambda *args: seen.append(args))
    yield seen
    assert seen == [], seen
