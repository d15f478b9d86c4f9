"""Every catalog entry against torch: its module, its source, its counts, its import tables."""

from __future__ import annotations

import pytest
import torch
import torchinfo
from torch import nn

from builder import catalog
from builder.blocktype import BlockType, Call, keyword, positional
from builder.export import fx_ops
from builder.modules import ShortcutPad

MODULE_TYPES = sorted(t for t, e in catalog.CATALOG.items() if e.call is not None)


def _input_shape(entry: BlockType) -> tuple[int, ...]:
    return (16,) if entry.type_id == "linear" else (8, 12, 12)


def _built(entry: BlockType, params: dict | None = None) -> tuple[nn.Module, dict, tuple[int, ...]]:
    params = {**entry.defaults(), **(params or {})}
    shape = _input_shape(entry)
    return entry.make(params, [shape]), params, shape


@pytest.mark.parametrize("type_id", MODULE_TYPES)
def test_the_written_constructor_makes_the_built_module(type_id: str) -> None:
    entry = catalog.get(type_id)
    module, params, shape = _built(entry)
    call = entry.call(params, [shape])  # type: ignore[misc]
    written = eval(call.render(), {"nn": nn, "ShortcutPad": ShortcutPad})  # our own source, in a test
    assert repr(written) == repr(module)
    x = torch.randn(2, *shape)
    assert tuple(module(x).shape[1:]) == entry.infer(params, [("src", shape)])


@pytest.mark.parametrize("type_id", MODULE_TYPES)
def test_counts_equal_what_torch_and_torchinfo_count(type_id: str) -> None:
    entry = catalog.get(type_id)
    module, params, shape = _built(entry)
    out = entry.infer(params, [("src", shape)])
    stats = torchinfo.summary(module, input_size=(1, *shape), verbose=0, device=torch.device("cpu"))
    assert entry.parameters(params, [shape]) == sum(p.numel() for p in module.parameters())
    assert entry.mult_adds(params, [shape], out) == stats.total_mult_adds
    assert entry.has_weights(params) == any(True for _ in module.parameters())


@pytest.mark.parametrize(("type_id", "switch"),
                         [("groupnorm", "affine"), ("layernorm", "elementwise_affine")])
def test_a_norm_without_affine_weights_counts_nothing(type_id: str, switch: str) -> None:
    entry = catalog.get(type_id)
    module, params, shape = _built(entry, {switch: False})
    assert list(module.parameters()) == [] and not entry.has_weights(params)
    assert entry.parameters(params, [shape]) == 0 and entry.mult_adds(params, [shape], shape) == 0


def test_parameterised_types_are_those_whose_modules_can_have_weights() -> None:
    weighted = {t for t in MODULE_TYPES if any(True for _ in _built(catalog.get(t))[0].parameters())}
    assert catalog.PARAMETERISED == weighted
    assert {"conv2d", "batchnorm2d", "linear", "groupnorm", "layernorm"} <= weighted


def test_every_module_block_is_known_to_the_importer() -> None:
    """Each entry's torch classes resolve, and map back to that entry (Identity is dropped on import)."""
    for type_id in MODULE_TYPES:
        entry = catalog.get(type_id)
        if type_id == "identity":
            assert entry.imports.modules == ()
            continue
        qualified = [n for n in entry.imports.modules if "." in n]
        for name in qualified:
            cls = fx_ops._resolve(name)
            assert fx_ops._CLASSES[cls] is entry, name
        assert qualified or entry.imports.modules == ("ShortcutPad",), type_id


def test_call_render_leaves_out_defaults_and_keeps_positional_order() -> None:
    args = (positional("in_channels", 3), positional("out_channels", 8), keyword("kernel_size", 3),
            keyword("stride", 1, 1), keyword("bias", False, True))
    call = Call("nn.Conv2d", args)
    assert call.render() == "nn.Conv2d(3, 8, kernel_size=3, bias=False)"
    assert call.render(["in_channels", "width", "3", "stride"]) == (
        "nn.Conv2d(in_channels, width, kernel_size=3, stride=stride, bias=False)")
    assert call.number_names() == ["in_channels", "out_channels", "kernel_size", "stride"]
    assert call.values()["bias"] is False


def test_an_input_shape_is_parsed_once_for_every_caller() -> None:
    assert catalog.parse_input_shape("3x32x32") == (3, 32, 32)
    assert catalog.parse_input_shape("1×28×28") == (1, 28, 28)
    with pytest.raises(ValueError, match="input shape must look like 3x32x32, got '3x32'"):
        catalog.parse_input_shape("3x32")
    with pytest.raises(ValueError, match="--input 0x8x8: channels must be from 1 to 4,096, got 0"):
        catalog.parse_input_shape("0x8x8", "--input")


def test_a_type_declared_twice_is_refused() -> None:
    from builder.blocktype import entries_by_id

    with pytest.raises(ValueError, match="'relu' is declared twice"):
        entries_by_id([catalog.get("relu"), catalog.get("relu")])
