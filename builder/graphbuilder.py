"""Building a graph in code: the helper the templates and the reference zoo write their nets with.

:class:`GraphBuilder` adds blocks with group-prefixed ids (``layer1_0_conv1`` in group
``layer1.0``) and wires them in port order; :meth:`GraphBuilder.done` lays the graph out.
"""

from __future__ import annotations

from typing import Any

from builder.graph import Graph
from builder.layout import apply_layout

Shape3 = tuple[int, int, int]


class GraphBuilder:
    """Adds blocks with group-prefixed ids and wires them in port order."""

    def __init__(self, name: str, description: str) -> None:
        self.graph = Graph(name)
        self.graph.description = description

    def add(self, type_id: str, local: str, *sources: str, group: str = "", **params: Any) -> str:
        block_id = f"{group.replace('.', '_')}_{local}" if group else local
        self.graph.add_block(type_id, params, block_id=block_id, group=group)
        for port, src in enumerate(sources):
            self.graph.connect(src, block_id, port)
        return block_id

    def conv_bn(self, src: str, group: str, suffix: str, out: int, stride: int = 1,
                kernel: int = 3) -> str:
        conv = self.add("conv2d", f"conv{suffix}", src, group=group, out_channels=out,
                        kernel_size=kernel, stride=stride, padding=kernel // 2, bias=False)
        return self.add("batchnorm2d", f"bn{suffix}", conv, group=group)

    def head(self, src: str, num_classes: int) -> str:
        pool = self.add("global_avgpool", "avgpool", src)
        flat = self.add("flatten", "flatten", pool)
        fc = self.add("linear", "fc", flat, out_features=num_classes)
        return self.add("output", "output", fc)

    def done(self) -> Graph:
        apply_layout(self.graph)
        return self.graph
