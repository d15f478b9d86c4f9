"""Malformed checkpoints: ``train --resume`` answers one line naming the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from builder import fileformat
from builder.cli import main
from builder.training import records
from tests.training.conftest import tiny_net

FAST = ["--dataset", "synthetic", "--device", "cpu", "--batch-size", "64", "--threads", "1"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A graph file and a run folder with a real one-epoch checkpoint."""
    folder = tmp_path_factory.mktemp("resume")
    graph = folder / "res8.json"
    fileformat.save(tiny_net(), graph)
    code = main(["train", str(graph), *FAST, "--epochs", "1", "--quiet", "--run-dir", str(folder / "run")])
    assert code == 0
    return graph, folder / "run"


def _good(run: tuple[Path, Path]) -> dict[str, Any]:
    return torch.load(run[1] / "checkpoint.pt", weights_only=True)  # type: ignore[no-any-return]


# (what to change, the field the message must name)
MALFORMED: dict[str, tuple[Any, str]] = {
    "rng_type": (lambda s: s.update(rng={"torch": [1, 2, 3]}), "rng"),
    "rng_not_dict": (lambda s: s.update(rng="seed"), "rng"),
    "history_key": (lambda s: s["history"][0].update(acc=0.5), "history[0]: unknown key 'acc'"),
    "history_missing": (lambda s: s["history"][0].pop("train_loss"), "history[0]: lacks train_loss"),
    "history_value": (lambda s: s["history"][0].update(lr="fast"), "history[0].lr"),
    "history_list": (lambda s: s.update(history={"epoch": 1}), "history"),
    "model_list": (lambda s: s.update(model=list(s["model"].values())), "model"),
    "epoch_float": (lambda s: s.update(epoch=1.5), "epoch"),
    "epoch_text": (lambda s: s.update(epoch="1"), "epoch"),
    "step_negative": (lambda s: s.update(step=-4), "step"),
    "optimizer_list": (lambda s: s.update(optimizer=[]), "optimizer"),
    "scaler": (lambda s: s.update(scaler=3), "scaler"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_field_is_named_by_load_checkpoint(run, tmp_path: Path, case: str) -> None:
    change, field = MALFORMED[case]
    state = _good(run)
    change(state)
    path = tmp_path / f"{case}.pt"
    torch.save(state, path)
    with pytest.raises(ValueError) as info:
        records.load_checkpoint(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {field}") and "\n" not in message


def test_the_real_checkpoint_passes(run) -> None:
    assert records.load_checkpoint(run[1] / "checkpoint.pt")["epoch"] == 1


@pytest.mark.parametrize("case", ["rng_type", "history_key", "model_list", "epoch_float"])
def test_train_resume_with_a_malformed_checkpoint_is_one_line(run, case: str, capsys) -> None:
    graph, folder = run
    change, field = MALFORMED[case]
    state = _good(run)
    change(state)
    bad = folder / f"bad_{case}.pt"  # beside the good one: the run's config.json is used
    torch.save(state, bad)
    code = main(["train", str(graph), "--epochs", "2", "--resume", str(bad), "--quiet", "--threads", "1"])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.strip() == err.strip().splitlines()[0]  # one line, no traceback
    assert str(bad) in err and field in err and "Traceback" not in out + err


@pytest.mark.parametrize("content", [b"not a checkpoint", b""])
def test_unreadable_files_name_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.pt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"^{path}: not a readable Skipwire checkpoint"):
        records.load_checkpoint(path)


def test_a_checkpoint_that_is_not_a_dictionary_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.pt"
    torch.save([1, 2], path)
    with pytest.raises(ValueError, match="not a Skipwire checkpoint \\(a list"):
        records.load_checkpoint(path)
