"""Open a run folder for the X-ray: its graph, settings, data and trained weights.

A run folder (``main.py train``, the window, ``main.py xray``) holds ``graph.json`` (the graph
as trained, already fitted to the data), ``config.json`` and ``checkpoint.pt``. Every problem is
an :class:`XrayError` with one line naming the file: a folder without a checkpoint, a damaged
file, or a checkpoint of another graph than the one asked for.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builder import fileformat
from builder.graph import Graph
from builder.xray.diff import diff

CHECKPOINT, GRAPH, CONFIG = "checkpoint.pt", "graph.json", "config.json"
SPLIT_CSV = "xray_split.csv"  # written by main.py xray / split next to the run's own CSVs


class XrayError(ValueError):
    """A user error: one line naming the file."""


@dataclass
class Run:
    folder: Path
    graph: Graph
    config: Any  # TrainConfig
    module: Any  # fx.GraphModule with the checkpoint's weights, in eval mode
    epoch: int
    history: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return self.graph.name


def run_paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """``(folder, checkpoint)`` for a run folder or a checkpoint file in one."""
    p = Path(path)
    if p.is_dir():
        folder, checkpoint = p, p / CHECKPOINT
        if not checkpoint.is_file():
            raise XrayError(f"{folder}: no {CHECKPOINT} in this run folder (the run ended before "
                            "its first checkpoint, or this is not a run folder)")
        return folder, checkpoint
    if not p.exists():
        raise XrayError(f"{p}: no such run folder or checkpoint")
    return p.parent, p


def _same_graph(expected: Graph, found: Graph, where: Path) -> None:
    """XrayError unless ``found`` (the run's graph) is ``expected`` fitted to the same data."""
    from builder.training.adapt import adapt_graph
    from builder.validate import validate

    report = validate(found)
    inp = next((b for b in found.blocks() if b.type == "input"), None)
    out = next((b for b in found.blocks() if b.type == "output"), None)
    fitted = expected
    if inp is not None and out is not None and len(report.shapes.get(out.id, ())) == 1:
        shape = (inp.params["channels"], inp.params["height"], inp.params["width"])
        try:
            fitted, _ = adapt_graph(expected, shape, report.shapes[out.id][0])
        except ValueError:
            fitted = expected
    changes = diff(fitted, found)
    if not changes.same:
        first = (changes.blocks[0].block_id if changes.blocks else str(changes.wires[0]))
        raise XrayError(f"{where}: this checkpoint is of graph '{found.name}', not '{expected.name}' "
                        f"({len(changes.blocks)} block(s) and {len(changes.wires)} wire(s) differ, "
                        f"e.g. {first})")


def load_run(path: str | os.PathLike[str], graph: Graph | None = None, device: str = "cpu") -> Run:
    """The run at ``path`` with its weights loaded; ``graph`` (optional) must be the run's graph."""
    import torch

    from builder.compile import CompileError, compile_graph
    from builder.training import records
    from builder.training.config import ConfigError, TrainConfig

    folder, checkpoint = run_paths(path)
    run_graph = _read_graph(folder / GRAPH) if (folder / GRAPH).is_file() else None
    if graph is not None and run_graph is not None:
        _same_graph(graph, run_graph, checkpoint)
    graph = run_graph or graph
    if graph is None:
        raise XrayError(f"{folder}: no {GRAPH} in this run folder; give the graph file too")
    try:
        config = TrainConfig.load(folder / CONFIG) if (folder / CONFIG).is_file() else TrainConfig()
        state = records.load_checkpoint(checkpoint)
        module = compile_graph(graph)
    except (ConfigError, CompileError, ValueError) as exc:
        raise XrayError(str(exc).splitlines()[0]) from None
    model = state.get("model")
    try:
        module.load_state_dict(model if isinstance(model, dict) else {})
    except (RuntimeError, KeyError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise XrayError(f"{checkpoint}: this checkpoint is of another graph than {graph.name} "
                        f"({first.rstrip(':. ')})") from None
    module.to(torch.device(device)).eval()
    history = state.get("history", [])
    return Run(folder, graph, config, module, int(state.get("epoch", 0)),
               history if isinstance(history, list) else [])


def _read_graph(path: Path) -> Graph:
    try:
        return fileformat.load(path)
    except fileformat.GraphFileError as exc:
        raise XrayError(str(exc)) from None
