"""The shapes-only summary counts what torchinfo measures on the compiled module (the reference)."""

from __future__ import annotations

from pathlib import Path

import torch
import torchinfo

from builder import catalog, fileformat
from builder.compile import compile_graph
from builder.summary import summarize
from builder.validate import validate
from tests.core.conftest import chain, run_python


def test_summary_equals_torchinfo_block_by_block(shipped: Path) -> None:
    graph = fileformat.load(shipped)
    ours = summarize(graph)
    module = compile_graph(graph)
    with torch.no_grad():
        stats = torchinfo.summary(module, input_size=(1, *ours.input_shape), verbose=0,
                                  device=torch.device("cpu"))
    by_module = {id(info.module): info for info in stats.summary_list}
    paths: dict[str, str] = module.block_paths  # type: ignore[assignment]
    for row in ours.rows:
        if row.block_id not in paths:
            assert row.params == row.mult_adds == 0, row
            continue
        sub = module.get_submodule(paths[row.block_id])
        info = by_module[id(sub)]
        assert (row.params, row.mult_adds) == (sum(p.numel() for p in sub.parameters()), info.macs), row
    assert ours.total_params == stats.total_params == sum(p.numel() for p in module.parameters())
    assert ours.total_mult_adds == stats.total_mult_adds


def test_every_block_type_that_may_have_weights_has_a_counting_rule() -> None:
    """A mult-add rule needs a parameter rule (the default mult-adds are one per parameter)."""
    for entry in catalog.CATALOG.values():
        assert entry.macs is None or entry.count is not None, entry.type_id
    assert {"conv2d", "batchnorm2d", "linear"} <= catalog.PARAMETERISED


def test_grouped_biased_convolution_counts() -> None:
    graph = chain("conv2d", shape=(8, 10, 10), b0={"out_channels": 12, "groups": 4, "kernel_size": 3,
                                                   "stride": 2, "padding": 1, "bias": True})
    (row,) = [r for r in summarize(graph).rows if r.block_id == "b0"]
    assert row.shape == (12, 5, 5)
    assert row.params == 8 // 4 * 12 * 9 + 12 and row.mult_adds == row.params * 25


def test_summary_needs_no_torch() -> None:
    code = ("import sys\nfrom builder import fileformat\nfrom builder.summary import summarize\n"
            "s = summarize(fileformat.load('graphs/googlenet.json'))\n"
            "assert s.total_params == 6_166_250, s.total_params\n"
            "assert 'torch' not in sys.modules and 'torchinfo' not in sys.modules, 'torch imported'\n")
    result = run_python(code)
    assert result.returncode == 0, result.stderr


def test_unused_blocks_get_rows_but_count_nothing() -> None:
    graph = chain("relu")
    graph.add_block("conv2d", {"out_channels": 4}, block_id="dangling")
    graph.connect("input", "dangling", 0)
    summary = summarize(graph, validate(graph))
    rows = {r.block_id: r for r in summary.rows}
    assert rows["dangling"].shape == (4, 8, 8) and rows["dangling"].params == 0
    assert summary.total_params == 0
