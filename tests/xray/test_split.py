"""The gradient split against autograd, and the probe inside the trainer."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from builder.training import Trainer
from builder.training.datasets import synthetic
from builder.xray.split import BRANCH, SKIP, SplitProbe, read_csv, write_csv
from tests.training.conftest import quick_config
from tests.xray.conftest import compiled, tiny, two_block_net

X = torch.randn(6, 3, 4, 4, generator=torch.Generator().manual_seed(1))
Y = torch.tensor([0, 1, 2, 0, 1, 2])


def by_hand(module: torch.nn.Module, unit: int, split: bool) -> tuple[torch.Tensor, ...]:
    """The two-block net's loss written out; unit ``unit``'s input becomes a leaf — two separate
    leaves (branch, skip) when ``split`` — and the gradients w.r.t. those leaves are returned."""
    sub = lambda b: module.get_submodule(module.block_paths[b])  # type: ignore[attr-defined]
    h = sub("relu0")(sub("stem")(X))
    leaves: list[torch.Tensor] = []
    for k in (1, 2):
        branch = skip = h
        if k == unit:
            leaves = [h.detach().requires_grad_() for _ in range(2 if split else 1)]
            branch, skip = leaves[0], leaves[-1]
        h = sub(f"unit{k}_relu")(sub(f"unit{k}_bn")(sub(f"unit{k}_conv")(branch)) + skip)
    loss = F.cross_entropy(sub("fc")(sub("pool")(h).flatten(1)), Y)
    return torch.autograd.grad(loss, leaves)


def probe_run(graph, module):  # type: ignore[no-untyped-def]
    probe = SplitProbe(keep_grads=True)
    probe.attach(module, graph)
    probe.arm(True)
    F.cross_entropy(module(X), Y).backward()
    return probe, probe.collect(7, 2)


def test_split_matches_autograd_on_a_two_block_net() -> None:
    graph = two_block_net()
    module = compiled(graph)
    refs = [(*by_hand(module, unit, split=True), *by_hand(module, unit, split=False)) for unit in (1, 2)]
    probe, sample = probe_run(graph, module)
    assert sample is not None and (sample.step, sample.epoch) == (7, 2)
    assert sample.labels == ["unit1", "unit2"] and [u.fork for u in probe.units] == ["relu0", "unit1_relu"]
    for k, (branch, skip, total) in enumerate(refs):
        assert sample.branch[k] == pytest.approx(float(branch.norm()), rel=1e-5)
        assert sample.skip[k] == pytest.approx(float(skip.norm()), rel=1e-5)
        assert sample.ratio[k] == pytest.approx(float(skip.norm() / branch.norm()), rel=1e-5)
        parts = probe.grads[(k, SKIP)] + probe.grads[(k, BRANCH)]
        torch.testing.assert_close(parts, total, rtol=1e-5, atol=1e-7)  # the two parts sum to the whole


def test_parts_sum_to_the_fork_gradient_through_an_option_a_shortcut() -> None:
    graph = tiny(residual=True)
    module = compiled(graph, seed=3)
    probe = SplitProbe(keep_grads=True)
    probe.attach(module, graph)
    forks: dict[str, torch.Tensor] = {}
    for unit in probe.units:
        sub = module.get_submodule(module.block_paths[unit.fork])  # type: ignore[attr-defined]
        sub.register_forward_hook(lambda _m, _i, out, f=unit.fork: forks.__setitem__(f, out))
    x = torch.randn(8, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    probe.arm(True)
    loss = F.cross_entropy(module(x), torch.arange(8) % 4)
    totals = torch.autograd.grad(loss, [forks[u.fork] for u in probe.units])
    sample = probe.collect(0, 1)
    assert sample is not None and not probe.units[1].identity  # layer2.0 pads and subsamples
    for k, total in enumerate(totals):
        torch.testing.assert_close(probe.grads[(k, SKIP)] + probe.grads[(k, BRANCH)], total,
                                   rtol=1e-5, atol=1e-7)
        assert sample.skip[k] == pytest.approx(float(probe.grads[(k, SKIP)].norm()), rel=1e-5)


def test_unarmed_probe_measures_nothing_and_detach_restores_the_module() -> None:
    graph = two_block_net()
    module = compiled(graph)
    before, code = module(X), module.code
    keys = set(module.state_dict())
    probe = SplitProbe()
    probe.attach(module, graph)
    assert "_xray_tap" in module.code and set(module.state_dict()) == keys
    F.cross_entropy(module(X), Y).backward()
    assert probe.collect(0, 1) is None and probe.samples == []
    probe.detach()
    assert module.code == code and not any("_xray" in n for n, _ in module.named_modules())
    torch.testing.assert_close(module(X), before)


def test_plain_net_has_nothing_to_tap() -> None:
    graph = tiny(residual=False)
    module = compiled(graph)
    probe = SplitProbe()
    probe.attach(module, graph)
    probe.arm(True)
    assert probe.units == [] and not probe.armed


def test_trainer_with_the_probe_trains_identically_and_records_every_measured_step(tmp_path) -> None:
    data = synthetic(n=128, shape=(3, 8, 8), num_classes=4, seed=3, noise=0.5)
    config = quick_config(epochs=2, batch_size=32, probe_every=2)
    seen = []
    probe = SplitProbe(on_sample=seen.append)
    with_probe = Trainer(tiny(True), config, data, split_probe=probe).run()
    without = Trainer(tiny(True), config, data).run()
    assert [m.train_loss for m in with_probe.history] == [m.train_loss for m in without.history]
    assert [s.step for s in probe.samples] == [0, 2, 4, 6] and seen == probe.samples
    assert [s.epoch for s in probe.samples] == [1, 1, 2, 2]
    assert all(v > 0 for s in probe.samples for v in s.skip + s.branch)
    assert with_probe.module is not None and "_xray_tap" not in with_probe.module.code
    write_csv(probe.samples, probe.units, tmp_path / "split.csv")
    back = read_csv(tmp_path / "split.csv")
    assert [(s.step, s.labels) for s in back] == [(s.step, s.labels) for s in probe.samples]
    assert back[-1].skip == pytest.approx(probe.samples[-1].skip, rel=1e-5)
