"""Fit a graph to a dataset: the Input block's C×H×W and the classifier's output count.

The shipped graphs are CIFAR nets (3×32×32, 10 classes). To train one on another set the
Input block takes the dataset's image shape and the Linear block that feeds the Output takes
its class count; every other block is unchanged (convolutions infer their in_channels, global
average pooling absorbs the smaller maps: a CIFAR ResNet on 8×8 digits runs its stages on
8×8, 4×4 and 2×2 maps). The result is validated; a graph that cannot fit raises ValueError.

:func:`plan_adaptation` says what fitting changes before a run starts: the Input's shape and
every parameterised block whose weight shape differs (``conv1 in_channels 3 → 1``), found by
comparing the shapes inferred before and after. :func:`expected_data` knows a data set's image
shape and class count from its settings alone (no loading, no torch).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from builder.graph import Graph
from builder.validate import Report, parameterised, validate

# data set → (channels, native side, classes); "folder" images are read as RGB at 32×32 by default
NATIVE = {"digits": (1, 8, 10), "synthetic": (3, 8, 10), "mnist": (1, 28, 10),
          "fashion_mnist": (1, 28, 10), "cifar10": (3, 32, 10), "cifar100": (3, 32, 100),
          "folder": (3, 32, 0)}


@dataclass(frozen=True)
class Change:
    """One thing fitting changes: ``conv1 in_channels 3 → 1``."""

    block_id: str
    what: str  # shape | in_channels | num_features | in_features | out_channels | out_features
    old: str
    new: str

    def __str__(self) -> str:
        what = "input" if self.what == "shape" and self.block_id == "input" else self.what
        head = self.block_id if self.block_id != what else ""
        return f"{head} {what} {self.old} → {self.new}".strip()


@dataclass
class Adaptation:
    """The graph a run will train, and how it differs from the document's graph."""

    graph: Graph
    input_shape: tuple[int, int, int]
    num_classes: int
    changes: list[Change] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        return [str(c) for c in self.changes]


@dataclass(frozen=True)
class DataShape:
    """A data set's image shape and class count, known from its settings."""

    name: str
    input_shape: tuple[int, int, int]
    num_classes: int

    def describe(self) -> str:
        return f"{self.name} ({_dims(self.input_shape)}, {self.num_classes} classes)"


def adapt_graph(graph: Graph, input_shape: tuple[int, int, int], num_classes: int
                ) -> tuple[Graph, list[str]]:
    """A copy of ``graph`` fitted to the data, and one note per change made."""
    plan = plan_adaptation(graph, input_shape, num_classes)
    return plan.graph, plan.notes


def plan_adaptation(graph: Graph, input_shape: tuple[int, int, int], num_classes: int) -> Adaptation:
    """The fitted copy of ``graph`` and its changes; ValueError when the graph cannot fit."""
    out = graph.copy()
    for block in list(out.blocks()):
        if block.type == "input":
            for name, value in zip(("channels", "height", "width"), input_shape, strict=True):
                if block.params[name] != value:
                    out.set_param(block.id, name, int(value))
        if block.type == "output":
            for src in out.inputs_of(block.id).values():
                head = out.block(src)
                if head.type == "linear" and head.params["out_features"] != num_classes:
                    out.set_param(src, "out_features", num_classes)
    after = validate(out)
    if not after.ok:
        problems = "; ".join(str(d) for d in after.errors[:3])
        raise ValueError(f"{graph.name} does not fit {_dims(input_shape)} images: {problems}")
    changes = shape_changes(graph, validate(graph), out, after)
    c, h, w = input_shape  # a list from a JSON config is accepted too
    return Adaptation(out, (c, h, w), num_classes, changes)


def shape_changes(before: Graph, old: Report, after: Graph, new: Report) -> list[Change]:
    """The Input's shape and each parameterised block's weight dimensions that differ."""
    changes = [Change(b.id, "shape", _dims(old.shapes.get(b.id)), _dims(new.shapes.get(b.id)))
               for b in before.blocks() if b.type == "input"
               and old.shapes.get(b.id) != new.shapes.get(b.id)]
    for block_id in parameterised(after):
        was = _weight_dims(before, old, block_id)
        now = _weight_dims(after, new, block_id)
        changes += [Change(block_id, name, str(was.get(name, "?")), str(value))
                    for name, value in now.items() if was.get(name) != value]
    return changes


def _weight_dims(graph: Graph, report: Report, block_id: str) -> dict[str, Any]:
    """The constructor arguments of a parameterised block (its weight shapes follow from them)."""
    block = graph.block(block_id)
    sources = [src for _, src in sorted(graph.inputs_of(block_id).items())]
    if block.spec.call is None or not sources or any(s not in report.shapes for s in sources):
        return {}
    return block.spec.call(block.params, [report.shapes[s] for s in sources]).values()


def expected_data(values: Mapping[str, Any]) -> DataShape | None:
    """The shape and class count of the data set named by config ``values``, without loading it.

    None when they are known only after reading (an image folder that is not there yet).
    """
    name = str(values.get("dataset", "digits"))
    if name not in NATIVE:
        return None
    channels, side, classes = NATIVE[name]
    side = int(values.get("image_size") or 0) or side
    if name == "folder":
        classes = _folder_classes(str(values.get("data_dir") or ""))
        if not classes:
            return None
    return DataShape(name, (channels, side, side), classes)


def _folder_classes(data_dir: str) -> int:
    """Sub-folders of an image-folder data set (one per class); 0 when it cannot be listed."""
    if not data_dir:
        return 0
    try:
        with os.scandir(data_dir) as entries:
            return sum(1 for e in entries if e.is_dir() and not e.name.startswith("."))
    except OSError:
        return 0


def _dims(shape: Any) -> str:
    return "×".join(map(str, shape)) if shape else "?"


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
