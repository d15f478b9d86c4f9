"""ONNX export through ``torch.onnx``.

Two exporters: the TorchScript-based one (``dynamo=False``: under a second for a ResNet,
deprecated but present in torch 2.x) and the torch.export-based one (``dynamo=True``: needs
onnxscript, 10-25 s on a CPU). ``exporter="auto"`` uses the first and falls back to the second
when it is missing or fails. Both write a dynamic batch axis.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from builder.graph import Graph


class OnnxExportError(ValueError):
    """The ONNX exporter is missing or failed (one line)."""


def export_onnx(graph: Graph, path: str | os.PathLike[str], weights: str | os.PathLike[str] | None = None,
                opset: int | None = None, exporter: str = "auto") -> Path:
    """Write ``graph`` (with ``weights`` if given) as an ONNX file with a dynamic batch axis.

    Weights from a run folder go with the graph that run trained (its ``graph.json``).
    """
    from builder.export.weights import compiled_with_weights, graph_for_weights

    graph = graph_for_weights(graph, weights)
    module = compiled_with_weights(graph, weights)
    write_onnx(module, sample_size(graph), path, opset, exporter)
    return Path(path)


def sample_size(graph: Graph) -> tuple[int, ...]:
    """The input size the exporter traces with: a batch of 2 of the graph's Input shape."""
    from builder.validate import validate

    report = validate(graph)
    input_id = next(b.id for b in graph.blocks() if b.type == "input")
    return (2, *report.shapes[input_id])


def write_onnx(module: nn.Module, input_size: tuple[int, ...], path: str | os.PathLike[str],
               opset: int | None = None, exporter: str = "auto") -> None:
    """Export ``module`` (eval mode) for inputs of ``input_size`` with batch as a dynamic axis."""
    if exporter not in ("auto", "torchscript", "dynamo"):
        raise OnnxExportError(f"unknown ONNX exporter {exporter!r}; use auto, torchscript or dynamo")
    module = module.eval()
    sample = torch.zeros(*input_size)
    first_error = None
    if exporter in ("auto", "torchscript"):
        try:
            _quietly(lambda: torch.onnx.export(
                module, (sample,), str(path), input_names=["input"], output_names=["logits"],
                dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=opset,
                dynamo=False, do_constant_folding=True))
            return
        except Exception as exc:  # the exporter raises many types; try the other one
            first_error = exc
            if exporter == "torchscript":
                raise OnnxExportError(f"{path}: ONNX export failed: {_first_line(exc)}") from None
    try:
        import onnxscript  # noqa: F401  (the dynamo exporter needs it)
    except ImportError:
        why = f" (TorchScript exporter: {_first_line(first_error)})" if first_error else ""
        raise OnnxExportError(f"ONNX export needs the package onnxscript{why}") from None
    batch = torch.export.Dim("batch", min=1, max=65536)
    try:
        _quietly(lambda: torch.onnx.export(
            module, (sample,), str(path), input_names=["input"], output_names=["logits"],
            dynamic_shapes=({0: batch},), opset_version=opset, dynamo=True, external_data=False))
    except Exception as exc:
        raise OnnxExportError(f"{path}: ONNX export failed: {_first_line(exc)}") from None


def _quietly(run: Callable[[], object]) -> None:
    """Run an export without its warnings, progress prints and log lines."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            run()
    finally:
        logger.setLevel(level)


def _first_line(exc: BaseException | None) -> str:
    text = str(exc).strip() if exc is not None else ""
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]
