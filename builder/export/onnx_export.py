"""ONNX export through ``torch.onnx`` (the dynamo-based exporter; needs onnx and onnxscript)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from pathlib import Path

import torch
from torch import nn

from builder.graph import Graph


class OnnxExportError(ValueError):
    """The ONNX exporter is missing or failed (one line)."""


def export_onnx(graph: Graph, path: str | os.PathLike[str], weights: str | os.PathLike[str] | None = None,
                opset: int | None = None) -> Path:
    """Write ``graph`` (with ``weights`` if given) as an ONNX file with a dynamic batch axis."""
    from builder.export.weights import compiled_with_weights
    from builder.validate import validate

    report = validate(graph)
    module = compiled_with_weights(graph, weights)
    input_id = next(b.id for b in graph.blocks() if b.type == "input")
    shape = report.shapes[input_id]
    write_onnx(module, (2, *shape), path, opset)
    return Path(path)


def write_onnx(module: nn.Module, input_size: tuple[int, ...], path: str | os.PathLike[str],
               opset: int | None = None) -> None:
    """Export ``module`` (eval mode) for inputs of ``input_size`` with batch as a dynamic axis."""
    try:
        import onnxscript  # noqa: F401  (the exporter needs it; fail with a clear message)
    except ImportError:
        raise OnnxExportError("ONNX export needs the packages onnx and onnxscript "
                              "(pip install onnx onnxscript)") from None
    module = module.eval()
    sample = torch.zeros(*input_size)
    batch = torch.export.Dim("batch", min=1, max=65536)
    quiet = io.StringIO()
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(quiet):
            warnings.simplefilter("ignore")
            torch.onnx.export(module, (sample,), str(path), input_names=["input"], output_names=["logits"],
                              dynamic_shapes=({0: batch},), opset_version=opset, dynamo=True,
                              external_data=False, verbose=False)
    except Exception as exc:  # the exporter raises many types; report one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OnnxExportError(f"{path}: ONNX export failed: {first[:300]}") from None
    finally:
        logger.setLevel(level)
