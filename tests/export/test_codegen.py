"""The generated source: readable structure, safe names, ruff-clean and formatter-stable."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from builder import fileformat, templates
from builder.compile import compile_graph
from builder.export.codegen import ExportError, export_code
from builder.graph import Graph

from .conftest import GRAPHS, load_source


def _code(stem):
    return export_code(fileformat.load(GRAPHS / f"{stem}.json"))


def test_resnet20_has_a_basic_block_class_a_visible_skip_and_stage_loops():
    code = _code("resnet20")
    src = code.source
    assert code.classes == ["ShortcutPad", "BasicBlock", "Resnet20"]
    assert src.count("class BasicBlock(nn.Module):") == 1
    assert "out = out + self.shortcut(x)" in src
    assert "if stride != 1 or in_channels != out_channels:" in src
    assert "extra_channels=out_channels - in_channels" in src
    assert "self.layer1 = nn.Sequential(*(BasicBlock(16, 16, 1) for _ in range(3)))" in src
    assert "self.layer2 = _make_stage(BasicBlock, (16, 32, 2), (32, 32, 1), blocks=3)" in src
    assert '__all__ = ["BasicBlock", "Resnet20", "ShortcutPad"]' in src
    assert "Parameters: 269,722." in src and "N×3×32×32" in src
    imports = [line for line in src.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import torch", "import torch.nn.functional as F", "from torch import nn"]


def test_option_b_shortcut_chain_is_optional_in_one_class():
    code = _code("resnet20b")
    assert code.classes == ["BasicBlock", "Resnet20b"]
    assert "out = out + self.bn_shortcut(self.conv_shortcut(x))" in code.source
    assert code.source.count("if stride != 1 or in_channels != out_channels:") == 2


def test_resnet110_is_as_short_as_resnet20():
    short, deep = _code("resnet20").source, _code("resnet110").source
    assert abs(len(deep.splitlines()) - len(short.splitlines())) <= 2
    assert "blocks=18" in deep


def test_flat_graph_gets_flat_code():
    code = _code("lenet")
    assert code.classes == ["Lenet"]
    assert "self.fc1 = nn.Linear(400, 120)" in code.source
    assert "out = torch.flatten(out, 1)" in code.source


def test_densenet_layers_are_built_in_a_loop_with_growing_inputs():
    src = _code("densenet121").source
    assert "nn.Sequential(*(DenseLayer(64 + 32 * i) for i in range(6)))" in src
    assert "torch.cat([out, x], 1)" in src


def test_googlenet_inception_concatenates_four_named_branches():
    src = _code("googlenet").source
    assert src.count("class Inception(nn.Module):") == 1
    assert "out = torch.cat([out, b2, b3, b4], 1)" in src


def test_names_never_shadow_python_or_torch(tmp_path):
    g = Graph("x")
    g.add_block("input", {"channels": 2, "height": 4, "width": 4}, block_id="input")
    for name in ("torch", "self", "F", "out"):
        g.add_block("conv2d", {"out_channels": 2, "bias": False}, block_id=name)
    g.connect("input", "torch")
    g.connect("torch", "self")
    g.connect("torch", "F")  # 'torch' feeds two blocks: it needs a variable of its own
    g.add_block("add", block_id="nn")
    g.connect("self", "nn", 0)
    g.connect("F", "nn", 1)
    g.connect("nn", "out")
    g.add_block("add", block_id="sum")
    g.connect("out", "sum", 0)
    g.connect("torch", "sum", 1)
    g.add_block("output", block_id="output")
    g.connect("sum", "output")
    code = export_code(g)
    assert "\n        torch = " not in code.source and "\n        self = " not in code.source
    module = load_source(code.source, tmp_path / "names.py", "exported_names")
    compiled = compile_graph(g).eval()
    exported = getattr(module, code.class_name)().eval()
    exported.load_state_dict(compiled.state_dict(), strict=True)
    x = torch.randn(2, 2, 4, 4)
    assert torch.allclose(compiled(x), exported(x), atol=1e-6)


def test_graph_with_errors_is_refused_with_the_diagnostics():
    g = templates.lenet()
    g.disconnect("fc1", 0)
    with pytest.raises(ExportError, match="fc1"):
        export_code(g)


@pytest.mark.parametrize("stem", ["resnet20", "plain20", "vgg16", "lenet", "googlenet", "resnet50"])
def test_generated_code_is_ruff_clean_and_format_stable(stem, tmp_path):
    path = tmp_path / f"{stem}.py"
    path.write_text(_code(stem).source, encoding="utf-8")
    ruff = [sys.executable, "-m", "ruff"]
    check = subprocess.run([*ruff, "check", "--isolated", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run([*ruff, "format", "--isolated", "--diff", str(path)], capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout


def test_class_names_never_shadow_module_level_names(tmp_path):
    g = templates.lenet()
    g.name = "F"  # the model class would be F, shadowing torch.nn.functional
    g.set_group(["conv1", "relu1", "pool1"], "f")  # a group class named after "f"
    code = export_code(g)
    assert "class F(" not in code.source and code.class_name == "FModel"
    module = load_source(code.source, tmp_path / "f.py", "exported_f")
    compiled = compile_graph(g).eval()
    exported = module.FModel().eval()
    exported.load_state_dict(compiled.state_dict(), strict=True)
    x = torch.randn(1, 3, 32, 32)
    assert torch.allclose(compiled(x), exported(x), atol=1e-6)
