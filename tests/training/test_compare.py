"""Comparison bookkeeping: step-0 and last-epoch gradient profiles, the first/last ratio, the table."""

from __future__ import annotations

import math

from builder.training.compare import NetRun, _Collector, table
from builder.training.metrics import EpochMetrics
from builder.training.probes import GradientSample
from builder.training.trainer import TrainResult


def sample(step: int, epoch: int, norms: list[float]) -> GradientSample:
    return GradientSample(step, epoch, ["conv1", "bn1", "conv2", "bn2", "conv3", "fc"], norms)


def test_collector_keeps_step0_and_the_mean_of_the_last_epoch() -> None:
    collect = _Collector(keep=[0, 2, 4, 5])  # conv and linear blocks only
    collect(sample(0, 1, [8.0, 0, 4.0, 0, 2.0, 1.0]))
    collect(sample(1, 1, [100.0, 0, 100.0, 0, 100.0, 100.0]))
    collect(sample(2, 2, [1.0, 0, 2.0, 0, 4.0, 8.0]))
    collect(sample(3, 2, [3.0, 0, 4.0, 0, 6.0, 10.0]))
    assert collect.step0 == [8.0, 4.0, 2.0, 1.0]
    assert collect.last == [2.0, 3.0, 5.0, 9.0]


def test_ratio_is_first_conv_over_last_conv_and_table_reads() -> None:
    result = TrainResult("completed", 1, 10, [EpochMetrics(1, 1, 0.25, 0.9, 0.5, 0.8, 0.1, 2.0, 100.0)],
                         seconds=2.0)
    run = NetRun("plain", result, ["conv1", "conv2", "conv3", "fc"], [8.0, 4.0, 2.0, 1.0],
                 [2.0, 3.0, 5.0, 9.0], frozenset({"fc"}))
    assert run.ratio(run.step0) == 4.0 and run.ratio(run.last) == 0.4
    assert math.isnan(NetRun("x", result, ["fc"], [1.0], [1.0], frozenset({"fc"})).ratio([1.0]))
    text = table([run]).splitlines()
    assert text[0].split() == ["net", "train", "loss", "train", "err", "val", "err", "first/last@0",
                               "first/last", "s/epoch", "status"]
    assert text[2].split() == ["plain", "0.25", "10.00%", "20.00%", "4", "0.4", "2.00", "completed"]
