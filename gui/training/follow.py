"""Follow a run folder while another process writes it: new CSV rows become step, epoch and
gradient records for the same plots as a run in the window's own thread. No Qt, no torch.

:class:`CsvTail` reads only the bytes added since the last poll and keeps a line cut short (the
writer flushes whole blocks, not whole rows) until its end arrives; a file that shrank (a
resumed run rewrites it) is read again from the start. :class:`RunFollower` turns
``steps.csv``, ``metrics.csv`` and ``gradients.csv`` into objects with the fields of
``StepMetrics``, ``EpochMetrics`` and ``GradientSample``, using ``setup.json`` for the steps per
epoch and ``graph.json`` for the order of the blocks.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any


class CsvTail:
    """The complete rows appended to a CSV file since the last :meth:`rows` call."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.offset = 0
        self.pending = b""
        self.header: list[str] | None = None

    def rows(self) -> list[dict[str, str]]:
        try:
            size = self.path.stat().st_size
        except OSError:
            return []
        if size < self.offset:  # rewritten from the start
            self.offset, self.pending, self.header = 0, b"", None
        if size == self.offset:
            return []
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            chunk = fh.read(size - self.offset)
        self.offset += len(chunk)
        data = self.pending + chunk
        cut = data.rfind(b"\n") + 1
        self.pending = data[cut:]
        lines = data[:cut].decode("utf-8", errors="replace").splitlines()
        out = []
        for values in csv.reader(lines):
            if self.header is None:
                self.header = values
            elif len(values) == len(self.header):
                out.append(dict(zip(self.header, values, strict=True)))
        return out


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


@dataclass
class Update:
    """What one poll found: new steps, epochs and gradient samples, in order."""

    steps: list[Any] = field(default_factory=list)
    epochs: list[Any] = field(default_factory=list)
    gradients: list[Any] = field(default_factory=list)


class RunFollower:
    """Reads a run folder as it grows (rank 0's records of a torchrun run)."""

    def __init__(self, run_dir: str | os.PathLike[str], epochs: int) -> None:
        self.dir = Path(run_dir)
        self.epochs = epochs
        self.tails = {name: CsvTail(self.dir / f"{name}.csv") for name in ("steps", "metrics", "gradients")}
        self.setup: Any = None
        self.block_ids: list[str] = []
        self.block_types: list[str] = []
        self._grads: dict[int, dict[str, float]] = {}
        self._grad_epoch: dict[int, int] = {}

    @property
    def started(self) -> bool:
        """Whether the trainer has set up (``setup.json`` and ``graph.json`` are there)."""
        return self.setup is not None

    def poll(self) -> Update:
        """The records added since the last poll (nothing before the trainer has set up)."""
        if self.setup is None and not self._read_setup():
            return Update()
        update = Update()
        for row in self.tails["steps"].rows():
            update.steps.append(self._step(row))
        for row in self.tails["metrics"].rows():
            update.epochs.append(self._epoch(row))
        update.gradients = self._gradients(self.tails["gradients"].rows())
        return update

    def _read_setup(self) -> bool:
        from builder import fileformat
        from builder.training import runsetup
        from builder.validate import parameterised

        setup = runsetup.load(self.dir)
        if setup is None or not (self.dir / "graph.json").is_file():
            return False
        try:
            graph = fileformat.load(self.dir / "graph.json")
        except (OSError, ValueError):
            return False  # still being written
        self.block_ids = parameterised(graph)
        self.block_types = [graph.block(b).type for b in self.block_ids]
        self.setup = setup
        return True

    def _step(self, row: dict[str, str]) -> Any:
        batches = max(1, self.setup.steps_per_epoch)
        step, epoch = int(row["step"]), int(row["epoch"])
        return SimpleNamespace(epoch=epoch, step=step, batch=step - (epoch - 1) * batches + 1,
                               batches=batches, loss=_float(row["loss"]), accuracy=_float(row["acc"]),
                               lr=_float(row["lr"]), images_per_s=_float(row["images_per_s"]),
                               grad_norm=_float(row["grad_norm"]))

    def _epoch(self, row: dict[str, str]) -> Any:
        values = {k: _float(row[k]) for k in ("train_loss", "train_acc", "val_loss", "val_acc", "lr",
                                              "seconds")}
        return SimpleNamespace(epoch=int(row["epoch"]), epochs=self.epochs, images_per_s=math.nan, **values)

    def _gradients(self, rows: list[dict[str, str]]) -> list[Any]:
        """Samples whose every block has arrived (one row per block per measured step)."""
        done = []
        for row in rows:
            step = int(row["step"])
            self._grads.setdefault(step, {})[row["block"]] = _float(row["weight_grad_norm"])
            self._grad_epoch[step] = int(row["epoch"])
            if len(self._grads[step]) == len(self.block_ids):
                norms = self._grads.pop(step)
                done.append(SimpleNamespace(step=step, epoch=self._grad_epoch.pop(step),
                                            block_ids=list(self.block_ids), output_norms=None,
                                            weight_norms=[norms.get(b, math.nan) for b in self.block_ids]))
        return done
