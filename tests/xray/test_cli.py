"""The X-ray commands in-process: each writes its PNG and CSV; bad inputs are one line, exit 2."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from builder.cli import main
from tests.xray.conftest import FAST

PNG = b"\x89PNG"


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_check_writes_profile_png_and_one_csv_per_graph(trained, tmp_path: Path, capsys) -> None:
    out = tmp_path / "check.png"
    code = main(["check", str(trained["plain8"]), str(trained["resnet8"]), *FAST[:6], "--quiet",
                 "-o", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and out.read_bytes()[:4] == PNG
    assert "plain8: pre-flight on one batch of 32" in text and "gradient at conv1 is" in text
    table = rows(tmp_path / "check-resnet8.csv")
    assert table[0]["block"] == "input" and any(r["block"] == "layer1_0_add" for r in table)
    assert float(next(r for r in table if r["block"] == "conv1")["weight_grad_norm"]) > 0


def test_lesion_and_landscape_side_by_side(trained, tmp_path: Path, capsys) -> None:
    runs = [str(trained["run-plain8"]), str(trained["run-resnet8"])]
    out = tmp_path / "lesion.png"
    assert main(["lesion", *runs, "--quiet", "--threads", "1", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert out.read_bytes()[:4] == PNG and "layer2.0: cannot be deleted: the shape changes" in text
    plain = rows(tmp_path / "lesion-plain8.csv")
    assert [r["deleted"] for r in plain][:3] == ["(none)", "layer1.0", "layer2.0"]
    assert plain[2]["val_error"] == "" and plain[2]["note"].startswith("the shape changes")
    assert len(rows(tmp_path / "lesion-resnet8.csv")) == 4  # full net + 3 residual units
    out = tmp_path / "land.png"
    assert main(["landscape", runs[1], "--points", "3", "--samples", "16", "--quiet", "-o", str(out)]) == 0
    assert out.read_bytes()[:4] == PNG and len(rows(tmp_path / "land.csv")) == 9
    assert "resnet8: 3×3 grid on 16 images" in capsys.readouterr().out


def test_split_trains_with_the_probe_then_replots_the_run(trained, tmp_path: Path, capsys) -> None:
    run, out = tmp_path / "run", tmp_path / "split.png"
    assert main(["split", str(trained["resnet8"]), *FAST, "--epochs", "1", "--run-dir", str(run),
                 "-o", str(out)]) == 0
    assert out.read_bytes()[:4] == PNG
    assert (run / "xray_split.csv").is_file() and (run / "checkpoint.pt").is_file()
    table = rows(tmp_path / "split.csv")
    assert {r["unit"] for r in table} == {"layer1.0", "layer2.0", "layer3.0"}
    assert "gradient split (skip/branch): step 0 median" in capsys.readouterr().out
    again = tmp_path / "again.png"
    assert main(["split", str(run), "-o", str(again)]) == 0 and again.read_bytes()[:4] == PNG


def test_diff_prints_and_writes_on_request(trained, tmp_path: Path, capsys) -> None:
    assert main(["diff", str(trained["plain8"]), str(trained["resnet8"])]) == 0
    text = capsys.readouterr().out
    assert text.startswith("plain8 → resnet8: blocks 5 added") and "(skip)" in text
    assert not list(tmp_path.iterdir())
    out = tmp_path / "d.png"
    assert main(["diff", str(trained["plain8"]), str(trained["resnet8"]), "-o", str(out)]) == 0
    assert out.read_bytes()[:4] == PNG and rows(tmp_path / "d.csv")[0]["what"] == "block"


def test_xray_reuses_runs_and_writes_one_figure(trained, tmp_path: Path, capsys) -> None:
    out = tmp_path / "xray.png"
    code = main(["xray", str(trained["run-plain8"]), str(trained["run-resnet8"]), "--points", "3",
                 "--samples", "16", "--quiet", "-o", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and out.read_bytes()[:4] == PNG
    for part in ("preflight", "lesion", "landscape"):
        assert (tmp_path / f"xray-resnet8-{part}.csv").is_file()
    assert "gradient split: no residual Adds (or not recorded)" in text  # trained without the probe
    assert "full net" in text and "3×3 grid on 16 images" in text


def test_xray_trains_graph_files(trained, tmp_path: Path, capsys) -> None:
    out = tmp_path / "x.png"
    code = main(["xray", str(trained["plain8"]), str(trained["resnet8"]), *FAST, "--epochs", "1",
                 "--points", "3", "--samples", "16", "--runs-dir", str(tmp_path / "runs"), "-o", str(out)])
    assert code == 0 and out.read_bytes()[:4] == PNG
    folders = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert [f.split("-")[1] for f in folders] == ["plain8", "resnet8"]
    text = capsys.readouterr().out
    assert "gradient split (skip/branch): step 0 median" in text


def one_line_error(capsys, out: Path, args: list[str]) -> str:
    assert main([*args, "-o", str(out / "never.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skipwire: ") and err.count("\n") == 1, err
    return err


def test_bad_inputs_are_one_line(trained, tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no checkpoint.pt in this run folder" in one_line_error(capsys, tmp_path, ["lesion", str(empty)])
    assert "no such run folder" in one_line_error(capsys, tmp_path, ["landscape", str(tmp_path / "nope")])
    err = one_line_error(capsys, tmp_path, ["split", str(trained["plain8"])])
    assert "plain8 has no residual Add blocks" in err
    err = one_line_error(capsys, tmp_path, ["lesion", str(trained["run-chain8"])])
    assert "chain8 has no residual Add blocks and no group or layer that keeps its shape" in err
    err = one_line_error(capsys, tmp_path, ["lesion", str(trained["run-plain8"]),
                                            "--graph", str(trained["resnet8"])])
    assert "this checkpoint is of graph 'plain8', not 'resnet8'" in err
    stray = tmp_path / "stray"  # a checkpoint moved next to another graph's graph.json
    shutil.copytree(trained["run-resnet8"], stray)
    shutil.copy(trained["run-chain8"] / "checkpoint.pt", stray / "checkpoint.pt")
    err = one_line_error(capsys, tmp_path, ["landscape", str(stray)])
    assert "this checkpoint is of another graph than resnet8" in err
    err = one_line_error(capsys, tmp_path, ["lesion", str(trained["run-plain8"]), str(trained["run-resnet8"]),
                                  "--graph", str(trained["plain8"])])
    assert "give it once per run" in err
    assert "--points must be at least 3" in one_line_error(
        capsys, tmp_path, ["landscape", str(trained["run-resnet8"]), "--points", "1"])
    assert "split.csv" in one_line_error(capsys, tmp_path, ["split", str(trained["run-resnet8"])])
    assert "data folder not found" in one_line_error(
        capsys, tmp_path, ["check", str(trained["plain8"]), "--dataset", "mnist",
                           "--data-dir", str(empty / "x")])


@pytest.mark.parametrize("command", ["check", "split", "lesion", "landscape", "diff", "xray"])
def test_every_command_answers_help(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0 and "usage: skipwire " + command in capsys.readouterr().out
