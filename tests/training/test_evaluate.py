"""Evaluation after a run: the same validation split, a confusion matrix that adds up, PNG + CSV
from ``main.py evaluate``, and one line naming the file for each kind of bad input."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from builder import fileformat, templates
from builder.cli import main
from builder.training import TrainConfig, Trainer
from builder.training.adapt import plan_adaptation
from builder.training.datasets import load_dataset
from builder.training.evaluate import EvaluationError, evaluate, write_csv
from tests.training.conftest import tiny_net


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run on digits: a 3×8×8 ResNet-8 fitted to 1×8×8 and 10 classes."""
    folder = tmp_path_factory.mktemp("eval") / "run"
    config = TrainConfig(dataset="digits", epochs=2, batch_size=64, device="cpu", val_every=0)
    graph = plan_adaptation(tiny_net(), (1, 8, 8), 10).graph
    result = Trainer(graph, config, load_dataset(config), run_dir=str(folder)).run()
    assert result.status == "completed"
    return folder


def test_evaluation_uses_the_runs_validation_split(run: Path) -> None:
    ev = evaluate(run, top=5)
    final = list(csv.DictReader(open(run / "metrics.csv", encoding="utf-8")))[-1]
    assert ev.total == 359 and ev.classes == [str(i) for i in range(10)]
    assert ev.accuracy == pytest.approx(float(final["val_acc"]), abs=1e-5)  # the run's own number
    assert ev.confusion.sum(axis=1).tolist() == ev.samples.tolist()
    wrong = ev.total - ev.correct
    assert len(ev.mistakes) == min(5, wrong)
    assert [m.confidence for m in ev.mistakes] == sorted((m.confidence for m in ev.mistakes), reverse=True)
    assert all(m.true != m.predicted for m in ev.mistakes)
    assert ev.images is None or (ev.images.shape[1:] == (1, 8, 8) and 0 <= ev.images.min()
                                 and ev.images.max() <= 1)
    errors = ev.per_class_error
    assert np.allclose(errors, 1 - np.diag(ev.confusion) / ev.samples)


def test_a_class_with_no_images_has_no_error_rate(run: Path, tmp_path: Path) -> None:
    ev = evaluate(run, top=0)
    ev.confusion[3, :] = 0
    assert np.isnan(ev.per_class_error[3])
    write_csv(ev, tmp_path / "e.csv")
    row = list(csv.reader(open(tmp_path / "e.csv", encoding="utf-8")))[4]
    assert row[:4] == ["3", "0", "0", ""]


def test_evaluate_command_writes_a_png_and_a_csv(run: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "ev.png"
    assert main(["evaluate", str(run), "-o", str(out), "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    assert "val accuracy" in printed and str(out) in printed
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    rows = list(csv.DictReader(open(tmp_path / "ev.csv", encoding="utf-8")))
    assert [r["class"] for r in rows] == [str(i) for i in range(10)]
    assert sum(int(r["samples"]) for r in rows) == 359
    assert all(int(r["samples"]) == sum(int(r[f"pred_{c}"]) for c in range(10)) for r in rows)


def _broken(run: Path, tmp_path: Path, name: str) -> Path:
    copy = tmp_path / name
    shutil.copytree(run, copy)
    return copy


@pytest.mark.parametrize(("damage", "named", "says"), [
    ("no_checkpoint", "checkpoint.pt", "no checkpoint"),
    ("other_graph", "checkpoint.pt", "do not fit the graph"),
    ("missing_data", "config.json", "mnist"),
    ("no_folder", "nowhere", "not a run folder"),
])
def test_bad_input_is_one_line_naming_the_file(run: Path, tmp_path: Path, capsys, damage: str,  # type: ignore[no-untyped-def]
                                               named: str, says: str) -> None:
    folder = _broken(run, tmp_path, "copy")
    if damage == "no_checkpoint":
        (folder / "checkpoint.pt").unlink()
    elif damage == "other_graph":
        fileformat.save(templates.lenet(), folder / "graph.json")
    elif damage == "missing_data":
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        config.update(dataset="mnist", data_dir=str(tmp_path / "gone"))
        (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    else:
        folder = tmp_path / "nowhere"
    with pytest.raises(EvaluationError) as caught:
        evaluate(folder)
    assert named in str(caught.value) and says in str(caught.value) and "\n" not in str(caught.value)
    assert main(["evaluate", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and named in err
