"""The command-line tests reuse the training tests' tiny nets and data (one torch thread)."""

from __future__ import annotations

from tests.training.conftest import data  # noqa: F401  (a fixture)
