"""Fit a graph to a dataset: the Input block's C×H×W and the classifier's output count.

The shipped graphs are CIFAR nets (3×32×32, 10 classes). To train one on another set the
Input block takes the dataset's image shape and the Linear block that feeds the Output takes
its class count; every other block is unchanged (convolutions infer their in_channels, global
average pooling absorbs the smaller maps: a CIFAR ResNet on 8×8 digits runs its stages on
8×8, 4×4 and 2×2 maps). The result is validated; a graph that cannot fit raises ValueError.
"""

from __future__ import annotations

from builder.graph import Graph
from builder.validate import validate


def adapt_graph(graph: Graph, input_shape: tuple[int, int, int], num_classes: int
                ) -> tuple[Graph, list[str]]:
    """A copy of ``graph`` fitted to the data, and one note per change made."""
    out = graph.copy()
    notes: list[str] = []
    for block in list(out.blocks()):
        if block.type == "input":
            new = dict(zip(("channels", "height", "width"), input_shape, strict=True))
            old = tuple(block.params[k] for k in new)
            if old != tuple(input_shape):
                for name, value in new.items():
                    out.set_param(block.id, name, int(value))
                notes.append(f"{block.id}: input {'×'.join(map(str, old))} → "
                             f"{'×'.join(map(str, input_shape))}")
        if block.type == "output":
            for src in out.inputs_of(block.id).values():
                head = out.block(src)
                if head.type == "linear" and head.params["out_features"] != num_classes:
                    notes.append(f"{src}: out_features {head.params['out_features']} → {num_classes}")
                    out.set_param(src, "out_features", num_classes)
    report = validate(out)
    if not report.ok:
        problems = "; ".join(str(d) for d in report.errors[:3])
        raise ValueError(f"{graph.name} does not fit {'×'.join(map(str, input_shape))} images: {problems}")
    return out, notes


def fit_problem(graph: Graph, input_shape: tuple[int, ...], num_classes: int) -> str | None:
    """Why ``graph`` cannot train on images of ``input_shape`` with ``num_classes`` classes."""
    report = validate(graph)
    if not report.ok:
        more = f" (and {len(report.errors) - 1} more)" if len(report.errors) > 1 else ""
        return f"{graph.name}: {report.errors[0]}{more}"
    for block in graph.blocks():
        shape = report.shapes.get(block.id)
        if block.type == "input" and shape != tuple(input_shape):
            return (f"{graph.name}: block {block.id} takes {'×'.join(map(str, shape or ()))} images "
                    f"but the data are {'×'.join(map(str, input_shape))}")
        if block.type == "output" and shape != (num_classes,):
            return (f"{graph.name}: the output gives {'×'.join(map(str, shape or ()))} values "
                    f"but the data have {num_classes} classes")
    return None
