"""The reference zoo: parameter counts of mixup-cifar10's models and of the Wide ResNets."""

from __future__ import annotations

import pytest

from builder import fileformat, templates, zoo
from builder.export.codegen import parameter_count
from builder.graph import Graph
from builder.summary import summarize
from builder.validate import validate

from .conftest import GRAPHS


def _count(graph: Graph) -> int:
    report = validate(graph)
    assert report.ok, report.errors[:3]
    assert report.shapes["output"] == (10,)
    return parameter_count(graph, report, report.order)


@pytest.mark.parametrize("stem", sorted(zoo.REFERENCE_PARAMS))
def test_parameter_counts_match_mixup_cifar10(stem):
    assert _count(fileformat.load(GRAPHS / f"{stem}.json")) == zoo.REFERENCE_PARAMS[stem]


@pytest.mark.parametrize(("depth", "widen", "exact", "paper"), [(16, 4, 2_748_890, 2.7e6),
                                                                 (28, 10, 36_479_194, 36.5e6)])
def test_wide_resnet_counts_agree_with_the_paper(depth, widen, exact, paper):
    count = _count(zoo.wide_resnet(depth, widen))
    assert count == exact
    assert round(count / 1e6, 1) == paper / 1e6  # the paper rounds to 0.1M


def test_deeper_mixup_resnets_build_and_count():
    # mixup-cifar10 ResNet101/152 (kuangliu's CIFAR ResNets): 42,512,970 and 58,156,618
    assert _count(zoo.resnet(101)) == 42_512_970
    assert _count(zoo.resnet(152)) == 58_156_618


def test_shipped_zoo_files_equal_their_generators():
    for stem, (name, options) in zoo.ZOO_SHIPPED.items():
        assert fileformat.load(GRAPHS / f"{stem}.json") == templates.make(name, **options), stem


def test_zoo_is_listed_with_the_templates():
    assert set(zoo.ZOO_TEMPLATES) <= set(templates.TEMPLATES)
    assert set(zoo.ZOO_SHIPPED) <= set(templates.SHIPPED)
    assert templates.make("wide_resnet", depth=16, widen=2).name == "wrn16_2"
    assert templates.make("resnet18") == templates.make("preact_resnet18")  # the reference's name


def test_options_a_template_does_not_take_are_refused():
    for name, options in (("mobilenet", {"depth": 20}), ("vgg16", {"shortcut": "A"}),
                          ("plain", {"shortcut": "B"}), ("lenet", {"widen": 2})):
        with pytest.raises(ValueError, match=f"'{name}' takes no {next(iter(options))}"):
            templates.make(name, **options)
    assert templates.template_options("mobilenet") == ("input_shape", "num_classes")
    assert templates.template_options("resnet") == ("depth", "shortcut", "input_shape", "num_classes")
    assert templates.template_options("wide_resnet") == ("depth", "widen", "input_shape", "num_classes")


def test_bad_zoo_options_are_value_errors():
    with pytest.raises(ValueError, match="depth"):
        zoo.resnet(20)
    with pytest.raises(ValueError, match="6n\\+4"):
        zoo.wide_resnet(20, 2)
    for call in (lambda: zoo.vgg(17), lambda: zoo.densenet(100), lambda: zoo.densenet_bc(41),
                 lambda: zoo.resnet(34, identity_mappings=True), lambda: zoo.resnext29(0, 4)):
        with pytest.raises(ValueError):
            call()


def test_summary_of_a_zoo_model_counts_the_same():
    graph = zoo.wide_resnet(16, 1)
    assert summarize(graph).total_params == _count(graph)
