"""Random grouped graphs (residual, plain, branching, repeated or not) export with parity."""

from __future__ import annotations

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.compile import compile_graph
from builder.export.codegen import export_code
from builder.graph import Graph
from builder.validate import validate

BLOCK_KINDS = ("plain", "residual", "residual_pad", "residual_conv", "residual_convbn", "branches", "flat")


@st.composite
def plans(draw):
    stages = draw(st.lists(st.tuples(st.sampled_from(BLOCK_KINDS), st.integers(1, 3),
                                     st.sampled_from((2, 4)), st.sampled_from((1, 2)),
                                     st.booleans()), min_size=1, max_size=3))
    return draw(st.sampled_from((2, 3))), stages


class _G:
    def __init__(self) -> None:
        self.graph = Graph("random net")
        self.n = 0

    def add(self, type_id, group, local, *sources, **params):
        block_id = f"{group.replace('.', '_')}_{local}" if group else local
        self.graph.add_block(type_id, params, block_id=block_id, group=group)
        for port, src in enumerate(sources):
            self.graph.connect(src, block_id, port)
        return block_id


def _conv(g, group, local, x, out, stride=1, kernel=3):
    return g.add("conv2d", group, local, x, out_channels=out, stride=stride, kernel_size=kernel,
                 padding=kernel // 2, bias=False)


def _block(g, kind, group, x, cin, cout, stride):
    if kind == "flat":
        return g.add("relu", group, "act", _conv(g, group, "conv", x, cout, stride)), cout
    y = g.add("batchnorm2d", group, "bn1", _conv(g, group, "conv1", x, cout, stride))
    y = g.add("relu", group, "relu1", y)
    y = g.add("batchnorm2d", group, "bn2", _conv(g, group, "conv2", y, cout))
    if kind == "branches":
        z = g.add("maxpool2d", group, "pool", x, kernel_size=3, stride=stride, padding=1)
        return g.add("concat", group, "cat", y, z), cout + cin
    if kind.startswith("residual"):
        skip = x
        if stride != 1 or cin != cout:
            if kind == "residual_conv":
                skip = _conv(g, group, "shortcut", x, cout, stride, kernel=1)
            elif kind == "residual_convbn":  # option B, flat in the group: a two-unit optional chain
                skip = g.add("batchnorm2d", group, "bn_shortcut",
                             _conv(g, group, "conv_shortcut", x, cout, stride, kernel=1))
            else:
                skip = g.add("shortcut_pad", group, "shortcut", x, stride=stride, out_channels=cout)
        y = g.add("add", group, "add", y, skip)
    return g.add("relu", group, "relu2", y), cout


def build(plan) -> Graph:
    channels, stages = plan
    g = _G()
    x = g.add("input", "", "input", channels=channels, height=8, width=8)
    cin, size = channels, 8
    for s, (kind, blocks, width, stride, nested) in enumerate(stages, start=1):
        if kind in ("residual", "residual_pad"):
            width = max(width, cin)  # zero-padding shortcuts only add channels
        stride = stride if size >= 4 else 1
        for j in range(blocks):
            group = f"layer{s}.{j}" if nested else f"block{s}_{j}"
            x, cin = _block(g, kind, group, x, cin, width, stride if j == 0 else 1)
        size = -(-size // stride)
    x = g.add("flatten", "", "flatten", g.add("global_avgpool", "", "pool", x))
    g.add("output", "", "output", g.add("linear", "", "fc", x, out_features=3))
    return g.graph


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_random_graph_exports_with_parity(plan):
    graph = build(plan)
    assert validate(graph).ok
    _check(graph)


GROUPS = ("", "a", "a.b", "a.0", "0", "b.1.c", "layer1", "layer1.0", "layer1.1")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans(), st.lists(st.sampled_from(GROUPS), min_size=60, max_size=60))
def test_any_grouping_exports_with_parity(plan, groups):
    """Groups that cut through blocks (not single-entry, single-exit) still export correctly."""
    graph = build(plan)
    for block_id, group in zip(graph.ids(), groups, strict=False):
        graph.set_group([block_id], group)
    _check(graph)


def _check(graph: Graph) -> None:
    code = export_code(graph)
    namespace: dict[str, object] = {"__name__": "random_export"}
    exec(compile(code.source, "<random export>", "exec"), namespace)
    compiled = compile_graph(graph).eval()
    exported = namespace[code.class_name]().eval()  # type: ignore[operator]
    assert list(exported.state_dict()) == list(compiled.state_dict())
    exported.load_state_dict(compiled.state_dict(), strict=True)
    x = torch.randn(2, *code.input_shape)
    with torch.no_grad():
        assert (compiled(x) - exported(x)).abs().max().item() <= 1e-5
