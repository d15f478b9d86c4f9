"""The runs folder as the window remembers it: names, numbering, run.json and the start-up scan."""

from __future__ import annotations

import os
from pathlib import Path

from gui.training import runindex
from gui.training.history import load_run


def test_names_count_per_net_and_data_set() -> None:
    names = ["resnet20 · digits · #1", "resnet20 · digits · #3", "resnet20 · mnist · #7",
             "plain20 · digits · #9"]
    assert runindex.next_number(names, "resnet20", "digits") == 4
    assert runindex.next_number(names, "resnet20", "cifar10") == 1
    assert runindex.display_name("resnet20", "digits", 4) == "resnet20 · digits · #4"
    folder = runindex.folder_name("20250101-120000", "my net/1", "digits", 2)
    assert folder == "20250101-120000-my_net_1-digits-2"


def test_meta_is_updated_not_replaced_and_garbage_is_ignored(tmp_path: Path) -> None:
    runindex.write_meta(tmp_path, name="a · digits · #1", status="running")
    runindex.write_meta(tmp_path, status="completed")
    meta = runindex.read_meta(tmp_path)
    assert meta is not None and meta["name"] == "a · digits · #1" and meta["status"] == "completed"
    (tmp_path / "run.json").write_text('{"format": "something else"}', encoding="utf-8")
    assert runindex.read_meta(tmp_path) is None
    (tmp_path / "run.json").write_bytes(b"\xff\x00")
    assert runindex.read_meta(tmp_path) is None


def test_scan_lists_run_folders_newest_first(tmp_path: Path) -> None:
    for name, made in (("old", 1000), ("new", 3000), ("middle", 2000)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.json").write_text("{}", encoding="utf-8")
        os.utime(folder / "config.json", (made, made))
    (tmp_path / "not_a_run").mkdir()
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    assert [p.name for p in runindex.scan(tmp_path)] == ["new", "middle", "old"]
    assert [p.name for p in runindex.scan(tmp_path, limit=2)] == ["new", "middle"]
    assert runindex.scan(tmp_path / "missing") == []


def test_a_run_killed_while_running_reads_back_as_stopped(tmp_path: Path) -> None:
    from builder import fileformat, templates
    from builder.training.config import TrainConfig

    folder = tmp_path / "run"
    folder.mkdir()
    TrainConfig(dataset="digits", epochs=5).save(folder / "config.json")
    fileformat.save(templates.lenet(), folder / "graph.json")
    (folder / "metrics.csv").write_text("epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds\n"
                                        "1,2.0,0.3,2.1,0.3,0.05,1.5\n", encoding="utf-8")
    runindex.write_meta(folder, name="lenet · digits · #2", graph_name="lenet", status="running",
                        changes=["input 3×32×32 → 1×8×8"], color="#d62728")
    run = load_run(folder, curves=False)
    assert (run.name, run.graph_name, run.status, run.color) == ("lenet · digits · #2", "lenet", "stopped",
                                                                 "#d62728")
    assert [m.epoch for m in run.epochs] == [1] and run.notes == ["input 3×32×32 → 1×8×8"]
    assert not run.loaded
