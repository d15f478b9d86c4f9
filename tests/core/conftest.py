"""Fixtures for the core tests: the shipped graph files and small hand-made graphs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from builder.graph import Graph

ROOT = Path(__file__).resolve().parents[2]
GRAPHS = ROOT / "graphs"
SHIPPED_FILES = sorted(GRAPHS.glob("*.json"))


def chain(*types: str, shape: tuple[int, int, int] = (3, 8, 8), **params: dict) -> Graph:
    """Input → blocks of ``types`` in a line → Output; block ``i`` gets id ``b{i}``.

    ``params`` maps a block id to its parameters, e.g. ``b0={"out_channels": 4}``.
    """
    graph = Graph("chain")
    c, h, w = shape
    prev = graph.add_block("input", {"channels": c, "height": h, "width": w}, block_id="input")
    for i, type_id in enumerate(types):
        block_id = f"b{i}"
        graph.add_block(type_id, params.get(block_id), block_id=block_id)
        graph.connect(prev, block_id, 0)
        prev = block_id
    graph.add_block("output", block_id="output")
    graph.connect(prev, "output", 0)
    return graph


def run_python(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter at the repository root."""
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python main.py ARGS`` as a user would."""
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(params=SHIPPED_FILES, ids=lambda p: p.stem)
def shipped(request: pytest.FixtureRequest) -> Path:
    """Each graph file in graphs/."""
    return request.param  # type: ignore[no-any-return]
