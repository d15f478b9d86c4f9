"""Torch files — training checkpoints and state dicts — read as data and written atomically.

The one place Skipwire calls ``torch.load`` and ``torch.save``: every read is
``torch.load(..., weights_only=True)`` (tensors and plain containers only, never a pickle that
runs code), every write goes to a temporary file renamed over the target, so a crash mid-write
never leaves half a file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

CHECKPOINT = "checkpoint.pt"  # a run folder's training checkpoint


def read(path: str | os.PathLike[str], what: str, error: type[ValueError] = ValueError) -> Any:
    """The data in the torch file at ``path``, on the CPU.

    A missing or unreadable file raises ``error`` with one line naming the file and ``what``
    it should be (``run/checkpoint.pt: not a readable Skipwire checkpoint (UnpicklingError: …)``).
    """
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except Exception as exc:  # torch raises several types for corrupt or unsafe files
        lines = str(exc).strip().splitlines()
        raise error(f"{path}: not a readable {what} ({type(exc).__name__}: "
                    f"{lines[0][:200] if lines else ''})") from None


def write(data: Any, path: str | os.PathLike[str]) -> None:
    """Save ``data`` to ``path`` atomically (temp file + rename)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(data, tmp)
    os.replace(tmp, path)
