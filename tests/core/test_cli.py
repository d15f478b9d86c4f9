"""The command line: exit codes, one-line errors, the documented outputs."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from builder import cli, fileformat
from builder.cli import EXIT_BAD_INPUT, EXIT_DIAGNOSTICS, EXIT_OK
from tests.core.conftest import GRAPHS, chain, run_cli
from tests.core.test_fileformat import MALFORMED
from tests.core.test_validate import _add_mismatch


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_resnet56_exits_zero() -> None:
    result = run_cli("validate", "graphs/resnet56.json")
    assert result.returncode == EXIT_OK, result.stderr
    assert "0 error(s), 0 warning(s)" in result.stdout


def test_summary_prints_resnet110_parameter_count(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "summary", str(GRAPHS / "resnet110.json"))
    assert code == EXIT_OK
    assert "Total params: 1,727,962" in out
    assert "layer3_17_conv2" in out and "64×8×8" in out


def test_add_mismatch_file_names_block_and_shapes(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mismatch.json"
    fileformat.save(_add_mismatch(), path)
    code, out, _ = _run(capsys, "validate", str(path))
    assert code == EXIT_DIAGNOSTICS
    line = next(line for line in out.splitlines() if "add_shape_mismatch" in line)
    assert line.startswith("error: b1:") and "16×16×16" in line and "32×32×32" in line
    code, _, err = _run(capsys, "summary", str(path))
    assert code == EXIT_DIAGNOSTICS and "b1:" in err


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_file_exits_2_with_one_line(case: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    text, expected = MALFORMED[case]
    path = tmp_path / f"{case}.json"
    path.write_text(text, encoding="utf-8")
    for command in ("validate", "summary"):
        code, out, err = _run(capsys, command, str(path))
        assert code == EXIT_BAD_INPUT
        assert out == "" and err.count("\n") == 1 and expected in err
        assert err.startswith("skipwire: ")


def test_malformed_file_as_a_user_sees_it(tmp_path: Path) -> None:
    path = tmp_path / "future.json"
    path.write_text(MALFORMED["future_version"][0], encoding="utf-8")
    result = run_cli("validate", str(path))
    assert result.returncode == EXIT_BAD_INPUT
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "made by a newer Skipwire" in result.stderr and "Traceback" not in result.stderr


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "validate", "no/such/file.json")
    assert code == EXIT_BAD_INPUT and "cannot read the file" in err and err.count("\n") == 1


def test_template_writes_the_shipped_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_path = tmp_path / "r32.json"
    code, out, _ = _run(capsys, "template", "resnet", "--depth", "32", "-o", str(out_path))
    assert code == EXIT_OK and "resnet32" in out
    assert out_path.read_bytes() == (GRAPHS / "resnet32.json").read_bytes()
    code, _, _ = _run(capsys, "template", "plain", "--depth", "20", "-o", str(out_path))
    assert code == EXIT_OK and out_path.read_bytes() == (GRAPHS / "plain20.json").read_bytes()
    code, _, _ = _run(capsys, "template", "resnet", "--shortcut", "B", "-o", str(out_path))
    assert code == EXIT_OK and out_path.read_bytes() == (GRAPHS / "resnet20b.json").read_bytes()


def test_template_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_path = tmp_path / "lenet.json"
    code, _, _ = _run(capsys, "template", "lenet", "--input", "1x28x28", "--classes", "5",
                      "-o", str(out_path))
    assert code == EXIT_OK
    graph = fileformat.load(out_path)
    assert graph.block("input").params == {"channels": 1, "height": 28, "width": 28}
    assert graph.block("fc3").params["out_features"] == 5


@pytest.mark.parametrize("args", [("resnet", "--depth", "21"), ("resnet", "--depth", "1208"),
                                  ("lenet", "--input", "3x32")])
def test_template_bad_options_exit_2(args: tuple[str, ...], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "template", *args, "-o", str(tmp_path / "x.json"))
    assert code == EXIT_BAD_INPUT and err.count("\n") == 1
    assert not (tmp_path / "x.json").exists()


def test_template_unwritable_output_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "no" / "such" / "dir" / "x.json"
    code, _, err = _run(capsys, "template", "lenet", "-o", str(target))
    assert code == EXIT_BAD_INPUT and err.count("\n") == 1
    assert err.strip().endswith(f"the folder {target.parent} does not exist")
    assert not (tmp_path / "no").exists()


def _subcommands() -> list[str]:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(action.choices)


def test_core_subcommands_exist() -> None:
    assert {"validate", "summary", "template"} <= set(_subcommands())


@pytest.mark.parametrize("command", _subcommands())
def test_each_subcommand_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: skipwire {command}") and "-h, --help" in out


def test_no_subcommand_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys)
    assert code == EXIT_OK and "validate" in out and "template" in out


def test_validate_prints_warnings_but_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    graph = chain("relu")
    graph.add_block("sigmoid", block_id="dangling")
    graph.connect("input", "dangling", 0)
    path = tmp_path / "warn.json"
    fileformat.save(graph, path)
    code, out, _ = _run(capsys, "validate", str(path))
    assert code == EXIT_OK and "warning: dangling:" in out and "1 warning(s)" in out


# every wrong template option: one line naming the flag, exit 2, nothing written or overwritten
WRONG_TEMPLATE_OPTIONS = {
    ("lenet", "--classes", "0"): "--classes must be a whole number from 1",
    ("lenet", "--classes", "-3"): "got -3",
    ("resnet", "--classes", "2000000"): "--classes must be a whole number from 1 to 1,048,576",
    ("lenet", "--input", "0x32x32"): "--input 0x32x32: channels must be from 1",
    ("vgg16", "--input", "3x0x32"): "height must be from 1",
    ("resnet", "--input", "3x32x99999"): "width must be from 1 to 16,384",
    ("lenet", "--depth", "20"): "--depth does not apply to template 'lenet' (it takes --input, --classes)",
    ("googlenet", "--shortcut", "B"): "--shortcut does not apply to template 'googlenet'",
    ("plain", "--shortcut", "A"): "--shortcut does not apply to template 'plain' (it takes --depth,",
    ("resnet", "--widen", "2"): "--widen does not apply to template 'resnet'",
    ("preact_resnet18", "--depth", "34"): "--depth does not apply",
    ("lenet", "--input", "3x8x8"): "gives an invalid graph: error: conv2:",
    ("wide_resnet", "--depth", "17"): "6n+4",
}


@pytest.mark.parametrize("args", sorted(WRONG_TEMPLATE_OPTIONS), ids=" ".join)
def test_template_options_that_do_not_apply_or_do_not_fit_are_refused(
        args: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "x.json"
    target.write_text("keep me", encoding="utf-8")
    code, out, err = _run(capsys, "template", *args, "-o", str(target))
    assert code == EXIT_BAD_INPUT and out == ""
    assert err.count("\n") == 1 and err.startswith("skipwire: ")
    assert WRONG_TEMPLATE_OPTIONS[args] in err
    assert target.read_text(encoding="utf-8") == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


@pytest.mark.parametrize("name", ["resnet18", "resnet101", "resnext29_2x64d", "densenet_cifar",
                                  "densenet190", "vgg11", "vgg19", "preact_resnet18_identity"])
def test_every_reference_variant_is_reachable_from_the_command_line(
        name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from builder import templates

    target = tmp_path / f"{name}.json"
    code, out, _ = _run(capsys, "template", name, "--classes", "100", "-o", str(target))
    assert code == EXIT_OK and f"wrote {target}" in out
    assert fileformat.load(target) == templates.make(name, num_classes=100)


def test_validate_estimates_memory_for_the_batch_size(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(GRAPHS / "resnet20.json")
    code, out, _ = _run(capsys, "validate", path, "--batch-size", "128", "--memory-limit", "1G")
    assert code == EXIT_OK and "0 error(s)" in out
    code, out, _ = _run(capsys, "validate", path, "--batch-size", "100000", "--memory-limit", "1G")
    (line,) = [x for x in out.splitlines() if "[too_large]" in x]
    assert code == EXIT_DIAGNOSTICS and line.startswith("error: layer1_")
    assert "for a batch of 100000" in line and "more than the memory limit of 1.0 GB" in line
    code, _, err = _run(capsys, "validate", path, "--memory-limit", "lots")
    assert code == EXIT_BAD_INPUT and "--memory-limit: 'lots' is not a memory size" in err
    with pytest.raises(SystemExit):
        cli.main(["validate", path, "--batch-size", "0"])
    assert "must be at least 1" in capsys.readouterr().err


def test_summary_refuses_a_graph_over_the_memory_limit(capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKIPWIRE_MEMORY_LIMIT", "1MB")
    code, out, err = _run(capsys, "summary", str(GRAPHS / "resnet56.json"))
    assert code == EXIT_DIAGNOSTICS and out == "" and err.count("\n") == 1
    assert "[too_large]" in err and "SKIPWIRE_MEMORY_LIMIT=1MB" in err


def test_memory_errors_are_one_line(capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def exhausted(graph, report=None):  # type: ignore[no-untyped-def]
        raise MemoryError

    monkeypatch.setattr("builder.summary.summarize", exhausted)
    code, _, err = _run(capsys, "summary", str(GRAPHS / "resnet20.json"))
    assert code == EXIT_BAD_INPUT and err.startswith("skipwire: out of memory") and err.count("\n") == 1

    def torch_exhausted(graph, report=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")

    monkeypatch.setattr("builder.summary.summarize", torch_exhausted)
    code, _, err = _run(capsys, "summary", str(GRAPHS / "resnet20.json"))
    assert code == EXIT_BAD_INPUT and "can't allocate memory" in err and err.count("\n") == 1
