"""Per-block model summary: output shape, parameters and mult-adds, from shapes alone.

Each block type's parameter count and mult-add rule live in its catalog entry
(:mod:`builder.catalog`), so a summary needs no torch and no compiled module: it takes
milliseconds for any graph. The rules count what torchinfo counts for the compiled module on
a batch of one (a test checks every shipped graph against torchinfo).
"""

from __future__ import annotations

from dataclasses import dataclass

from builder.catalog import Shape, fmt_shape
from builder.graph import Graph
from builder.validate import Report, input_shapes, reach, validate


class SummaryError(ValueError):
    """The graph has errors; the message lists them."""


@dataclass(frozen=True)
class Row:
    block_id: str
    type_label: str
    shape: Shape | None
    params: int
    mult_adds: int


@dataclass(frozen=True)
class Summary:
    rows: list[Row]
    total_params: int
    trainable_params: int
    total_mult_adds: int
    input_shape: Shape

    def table(self) -> str:
        """A fixed-width text table with a totals footer."""
        head = f"{'block':<28} {'type':<14} {'output shape':<16} {'params':>12} {'mult-adds':>15}"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            lines.append(f"{r.block_id:<28} {r.type_label:<14} {fmt_shape(r.shape):<16} "
                         f"{r.params:>12,} {r.mult_adds:>15,}")
        lines += ["-" * len(head),
                  f"Input shape: {fmt_shape(self.input_shape)}",
                  f"Total params: {self.total_params:,}",
                  f"Trainable params: {self.trainable_params:,}",
                  f"Total mult-adds: {self.total_mult_adds:,}"]
        return "\n".join(lines)


def summarize(graph: Graph, report: Report | None = None) -> Summary:
    """Rows for every block with a known shape; totals over the blocks that reach the Output.

    Raises :class:`SummaryError` when the graph has errors (a too-large graph included).
    """
    report = report or validate(graph)
    if not report.ok:
        lines = "\n".join(f"  {d}" for d in report.errors)
        raise SummaryError(f"the graph has {len(report.errors)} error(s):\n{lines}")
    output_id = next(b.id for b in graph.blocks() if b.type == "output")
    useful = reach(graph.nx._pred, [output_id])
    rows = []
    for block_id in report.order:
        shape = report.shapes.get(block_id)
        if shape is None:
            continue
        block = graph.block(block_id)
        params = macs = 0
        if block_id in useful and block.spec.has_weights(block.params):
            shapes = input_shapes(graph, report, block_id)
            known = report.params.get(block_id)  # counted by validate's memory estimate
            params = block.spec.parameters(block.params, shapes) if known is None else known
            macs = block.spec.mult_adds(block.params, shapes, shape)
        rows.append(Row(block_id, block.spec.label, shape, params, macs))
    input_id = next(b.id for b in graph.blocks() if b.type == "input")
    total = sum(r.params for r in rows)
    return Summary(rows, total, total, sum(r.mult_adds for r in rows), report.shapes[input_id])
