"""Per-block model summary: output shape, parameters and mult-adds (torchinfo)."""

from __future__ import annotations

from dataclasses import dataclass

from builder.catalog import Shape, fmt_shape
from builder.graph import Graph
from builder.validate import Report, validate


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
    """Compile ``graph`` and measure it with torchinfo on a batch of one."""
    import torch
    import torchinfo

    from builder.compile import compile_graph

    report = report or validate(graph)
    module = compile_graph(graph, report)
    input_block = next(b for b in graph.blocks() if b.type == "input")
    input_shape = report.shapes[input_block.id]
    stats = torchinfo.summary(module, input_size=(1, *input_shape), verbose=0,
                              device=torch.device("cpu"))
    by_module = {id(info.module): info for info in stats.summary_list}
    paths: dict[str, str] = module.block_paths  # type: ignore[assignment]
    rows = []
    for block_id in report.order:
        if block_id not in report.shapes:
            continue
        block = graph.block(block_id)
        params = macs = 0
        if block_id in paths:
            sub = module.get_submodule(paths[block_id])
            params = sum(p.numel() for p in sub.parameters())
            info = by_module.get(id(sub))
            macs = int(info.macs) if info is not None else 0
        rows.append(Row(block_id, block.spec.label, report.shapes[block_id], params, macs))
    total = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return Summary(rows, total, trainable, int(stats.total_mult_adds), input_shape)
