"""Residual units, lesion units and the graph diff on the shipped graphs (no torch needed)."""

from __future__ import annotations

from pathlib import Path

from builder import fileformat
from builder.graph import Wire
from builder.twin import plain_twin
from builder.validate import validate
from builder.xray.diff import diff, skip_wires
from builder.xray.structure import lesion_units, residual_units
from tests.xray.conftest import two_block_net

GRAPHS = Path(__file__).resolve().parents[2] / "graphs"


def load(name: str):  # type: ignore[no-untyped-def]
    return fileformat.load(GRAPHS / f"{name}.json")


def test_resnet_units_identity_and_option_a() -> None:
    units = residual_units(load("resnet20"))
    assert [u.label for u in units] == [f"layer{s}.{j}" for s in (1, 2, 3) for j in range(3)]
    first, down = units[0], units[3]
    assert (first.fork, first.skip_first, first.branch_first, first.identity) == (
        "relu1", "layer1_0_add", ("layer1_0_conv1",), True)
    assert (down.fork, down.skip_first, down.skip_source, down.branch_source, down.identity) == (
        "layer1_2_relu2", "layer2_0_shortcut", "layer2_0_shortcut", "layer2_0_bn2", False)


def test_option_b_and_preactivation_units() -> None:
    b = residual_units(load("resnet20b"))[3]
    assert (b.skip_first, b.skip_source) == ("layer2_0_conv_shortcut", "layer2_0_bn_shortcut")
    pre = residual_units(load("preact_resnet18"))[1]
    # the seed's PreActBlock: the identity shortcut takes relu(bn1(x)), which also feeds the branch
    assert pre.fork == "layer1_1_relu1" and pre.skip_first == pre.add_id


def test_plain_nets_have_no_units_but_groups_to_lesion() -> None:
    graph = load("plain20")
    assert residual_units(graph) == []
    units = lesion_units(graph, validate(graph))
    assert [u.label for u in units if u.ok] == ["layer1.0", "layer1.1", "layer1.2", "layer2.1",
                                                "layer2.2", "layer3.1", "layer3.2"]
    bad = {u.label: u.reason for u in units if not u.ok}
    assert bad == {"layer2.0": "the shape changes (16×32×32 → 32×16×16)",
                   "layer3.0": "the shape changes (32×16×16 → 64×8×8)"}
    kept = units[1]
    assert (kept.kind, kept.source, kept.target) == ("bypass", "layer1_0_relu2", "layer1_1_relu2")


def test_lesion_falls_back_to_layers_and_reports_nets_that_cannot_be_lesioned() -> None:
    vgg = load("vgg16")
    units = lesion_units(vgg, validate(vgg))
    assert all(u.kind == "bypass" for u in units)
    assert "features_3" in [u.label for u in units if u.ok]  # the seed's features.3: stage 1's 2nd conv
    lenet = load("lenet")
    assert not any(u.ok for u in lesion_units(lenet, validate(lenet)))
    residual = lesion_units(load("resnet56"), validate(load("resnet56")))
    assert len(residual) == 27 and all(u.ok and u.kind == "branch" for u in residual)


def test_diff_plain_vs_resnet_is_exactly_adds_shortcuts_and_skip_wires() -> None:
    plain, res = load("plain20"), load("resnet20")
    changes = diff(plain, res)
    added = {c.block_id for c in changes.blocks if c.kind == "added"}
    assert added == {b.id for b in res.blocks() if b.type in ("add", "shortcut_pad")}
    assert changes.count("removed") == changes.count("changed") == 0
    removed = [c.wire for c in changes.wires if c.kind == "removed"]
    assert len(removed) == 9 and all(w.target.endswith("_relu2") for w in removed)
    skips = {c.wire for c in changes.wires if c.skip}
    assert skips == skip_wires(res) and Wire("relu1", "layer1_0_add", 1) in skips
    assert "blocks 11 added, 0 removed, 0 changed; wires 29 added, 9 removed (11 on skip paths)" \
        in changes.summary()
    assert "+ block layer2_0_shortcut (ShortcutPad)" in changes.text()
    assert diff(res, res).same
    assert diff(plain_twin(res), plain).same  # the twin keeps ids; positions are ignored


def test_diff_reports_changed_parameters_types_and_groups() -> None:
    a, b = two_block_net(), two_block_net()
    b.set_param("unit1_conv", "out_channels", 3)  # same value: no change
    b.set_param("unit2_conv", "kernel_size", 1)
    b.set_group(["stem"], "head")
    b.move("fc", (500.0, 500.0))  # positions are ignored
    changes = diff(a, b)
    assert [(c.block_id, c.kind, c.detail) for c in changes.blocks] == [
        ("stem", "changed", "group (none) → head"), ("unit2_conv", "changed", "kernel_size 3 → 1")]
    assert changes.marks("a") == changes.marks("b") == {"stem": "changed", "unit2_conv": "changed"}
