"""Memory estimates from shapes, the limit, and the refusal of graphs that would not fit."""

from __future__ import annotations

import pytest

from builder import resources, templates
from builder.graph import Graph
from builder.summary import SummaryError, summarize
from builder.validate import validate
from tests.core.conftest import chain


def huge() -> Graph:
    """A legal 1-KB graph whose one convolution outputs 70 TB (65,536 maps of 16,384²)."""
    return chain("conv2d", "global_avgpool", "flatten", "linear", shape=(3, 16384, 16384),
                 b0={"out_channels": 65536})


@pytest.mark.parametrize(("text", "value"), [("8G", 8 * 10**9), ("512 MB", 512 * 10**6), ("2GiB", 2 * 2**30),
                                             ("1e9", 10**9), ("1.5k", 1500), ("4096", 4096)])
def test_sizes_parse(text: str, value: int) -> None:
    assert resources.parse_size(text) == value


@pytest.mark.parametrize("text", ["", "lots", "-1G", "0", "8X", "nan", "1e999"])
def test_bad_sizes_are_refused(text: str) -> None:
    with pytest.raises(resources.LimitError, match="is not a memory size"):
        resources.parse_size(text)


def test_bytes_print_in_decimal_units() -> None:
    assert resources.fmt_bytes(999) == "999 bytes"
    assert resources.fmt_bytes(4_400_000_000_000) == "4.4 TB"
    assert resources.fmt_bytes(12_900_000_000) == "12.9 GB"


def test_estimate_counts_parameters_and_outputs_for_the_batch() -> None:
    graph = chain("conv2d", "relu", "flatten", shape=(3, 8, 8), b0={"out_channels": 4, "bias": False})
    report = validate(graph)
    blocks = [(b, graph.block(b).type, 108 if b == "b0" else 0) for b in report.order]
    est = resources.estimate(blocks, report.shapes, batch_size=10)
    assert est.param_bytes == 4 * 3 * 4 * 9  # float32 weights of the 3→4 3×3 convolution
    # input 3×8×8, conv and relu 4×8×8 each; flatten and output are views of the relu's tensor
    assert est.activation_bytes == 4 * 10 * (3 * 64 + 2 * 4 * 64)
    assert est.per_block["b2"] == (0, 0) and est.largest() in ("b0", "b1")


def test_the_limit_comes_from_the_argument_the_environment_or_the_machine(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(resources.ENV_VAR, raising=False)
    default = resources.memory_limit()
    memory = resources.machine_memory()
    assert memory is None or default.bytes == int(memory * resources.DEFAULT_FRACTION)
    assert resources.ENV_VAR in default.source
    monkeypatch.setenv(resources.ENV_VAR, "3G")
    assert resources.memory_limit() == resources.Limit(3 * 10**9, f"{resources.ENV_VAR}=3G")
    assert resources.memory_limit("1k").bytes == 1000 and resources.memory_limit(5).bytes == 5
    monkeypatch.setenv(resources.ENV_VAR, "much")
    with pytest.raises(resources.LimitError, match=resources.ENV_VAR):
        resources.memory_limit()


def test_a_huge_legal_graph_gets_one_error_naming_the_block_and_the_bytes() -> None:
    report = validate(huge())
    (diag,) = [d for d in report.diagnostics if d.code == "too_large"]
    assert diag.block_id == "b0" and not report.ok
    assert "70.4 TB" in diag.message and "for a batch of 1" in diag.message
    assert "more than the memory limit of" in diag.message and "\n" not in diag.message


def test_the_batch_size_and_the_limit_decide() -> None:
    graph = templates.cifar_resnet(20)
    assert validate(graph, batch_size=128, memory_limit="1G").ok  # ~0.3 GB
    report = validate(graph, batch_size=1024, memory_limit="1G")  # ~2.7 GB
    assert [d.code for d in report.errors] == ["too_large"]
    assert "for a batch of 1024" in report.errors[0].message


def test_an_unused_branch_does_not_count() -> None:
    graph = chain("relu", shape=(3, 64, 64))
    graph.add_block("conv2d", {"out_channels": 4096}, block_id="dangling")
    graph.connect("input", "dangling", 0)
    assert validate(graph, memory_limit="10MB").ok  # the dangling 64 MB output is not in the model
    assert not validate(chain("conv2d", b0={"out_channels": 4096}, shape=(3, 64, 64)),
                        memory_limit="10MB").ok


def test_summary_and_compile_refuse_before_allocating() -> None:
    from builder.compile import CompileError, compile_graph
    from builder.export.codegen import ExportError, export_code

    graph = huge()
    with pytest.raises(SummaryError, match="too_large"):
        summarize(graph)
    with pytest.raises(CompileError, match="too_large"):
        compile_graph(graph)  # a real Conv2d(3, 65536) alone would be fine; its output is not
    with pytest.raises(ExportError, match="too_large"):
        export_code(graph)


@pytest.mark.parametrize("suffix", [".py", ".pt", ".onnx"])
def test_export_refuses_a_graph_over_the_limit_in_one_line(suffix: str, tmp_path, capsys) -> None:
    from builder import cli, fileformat

    source = tmp_path / "huge.json"
    fileformat.save(huge(), source)
    target = tmp_path / f"out{suffix}"
    code = cli.main(["export", str(source), "-o", str(target)])
    err = capsys.readouterr().err
    assert code == cli.EXIT_BAD_INPUT and err.count("\n") == 1 and "[too_large]" in err
    assert "Traceback" not in err and not target.exists()
