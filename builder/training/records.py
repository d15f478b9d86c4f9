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

from builder import fileformat
from builder.graph import Graph
from builder.training import tboard
from builder.training.config import TrainConfig

METRICS_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")
STEP_COLUMNS = ("step", "epoch", "loss", "acc", "lr", "images_per_s", "grad_norm")
GRADIENT_COLUMNS = ("step", "epoch", "block", "weight_grad_norm", "output_grad_norm")
CHECKPOINT = "checkpoint.pt"


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
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` (tensors and plain containers only)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ValueError(f"{path}: checkpoint not found") from None
    except Exception as exc:  # torch raises several types for corrupt or unsafe files
        raise ValueError(f"{path}: not a readable Skipwire checkpoint ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    missing = {"model", "optimizer", "epoch", "step"} - set(state if isinstance(state, dict) else ())
    if missing:
        raise ValueError(f"{path}: checkpoint lacks {', '.join(sorted(missing))}")
    return state


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
