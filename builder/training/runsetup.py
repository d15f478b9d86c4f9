"""How a run actually computes: device, precision as resolved, layout, compile time, CUDA graph.

:class:`RunSetup` is what the trainer decided from the settings (``precision: auto`` becomes
bf16 or fp32 with the reason; torch.compile's compile time is measured on the first step). It
is written to ``setup.json`` in the run folder (rank 0), given to the caller as
``Trainer.setup``, and described in one line for the window and the logs:
``cpu, 1 thread · precision auto → bf16 (this CPU computes bf16 natively: AMX-BF16) ·
channels-last``. Torch-free.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

FILE = "setup.json"


@dataclass
class RunSetup:
    """The facts of one run's set-up."""

    device: str
    precision: str  # the setting: auto, fp32, bf16 or fp16
    resolved: str  # what runs: fp32, bf16 or fp16
    reason: str  # why (auto) or "forced"
    channels_last: bool
    threads: int = 1
    processes: int = 1
    compiled: bool = False
    compile_seconds: float | None = None  # the first step's time under torch.compile
    cuda_graph: bool = False
    cuda_graph_note: str = ""  # why the step is not captured (CUDA only), or why capture stopped
    steps_per_epoch: int = 0
    data: str = ""  # the data set as Dataset.describe() writes it

    def precision_text(self) -> str:
        """``auto → bf16 (…)``, ``fp32 (forced)``."""
        head = f"auto → {self.resolved}" if self.precision == "auto" else self.resolved
        return f"{head} ({self.reason})" if self.reason else head

    def parts(self) -> list[str]:
        where = self.device if not self.device.startswith("cpu") else \
            f"cpu, {self.threads} thread{'s' if self.threads != 1 else ''}"
        if self.processes > 1:
            where += f" × {self.processes} processes"
        out = [where, f"precision {self.precision_text()}"]
        out.append("channels-last" if self.channels_last else "NCHW layout")
        if self.compiled:
            done = f" (compiled in {self.compile_seconds:.1f} s)" if self.compile_seconds is not None \
                else " (compiling on the first step)"
            out.append("torch.compile" + done)
        if self.cuda_graph:
            out.append("CUDA graph")
        elif self.cuda_graph_note:
            out.append(self.cuda_graph_note)
        return out

    def describe(self) -> str:
        return " · ".join(self.parts())

    def short(self) -> str:
        """``cpu · bf16``, ``cpu ×2 · fp32``: the device column of the window's runs list."""
        many = f" ×{self.processes}" if self.processes > 1 else ""
        return f"{self.device}{many} · {self.resolved}"

    def save(self, run_dir: str | os.PathLike[str]) -> None:
        from builder.fileformat import atomic_write

        atomic_write(Path(run_dir) / FILE, json.dumps({**asdict(self), "text": self.describe()},
                                                      indent=2) + "\n")


def load(run_dir: str | os.PathLike[str]) -> RunSetup | None:
    """The run folder's set-up, or None when it has none (older runs) or it is unreadable."""
    try:
        data = json.loads((Path(run_dir) / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    known = {f.name for f in fields(RunSetup)}
    values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
    try:
        return RunSetup(**values)
    except TypeError:
        return None
