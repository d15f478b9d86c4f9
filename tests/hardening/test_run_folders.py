"""Run folders are data: a damaged one (a run killed mid-write, bit rot) opens or gives a message.

The window's Runs list reads a run folder back with ``gui.training.history.load_run``. 300
damaged copies of a real run folder (truncated CSV lines, flipped bits, NUL bytes, missing
columns, a damaged config or graph) must each load or raise ``ValueError`` naming a file —
never another exception, which would escape a Qt slot.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from builder.training.config import TrainConfig
from builder.training.datasets import synthetic
from builder.training.trainer import Trainer

from .test_training_inputs import _tiny_graph

FILES = ("metrics.csv", "steps.csv", "gradients.csv", "config.json", "graph.json")


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("runs") / "run"
    config = TrainConfig(dataset="synthetic", epochs=2, batch_size=32, device="cpu")
    Trainer(_tiny_graph(), config, synthetic(n=128), run_dir=str(folder)).run()
    return folder


def _damage(raw: bytes, rng: random.Random) -> bytes:
    data = bytearray(raw)
    roll = rng.random()
    if roll < 0.4:  # a run killed mid-write leaves a partial last line
        return bytes(data[: rng.randrange(len(data))])
    if roll < 0.7:
        for _ in range(rng.randint(1, 5)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data)
    if roll < 0.85:
        pos = rng.randrange(len(data))
        return bytes(data[:pos] + b"\x00" + data[pos:])
    return raw.replace(b",", b"", rng.randint(1, 3))


def test_damaged_run_folders_open_or_fail_with_a_message(tmp_path: Path, run_folder: Path) -> None:
    from gui.training.history import load_run

    rng = random.Random(11)
    opened = refused = 0
    for i in range(300):
        copy = tmp_path / f"run{i}"
        shutil.copytree(run_folder, copy, ignore=shutil.ignore_patterns("checkpoint.pt"))
        target = copy / rng.choice(FILES)
        target.write_bytes(_damage(target.read_bytes(), rng))
        try:
            load_run(copy)
        except ValueError as exc:
            refused += 1
            assert str(copy) in str(exc) and "\n" not in str(exc), str(exc)
        else:
            opened += 1
        shutil.rmtree(copy)
    print(f"run folders: 300 damaged, {opened} opened, {refused} refused with a message")
    assert refused > 50


def test_a_partial_last_line_keeps_the_rest_of_the_run(tmp_path: Path, run_folder: Path) -> None:
    from gui.training.history import load_run

    copy = tmp_path / "run"
    shutil.copytree(run_folder, copy)
    steps = copy / "steps.csv"
    text = steps.read_text()
    steps.write_text(text + "8,2,2.3")  # the first fields of a row that was being written
    run = load_run(copy)
    assert len(run.steps) == text.count("\n") - 1
