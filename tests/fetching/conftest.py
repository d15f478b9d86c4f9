"""Fixtures for data-set fetching: a private data folder, no way out, a local server.

Every test here runs with ``SKIPWIRE_DATA`` in its own temporary folder and with
``SKIPWIRE_MIRRORS`` and every canonical location pointing at a closed port on 127.0.0.1,
so nothing can reach outside the machine even when a test forgets to name its mirror.
"""

from __future__ import annotations

from tests.fetching.server import private_data, server  # noqa: F401  (the fixtures, shared with tests/gui)
