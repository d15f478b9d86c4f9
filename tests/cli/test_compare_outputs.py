"""``compare``: its table as CSV beside the PNG, and a progress line per net and epoch."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from builder.training import compare
from builder.training.metrics import EpochMetrics
from builder.training.progress import CompareProgress
from builder.training.trainer import TrainResult
from tests.training.conftest import quick_config, tiny_net


def test_compare_reports_progress_and_writes_its_table_as_csv(data, tmp_path: Path) -> None:
    log = io.StringIO()
    seen: list[tuple[str, int]] = []
    graphs = [("plain8", tiny_net(residual=False)), ("res8", tiny_net())]
    runs = compare.compare(graphs, quick_config(epochs=2), data, lambda n, m: seen.append((n, m.epoch)),
                           progress=CompareProgress(2, 2, stream=log))
    assert seen == [("plain8", 1), ("plain8", 2), ("res8", 1), ("res8", 2)]
    from builder.training.cli import compare_title

    computed = {r.setup.resolved for r in runs if r.setup is not None}
    assert len(computed) == 1 and computed <= {"fp32", "bf16"}  # the precision each net trained in
    assert compare_title(quick_config(epochs=2), runs) == f"synthetic, seed 1, {computed.pop()}"
    lines = log.getvalue().splitlines()
    assert [line.split("  train loss")[0] for line in lines] == [
        "[1/2] plain8  epoch 1/2", "[1/2] plain8  epoch 2/2",
        "[2/2] res8  epoch 1/2", "[2/2] res8  epoch 2/2"]
    path = compare.write_csv(runs, tmp_path / "cmp.png")
    assert path == tmp_path / "cmp.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert list(rows[0]) == list(compare.CSV_COLUMNS)
    assert [r["net"] for r in rows] == ["plain8", "res8"]
    for row, run in zip(rows, runs, strict=True):
        final = run.final
        assert final is not None and row["status"] == "completed" and row["epochs"] == "2"
        assert math.isclose(float(row["train_loss"]), final.train_loss, rel_tol=1e-5)
        assert math.isclose(float(row["train_err"]), 1 - final.train_acc, rel_tol=1e-5, abs_tol=1e-9)
        assert 0 <= float(row["val_err"]) <= 1  # a fraction, like metrics.csv's accuracies
        assert math.isclose(float(row["first_last_step0"]), run.ratio(run.step0), rel_tol=1e-5)
        assert math.isclose(float(row["first_last_last_epoch"]), run.ratio(run.last), rel_tol=1e-5)
    table = compare.table(runs).splitlines()
    assert f"{float(rows[1]['first_last_step0']):.3g}" in table[3]


def test_a_net_that_did_not_train_leaves_empty_cells(tmp_path: Path) -> None:
    result = TrainResult("non_finite", 0, 3, error="loss became non-finite")
    ok = TrainResult("completed", 1, 4, [EpochMetrics(1, 1, 0.5, 0.75, float("nan"), float("nan"),
                                                     0.1, 2.0, 100.0)], seconds=2.0)
    runs = [compare.NetRun("bad", result, ["c1", "c2"]), compare.NetRun("ok", ok, ["c1", "c2"], [4.0, 2.0])]
    rows = list(csv.reader(compare.write_csv(runs, tmp_path / "x.png").open(encoding="utf-8")))
    assert rows[1] == ["bad", "non_finite", "0", "", "", "", "", "", ""]
    assert rows[2] == ["ok", "completed", "1", "0.5", "0.25", "", "2", "", "2"]
