"""Legal graph files of random size and nesting: validate, summary and export either succeed with
bounded memory or refuse with the resource diagnostic (nothing allocated, no traceback)."""

from __future__ import annotations

import ast
import tracemalloc

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder import fileformat
from builder.compile import CompileError, compile_graph
from builder.export.codegen import ExportError, export_code
from builder.graph import Graph
from builder.summary import SummaryError, summarize
from builder.validate import validate

LIMIT = 64 * 10**6  # SKIPWIRE_MEMORY_LIMIT for these tests: what passes is small enough to run

# one step of the main path: (kind, size) where size picks channels or a kernel
STEPS = st.lists(st.tuples(st.sampled_from(("conv", "pool", "bn_relu", "residual", "branches", "wide")),
                           st.integers(1, 8)), min_size=1, max_size=12)
GROUP_PART = st.sampled_from(("a", "b", "0", "1", "x"))  # 100 levels fit the 200-character limit


@st.composite
def legal_graphs(draw: st.DrawFn) -> Graph:
    """A valid-JSON, loadable graph: any nesting up to 100 levels, sizes up to the file limits."""
    big = draw(st.booleans())
    channels = draw(st.sampled_from((1, 3, 64, 4096) if big else (1, 3, 8)))
    side = draw(st.sampled_from((1, 7, 32, 4096, 16384) if big else (4, 8, 16)))
    depth = draw(st.integers(0, 100))
    parts = draw(st.lists(GROUP_PART, min_size=depth, max_size=depth))
    graph = Graph("fuzz")
    x = graph.add_block("input", {"channels": channels, "height": side, "width": side}, block_id="input")
    c = channels
    for i, (kind, size) in enumerate(draw(STEPS)):
        group = ".".join(parts[: draw(st.integers(0, depth))])
        x, c = _step(graph, x, c, kind, size, group, i, big)
    x = _add(graph, "global_avgpool", "", "pool", x)
    x = _add(graph, "linear", "", "fc", _add(graph, "flatten", "", "flat", x), out_features=10)
    _add(graph, "output", "", "output", x)
    return fileformat.loads(fileformat.dumps(graph))  # exactly what a file holds


def _add(graph: Graph, type_id: str, group: str, local: str, *sources: str, **params: object) -> str:
    block_id = graph.fresh_id(local)
    graph.add_block(type_id, params, block_id=block_id, group=group)
    for port, src in enumerate(sources):
        graph.connect(src, block_id, port)
    return block_id


def _step(graph: Graph, x: str, c: int, kind: str, size: int, group: str, i: int,
          big: bool) -> tuple[str, int]:
    width = 2 ** (size + (8 if big and kind == "wide" else 0))  # up to 65,536 channels
    if kind in ("conv", "wide"):
        return _add(graph, "conv2d", group, f"conv{i}_", x, out_channels=width,
                    kernel_size=2 * (size % 3) + 1, stride=1 + size % 2), width
    if kind == "pool":
        return _add(graph, "maxpool2d", group, f"pool{i}_", x, kernel_size=2, stride=2), c
    if kind == "bn_relu":
        return _add(graph, "relu", group, f"relu{i}_", _add(graph, "batchnorm2d", group, f"bn{i}_", x)), c
    y = _add(graph, "conv2d", group, f"conv{i}_", x, out_channels=c, kernel_size=3)
    if kind == "residual":
        return _add(graph, "add", group, f"add{i}_", y, x), c
    return _add(graph, "concat", group, f"cat{i}_", y, x), 2 * c


@pytest.fixture(autouse=True)
def small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKIPWIRE_MEMORY_LIMIT", str(LIMIT))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(legal_graphs())
def test_legal_graphs_succeed_or_refuse_with_the_resource_diagnostic(graph: Graph) -> None:
    tracemalloc.start()
    try:
        report = validate(graph)
        try:
            summarize(graph, report)
        except SummaryError:
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000 + 20_000 * len(graph)  # shapes only: kilobytes per block, not the model
    outcome = _summary_and_export(graph, report)
    too_large = [d for d in report.errors if d.code == "too_large"]
    if outcome == "refused":
        assert report.errors
        assert len(too_large) <= 1 and all("more than the memory limit" in d.message for d in too_large)
        with pytest.raises(CompileError):
            compile_graph(graph)
        return
    assert not too_large
    _run(graph, report)


def _summary_and_export(graph: Graph, report: object) -> str:
    """``ok`` when both work; ``refused`` when both refuse the same errors; anything else fails."""
    try:
        summary = summarize(graph, report)  # type: ignore[arg-type]
    except SummaryError as exc:
        with pytest.raises(ExportError) as export_error:
            export_code(graph, report)  # type: ignore[arg-type]
        assert str(exc).splitlines()[1:] == str(export_error.value).splitlines()[1:]
        return "refused"
    assert sum(r.params for r in summary.rows) == summary.total_params
    ast.parse(export_code(graph, report).source)  # type: ignore[arg-type]
    return "ok"


def _run(graph: Graph, report: object) -> None:
    """The allowed graph runs, and its parameters are what the summary counted."""
    module = compile_graph(graph, report)  # type: ignore[arg-type]
    summary = summarize(graph, report)  # type: ignore[arg-type]
    assert sum(p.numel() for p in module.parameters()) == summary.total_params
    shape = summary.input_shape
    with torch.no_grad():
        assert module.eval()(torch.zeros(1, *shape)).shape == (1, 10)


def test_the_deepest_nesting_a_file_allows_summarises_and_exports() -> None:
    graph = Graph("deep")
    x = graph.add_block("input", {"channels": 3, "height": 8, "width": 8}, block_id="input")
    group = ".".join(["g"] * 100)  # 199 characters: the longest group path a file accepts
    for level in range(1, 101):
        x = _add(graph, "relu", ".".join(group.split(".")[:level]), "relu", x)
    x = _add(graph, "linear", "", "fc", _add(graph, "flatten", "", "flat", x), out_features=2)
    _add(graph, "output", "", "output", x)
    graph = fileformat.loads(fileformat.dumps(graph))
    assert len(summarize(graph).rows) == 104
    namespace: dict[str, object] = {}
    code = export_code(graph)
    exec(compile(code.source, "<deep>", "exec"), namespace)
    exported = namespace[code.class_name]()  # type: ignore[operator]
    compiled = compile_graph(graph)
    exported.load_state_dict(compiled.state_dict(), strict=True)
    x_in = torch.randn(2, 3, 8, 8)
    assert torch.equal(exported(x_in), compiled(x_in))
