"""TensorBoard event files beside a run's CSVs (optional: on when ``tensorboard`` is installed).

``tensorboard --logdir runs/`` then shows every run folder as a run. The CSVs stay the
source of truth: the same values go to both, and a folder without event files is still a
complete run. ``SKIPWIRE_TENSORBOARD=0`` turns the event files off. Tags:

- ``epoch/train_loss``, ``epoch/train_acc``, ``epoch/val_loss``, ``epoch/val_acc``,
  ``epoch/lr`` — ``metrics.csv``, at step = the epoch number;
- ``step/loss``, ``step/acc``, ``step/lr``, ``step/grad_norm`` — ``steps.csv``, at the step;
- ``grad/STAGE/BLOCK`` — a block's weight-gradient norm (``gradients.csv``); STAGE is the
  first part of the block's group path (``layer2`` for ``layer2.0``), ``top`` without one;
- ``grad_norms`` — one histogram per measured step over the blocks' norms;
- ``graph`` — the graph's text summary (block, type, output shape, group).

The scalars of one step (the step's four; a measured step's block norms) travel in one event
holding one value per tag, as TensorBoard's merged summaries do, not one event per tag: each
event costs a queue hand-over to the writer thread and a record of its own, which for
ResNet-56's 111 blocks was 1–2 % of a bf16 step (``bench/bench_probes.py``).

A resumed run's folder gets its event files rewritten from the CSV rows the recorder kept,
so nothing past the checkpoint appears twice.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from builder.graph import Graph

ENV_SWITCH = "SKIPWIRE_TENSORBOARD"
EVENTS_GLOB = "events.out.tfevents.*"
EPOCH_TAGS = ("train_loss", "train_acc", "val_loss", "val_acc", "lr")
HISTOGRAM_BUCKETS = 30
STEP_TAGS = {"loss": "loss", "acc": "accuracy", "lr": "lr", "grad_norm": "grad_norm"}


def available() -> bool:
    """Whether event files are written: ``tensorboard`` importable and not switched off."""
    if os.environ.get(ENV_SWITCH, "1").strip().lower() in ("0", "off", "no", "false"):
        return False
    try:
        import tensorboard  # noqa: F401
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        return False
    return True


def stage_of(graph: Graph, block_id: str) -> str:
    """The first part of a block's group path (``top`` for a block outside any group)."""
    if block_id not in graph:
        return "top"
    return graph.block(block_id).group.split(".")[0] or "top"


def text_summary(graph: Graph) -> str:
    """The graph as a Markdown code block: block, type, output shape, group (no torch)."""
    from builder.catalog import fmt_shape
    from builder.validate import validate

    report = validate(graph)
    head = f"{'block':<28} {'type':<14} {'output shape':<16} group"
    lines = [f"{graph.name}: {len(graph)} blocks", "", head, "-" * len(head)]
    for block_id in report.order:
        block = graph.block(block_id)
        lines.append(f"{block_id:<28} {block.spec.label:<14} "
                     f"{fmt_shape(report.shapes.get(block_id)):<16} {block.group}")
    return "\n".join("    " + line for line in lines)  # indented: Markdown shows it as code


class EventWriter:
    """Writes one run's TensorBoard events; the methods mirror :class:`RunRecorder`'s."""

    def __init__(self, run_dir: Path, graph: Graph) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.graph = graph
        self.writer = SummaryWriter(log_dir=str(run_dir), flush_secs=30)
        self.writer.add_text("graph", text_summary(graph), 0)
        self._grad_tags: dict[str, str] = {}

    def scalars(self, values: list[tuple[str, float]], step: int) -> None:
        """Several scalars at ``step`` in one event (read back like separate ``add_scalar`` calls)."""
        from tensorboard.compat.proto.summary_pb2 import Summary

        self._write([Summary.Value(tag=tag, simple_value=value) for tag, value in values], step)

    def _write(self, values: list[Any], step: int) -> None:
        """One event of summary values (what ``add_scalar`` and ``add_histogram`` write, one per tag)."""
        from tensorboard.compat.proto.summary_pb2 import Summary

        writer = self.writer._get_file_writer()  # type: ignore[no-untyped-call]
        writer.add_summary(Summary(value=values), step)

    def step(self, m: Any) -> None:
        self.scalars([(f"step/{tag}", float(getattr(m, field))) for tag, field in STEP_TAGS.items()],
                     m.step)

    def epoch(self, m: Any) -> None:
        self.scalars([(f"epoch/{tag}", float(getattr(m, tag))) for tag in EPOCH_TAGS], m.epoch)

    def grad_tag(self, block_id: str) -> str:
        """``grad/STAGE/BLOCK`` (worked out once per block)."""
        tag = self._grad_tags.get(block_id)
        if tag is None:
            tag = self._grad_tags[block_id] = f"grad/{stage_of(self.graph, block_id)}/{block_id}"
        return tag

    def gradients(self, sample: Any) -> None:
        norms = [float(n) for n in sample.weight_norms]
        self.scalars([(self.grad_tag(b), n) for b, n in zip(sample.block_ids, norms, strict=True)],
                     sample.step)
        finite = np.array([n for n in norms if math.isfinite(n)], dtype=np.float64)
        if len(finite):
            from tensorboard.compat.proto.summary_pb2 import Summary

            self._write([Summary.Value(tag="grad_norms", histo=histogram(finite))], sample.step)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()

    def replay(self, run_dir: Path) -> None:
        """Write the rows already in the run's CSVs (a resumed run's kept history)."""
        for row in _rows(run_dir / "steps.csv"):
            self.step(SimpleNamespace(step=int(row["step"]), loss=float(row["loss"]),
                                      accuracy=float(row["acc"]), lr=float(row["lr"]),
                                      grad_norm=float(row["grad_norm"])))
        for row in _rows(run_dir / "metrics.csv"):
            self.epoch(SimpleNamespace(epoch=int(row["epoch"]), **{t: float(row[t]) for t in EPOCH_TAGS}))
        by_step: dict[int, list[tuple[str, float]]] = {}
        for row in _rows(run_dir / "gradients.csv"):
            by_step.setdefault(int(row["step"]), []).append((row["block"], float(row["weight_grad_norm"])))
        for step, pairs in sorted(by_step.items()):
            self.gradients(SimpleNamespace(step=step, block_ids=[b for b, _ in pairs],
                                           weight_norms=[n for _, n in pairs]))


def histogram(values: np.ndarray, buckets: int = HISTOGRAM_BUCKETS) -> Any:
    """A ``HistogramProto`` of ``values`` in equal buckets over their range.

    30 equal buckets is what TensorBoard's own histogram summaries write by default; torch's
    ``add_histogram`` bins into TensorFlow's ~1,500 exponential buckets first, which was half
    the gradient report's time at every measured step.
    """
    from tensorboard.compat.proto.summary_pb2 import HistogramProto

    counts, edges = np.histogram(values, bins=buckets)
    return HistogramProto(min=float(values.min()), max=float(values.max()), num=len(values),
                          sum=float(values.sum()), sum_squares=float(values @ values),
                          bucket_limit=edges[1:].tolist(), bucket=counts.tolist())


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if None not in r.values()]


def open_writer(run_dir: str | os.PathLike[str], graph: Graph, resumed: bool = False
                ) -> EventWriter | None:
    """An :class:`EventWriter` for ``run_dir``, or None when TensorBoard is off or missing.

    ``resumed``: replace the folder's event files by the rows now in its CSVs.
    """
    if not available():
        return None
    folder = Path(run_dir)
    if resumed:
        for old in folder.glob(EVENTS_GLOB):
            old.unlink()
    writer = EventWriter(folder, graph)
    if resumed:
        writer.replay(folder)
        writer.flush()
    return writer
