"""Validation: every diagnostic code from a small broken graph, and shape inference rules."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from builder import fileformat
from builder.graph import Graph
from builder.validate import CODES, ERROR, WARNING, parameterised, validate
from tests.core.conftest import GRAPHS, chain


def _no_input() -> Graph:
    graph = Graph()
    graph.add_block("output", block_id="output")
    return graph


def _no_output() -> Graph:
    graph = Graph()
    graph.add_block("input", block_id="input")
    return graph


def _second(type_id: str) -> Graph:
    graph = chain("relu")
    graph.add_block(type_id, block_id="extra")
    if type_id == "output":
        graph.connect("b0", "extra", 0)
    return graph


def _missing_input() -> Graph:
    graph = chain("relu")
    graph.disconnect("b0", 0)
    return graph


def _extra_input() -> Graph:
    graph = chain("relu")
    graph.connect("input", "b0", 1)
    return graph


def _cycle() -> Graph:
    graph = chain("add", "relu")
    graph.connect("b1", "b0", 1)  # b0 = input + b1, b1 = relu(b0)
    return graph


def _unreachable() -> Graph:
    graph = chain("relu")
    graph.add_block("relu", block_id="loop_a")
    graph.add_block("relu", block_id="loop_b")
    graph.add_block("relu", block_id="orphan")
    graph.connect("loop_a", "loop_b", 0)
    graph.connect("loop_b", "loop_a", 0)
    graph.connect("loop_a", "orphan", 0)  # fed only by a cycle that nothing reaches
    return graph


def _unused() -> Graph:
    graph = chain("relu")
    graph.add_block("sigmoid", block_id="dangling")
    graph.connect("input", "dangling", 0)
    return graph


def _add_mismatch() -> Graph:
    graph = chain("conv2d", "add", b0={"out_channels": 16, "stride": 2}, shape=(3, 32, 32))
    graph.add_block("conv2d", {"out_channels": 32}, block_id="side")
    graph.connect("input", "side", 0)
    graph.connect("side", "b1", 1)
    return graph


def _concat_mismatch() -> Graph:
    graph = chain("maxpool2d", "concat", shape=(3, 8, 8))
    graph.connect("input", "b1", 1)
    return graph


# code → (graph factory, block id the diagnostic must name, severity)
CASES: dict[str, tuple[Callable[[], Graph], str, str]] = {
    "no_input": (_no_input, "", ERROR),
    "no_output": (_no_output, "", ERROR),
    "multiple_inputs": (lambda: _second("input"), "extra", ERROR),
    "multiple_outputs": (lambda: _second("output"), "extra", ERROR),
    "bad_param": (lambda: chain("conv2d", b0={"out_channels": 0}), "b0", ERROR),
    "missing_input": (_missing_input, "b0", ERROR),
    "extra_input": (_extra_input, "b0", ERROR),
    "cycle": (_cycle, "b0", ERROR),
    "unreachable": (_unreachable, "orphan", WARNING),
    "unused": (_unused, "dangling", WARNING),
    "needs_image": (lambda: chain("flatten", "conv2d"), "b1", ERROR),
    "kernel_too_large": (lambda: chain("conv2d", b0={"kernel_size": 11, "padding": 0}), "b0", ERROR),
    "groups_mismatch": (lambda: chain("conv2d", b0={"groups": 2, "out_channels": 4}), "b0", ERROR),
    "linear_4d": (lambda: chain("conv2d", "linear"), "b1", ERROR),
    "add_shape_mismatch": (_add_mismatch, "b1", ERROR),
    "concat_mismatch": (_concat_mismatch, "b1", ERROR),
    # 65,536 maps of 16,384²: 70 TB of output, more than any machine's memory
    "too_large": (lambda: chain("relu", "conv2d", "relu", b1={"out_channels": 65536},
                                shape=(3, 16384, 16384)), "b1", ERROR),
    "memory_setting": (lambda: chain("relu"), "", WARNING),  # with SKIPWIRE_MEMORY_LIMIT=lots
}


def test_every_code_has_a_case() -> None:
    assert set(CASES) == set(CODES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_code_is_reported_on_its_block(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    factory, block_id, severity = CASES[code]
    if code == "memory_setting":
        monkeypatch.setenv("SKIPWIRE_MEMORY_LIMIT", "lots")
    report = validate(factory())
    found = [d for d in report.diagnostics if d.code == code]
    assert found, f"no {code} in {[str(d) for d in report.diagnostics]}"
    assert any(d.block_id == block_id and d.severity == severity for d in found)
    assert all(d.message and "\n" not in d.message for d in report.diagnostics)
    if severity == ERROR:
        assert not report.ok


def test_unused_block_is_only_a_warning() -> None:
    assert validate(_unused()).ok


def test_add_mismatch_names_both_shapes_and_the_fix() -> None:
    report = validate(_add_mismatch())
    (diag,) = [d for d in report.diagnostics if d.code == "add_shape_mismatch"]
    assert "16×16×16" in diag.message and "32×32×32" in diag.message
    assert "ShortcutPad" in diag.message and "1×1" in diag.message
    assert "b1" not in report.shapes  # no shape is guessed past the error


def test_cycle_names_every_member() -> None:
    report = validate(_cycle())
    assert {d.block_id for d in report.diagnostics if d.code == "cycle"} == {"b0", "b1"}


def test_bad_param_says_which_param_and_bound() -> None:
    report = validate(chain("dropout", b0={"p": 1.5}))
    assert [d.message for d in report.for_block("b0")] == ["p must be at most 1, got 1.5"]


def test_downstream_of_an_error_gets_no_second_error() -> None:
    report = validate(chain("flatten", "conv2d", "relu", "relu"))
    assert [d.block_id for d in report.errors] == ["b1"]
    assert "b3" not in report.shapes


@pytest.mark.parametrize("stem", ["resnet20", "resnet110", "plain56", "resnet20b", "vgg16", "lenet"])
def test_shipped_graphs_are_clean(stem: str) -> None:
    graph = fileformat.load(GRAPHS / f"{stem}.json")
    report = validate(graph)
    assert report.diagnostics == []
    assert set(report.shapes) == set(graph.ids())
    assert report.shapes["output"] == (10,)
    assert report.order[0] == "input" and report.order[-1] == "output"


def test_resnet_stage_shapes() -> None:
    report = validate(fileformat.load(GRAPHS / "resnet56.json"))
    assert report.shapes["relu1"] == (16, 32, 32)
    assert report.shapes["layer2_0_shortcut"] == (32, 16, 16)
    assert report.shapes["layer3_8_relu2"] == (64, 8, 8)
    assert report.shapes["avgpool"] == (64, 1, 1)
    assert report.shapes["flatten"] == (64,)


@pytest.mark.parametrize(
    ("types", "params", "shape", "expected"),
    [
        (("conv2d",), {"b0": {"out_channels": 8, "padding": "same", "kernel_size": 5}}, (3, 9, 9), (8, 9, 9)),
        (("conv2d",), {"b0": {"kernel_size": 3, "padding": 0, "stride": 2}}, (3, 9, 9), (16, 4, 4)),
        (("conv2d",), {"b0": {"kernel_size": 3, "dilation": 2, "padding": 0}}, (3, 9, 9), (16, 5, 5)),
        (("maxpool2d",), {}, (5, 9, 7), (5, 4, 3)),
        (("avgpool2d",), {"b0": {"kernel_size": 3, "stride": 1, "padding": 1}}, (2, 5, 5), (2, 5, 5)),
        (("shortcut_pad",), {}, (16, 33, 33), (32, 17, 17)),
        (("global_avgpool", "flatten", "linear"), {"b2": {"out_features": 7}}, (6, 4, 4), (7,)),
    ],
)
def test_shape_rules(types: tuple[str, ...], params: dict, shape: tuple[int, int, int],
                     expected: tuple[int, ...]) -> None:
    report = validate(chain(*types, shape=shape, **params))
    assert report.ok, [str(d) for d in report.diagnostics]
    assert report.shapes["output"] == expected


def test_concat_adds_channels_in_port_order() -> None:
    graph = chain("conv2d", "concat", b0={"out_channels": 5})
    graph.connect("input", "b1", 1)
    report = validate(graph)
    assert report.shapes["b1"] == (8, 8, 8)


def test_parameterised_lists_weight_blocks_in_order() -> None:
    graph = chain("conv2d", "batchnorm2d", "relu", "global_avgpool", "flatten", "linear")
    assert parameterised(graph) == ["b0", "b1", "b5"]
