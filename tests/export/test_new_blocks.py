"""GroupNorm, LayerNorm, SiLU, Hardswish and Dropout2d: each added as one catalog entry, and each
compiles, exports to code that computes the same, imports from PyTorch, counts what torchinfo
counts and survives a graph file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
import torchinfo
from torch import nn

from builder import fileformat
from builder.compile import compile_graph
from builder.export.codegen import export_code
from builder.export.fx_import import ImportFailure, trace_module
from builder.summary import summarize
from builder.validate import parameterised, validate
from tests.core.conftest import chain

from .conftest import load_source

# type id → (block params, the torch module the compiled graph must hold)
NEW = {
    "groupnorm": ({"num_groups": 4, "eps": 1e-4}, nn.GroupNorm),
    "layernorm": ({"eps": 1e-6}, nn.LayerNorm),
    "silu": ({}, nn.SiLU),
    "hardswish": ({}, nn.Hardswish),
    "dropout2d": ({"p": 0.3}, nn.Dropout2d),
}


def _graph(type_id: str, params: dict[str, Any] | None = None) -> Any:
    """Input 3×8×8 → conv (8) → the block → GAP → flatten → linear (5) → Output."""
    return chain("conv2d", type_id, "global_avgpool", "flatten", "linear", shape=(3, 8, 8),
                 b0={"out_channels": 8, "bias": False}, b1=params if params is not None else NEW[type_id][0],
                 b4={"out_features": 5})


def _randomise(module: nn.Module) -> None:
    """Non-default affine weights, so a norm's scale and shift are really compared."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn_like(p))


@pytest.mark.parametrize("type_id", sorted(NEW))
def test_compiles_to_its_torch_module(type_id: str) -> None:
    graph = _graph(type_id)
    module = compile_graph(graph).eval()
    block = module.get_submodule(module.block_paths["b1"])
    assert type(block) is NEW[type_id][1]
    assert module(torch.randn(2, 3, 8, 8)).shape == (2, 5)


@pytest.mark.parametrize("type_id", sorted(NEW))
def test_exported_code_computes_what_the_compiled_module_computes(type_id: str, tmp_path: Path) -> None:
    graph = _graph(type_id)
    code = export_code(graph)
    exported_module = load_source(code.source, tmp_path / f"{type_id}.py", f"exported_new_{type_id}")
    compiled = compile_graph(graph).eval()
    _randomise(compiled)
    exported = getattr(exported_module, code.class_name)().eval()
    exported.load_state_dict(compiled.state_dict(), strict=True)
    x = torch.randn(3, 3, 8, 8)
    with torch.no_grad():
        assert torch.allclose(compiled(x), exported(x), atol=1e-5)
    assert f"nn.{NEW[type_id][1].__name__}(" in code.source
    assert code.parameter_count == sum(p.numel() for p in compiled.parameters())


def test_dropout2d_drops_whole_channels_in_training_in_both() -> None:
    graph = chain("dropout2d", shape=(6, 4, 4), b0={"p": 0.5})
    compiled = compile_graph(graph).train()
    torch.manual_seed(1)
    out = compiled(torch.ones(4, 6, 4, 4))
    per_channel = out.flatten(2)
    assert ((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1)).all()  # a channel is all 0 or all 2
    assert (per_channel == 0).any()


class _Net(nn.Module):
    """conv → ``layer`` (a module, or a function of the tensor) → GAP → flatten → linear."""

    def __init__(self, layer: Any) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.layer = layer if isinstance(layer, nn.Module) else None
        self.function = None if isinstance(layer, nn.Module) else layer
        self.fc = nn.Linear(8, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        out = self.layer(out) if self.layer is not None else self.function(out, self.training)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))


IMPORTED = {
    "groupnorm module": (lambda: nn.GroupNorm(4, 8, eps=1e-4), "groupnorm", {"num_groups": 4, "eps": 1e-4}),
    "groupnorm without affine": (lambda: nn.GroupNorm(2, 8, affine=False), "groupnorm",
                                 {"num_groups": 2, "affine": False}),
    "layernorm module": (lambda: nn.LayerNorm((8, 8, 8)), "layernorm", {"elementwise_affine": True}),
    "silu module": (nn.SiLU, "silu", {}),
    "silu function": (lambda: lambda x, training: F.silu(x), "silu", {}),
    "hardswish module": (nn.Hardswish, "hardswish", {}),
    "hardswish function": (lambda: lambda x, training: F.hardswish(x), "hardswish", {}),
    "dropout2d module": (lambda: nn.Dropout2d(0.25), "dropout2d", {"p": 0.25}),
    "dropout2d function": (lambda: lambda x, training: F.dropout2d(x, 0.25, training=training), "dropout2d",
                           {"p": 0.25}),
}


@pytest.mark.parametrize("case", sorted(IMPORTED))
def test_imports_from_a_pytorch_module_using_it(case: str) -> None:
    make, type_id, params = IMPORTED[case]
    original = _Net(make()).eval()
    _randomise(original)
    graph = trace_module(original, (3, 8, 8), name="net")
    (block,) = [b for b in graph.blocks() if b.type == type_id]
    assert params.items() <= block.params.items()
    compiled = compile_graph(graph).eval()
    compiled.load_state_dict(original.state_dict(), strict=True)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        assert torch.allclose(compiled(x), original(x), atol=1e-5)


def test_a_layernorm_over_the_last_dimension_only_is_refused_in_one_line() -> None:
    with pytest.raises(ImportFailure) as info:
        trace_module(_Net(nn.LayerNorm(8)), (3, 8, 8))
    message = str(info.value)
    assert "layer (LayerNorm) normalises over the last 1 dimension(s) (8,) only" in message
    assert "8×8×8" in message and "\n" not in message


def test_a_functional_dropout2d_that_ignores_eval_mode_is_refused() -> None:
    with pytest.raises(ImportFailure, match="dropout2d with training=True"):
        trace_module(_Net(lambda x, training: F.dropout2d(x, 0.2)), (3, 8, 8))


@pytest.mark.parametrize("type_id", sorted(NEW))
def test_summary_counts_equal_torchinfo(type_id: str) -> None:
    graph = _graph(type_id)
    ours = summarize(graph)
    module = compile_graph(graph)
    stats = torchinfo.summary(module, input_size=(1, 3, 8, 8), verbose=0, device=torch.device("cpu"))
    by_module = {id(info.module): info for info in stats.summary_list}
    for row in ours.rows:
        if row.block_id in module.block_paths:
            sub = module.get_submodule(module.block_paths[row.block_id])
            assert (row.params, row.mult_adds) == (sum(p.numel() for p in sub.parameters()),
                                                   by_module[id(sub)].macs), row
    assert (ours.total_params, ours.total_mult_adds) == (stats.total_params, stats.total_mult_adds)


def test_norms_without_weights_are_not_probed_for_gradients() -> None:
    assert "b1" in parameterised(_graph("groupnorm"))
    assert "b1" not in parameterised(_graph("groupnorm", {"num_groups": 4, "affine": False}))
    assert "b1" not in parameterised(_graph("layernorm", {"elementwise_affine": False}))
    assert "b1" not in parameterised(_graph("silu"))


@pytest.mark.parametrize("type_id", sorted(NEW))
def test_survives_a_graph_file(type_id: str, tmp_path: Path) -> None:
    graph = _graph(type_id)
    fileformat.save(graph, tmp_path / "g.json")
    again = fileformat.load(tmp_path / "g.json")
    assert again == graph and again.block("b1").type == type_id
    assert validate(again).ok


def test_shape_rules_explain_what_is_wrong() -> None:
    report = validate(_graph("groupnorm", {"num_groups": 3}))
    assert [(d.block_id, d.code) for d in report.errors] == [("b1", "groups_mismatch")]
    assert "num_groups=3 must divide the 8 input channels" in report.errors[0].message
    flat = chain("flatten", "dropout2d", shape=(2, 4, 4))
    assert [d.code for d in validate(flat).errors] == ["needs_image"]
    assert validate(chain("flatten", "layernorm", shape=(2, 4, 4))).shapes["b1"] == (32,)
