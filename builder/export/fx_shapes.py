"""Shapes (and integer values) of a traced module's nodes, found without allocating activations.

:func:`propagate` runs the traced module on a *meta* copy (parameters and input on the
``meta`` device: shapes are computed, no memory is taken), checks that the module's
parameters and outputs fit the memory limit, and only when the meta run fails runs the
real module, which then reports the module's own error. Every node gets ``tensor_meta``
(tensors) or ``value`` (sizes and other integers: ``x.size(0)``, ``x.shape[3]``).
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
from typing import Any

import torch
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp

from builder import resources


class ShapeFailure(ValueError):
    """The module cannot run on the input, or needs more memory than the limit (one line)."""


class _ValueProp(ShapeProp):
    """ShapeProp that also records the integer results (sizes, dimensions) of nodes."""

    def run_node(self, n: fx.Node) -> Any:
        result = super().run_node(n)
        if isinstance(result, bool | int | float) or (
                isinstance(result, tuple) and all(isinstance(v, int) for v in result)):
            n.meta["value"] = tuple(result) if isinstance(result, tuple) else result
        return result


def _meta_copy(traced: fx.GraphModule) -> fx.GraphModule:
    """``traced`` with every parameter and buffer on the meta device (nothing is copied)."""
    memo: dict[int, Any] = {}
    for tensor in [*traced.parameters(), *traced.buffers()]:
        meta = tensor.detach().to("meta")
        memo[id(tensor)] = nn.Parameter(meta, tensor.requires_grad) if isinstance(tensor, nn.Parameter) \
            else meta
    return copy.deepcopy(traced, memo)


def _bytes(node: fx.Node) -> int:
    meta = node.meta.get("tensor_meta")
    if meta is None or not hasattr(meta, "shape"):
        return 0
    return int(math.prod(meta.shape) * meta.dtype.itemsize)


def _run(traced: fx.GraphModule, x: torch.Tensor, extra: list[Any]) -> BaseException | None:
    """Propagate shapes; the exception the module raised (its cause), or None."""
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # ShapeProp prints the traceback itself
            _ValueProp(traced).propagate(x, *extra)
    except Exception as exc:  # ShapeProp wraps the module's own error
        return exc.__cause__ or exc
    return None


def propagate(traced: fx.GraphModule, name: str, input_shape: tuple[int, ...], extra: list[Any],
              memory_limit: int | str | None = None) -> fx.GraphModule:
    """The module whose graph nodes carry shapes for a batch of 2; ShapeFailure otherwise."""
    limit = resources.memory_limit(memory_limit)
    meta = _meta_copy(traced)
    failure = _run(meta, torch.zeros(2, *input_shape, device="meta"), extra)
    _check_memory(meta, traced, name, input_shape, limit)
    if failure is None:
        return meta
    failure = _run(traced, torch.zeros(2, *input_shape), extra)  # for the module's own message
    if failure is None:
        return traced
    first = (str(failure).strip().splitlines() or [type(failure).__name__])[0][:300]
    raise ShapeFailure(f"{name} fails on a 2×{'×'.join(map(str, input_shape))} input: "
                       f"{type(failure).__name__}: {first}")


def _check_memory(meta: fx.GraphModule, traced: fx.GraphModule, name: str,
                  input_shape: tuple[int, ...], limit: resources.Limit) -> None:
    """ShapeFailure when the parameters and the outputs found so far pass the limit."""
    weights = sum(t.numel() * t.element_size() for t in [*traced.parameters(), *traced.buffers()])
    outputs = {node: _bytes(node) for node in meta.graph.nodes if node.op != "output"}
    total = weights + sum(outputs.values())
    if total <= limit.bytes:
        return
    largest = max(outputs, key=outputs.__getitem__, default=None)
    where = "its parameters are the largest part: use a smaller model"
    if largest is not None and outputs[largest] > weights:
        shape = "×".join(map(str, largest.meta["tensor_meta"].shape))
        label = largest.target if largest.op == "call_module" else largest.name
        where = (f"the largest output is {label} ({shape}, {resources.fmt_bytes(outputs[largest])}): "
                 "try a smaller --input")
    raise ShapeFailure(
        f"{name} needs about {resources.fmt_bytes(total)} for a 2×{'×'.join(map(str, input_shape))} "
        f"input (parameters and buffers {resources.fmt_bytes(weights)}, layer outputs "
        f"{resources.fmt_bytes(total - weights)}), more than the memory limit of "
        f"{resources.fmt_bytes(limit.bytes)} ({limit.source}); {where}")
