"""Hardening tests: Qt headless, shipped graph files at hand."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[2]
GRAPHS = ROOT / "graphs"
