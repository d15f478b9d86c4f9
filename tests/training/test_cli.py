"""``main.py train`` and ``main.py compare`` run in-process on tiny graphs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builder import fileformat
from builder.cli import main
from tests.training.conftest import tiny_net


@pytest.fixture
def graph_files(tmp_path: Path) -> tuple[Path, Path]:
    plain, res = tmp_path / "plain8.json", tmp_path / "res8.json"
    fileformat.save(tiny_net(residual=False), plain)
    fileformat.save(tiny_net(residual=True), res)
    return plain, res


FAST = ["--dataset", "synthetic", "--device", "cpu", "--batch-size", "64", "--threads", "1"]


def test_train_prints_progress_and_summary(graph_files, tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    code = main(["train", str(graph_files[1]), *FAST, "--epochs", "2", "--run-dir", str(run)])
    out, err = capsys.readouterr()
    assert code == 0
    assert "adapted resnet8: fc out_features 4 → 10" in out
    assert "status: completed" in out and "epochs 2/2" in out and f"run folder: {run}" in out
    assert "img/s" in err and "left 0:" in err and "epoch 2/2  train loss" in err
    assert json.loads((run / "config.json").read_text())["epochs"] == 2
    assert len((run / "metrics.csv").read_text().splitlines()) == 3
    trained, asked = fileformat.load(run / "graph.json"), fileformat.load(run / "original_graph.json")
    assert asked.signature() == fileformat.load(graph_files[1]).signature()  # as the window keeps it
    assert trained.block("fc").params["out_features"] == 10 and asked.block("fc").params["out_features"] == 4
    code = main(["train", str(graph_files[1]), "--epochs", "3", "--resume", str(run / "checkpoint.pt"),
                 "--quiet", "--threads", "1"])  # dataset, batch size and folder come from the run
    out, err = capsys.readouterr()
    assert code == 0 and "epochs 3/3" in out and err == ""
    assert len((run / "metrics.csv").read_text().splitlines()) == 4


def test_config_file_and_flags(graph_files, tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"epochs": 1, "optimizer": "adam", "lr": 0.01}))
    code = main(["train", str(graph_files[0]), *FAST, "--config", str(cfg), "--lr", "0.02",
                 "--run-dir", str(tmp_path / "r"), "--quiet"])
    assert code == 0
    saved = json.loads((tmp_path / "r" / "config.json").read_text())
    assert (saved["optimizer"], saved["lr"], saved["epochs"]) == ("adam", 0.02, 1)
    capsys.readouterr()


@pytest.mark.parametrize(("args", "message"), [
    (["--lr", "-1"], "skipwire: --lr: must be greater than 0, at most 10; got -1.0"),
    (["--optimizer", "rmsprop"], "skipwire: --optimizer: must be one of sgd, adam, adamw"),
    (["--dataset", "mnist", "--data-dir", "/nonexistent"], "skipwire: /nonexistent: data folder not found"),
    (["--device", "cuda:7"], "skipwire: --device: cuda:7 requested but CUDA is not available"),
    (["--no-adapt"], "skipwire: plain8: the output gives 4 values but the data have 10 classes"),
    (["--no-adapt", "--image-size", "5"],
     "skipwire: plain8: block input takes 3×8×8 images but the data are 3×5×5"),
])
def test_bad_settings_are_one_line(graph_files, capsys, args: list[str], message: str) -> None:
    code = main(["train", str(graph_files[0]), "--dataset", "synthetic", "--epochs", "1", "--quiet",
                 *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith(message) and "\n" not in err


def test_compare_writes_png_and_table(graph_files, tmp_path: Path, capsys) -> None:
    png = tmp_path / "cmp.png"
    code = main(["compare", *map(str, graph_files), *FAST, "--epochs", "2", "-o", str(png)])
    out = capsys.readouterr().out
    assert code == 0 and png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("net"))
    assert "first/last" in lines[header]
    assert lines[header + 2].startswith("plain8") and lines[header + 3].startswith("res8")
    assert "completed" in lines[header + 3] and f"wrote {png}" in out


def _help(command: str, capsys) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines


@pytest.mark.parametrize("command", ["train", "compare"])
def test_help_shows_every_setting_with_its_range_and_default(command: str, capsys) -> None:
    from builder.training.cli import compare_defaults
    from builder.training.config import SETTINGS
    from builder.training.settings import describe, format_value

    text = _help(command, capsys)
    base = compare_defaults() if command == "compare" else {}
    for spec in SETTINGS.values():
        default = format_value(spec, base.get(spec.name, spec.default)) or "none"
        assert spec.flag in text and f"default {default}" in text, spec.name
        assert " ".join(describe(spec).split()) in text, spec.name
        if spec.kind == "bool":
            assert f"--no-{spec.flag[2:]}" in text
    assert "1 to 1,000,000 images" in text and "greater than 0, at most 10; default 0.05" in text
    assert "%%" not in text and "[1, 1e+06]" not in text
    assert "digits" in text and "adapted to the data set" in text and "--no-adapt" in text
    assert "--print-config, --dry-run" in text


def test_compare_help_reads_the_experiments_defaults_without_torch() -> None:
    from builder.training import compare
    from builder.training.cli import compare_defaults

    assert compare_defaults() == compare.COMPARE_DEFAULTS
    assert compare_defaults()["warmup_epochs"] == 2.0


@pytest.mark.parametrize(("args", "message"), [
    (["--threads", "-2"], "skipwire: --threads: must be 1 to 1,024 threads; got -2"),
    (["--threads", "0"], "skipwire: --threads: must be 1 to 1,024 threads; got 0"),
    (["--threads", "two"], "skipwire: --threads: expected an integer, got 'two'"),
    (["--mixup", "-1"], "skipwire: --mixup: must be 0 to 100; got -1.0"),
    (["--milestones", "0.5,x"], "skipwire: --milestones: expected a list of numbers separated by commas"),
    (["--milestones", "0.8,0.2"], "skipwire: --milestones: milestones must be increasing"),
    (["--dataset", "folder"], "skipwire: --data-dir: an image-folder data set needs a folder"),
    (["--nesterov", "--optimizer", "adam"], "skipwire: --nesterov: Nesterov needs optimizer sgd"),
])
def test_bad_flags_name_the_flag_typed(graph_files, tmp_path: Path, capsys, args: list[str],
                                       message: str) -> None:
    run = tmp_path / "run"
    code = main(["train", str(graph_files[0]), "--quiet", "--run-dir", str(run), *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith(message) and "\n" not in err, err
    assert "config:" not in err and "Traceback" not in err
    assert not run.exists()


def test_a_bad_value_from_a_config_file_names_that_file(graph_files, tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"mixup_alpha": -1, "epochs": 1}))
    code = main(["train", str(graph_files[0]), "--config", str(cfg), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == f"skipwire: {cfg}: mixup_alpha: must be 0 to 100; got -1.0"
    cfg.write_text(json.dumps({"epochs": 1, "optimizer": "adam"}))
    code = main(["train", str(graph_files[0]), "--config", str(cfg), "--lr", "0", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == "skipwire: --lr: must be greater than 0, at most 10; got 0.0"


def test_print_config_shows_settings_adaptation_and_paths_without_training(
        graph_files, tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"augment": True, "epochs": 7}))
    run = tmp_path / "run"
    code = main(["train", str(graph_files[1]), "--dataset", "synthetic", "--config", str(cfg),
                 "--no-augment", "--milestones", "0.3,0.6", "--threads", "1", "--run-dir", str(run),
                 "--print-config"])
    out = capsys.readouterr().out
    assert code == 0 and not run.exists()
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith("  ")}
    assert lines["augment"][:2] == ["off", "--augment"] and lines["epochs"][0] == "7"
    assert lines["milestones"][0] == "0.3,0.6" and lines["cpu_threads"][:2] == ["1", "--threads"]
    assert f"then {cfg}, then the flags" in out
    assert "adapted resnet8: fc" in out and "out_features 4 → 10" in out
    assert f"run folder: {run}" in out and "status:" not in out
    png = tmp_path / "cmp.png"
    code = main(["compare", *map(str, graph_files), "--dataset", "synthetic", "-o", str(png), "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0 and not png.exists() and f"plot: {png}" in out
    assert "warmup_epochs" in out and "first/last" not in out
