"""Every zoo template is the reference model: its state_dict loads by key, strictly, and the
compiled graph then computes the same outputs (reference modules in ``reference_zoo.py``)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from builder import fileformat, templates
from builder.compile import compile_graph

from .conftest import GRAPHS
from .reference_zoo import REFERENCES

# The same block classes as resnet50 / resnext29_2x64d at larger counts or widths: their keys
# and parameter counts are checked here, their outputs by bench/zoo_fidelity.py (seconds each).
KEYS_ONLY = {"resnet101", "resnet152", "resnext29_4x64d", "resnext29_8x64d"}


def randomise_batchnorm(module: nn.Module) -> None:
    """Running statistics and affine parameters away from (0, 1), so BatchNorm is no identity."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)


def test_every_reference_model_is_a_template():
    assert set(REFERENCES) <= set(templates.TEMPLATES)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_reference_state_dict_loads_strictly_and_outputs_agree(name):
    graph = templates.make(name)
    with torch.device("meta"):
        compiled = compile_graph(graph)
        shapes_only = REFERENCES[name]()
    assert sorted(compiled.state_dict()) == sorted(shapes_only.state_dict())  # the same keys
    if name in KEYS_ONLY:
        compiled.load_state_dict(shapes_only.state_dict(), strict=True, assign=True)  # shapes too
        assert sum(p.numel() for p in compiled.parameters()) == \
            sum(p.numel() for p in shapes_only.parameters())
        return
    torch.manual_seed(0)
    reference = REFERENCES[name]().eval()
    randomise_batchnorm(reference)
    compiled.load_state_dict(reference.state_dict(), strict=True, assign=True)
    compiled.eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected, got = reference(x), compiled(x)
    assert (expected - got).abs().max().item() <= 1e-5 * max(1.0, expected.abs().max().item())


def test_preact_resnet18_computes_the_reference_not_the_identity_mappings_form():
    """The shortcut of the reference's PreActBlock takes relu(bn1(x)): the two forms differ."""
    torch.manual_seed(0)
    reference = REFERENCES["preact_resnet18"]().eval()
    randomise_batchnorm(reference)
    x = torch.randn(2, 3, 32, 32)
    outputs = {}
    for name in ("preact_resnet18", "preact_resnet18_identity"):
        module = compile_graph(templates.make(name)).eval()
        module.load_state_dict(reference.state_dict(), strict=True)
        with torch.no_grad():
            outputs[name] = module(x)
    with torch.no_grad():
        expected = reference(x)
    assert torch.allclose(outputs["preact_resnet18"], expected, atol=1e-5)
    assert (outputs["preact_resnet18_identity"] - expected).abs().max().item() > 1e-2


def test_shipped_preact_resnet18_adds_the_activated_input_on_identity_shortcuts():
    graph = fileformat.load(GRAPHS / "preact_resnet18.json")
    assert graph.inputs_of("layer1_0_add")[1] == "layer1_0_relu1"
    assert graph.inputs_of("layer2_0_add")[1] == "layer2_0_shortcut_0"
    identity = templates.make("preact_resnet18_identity")
    assert identity.inputs_of("layer1_1_add")[1] == "layer1_0_add"
