"""Pre-flight profile of a chain with known weights, computed by hand; verdicts; step-0 parity."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from builder.training import Trainer
from builder.training.datasets import synthetic
from builder.xray.preflight import preflight, profile, verdicts
from tests.training.conftest import quick_config, tiny_net
from tests.xray.conftest import compiled, conv_chain, set_chain_weights

HEAD = torch.tensor([[1.0, -2.0], [0.5, 1.0]])
X = torch.tensor([[1.0, 2.0], [-1.0, 0.5], [3.0, -2.0], [0.0, 1.0]])[:, :, None, None]
Y = torch.tensor([0, 1, 1, 0])


def by_hand(scales: list[float]) -> tuple[list[np.ndarray], list[float], float]:
    """Each conv's output, each conv's ‖∂L/∂W‖ and the loss, with numpy only."""
    x = X[:, :, 0, 0].double().numpy()
    outs, a = [], x
    for s in scales:
        a = s * a
        outs.append(a)
    logits = a @ HEAD.double().numpy().T
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    loss = float(-np.log(p[np.arange(4), Y.numpy()]).mean())
    g = (p - np.eye(2)[Y.numpy()]) / 4 @ HEAD.double().numpy()  # ∂L/∂(last conv output)
    grads = [0.0] * len(scales)
    for k in reversed(range(len(scales))):
        inp = outs[k - 1] if k else x
        grads[k] = float(np.linalg.norm(g.T @ inp))  # ∂L/∂W_k = Σ_n g_n inp_nᵀ
        g = scales[k] * g
    return outs, grads, loss


def chain_profile(scales: list[float], head: torch.Tensor = HEAD):  # type: ignore[no-untyped-def]
    graph = conv_chain(scales)
    module = compiled(graph)
    set_chain_weights(module, scales, head)
    return profile(graph, module, X, Y)


def test_chain_profile_matches_the_hand_computation() -> None:
    scales = [2.0, 3.0, 0.5]
    result = chain_profile(scales)
    outs, grads, loss = by_hand(scales)
    assert result.loss == pytest.approx(loss, rel=1e-5)
    rows = {r.block_id: r for r in result.rows}
    for k, out in enumerate(outs):
        row = rows[f"conv{k + 1}"]
        assert row.layer == k + 1 and row.shape == "2×1×1"
        assert row.act_mean == pytest.approx(out.mean(), rel=1e-5)
        assert row.act_std == pytest.approx(out.std(ddof=1), rel=1e-5)
        assert row.weight_grad_norm == pytest.approx(grads[k], rel=1e-4)
    assert math.isnan(rows["flatten"].weight_grad_norm) and rows["fc"].layer == 4
    assert result.grad_ratio() == pytest.approx(grads[0] / grads[2], rel=1e-4)
    # one trunk point per depth: the last block there (flatten follows conv3 at depth 3)
    assert [r.block_id for r in result.trunk] == ["conv1", "conv2", "flatten", "fc"]


def test_vanishing_signal_and_exploding_gradient_are_named() -> None:
    result = chain_profile([0.01, 1.0, 10.0])  # first/last gradient = 10 / 0.01 = 1000
    codes = {v.code: v.message for v in result.verdicts}
    assert codes["exploding_gradient"] == ("gradient at conv1 is 10³× the last layer's (conv3): "
                                           "expect unstable early training")
    result = chain_profile([1.0, 0.01, 0.01, 0.1])  # the signal falls 1e-5 by the 4th conv
    codes = {v.code: v.message for v in result.verdicts}
    assert codes["vanishing_signal"] == "activations shrink 10⁵× by layer 4 (flatten): vanishing signal"
    assert "vanishing_gradient" not in codes  # first/last = 0.1 / 1: not below 1/100
    result = chain_profile([10.0, 1.0, 0.01])  # first/last = 0.01 / 10
    codes = {v.code: v.message for v in result.verdicts}
    assert codes["vanishing_gradient"] == ("gradient at conv1 is 0.001× the last layer's (conv3): "
                                           "the first layers will barely learn (vanishing gradient)")
    assert list(codes) == ["vanishing_gradient"]  # the signal shrinks only 100×: no signal verdict


def test_balanced_chain_dead_relu_and_high_loss() -> None:
    assert "high_initial_loss" in [v.code for v in chain_profile([1.0, 1.0]).verdicts]  # loss 4.0 > 3 ln 2
    balanced = chain_profile([1.0, 1.0, 1.0], 0.1 * HEAD)
    assert [v.code for v in balanced.verdicts] == ["gradient_ratio"]
    assert balanced.verdicts[0].message.startswith("gradient at conv1 is 1× the last layer's")
    graph = conv_chain([-1.0, 1.0], relu_at=0)  # x ≥ 0 → −x ≤ 0 → ReLU gives zeros
    module = compiled(graph)
    set_chain_weights(module, [-1.0, 1.0], 100 * HEAD)
    result = profile(graph, module, X.abs(), Y)
    assert any(v.code == "dead_relu" and "100% of the outputs of relu" in v.message for v in result.verdicts)
    balanced.loss = 50.0
    assert "high_initial_loss" in [v.code for v in verdicts(balanced)]


def test_non_finite_activation_is_an_error() -> None:
    result = chain_profile([1e30, 1e30])
    assert result.verdicts[0].level == "error" and result.verdicts[0].code == "non_finite"
    assert "conv2" in result.verdicts[0].message


def test_preflight_equals_the_trainers_step_zero() -> None:
    graph = tiny_net()
    data = synthetic(n=160, shape=(3, 8, 8), num_classes=4, seed=3, noise=0.5)
    pre = preflight(graph, data, batch_size=32, seed=5)
    rows = {r.block_id: r.weight_grad_norm for r in pre.rows}
    config = quick_config(epochs=1, batch_size=32, seed=5, precision="fp32")  # as pre-flight computes
    step0 = Trainer(graph, config, data).run().first_gradients
    assert step0 is not None and step0.step == 0
    for block_id, norm in zip(step0.block_ids, step0.weight_norms, strict=True):
        assert rows[block_id] == pytest.approx(norm, rel=1e-4), block_id
    assert pre.seconds > 0 and pre.batch_size == 32 and pre.num_classes == 4


def test_a_graph_without_a_classifier_head_is_one_clear_message() -> None:
    """A residual block straight into Output (a feature map, not class scores): no torch error."""
    from builder.graph import Graph
    from builder.xray.runs import XrayError

    graph = Graph("headless")
    graph.add_block("input", {"channels": 2, "height": 1, "width": 1}, block_id="input")
    graph.add_block("conv2d", {"out_channels": 2, "kernel_size": 1, "padding": 0}, block_id="conv")
    graph.add_block("output", block_id="output")
    graph.connect("input", "conv")
    graph.connect("conv", "output")
    with pytest.raises(XrayError, match=r"output is 2×1×1 per image.*needs a classifier"):
        profile(graph, compiled(graph), X, Y)
