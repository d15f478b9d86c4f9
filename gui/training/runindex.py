"""The runs folder as the window remembers it: a small ``run.json`` per run and a cheap scan.

The engine's run folder holds ``graph.json`` (the graph actually trained, fitted to the data),
``config.json``, the CSVs and ``checkpoint.pt``. The window adds ``original_graph.json`` (the
document's graph before fitting) and ``run.json``: the run's readable name, kind, number, status
and the changes fitting made. At start-up :func:`scan` lists run folders newest first reading
nothing (names and times only); the caller reads ``run.json``, ``config.json`` and
``metrics.csv`` of each (small files) and leaves ``steps.csv``/``gradients.csv`` for later.
No Qt, no torch.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from builder.fileformat import atomic_write
from builder.training.run_paths import ORIGINAL_GRAPH

META = "run.json"
ORIGINAL = ORIGINAL_GRAPH  # the window's name for it
FORMAT = "skipwire-run"
SCAN_LIMIT = 200  # newest run folders listed at start-up (older ones: Open run…)
_NUMBER = re.compile(r"· #(\d+)$")


def display_name(graph_name: str, dataset: str, number: int) -> str:
    """``resnet20 · digits · #3``."""
    return f"{graph_name or 'graph'} · {dataset} · #{number}"


def next_number(names: Iterable[str], graph_name: str, dataset: str) -> int:
    """One more than the highest ``#n`` among ``names`` for this graph and data set."""
    prefix = f"{graph_name or 'graph'} · {dataset} · #"
    used = [int(m.group(1)) for n in names if n.startswith(prefix) and (m := _NUMBER.search(n))]
    return max(used, default=0) + 1


def folder_name(stamp: str, graph_name: str, dataset: str, number: int) -> str:
    """A file-system-safe run folder name: ``20250101-120000-resnet20-digits-3``."""
    safe = re.sub(r"[^0-9A-Za-z_.-]+", "_", f"{graph_name or 'graph'}-{dataset}-{number}")
    return f"{stamp}-{safe}"


def write_meta(run_dir: str | os.PathLike[str], **meta: Any) -> None:
    """Write (or update) the run folder's ``run.json``; keys given replace stored ones."""
    path = Path(run_dir) / META
    data = read_meta(run_dir) or {"format": FORMAT, "format_version": 1}
    data.update(meta)
    data.setdefault("started", time.time())
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(data, indent=2) + "\n")


def read_meta(run_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The run folder's ``run.json`` as a dict, or None when it is missing or not one."""
    try:
        data = json.loads((Path(run_dir) / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def scan(root: str | os.PathLike[str], limit: int = SCAN_LIMIT) -> list[Path]:
    """Run folders under ``root`` (those with a ``config.json``), newest first."""
    found: list[tuple[float, str, Path]] = []
    try:
        with os.scandir(root) as entries:
            for entry in entries:
                if not entry.is_dir() or entry.name.startswith("."):
                    continue
                try:
                    made = os.stat(os.path.join(entry.path, "config.json")).st_mtime
                except OSError:
                    continue
                found.append((made, entry.name, Path(entry.path)))
    except OSError:
        return []
    found.sort(key=lambda t: (t[0], t[1]), reverse=True)
    return [path for _made, _name, path in found[:limit]]
