"""Progress: a tqdm bar in a terminal, one plain line per epoch in a log, nothing on other ranks."""

from __future__ import annotations

import io
import re

import pytest

from builder.training.metrics import EpochMetrics, StepMetrics
from builder.training.progress import CompareProgress, Progress, clock


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def feed(bar: Progress | CompareProgress, epochs: int, batches: int, first: int = 1) -> None:
    step = 0
    for epoch in range(first, epochs + 1):
        for batch in range(1, batches + 1):
            bar.step(StepMetrics(epoch, step, batch, batches, 1.5 / epoch, 0.5, 0.05, 2500.0, 1.0))
            step += 1
        val = float("nan") if epoch < epochs else 0.4
        bar.epoch(EpochMetrics(epoch, epochs, 1.0 / epoch, 0.25 * epoch, val, 0.875, 0.05, 0.5, 3000.0))


def test_a_log_file_gets_one_plain_line_per_epoch_with_time_left() -> None:
    log = io.StringIO()
    bar = Progress(3, stream=log)
    feed(bar, 3, batches=7)
    bar.close()
    text = log.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert [line.split("  ")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert lines[0].startswith("epoch 1/3  train loss 1.0000 acc 25.00%  lr 0.05  0.5 s  3,000 img/s")
    assert re.search(r"  left \d+:\d\d:\d\d$", lines[0]) and re.search(r"  left \d+:\d\d:\d\d$", lines[1])
    assert "val loss 0.4000 acc 87.50%" in lines[2] and "left" not in lines[2]


def test_a_terminal_gets_a_tqdm_bar_with_eta_and_the_epoch_lines() -> None:
    term = Terminal()
    bar = Progress(2, stream=term)
    feed(bar, 2, batches=5)
    bar.close()
    text = term.getvalue()
    assert "\r" in text  # redrawn in place
    assert re.search(r"epoch \d/2 +\d+%\|.*\| \d+/10 steps \[\d\d:\d\d<\d\d:\d\d, loss 0\.\d+ acc", text)
    assert "img/s" in text
    printed = [line for line in re.split(r"[\r\n]", text)
               if line.startswith("epoch ") and "train loss" in line]
    assert [line.split("  ")[0] for line in printed] == ["epoch 1/2", "epoch 2/2"]


def test_a_resumed_run_counts_only_the_epochs_left() -> None:
    term = Terminal()
    bar = Progress(5, stream=term)
    feed(bar, 5, batches=4, first=4)
    bar.close()
    assert "/8 steps" in term.getvalue() and "/20 steps" not in term.getvalue()


@pytest.mark.parametrize("stream", [io.StringIO, Terminal])
def test_disabled_and_non_zero_ranks_write_nothing(stream, monkeypatch) -> None:
    quiet = stream()
    feed(Progress(2, enabled=False, stream=quiet), 2, batches=3)
    monkeypatch.setenv("RANK", "1")  # torchrun's second process
    other = stream()
    bar = Progress(2, stream=other)
    feed(bar, 2, batches=3)
    bar.close()
    assert quiet.getvalue() == "" and other.getvalue() == ""
    monkeypatch.setenv("RANK", "0")
    main = stream()
    feed(Progress(2, stream=main), 2, batches=3)
    assert "epoch 2/2  train loss" in main.getvalue()


def test_compare_progress_names_each_net_and_its_place() -> None:
    log = io.StringIO()
    progress = CompareProgress(2, 2, stream=log)
    for name in ("plain8", "res8"):
        progress.start_net(name)
        feed(progress, 2, batches=3)
    progress.close()
    lines = log.getvalue().splitlines()
    assert [line.split("  train")[0] for line in lines] == [
        "[1/2] plain8  epoch 1/2", "[1/2] plain8  epoch 2/2",
        "[2/2] res8  epoch 1/2", "[2/2] res8  epoch 2/2"]
    assert "\r" not in log.getvalue()


def test_clock() -> None:
    assert clock(3725.9) == "1:02:05" and clock(-4) == "0:00:00" and clock(float("nan")) == "0:00:00"
