"""TensorBoard event files in run folders, read back with TensorBoard's own reader, equal the CSVs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from tensorboard.backend.event_processing import event_accumulator as ea

from builder.training import Trainer, tboard
from builder.training.datasets import Dataset
from builder.validate import parameterised
from tests.training.conftest import quick_config, tiny_net


def events(folder: Path) -> ea.EventAccumulator:
    acc = ea.EventAccumulator(str(folder), size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0,
                                                          ea.TENSORS: 0})
    acc.Reload()
    return acc


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def scalars(acc: ea.EventAccumulator, tag: str) -> list[tuple[int, float]]:
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def assert_matches_csv(folder: Path) -> None:
    acc = events(folder)
    metrics = csv_rows(folder / "metrics.csv")
    for tag in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
        got = scalars(acc, f"epoch/{tag}")
        assert [s for s, _ in got] == [int(r["epoch"]) for r in metrics], tag
        assert [v for _, v in got] == pytest.approx([float(r[tag]) for r in metrics], rel=1e-5), tag
    steps = csv_rows(folder / "steps.csv")
    for tag in ("loss", "acc", "lr", "grad_norm"):
        got = scalars(acc, f"step/{tag}")
        assert [s for s, _ in got] == [int(r["step"]) for r in steps], tag
        assert [v for _, v in got] == pytest.approx([float(r[tag]) for r in steps], rel=1e-5), tag
    grads = csv_rows(folder / "gradients.csv")
    blocks = list(dict.fromkeys(r["block"] for r in grads))
    grad_tags = [t for t in acc.Tags()["scalars"] if t.startswith("grad/")]
    assert len(grad_tags) == len(blocks)
    for block in blocks:
        tag = next(t for t in grad_tags if t.endswith("/" + block))
        rows = [r for r in grads if r["block"] == block]
        got = scalars(acc, tag)
        assert [s for s, _ in got] == [int(r["step"]) for r in rows]
        assert [v for _, v in got] == pytest.approx([float(r["weight_grad_norm"]) for r in rows], rel=1e-5)
    hist = acc.Histograms("grad_norms")
    assert [h.step for h in hist] == sorted({int(r["step"]) for r in grads})
    for h in hist:
        norms = [float(r["weight_grad_norm"]) for r in grads if int(r["step"]) == h.step]
        assert h.histogram_value.num == sum(h.histogram_value.bucket) == len(blocks)
        assert h.histogram_value.bucket_limit[-1] == pytest.approx(max(norms), rel=1e-5)
        assert h.histogram_value.min == pytest.approx(min(norms), rel=1e-5)
        assert h.histogram_value.max == pytest.approx(max(norms), rel=1e-5)
        assert h.histogram_value.sum == pytest.approx(sum(norms), rel=1e-4)


def test_a_runs_events_equal_its_csvs(data: Dataset, tmp_path: Path) -> None:
    net = tiny_net()
    result = Trainer(net, quick_config(epochs=2), data, run_dir=str(tmp_path / "run")).run()
    assert result.status == "completed"
    assert len(list((tmp_path / "run").glob("events.out.tfevents.*"))) == 1
    assert_matches_csv(tmp_path / "run")
    acc = events(tmp_path / "run")
    stages = {t.split("/")[1] for t in acc.Tags()["scalars"] if t.startswith("grad/")}
    assert stages == {"top", "layer1", "layer2", "layer3"}  # grouped by the group path's first part
    assert f"grad/layer2/{next(b for b in parameterised(net) if net.block(b).group.startswith('layer2'))}" \
        in acc.Tags()["scalars"]
    text = acc.Tensors("graph/text_summary")[0].tensor_proto.string_val[0].decode()
    assert all(f"    {b} " in text for b in parameterised(net)) and "4×8×8" in text


def test_a_resumed_run_has_each_step_once(data: Dataset, tmp_path: Path) -> None:
    net, cfg, run = tiny_net(), quick_config(epochs=3), tmp_path / "run"
    part = Trainer(net, cfg, data, run_dir=str(run))
    part.on_epoch = lambda m: part.stop() if m.epoch == 1 else None
    assert part.run().status == "stopped"
    done = Trainer(net, cfg, data, run_dir=str(run), resume_from=str(run / "checkpoint.pt")).run()
    assert done.status == "completed"
    acc = events(run)
    assert [s for s, _ in scalars(acc, "epoch/train_loss")] == [1, 2, 3]
    assert [s for s, _ in scalars(acc, "step/loss")] == list(range(12))  # 4 steps an epoch
    assert_matches_csv(run)


def test_switched_off_no_event_files_and_the_csvs_stay(data: Dataset, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(tboard.ENV_SWITCH, "0")
    assert not tboard.available()
    Trainer(tiny_net(), quick_config(epochs=1), data, run_dir=str(tmp_path / "run")).run()
    assert not list((tmp_path / "run").glob("events*"))
    assert len(csv_rows(tmp_path / "run" / "metrics.csv")) == 1
