"""Run records: one folder per run.

``graph.json`` (the graph snapshot), ``config.json``, ``metrics.csv`` (epoch, train_loss,
train_acc, val_loss, val_acc like the MixUp log, then lr and seconds), ``steps.csv`` (one row
per step), ``gradients.csv`` (one row per parameterised block per measured step) and
``checkpoint.pt`` (state_dict + optimizer + epoch + step + RNG states + history), read back
with ``torch.load(..., weights_only=True)``. Resuming keeps the rows up to the checkpoint's
epoch and appends after them.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import torch

from builder import fileformat, torchfiles
from builder.graph import Graph
from builder.text import printable
from builder.torchfiles import CHECKPOINT as CHECKPOINT  # re-exported: runs are found by it
from builder.training import tboard
from builder.training.config import TrainConfig
from builder.training.metrics import EpochMetrics

METRICS_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")
STEP_COLUMNS = ("step", "epoch", "loss", "acc", "lr", "images_per_s", "grad_norm")
GRADIENT_COLUMNS = ("step", "epoch", "block", "weight_grad_norm", "output_grad_norm")


class RunRecorder:
    """Writes a run folder; every CSV row is flushed at the end of each epoch."""

    def __init__(self, run_dir: str | os.PathLike[str], graph: Graph, config: TrainConfig,
                 resume_epoch: int | None = None) -> None:
        self.dir = Path(run_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        fileformat.save(graph, self.dir / "graph.json")
        config.save(self.dir / "config.json")
        self._files: dict[str, Any] = {}
        self._writers: dict[str, Any] = {}
        for name, columns in (("metrics", METRICS_COLUMNS), ("steps", STEP_COLUMNS),
                              ("gradients", GRADIENT_COLUMNS)):
            self._open(name, columns, resume_epoch)
        self.events: tboard.EventWriter | None = None
        self.flush()  # the kept rows, which a resumed run's event files are rebuilt from
        self.events = tboard.open_writer(self.dir, graph, resume_epoch is not None)

    def _open(self, name: str, columns: tuple[str, ...], resume_epoch: int | None) -> None:
        path = self.dir / f"{name}.csv"
        kept: list[list[str]] = []
        if resume_epoch is not None and path.is_file():
            with open(path, newline="", encoding="utf-8") as fh:
                rows = list(csv.reader(fh))[1:]
            column = columns.index("epoch")
            kept = [r for r in rows if len(r) == len(columns) and int(r[column]) <= resume_epoch]
        fh = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 (kept open for the run)
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows(kept)
        self._files[name], self._writers[name] = fh, writer

    def step(self, m: Any) -> None:
        self._writers["steps"].writerow([m.step, m.epoch, _g(m.loss), _g(m.accuracy), _g(m.lr),
                                         f"{m.images_per_s:.1f}", _g(m.grad_norm)])
        if self.events is not None:
            self.events.step(m)

    def epoch(self, m: Any) -> None:
        self._writers["metrics"].writerow([m.epoch, _g(m.train_loss), _g(m.train_acc),
                                           _g(m.val_loss), _g(m.val_acc), _g(m.lr),
                                           f"{m.seconds:.3f}"])
        if self.events is not None:
            self.events.epoch(m)
        self.flush()

    def gradients(self, sample: Any) -> None:
        outputs = sample.output_norms or [None] * len(sample.block_ids)
        write = self._writers["gradients"].writerow
        for block_id, norm, out in zip(sample.block_ids, sample.weight_norms, outputs, strict=True):
            write([sample.step, sample.epoch, block_id, _g(norm), "" if out is None else _g(out)])
        if self.events is not None:
            self.events.gradients(sample)

    def flush(self) -> None:
        for fh in self._files.values():
            fh.flush()
        if self.events is not None:
            self.events.flush()

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._files.clear()
        if self.events is not None:
            self.events.close()
            self.events = None

    def checkpoint_path(self) -> Path:
        return self.dir / CHECKPOINT


def _g(value: float) -> str:
    return f"{value:.6g}"


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> None:
    """Write a checkpoint atomically (temp file + rename)."""
    torchfiles.write(state, path)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` (tensors and plain containers only).

    Every field the trainer reads is checked; a malformed one raises ValueError with one line
    naming the file and the field (``checkpoint.pt: history[2]: unknown key 'acc'``).
    """
    state = torchfiles.read(path, "Skipwire checkpoint")
    if not isinstance(state, dict):
        raise ValueError(f"{path}: not a Skipwire checkpoint (a {_kind(state)}, not a dictionary)")
    missing = {"model", "optimizer", "epoch", "step"} - set(state)
    if missing:
        raise ValueError(f"{path}: checkpoint lacks {', '.join(sorted(missing))}")
    problem = checkpoint_problem(state)
    if problem:
        raise ValueError(f"{path}: {problem}")
    return state


def checkpoint_problem(state: dict[str, Any]) -> str | None:
    """What is wrong with a loaded checkpoint's fields (``field: what``), or None."""
    for key in ("epoch", "step"):
        value = state[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f"{key}: expected a whole number from 0, got {_short(value)}"
    if not _is_state_dict(state["model"]):
        return f"model: expected a state_dict (names mapped to tensors), got a {_kind(state['model'])}"
    optimizer = state["optimizer"]
    if not (isinstance(optimizer, dict) and isinstance(optimizer.get("state"), dict)
            and isinstance(optimizer.get("param_groups"), list)
            and all(isinstance(g, dict) for g in optimizer["param_groups"])):
        return "optimizer: expected an optimizer state_dict (state and param_groups)"
    if "scaler" in state and not isinstance(state["scaler"], dict):
        return f"scaler: expected a dictionary, got a {_kind(state['scaler'])}"
    return _rng_problem(state.get("rng")) or _history_problem(state.get("history", []))


def _rng_problem(rng: Any) -> str | None:
    if rng is None:
        return None
    if not isinstance(rng, dict) or not _is_byte_tensor(rng.get("torch")):
        return f"rng: expected {{'torch': a uint8 tensor}}, got {_short(rng)}"
    cuda = rng.get("cuda", [])
    if not isinstance(cuda, list) or not all(_is_byte_tensor(t) for t in cuda):
        return "rng.cuda: expected a list of uint8 tensors"
    return None


def _history_problem(history: Any) -> str | None:
    from dataclasses import MISSING, fields

    if not isinstance(history, list):
        return f"history: expected a list of epochs, got a {_kind(history)}"
    known = {f.name for f in fields(EpochMetrics)}
    required = {f.name for f in fields(EpochMetrics)
                if f.default is MISSING and f.default_factory is MISSING}
    for i, entry in enumerate(history):
        if not isinstance(entry, dict):
            return f"history[{i}]: expected a dictionary of epoch metrics, got a {_kind(entry)}"
        unknown = sorted(str(k) for k in entry if k not in known)
        if unknown:
            return f"history[{i}]: unknown key {_short(unknown[0])} (known: {', '.join(sorted(known))})"
        if required - set(entry):
            return f"history[{i}]: lacks {', '.join(sorted(required - set(entry)))}"
        bad = next((k for k, v in entry.items() if not _is_number(v)), None)
        if bad is not None:
            return f"history[{i}].{bad}: expected a number, got {_short(entry[bad])}"
    return None


def _is_state_dict(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items())


def _is_byte_tensor(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.dtype == torch.uint8 and value.dim() == 1


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    return type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return printable(text if len(text) <= 60 else text[:57] + "...")


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
