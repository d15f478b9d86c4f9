"""``main.py import`` takes the idioms of ordinary CIFAR model code, one test per idiom, and every
reference model (mixup-cifar10 / kuangliu style) imports and round-trips import → export."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from builder.compile import compile_graph
from builder.export.codegen import export_code
from builder.export.fx_import import ImportFailure, load_class, trace_module
from builder.graph import Graph

from . import reference_zoo
from .test_zoo_fidelity import randomise_batchnorm

IDIOMS = '''
import torch
import torch.nn.functional as F
from torch import nn


class Base(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 4)

    def head(self, out):
        return self.fc(out)


class WithBN(Base):
    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(8)


class MaxPoolDefaults(Base):
    def forward(self, x):
        out = F.max_pool2d(F.relu(self.conv(x)), 2)
        out = F.max_pool2d(out, 3, 2, 1)
        return self.head(torch.flatten(F.adaptive_avg_pool2d(out, (1, 1)), 1))


class AvgPoolKernelFromSize(WithBN):
    def forward(self, x):
        out = F.relu(self.bn(self.conv(x)), inplace=True)
        out = F.avg_pool2d(out, out.size()[3])
        return self.head(out.view(out.size(0), -1))


class Dropout(Base):
    def forward(self, x):
        out = F.dropout(self.conv(x), p=0.3, training=self.training)
        out = F.dropout(F.avg_pool2d(out, 8), 0.5, self.training)
        return self.head(out.view(out.size(0), -1))


class AlwaysDropout(Base):
    def forward(self, x):
        return self.head(F.dropout(F.avg_pool2d(self.conv(x), 8)).flatten(1))


class ReshapeByShape(Base):
    def forward(self, x):
        out = F.avg_pool2d(torch.relu(self.conv(x)), 8)
        return self.head(out.reshape(out.shape[0], -1))


class GlobalMean(WithBN):
    def forward(self, x):
        out = self.bn(self.conv(x))
        kept = out.mean([-1, -2], keepdim=True).flatten(1)
        return self.head(kept + out.mean((2, 3)))


class Concat(Base):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(11, 4)

    def forward(self, x):
        out = torch.cat([F.relu(self.conv(x)), x], 1)
        return self.head(torch.flatten(F.avg_pool2d(out, 8), 1))


class StatelessTwice(WithBN):
    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool2d(2)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.pool(self.relu(self.conv(x)))
        out = self.pool(self.relu(self.bn(out)))
        return self.head(F.avg_pool2d(out, 2).view(-1, 8))


class SharedWeights(WithBN):
    def forward(self, x):
        out = F.relu(self.bn(self.conv(x)))
        out = self.bn(out)
        return self.head(F.avg_pool2d(out, 8).flatten(1))


class AkamasterBlock(nn.Module):
    """akamaster/pytorch_resnet_cifar10 style: option A as a lambda layer, or option B."""

    def __init__(self, cin, planes, stride, option, front):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.option, self.front, self.extra = option, front, planes - cin
        self.shortcut = nn.Sequential()
        if option == "B" and (stride != 1 or cin != planes):
            self.shortcut = nn.Sequential(nn.Conv2d(cin, planes, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.option == "A" and self.extra:
            skip = x[:, :, ::2, ::2]
            out += F.pad(skip, (0, 0, 0, 0, self.front, self.extra - self.front), "constant", 0)
        else:
            out += self.shortcut(x)
        return F.relu(out)


class Akamaster(nn.Module):
    def __init__(self, option="A", front=0):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.layer1 = nn.Sequential(AkamasterBlock(4, 4, 1, option, front),
                                    AkamasterBlock(4, 8, 2, option, front))
        self.linear = nn.Linear(8, 3)

    def forward(self, x):
        out = self.layer1(F.relu(self.bn1(self.conv1(x))))
        out = F.avg_pool2d(out, out.size()[3])
        return self.linear(out.view(out.size(0), -1))


class AkamasterA(Akamaster):
    def __init__(self):
        super().__init__("A")


class AkamasterB(Akamaster):
    def __init__(self):
        super().__init__("B")


class AkamasterSymmetric(Akamaster):
    def __init__(self):
        super().__init__("A", front=2)


class CeilMode(Base):
    def forward(self, x):
        out = F.max_pool2d(self.conv(x), 3, ceil_mode=True)
        return self.head(F.adaptive_avg_pool2d(out, 1).flatten(1))
'''

# class → block types its import must contain (besides input, conv2d, linear, output)
EXPECTED = {
    "MaxPoolDefaults": {"maxpool2d", "relu", "global_avgpool", "flatten"},
    "AvgPoolKernelFromSize": {"avgpool2d", "relu", "batchnorm2d", "flatten"},
    "Dropout": {"dropout", "avgpool2d", "flatten"},
    "ReshapeByShape": {"relu", "avgpool2d", "flatten"},
    "GlobalMean": {"global_avgpool", "add", "flatten", "batchnorm2d"},
    "Concat": {"concat", "relu", "avgpool2d", "flatten"},
    "StatelessTwice": {"maxpool2d", "relu", "batchnorm2d", "avgpool2d", "flatten"},
    "AkamasterA": {"shortcut_pad", "add", "avgpool2d", "flatten"},
    "AkamasterB": {"add", "batchnorm2d", "avgpool2d", "flatten"},
}


@pytest.fixture(scope="module")
def idioms(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("idioms") / "idioms.py"
    path.write_text(IDIOMS, encoding="utf-8")
    return path


def round_trip(module: torch.nn.Module, shape: tuple[int, int, int], name: str) -> Graph:
    """Import ``module``; the compiled graph and its exported code both equal it (strict keys)."""
    torch.manual_seed(0)
    randomise_batchnorm(module)
    module.eval()
    graph = trace_module(module, shape, name=name)
    x = torch.randn(2, *shape)
    with torch.no_grad():
        expected = module(x)
        compiled = compile_graph(graph).eval()
        compiled.load_state_dict(module.state_dict(), strict=True)
        assert (compiled(x) - expected).abs().max().item() <= 1e-5
        code = export_code(graph)
        namespace: dict[str, object] = {"__name__": f"exported_{name}"}
        exec(compile(code.source, f"<{name}>", "exec"), namespace)
        exported = namespace[code.class_name]().eval()  # type: ignore[operator]
        exported.load_state_dict(module.state_dict(), strict=True)
        assert (exported(x) - expected).abs().max().item() <= 1e-5
    return graph


@pytest.mark.parametrize("cls", sorted(EXPECTED))
def test_idiom_imports_and_round_trips(idioms: Path, cls: str) -> None:
    graph = round_trip(load_class(f"{idioms}:{cls}")(), (3, 8, 8), cls.lower())
    types = {b.type for b in graph.blocks()}
    assert EXPECTED[cls] <= types, types


def test_functional_pool_defaults_become_the_usual_blocks(idioms: Path) -> None:
    graph = trace_module(load_class(f"{idioms}:MaxPoolDefaults")(), (3, 8, 8))
    pools = [b.params for b in graph.blocks() if b.type == "maxpool2d"]
    assert pools == [{"kernel_size": 2, "stride": 2, "padding": 0},
                     {"kernel_size": 3, "stride": 2, "padding": 1}]


def test_dropout_keeps_its_probability(idioms: Path) -> None:
    graph = trace_module(load_class(f"{idioms}:Dropout")(), (3, 8, 8))
    assert sorted(b.params["p"] for b in graph.blocks() if b.type == "dropout") == [0.3, 0.5]


def test_a_stateless_module_called_twice_is_two_blocks(idioms: Path) -> None:
    graph = trace_module(load_class(f"{idioms}:StatelessTwice")(), (3, 8, 8))
    assert {"pool", "pool_2", "relu", "relu_2"} <= {b.id for b in graph.blocks()}


def test_a_module_with_weights_called_twice_is_refused_in_one_line(idioms: Path) -> None:
    with pytest.raises(ImportFailure) as info:
        trace_module(load_class(f"{idioms}:SharedWeights")(), (3, 8, 8))
    message = str(info.value)
    assert "idioms.py:" in message and "self.bn(out)" in message
    assert "module bn (BatchNorm2d) is called more than once" in message
    assert "weight sharing is not representable" in message and "\n" not in message


def test_dropout_that_ignores_eval_mode_is_refused_with_the_fix(idioms: Path) -> None:
    with pytest.raises(ImportFailure, match="training=True, which drops values in eval mode too.*"
                                            "pass training=self.training"):
        trace_module(load_class(f"{idioms}:AlwaysDropout")(), (3, 8, 8))


def test_hand_written_option_a_becomes_shortcut_pads(idioms: Path) -> None:
    graph = trace_module(load_class(f"{idioms}:AkamasterA")(), (3, 8, 8))
    pads = sorted((b.params["stride"], b.params["out_channels"]) for b in graph.blocks()
                  if b.type == "shortcut_pad")
    assert pads == [(1, 8), (2, 4)]  # x[:, :, ::2, ::2], then F.pad's four zero channels


def test_zero_channels_in_front_are_refused_with_the_difference(idioms: Path) -> None:
    with pytest.raises(ImportFailure) as info:
        trace_module(load_class(f"{idioms}:AkamasterSymmetric")(), (3, 8, 8))
    message = str(info.value)
    assert "idioms.py:" in message and "2 zero channel(s) before the input's" in message
    assert "akamaster" in message and "\n" not in message


def test_a_pool_argument_without_a_block_names_the_operation(idioms: Path) -> None:
    with pytest.raises(ImportFailure, match="unsupported operation: torch.nn.functional.*max_pool2d"):
        trace_module(load_class(f"{idioms}:CeilMode")(), (3, 8, 8))


def test_a_module_too_large_for_the_memory_limit_is_refused_before_running(idioms: Path) -> None:
    module = load_class(f"{idioms}:Concat")()
    with pytest.raises(ImportFailure) as info:  # 2×11×8192×8192 floats: ~3 GB, nothing allocated
        trace_module(module, (3, 8192, 8192), memory_limit="100MB")
    message = str(info.value)
    assert message.startswith("Concat needs about") and "more than the memory limit of 100.0 MB" in message
    assert "the largest output is" in message and "\n" not in message


# one model per architecture of mixup-cifar10's models/ (kuangliu's pytorch-cifar style), small
# where the constructor allows: the idioms are the same at any width
SEED_STYLE = {
    "preact_resnet18": reference_zoo.ResNet18,
    "preact_identity": reference_zoo.PreActResNet18Identity,  # kuangliu's preact_resnet.py
    "resnet50": reference_zoo.ResNet50,
    "resnext29": lambda: reference_zoo.ResNeXt29(2, 8),
    "densenet": lambda: reference_zoo.DenseNet([1, 2, 2, 1], 8),
    "densenet_bc": reference_zoo.DenseNetBC40,
    "vgg11": lambda: reference_zoo.VGG(11),
    "googlenet": reference_zoo.GoogLeNet,
    "mobilenet": reference_zoo.MobileNet,
    "lenet": reference_zoo.LeNet,
}


@pytest.mark.parametrize("name", sorted(SEED_STYLE))
def test_reference_models_import_validate_and_round_trip(name: str) -> None:
    round_trip(SEED_STYLE[name](), (3, 32, 32), name)
