"""Lesions on a two-block residual net and a plain net; the landscape on a quadratic loss."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from builder.compile import compile_graph
from builder.graph import Graph
from builder.validate import validate
from builder.xray.landscape import filter_normalised, landscape, roughness, scan, subset
from builder.xray.lesion import evaluate, lesion, lesioned_module
from builder.xray.structure import lesion_units
from tests.xray.conftest import compiled, tiny, two_block_net

X = torch.randn(12, 3, 4, 4, generator=torch.Generator().manual_seed(4))
Y = torch.arange(12) % 3


def test_zeroing_a_branch_keeps_the_skip() -> None:
    graph = two_block_net()
    module = compiled(graph).eval()
    before = module(X)
    unit1 = lesion_units(graph, validate(graph))[0]
    cut = lesioned_module(graph, module, unit1)
    sub = lambda b: module.get_submodule(module.block_paths[b])  # type: ignore[attr-defined]
    h = sub("unit1_relu")(sub("relu0")(sub("stem")(X)))  # unit 1 = its ReLU of the skip alone
    h = sub("unit2_relu")(sub("unit2_bn")(sub("unit2_conv")(h)) + h)
    torch.testing.assert_close(cut(X), sub("fc")(sub("pool")(h).flatten(1)))
    names = {n.name for n in cut.graph.nodes}
    assert "unit1_conv" not in names and "unit1_bn" not in names and "unit2_conv" in names
    torch.testing.assert_close(module(X), before)  # the trained module is untouched


def without_group(graph: Graph, group: str) -> Graph:
    """The graph edited by hand: the group's input wired to the group's consumers."""
    out = graph.copy()
    members = [b.id for b in out.blocks() if b.group == group]
    exits = [w for b in members for w in out.consumers(b) if w.target not in members]
    entry = next(s for b in members for s in out.inputs_of(b).values() if s not in members)
    for b in members:
        out.remove_block(b)
    for w in exits:
        out.connect(entry, w.target, w.port)
    return out


def test_deleting_a_plain_group_equals_the_graph_without_it() -> None:
    graph = tiny(residual=False)
    module = compiled(graph).eval()
    x = torch.randn(5, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    unit = lesion_units(graph, validate(graph))[0]
    assert (unit.label, unit.ok) == ("layer1.0", True)
    smaller = compile_graph(without_group(graph, "layer1.0"))
    missing, _ = smaller.load_state_dict(module.state_dict(), strict=False)
    assert missing == []
    torch.testing.assert_close(lesioned_module(graph, module, unit)(x), smaller.eval()(x))


def test_lesion_rows_progress_and_stop() -> None:
    graph = two_block_net()
    module = compiled(graph)
    full = evaluate(module, X, Y, batch_size=5)  # batches of 5 add up like one of 12
    with torch.no_grad():
        out = module.eval()(X)
    assert full[0] == pytest.approx(float((out.argmax(1) != Y).float().mean()))
    assert full[1] == pytest.approx(float(F.cross_entropy(out, Y)), rel=1e-5)
    ticks: list[tuple[int, int]] = []
    result = lesion(graph, module, X, Y, on_progress=lambda d, t: ticks.append((d, t)))
    assert (result.full_error, result.full_loss) == pytest.approx(full)
    assert [r.label for r in result.rows] == ["unit1", "unit2"] and ticks == [(1, 2), (2, 2)]
    assert all(0 <= r.error <= 1 and r.kind == "branch" for r in result.rows)
    assert all(p.is_contiguous() for p in module.parameters())  # channels-last undone
    stopped = lesion(graph, module, X, Y, should_stop=lambda: True)
    assert stopped.status == "stopped" and stopped.rows == []
    plain = lesion(tiny(False), compiled(tiny(False)), torch.randn(4, 3, 8, 8), torch.arange(4))
    assert [r.reason for r in plain.rows if r.reason] == ["the shape changes (4×8×8 → 8×4×4)",
                                                          "the shape changes (8×4×4 → 8×2×2)"]
    assert "layer2.0: cannot be deleted" in plain.text() and math.isnan(plain.rows[1].error)


# ---------------------------------------------------------------------------- landscape
def quadratic() -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    gen = torch.Generator().manual_seed(0)
    conv, lin, bn = (torch.randn(s, generator=gen) for s in ((4, 3, 2, 2), (5, 6), (4,)))
    params = [conv, lin, bn]
    return params, [p.clone() for p in params]


def test_directions_are_filter_normalised_and_skip_one_dimensional_parameters() -> None:
    params, _ = quadratic()
    delta = filter_normalised(params, torch.Generator().manual_seed(1))
    conv, lin, bn = delta
    torch.testing.assert_close(conv.flatten(1).norm(dim=1), params[0].flatten(1).norm(dim=1))
    torch.testing.assert_close(lin.norm(dim=1), params[1].norm(dim=1))  # rows of a Linear weight
    assert torch.equal(bn, torch.zeros(4))  # BatchNorm weights/biases and biases are not moved
    other = filter_normalised(params, torch.Generator().manual_seed(2))
    assert not torch.allclose(other[0], conv)


def test_scan_of_a_quadratic_loss_matches_the_closed_form() -> None:
    params, origin = quadratic()
    delta = filter_normalised(params, torch.Generator().manual_seed(1))
    eta = filter_normalised(params, torch.Generator().manual_seed(2))

    def point() -> tuple[float, float]:
        return float(sum(((p - o) ** 2).sum() for p, o in zip(params, origin, strict=True))), 0.0

    axis = [-1.0, -0.5, 0.0, 0.5, 1.0]
    ticks: list[int] = []
    loss, _, done = scan(params, point, delta, eta, axis, axis, on_progress=lambda d, t: ticks.append(d))
    dd = sum(float((d * d).sum()) for d in delta)
    ee = sum(float((e * e).sum()) for e in eta)
    de = sum(float((d * e).sum()) for d, e in zip(delta, eta, strict=True))
    assert dd == pytest.approx(float(params[0].norm() ** 2 + params[1].norm() ** 2), rel=1e-5)
    expected = np.array([[a * a * dd + 2 * a * b * de + b * b * ee for a in axis] for b in axis])
    np.testing.assert_allclose(loss, expected, rtol=1e-5, atol=1e-6)
    assert done and ticks == list(range(1, 26))
    assert all(torch.equal(p, o) for p, o in zip(params, origin, strict=True))  # weights restored
    calls = iter(range(100))
    loss, _, done = scan(params, point, delta, eta, axis, axis, should_stop=lambda: next(calls) >= 7)
    assert not done and np.isfinite(loss).sum() == 7
    assert all(torch.equal(p, o) for p, o in zip(params, origin, strict=True))
    bowl = roughness(expected)
    assert (bowl["local_minima"], bowl["nonconvex"]) == (1.0, 0.0)


def test_roughness_tells_a_bowl_from_an_egg_crate() -> None:
    a = np.linspace(-1, 1, 21)
    aa, bb = np.meshgrid(a, a)
    bowl = roughness(1 + aa ** 2 + bb ** 2)
    crate = roughness(2 + aa ** 2 + bb ** 2 + 0.5 * np.sin(12 * aa) * np.sin(12 * bb))
    assert bowl["local_minima"] == 1 and bowl["nonconvex"] == 0
    assert crate["local_minima"] > 4 and crate["nonconvex"] > 0.2
    assert crate["roughness"] > 5 * bowl["roughness"]
    assert bowl["centre"] == 1.0


def test_landscape_of_a_net_centres_on_its_loss_and_leaves_it_unchanged() -> None:
    graph = two_block_net()
    module = compiled(graph)
    module.train()(X)  # move the BatchNorm running statistics off their defaults
    state = {k: v.clone() for k, v in module.state_dict().items()}
    x, y = subset(X, Y, 8, seed=1)
    assert len(y) == 8 and subset(X, Y, 50)[0] is X
    land = landscape(module, x, y, points=3, span=0.5, name="two_block")
    _, centre = evaluate(module, x, y)
    assert land.loss.shape == (3, 3) and land.loss[1, 1] == pytest.approx(centre, rel=1e-5)
    assert land.line("alpha")[0] == [-0.5, 0.0, 0.5] and land.status == "completed"
    assert land.metrics["centre"] == pytest.approx(centre, rel=1e-5)
    for key, value in module.state_dict().items():
        assert torch.equal(value, state[key]), key  # weights and running statistics
    assert all(p.is_contiguous() for p in module.parameters())  # channels-last undone
