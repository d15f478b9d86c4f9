"""Atomic saves give files the ordinary mode for the user's umask (not mkstemp's 0600)."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from builder import fileformat
from tests.core.conftest import chain

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")


@pytest.fixture
def umask() -> Iterator[object]:
    """Set the process umask inside a test; the previous one is restored afterwards."""
    previous = os.umask(0o022)
    os.umask(previous)

    def set_to(value: int) -> None:
        os.umask(value)

    yield set_to
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_a_new_file_gets_0666_less_the_umask(tmp_path: Path, umask, mask: int, expected: int) -> None:  # type: ignore[no-untyped-def]
    umask(mask)
    target = tmp_path / "g.json"
    fileformat.save(chain("relu"), target)
    assert _mode(target) == expected
    plain = tmp_path / "plain.txt"
    plain.write_text("x")  # what an ordinary open(…, "w") gives under the same umask
    assert _mode(target) == _mode(plain)


def test_an_existing_file_keeps_its_mode(tmp_path: Path, umask) -> None:  # type: ignore[no-untyped-def]
    umask(0o022)
    target = tmp_path / "g.json"
    target.write_text("old")
    target.chmod(0o640)
    fileformat.save(chain("relu"), target)
    assert _mode(target) == 0o640
    assert fileformat.load(target).signature() == chain("relu").signature()


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    target = tmp_path / "g.json"
    for _ in range(3):
        fileformat.atomic_write(target, "text")
    assert [p.name for p in tmp_path.iterdir()] == ["g.json"]
    assert target.read_text(encoding="utf-8") == "text"
