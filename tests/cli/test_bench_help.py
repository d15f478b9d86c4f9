"""Every bench script answers ``--help`` (exit 0, its usage) and has a section in bench/README.md."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCRIPTS = sorted(p for p in BENCH.glob("*.py") if not p.name.startswith("_"))


def _help(script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script), "--help"], cwd=BENCH.parent, capture_output=True,
                          text=True, timeout=120, env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""})


def test_every_bench_script_answers_help_without_running() -> None:
    assert len(SCRIPTS) >= 11
    with ThreadPoolExecutor(4) as pool:
        answers = dict(zip(SCRIPTS, pool.map(_help, SCRIPTS), strict=True))
    wrong = {p.name: (a.returncode, (a.stderr or a.stdout)[-300:]) for p, a in answers.items()
             if a.returncode != 0 or not a.stdout.startswith(f"usage: {p.name} [-h]")}
    assert not wrong, wrong
    for answer in answers.values():
        assert "-h, --help" in answer.stdout and answer.stderr == ""


@pytest.mark.parametrize("script", [p.name for p in SCRIPTS])
def test_bench_readme_describes_the_script(script: str) -> None:
    assert f"### `{script}`" in (BENCH / "README.md").read_text(encoding="utf-8")
