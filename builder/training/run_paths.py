"""Where ``train`` writes and what it resumes, settled before any data is loaded.

A run folder is never replaced: ``--run-dir`` must name a new or empty folder (the resumed
run's own folder excepted), and the default ``runs/NAME-DATE-TIME`` gets ``-2``, ``-3``, …
when that name is taken. ``--resume`` takes a run folder or a checkpoint file, as
``export --weights`` does.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from builder.cli_paths import fresh_name, new_run_folder
from builder.clitools import CliError, say
from builder.text import printable

ORIGINAL_GRAPH = "original_graph.json"  # a run folder's graph as the user made it, when it was fitted


def resume_paths(resume: str | None) -> tuple[Path | None, Path | None]:
    """``(checkpoint, run folder)`` for ``--resume``; the folder is None for a loose checkpoint."""
    if resume is None:
        return None, None
    from builder.export.weights import CHECKPOINT, RUN_GRAPH  # imports torch: only when resuming

    p = Path(resume)
    shown = printable(resume)
    if p.is_dir():
        if not (p / CHECKPOINT).is_file():
            raise CliError(f"--resume {shown}: the folder has no {CHECKPOINT} (nothing to continue)")
        return p / CHECKPOINT, p
    if not p.is_file():
        raise CliError(f"--resume {shown}: no such run folder or checkpoint file")
    return p, (p.parent if (p.parent / RUN_GRAPH).is_file() else None)


def run_folder(run_dir: str | None, graph_name: str, resume_dir: Path | None) -> Path:
    """The folder this run writes: checked, or picked fresh; CliError before anything is written."""
    if not _main_rank():  # only rank 0 writes; it may already have made the folder
        return Path(run_dir) if run_dir else resume_dir or Path("runs")
    if run_dir:
        if resume_dir is not None and _same(Path(run_dir), resume_dir):
            return resume_dir  # continuing a run in its own folder
        return new_run_folder(run_dir, "--run-dir")
    if resume_dir is not None:
        return resume_dir
    wanted = Path("runs") / f"{graph_name}-{time.strftime('%Y%m%d-%H%M%S')}"
    folder = new_run_folder(fresh_name(wanted), "run folder")
    if folder != wanted:
        say(f"{wanted} exists; this run goes to {folder}")
    return folder


def _same(a: Path, b: Path) -> bool:
    return a.exists() and b.exists() and os.path.samefile(a, b)


def _main_rank() -> bool:
    """True unless torchrun started this process as a rank other than 0."""
    return os.environ.get("RANK", "0") == "0"
