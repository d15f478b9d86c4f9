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
    (["--lr", "-1"], "skipwire: config: lr: must be in (0, 10], got -1.0"),
    (["--optimizer", "rmsprop"], "skipwire: config: optimizer: must be one of sgd, adam, adamw"),
    (["--dataset", "mnist", "--data-dir", "/nonexistent"], "skipwire: /nonexistent: data folder not found"),
    (["--device", "cuda:7"], "skipwire: config: device: cuda:7 requested but CUDA is not available"),
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
