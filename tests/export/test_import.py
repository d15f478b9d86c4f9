"""Importing nn.Modules with torch.fx: graphs that validate, keep keys, and re-export the same code."""

from __future__ import annotations

import pytest
import torch

from builder import fileformat
from builder.compile import compile_graph
from builder.export.codegen import export_code
from builder.export.fx_import import ImportFailure, load_class, trace_module

from .conftest import GRAPHS, load_source

HAND_WRITTEN = '''
import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class TinyResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(Block(8, 8), Block(8, 16, 2), Block(16, 16))
        self.linear = nn.Linear(16, 5)

    def forward(self, x):
        out = F.relu(self.bn(self.conv(x)))
        out = self.layer1(out)
        out = F.avg_pool2d(out, 4)
        out = out.view(out.size(0), -1)
        return self.linear(out)


class MixupStyle(nn.Module):
    """Like mixup-cifar10's ResNet: extra forward arguments with defaults pick the layers."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.linear = nn.Linear(4, 2)

    def forward(self, x, lin=0, lout=5):
        out = x
        if lin < 1 and lout > -1:
            out = F.relu(self.bn1(self.conv1(out)))
        out = F.adaptive_avg_pool2d(out, 1)
        return self.linear(torch.flatten(out, 1))


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return torch.softmax(self.conv(x), dim=1)
'''


@pytest.fixture
def hand(tmp_path):
    path = tmp_path / "hand.py"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    return path


def test_hand_written_residual_module_imports_with_its_keys_and_outputs(hand):
    cls = load_class(f"{hand}:TinyResNet")
    torch.manual_seed(0)
    original = cls().eval()
    graph = trace_module(original, (3, 8, 8), name="tiny")
    assert graph.block("layer1_1_shortcut_0").group == "layer1.1.shortcut"
    assert {b.type for b in graph.blocks()} >= {"add", "relu", "avgpool2d", "flatten", "conv2d"}
    compiled = compile_graph(graph).eval()
    compiled.load_state_dict(original.state_dict(), strict=True)
    x = torch.randn(2, 3, 8, 8)
    assert torch.allclose(compiled(x), original(x), atol=1e-6)


def test_hand_written_module_round_trips_export_import_export(hand, tmp_path):
    graph = trace_module(load_class(f"{hand}:TinyResNet")(), (3, 8, 8), name="tiny")
    first = export_code(graph)
    assert "class BasicBlock(nn.Module):" in first.source
    assert "self.shortcut = nn.Sequential(" in first.source
    module = load_source(first.source, tmp_path / "tiny_export.py", "tiny_export")
    again = trace_module(getattr(module, first.class_name)(), (3, 8, 8), name="tiny")
    assert export_code(again).source == first.source


@pytest.mark.parametrize("stem", ["resnet20", "preact_resnet18"])  # the second computes a shortcut early
def test_shipped_graph_round_trips_export_import_export(stem, tmp_path):
    graph = fileformat.load(GRAPHS / f"{stem}.json")
    first = export_code(graph)
    path = tmp_path / f"{stem}.py"
    path.write_text(first.source, encoding="utf-8")
    cls = load_class(f"{path}:{first.class_name}")
    imported = trace_module(cls(), first.input_shape, name=graph.name)
    imported.description = graph.description
    assert export_code(imported).source == first.source
    assert {b.id for b in imported.blocks()} - {"input"} == {b.id for b in graph.blocks()} - {"input"}


def test_forward_arguments_with_defaults_are_traced_with_their_defaults(hand):
    original = load_class(f"{hand}:MixupStyle")().eval()
    graph = trace_module(original, (3, 8, 8))
    assert sorted(b.type for b in graph.blocks()) == sorted(
        ["input", "conv2d", "batchnorm2d", "relu", "global_avgpool", "flatten", "linear", "output"])
    compiled = compile_graph(graph).eval()
    compiled.load_state_dict(original.state_dict(), strict=True)
    x = torch.randn(2, 3, 8, 8)
    assert torch.allclose(compiled(x), original(x), atol=1e-6)


def test_unsupported_operation_names_the_op_and_the_source_line(hand):
    with pytest.raises(ImportFailure) as info:
        trace_module(load_class(f"{hand}:Unsupported")(), (3, 8, 8))
    message = str(info.value)
    assert "softmax" in message and "hand.py:" in message and "torch.softmax" in message
    assert "\n" not in message


def test_input_of_the_wrong_size_fails_with_the_module_error(hand, capsys):
    with pytest.raises(ImportFailure) as info:
        trace_module(load_class(f"{hand}:TinyResNet")(), (3, 32, 32))
    assert "fails on a 2×3×32×32 input" in str(info.value) and "mat1 and mat2" in str(info.value)
    assert "\n" not in str(info.value) and "Traceback" not in capsys.readouterr().err


def test_bad_specs_fail_with_one_line(tmp_path, hand):
    for spec, text in ((f"{tmp_path}/missing.py:Net", "not found"), ("nocolon", "ClassName"),
                       (f"{hand}:Nope", "no nn.Module class")):
        with pytest.raises(ImportFailure, match=text):
            load_class(spec)
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n", encoding="utf-8")
    with pytest.raises(ImportFailure, match="boom"):
        load_class(f"{broken}:Net")
