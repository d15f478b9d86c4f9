"""Output paths checked before a command does any work (a run is never wasted on a typo).

Every command that writes checks its paths first: an output file's folder exists and can be
written, the path is not a folder and has a suffix the command writes; a run folder is new or
empty, so an existing run is never replaced. Each problem is one :class:`~builder.cli.CliError`
naming the flag and the path the person typed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from builder.clitools import CliError
from builder.text import printable

PLOT_SUFFIXES = (".png", ".svg", ".pdf")  # what matplotlib writes from the suffix, as help says


def output_file(path: str | os.PathLike[str], flag: str, suffixes: Sequence[str] = ()) -> Path:
    """``path`` as a file the command may write (created or replaced); CliError otherwise.

    ``suffixes`` (lower case, with the dot) are the ones the command writes; empty: any.
    """
    p, where = Path(path), f"{flag} {_show(path)}"
    if p.is_dir():
        raise CliError(f"{where} is a folder; name the file to write inside it")
    if suffixes and p.suffix.lower() not in suffixes:
        raise CliError(f"{where}: the file name must end in {_either(suffixes)}")
    _writable_folder(p.parent, where)
    if p.exists() and not os.access(p, os.W_OK):
        raise CliError(f"{where}: the file exists and cannot be replaced (no write permission)")
    return p


def new_run_folder(path: str | os.PathLike[str], flag: str) -> Path:
    """``path`` as a folder for a new run: absent (created later) or empty; CliError otherwise."""
    p = Path(path)
    if p.is_dir() and any(p.iterdir()):
        raise CliError(f"{flag} {_show(path)} is not empty (an earlier run?) and is never "
                       f"replaced: name a new folder, or continue that run with --resume {_show(path)}")
    return writable_folder(p, flag)


def writable_folder(path: str | os.PathLike[str], flag: str) -> Path:
    """``path`` as a folder the command may create or add files to; CliError otherwise."""
    p, where = Path(path), f"{flag} {_show(path)}"
    if p.exists() and not p.is_dir():
        raise CliError(f"{where} is a file, not a folder")
    _writable_folder(p if p.is_dir() else _nearest_existing(p), where)
    return p


def fresh_name(path: str | os.PathLike[str]) -> Path:
    """``path`` if nothing is there, else the first free ``path-2``, ``path-3``, …"""
    p, n = Path(path), 2
    candidate = p
    while candidate.exists():
        candidate, n = p.with_name(f"{p.name}-{n}"), n + 1
    return candidate


def existing(paths: Sequence[str], flag: str) -> None:
    """CliError naming the first of ``paths`` that is not there."""
    for path in paths:
        if not os.path.exists(path):
            raise CliError(f"{flag} {_show(path)}: no such file or folder")


def _writable_folder(folder: Path, where: str) -> None:
    folder = folder if str(folder) else Path(".")
    if not folder.exists():
        raise CliError(f"{where}: the folder {_show(folder)} does not exist")
    if not folder.is_dir():
        raise CliError(f"{where}: {_show(folder)} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CliError(f"{where}: the folder {_show(folder)} cannot be written (no permission)")


def _nearest_existing(p: Path) -> Path:
    """The closest ancestor of ``p`` that exists (where ``mkdir -p`` would start)."""
    for parent in p.parents:
        if parent.exists():
            return parent
    return Path(p.anchor or ".")


def _either(suffixes: Sequence[str]) -> str:
    return suffixes[0] if len(suffixes) == 1 else ", ".join(suffixes[:-1]) + f" or {suffixes[-1]}"


def _show(path: str | os.PathLike[str]) -> str:
    """A path as the person typed it, control characters escaped."""
    return printable(os.fspath(path))
