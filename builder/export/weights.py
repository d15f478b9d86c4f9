"""Trained weights: read checkpoints and state-dict files, check them against a graph, save them.

Files are data: every read is ``torch.load(..., weights_only=True)``. A weights file may be
a state_dict, a dict holding one under ``"model"`` or ``"state_dict"`` (a Skipwire training
checkpoint), or a run folder holding ``checkpoint.pt``.

A run trains a copy of the graph fitted to its data set (``conv1`` taking 1 channel for
digits), and its folder keeps that copy as ``graph.json``. Weights from a run folder are only
ever paired with that graph (:func:`graph_for_weights`), so they load with ``strict=True``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from builder import torchfiles
from builder.graph import Graph
from builder.torchfiles import CHECKPOINT as CHECKPOINT  # re-exported: the evaluate command reads it here

RUN_GRAPH = "graph.json"  # the graph a run trained (fitted to its data set)
_PREFIXES = ("_orig_mod.", "module.")  # added by torch.compile and DistributedDataParallel


class WeightsError(ValueError):
    """A weights file that cannot be read or does not fit the graph (one line, names the file)."""


def checkpoint_file(path: str | os.PathLike[str]) -> Path:
    """The file to read for ``path``: itself, or ``checkpoint.pt`` inside a run folder."""
    p = Path(path)
    if p.is_dir():
        if not (p / CHECKPOINT).is_file():
            raise WeightsError(f"{p}: run folder has no {CHECKPOINT}")
        return p / CHECKPOINT
    return p


def run_folder(path: str | os.PathLike[str]) -> Path | None:
    """The run folder ``path`` is (or holds its ``checkpoint.pt``), when it has a ``graph.json``."""
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    if p.is_dir() or p.name == CHECKPOINT:
        return folder if (folder / RUN_GRAPH).is_file() else None
    return None


def trained_graph(path: str | os.PathLike[str]) -> Graph:
    """The graph a run trained (its folder's ``graph.json``); WeightsError names what is missing."""
    from builder import fileformat

    folder = run_folder(path)
    if folder is None:
        raise WeightsError(f"{path}: not a run folder (no {RUN_GRAPH} beside the checkpoint)")
    try:
        return fileformat.load(folder / RUN_GRAPH)
    except (OSError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WeightsError(first) from None


def graph_for_weights(graph: Graph, weights: str | os.PathLike[str] | None) -> Graph:
    """The graph to pair with ``weights``: the run's trained graph for a run's checkpoint, else ``graph``."""
    if weights is None or run_folder(weights) is None:
        return graph
    return trained_graph(weights)


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The model state_dict stored at ``path`` (file or run folder)."""
    file = checkpoint_file(path)
    data = torchfiles.read(file, "weights file", WeightsError)
    if isinstance(data, dict):
        for key in ("model", "state_dict"):
            if isinstance(data.get(key), dict):
                data = data[key]
                break
    if not isinstance(data, dict) or not data:
        raise WeightsError(f"{file}: expected a state_dict (or a dict with 'model'/'state_dict')")
    state = {}
    for key, value in data.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise WeightsError(f"{file}: entry {str(key)[:60]!r} is not a named tensor")
        for prefix in _PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix):]
        state[key] = value
    return state


def load_into(module: nn.Module, state: dict[str, Any], where: str) -> None:
    """``module.load_state_dict(state, strict=True)`` with a one-line error naming ``where``."""
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {_few(missing)}")
        if unexpected:
            parts.append(f"unexpected {_few(unexpected)}")
        raise WeightsError(f"{where}: weights do not fit the graph: {'; '.join(parts)}")
    for key, tensor in own.items():
        if tuple(state[key].shape) != tuple(tensor.shape):
            raise WeightsError(f"{where}: {key} has shape {tuple(state[key].shape)}, the graph needs "
                               f"{tuple(tensor.shape)}")
    module.load_state_dict(state, strict=True)


def _few(keys: list[str]) -> str:
    return ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")


def compiled_with_weights(graph: Graph, weights: str | os.PathLike[str] | None = None) -> nn.Module:
    """The compiled module of ``graph`` in eval mode, with the weights at ``weights`` if given."""
    from builder.compile import compile_graph

    module = compile_graph(graph)
    if weights is not None:
        load_into(module, read_state_dict(weights), str(checkpoint_file(weights)))
    return module.eval()


def save_state_dict(module: nn.Module, path: str | os.PathLike[str]) -> None:
    """Write ``module``'s state_dict atomically; loadable with ``torch.load(weights_only=True)``."""
    torchfiles.write({k: v.detach().cpu() for k, v in module.state_dict().items()}, path)
