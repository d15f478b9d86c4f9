"""Fixtures for data-set fetching: a private data folder, no way out, a local server.

Every test here runs with ``SKIPWIRE_DATA`` in its own temporary folder and with
``SKIPWIRE_MIRRORS`` and every canonical location pointing at a closed port on 127.0.0.1,
so nothing can reach outside the machine even when a test forgets to name its mirror.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fetching.server import LocalServer, isolate, start_serving


@pytest.fixture(autouse=True)
def private_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    """A running local server whose archives every source points at (canonical locations)."""
    srv = start_serving(monkeypatch)
    yield srv
    srv.stop()
