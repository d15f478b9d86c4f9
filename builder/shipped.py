"""Files that ship with Skipwire: the example graphs of ``graphs/``.

In a source checkout (and its editable install) they are the repository's top-level
``graphs/`` folder; an installed wheel carries the same files as the package data
``builder/shipped_graphs/`` (``pyproject.toml`` maps that package onto ``graphs/``), found
through :mod:`importlib.resources` from the ``builder`` package. Nothing here depends on the current folder.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

FOLDER = "shipped_graphs"  # the package data's folder inside the builder package
DEFAULT_GRAPH = "resnet20"


class ResourceError(FileNotFoundError):
    """A shipped file that this installation lacks (the message names it and where it looked)."""


def graphs_dir() -> Path:
    """The folder of the shipped graph files."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "graphs").is_dir():
        return checkout / "graphs"
    folder = importlib.resources.files("builder") / FOLDER
    if not isinstance(folder, Path) or not folder.is_dir():  # missing, or inside a zip archive
        raise ResourceError(f"the shipped graphs are missing: no folder {folder} (reinstall skipwire)")
    return folder


def shipped_graphs() -> list[str]:
    """The names of the shipped graphs (file stems), sorted."""
    return sorted(p.stem for p in graphs_dir().glob("*.json"))


def shipped_graph(name: str = DEFAULT_GRAPH) -> Path:
    """The path of the shipped graph ``name`` (``resnet20`` → ``…/resnet20.json``)."""
    path = graphs_dir() / f"{name}.json"
    if not path.is_file():
        raise ResourceError(f"no shipped graph named {name!r} (shipped: {', '.join(shipped_graphs())})")
    return path
