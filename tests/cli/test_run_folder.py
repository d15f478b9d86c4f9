"""Run folders as the README describes them: ordinary file modes, and the weights-reload lines."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from builder import fileformat
from builder.cli import main
from tests.training.conftest import tiny_net

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--dataset", "synthetic", "--device", "cpu", "--threads", "1", "--quiet"]


def ordinary_mode() -> int:
    """What ``open(path, "w")`` gives under the current umask (0o644 for umask 022)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def modes(folder: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir() if p.is_file()}


@pytest.mark.parametrize("mask", [0o022, 0o002])
def test_every_file_a_run_or_a_comparison_writes_gets_the_umask_mode(tmp_path: Path, mask: int,
                                                                    capsys) -> None:
    old = os.umask(mask)
    try:
        graph = tmp_path / "res8.json"
        fileformat.save(tiny_net(), graph)
        assert main(["train", str(graph), *FAST, "--epochs", "1", "--run-dir", str(tmp_path / "run")]) == 0
        out = tmp_path / "cmp"
        out.mkdir()
        assert main(["compare", str(graph), *FAST, "--epochs", "1", "-o", str(out / "cmp.png")]) == 0
        expected = ordinary_mode()
    finally:
        os.umask(old)
    capsys.readouterr()
    run = modes(tmp_path / "run")
    assert {"graph.json", "config.json", "metrics.csv", "steps.csv", "gradients.csv",
            "checkpoint.pt"} <= set(run)
    assert modes(tmp_path)["res8.json"] == expected
    wrong = {name: oct(m) for name, m in {**run, **modes(out)}.items() if m != expected}
    assert not wrong, f"expected {oct(expected)} for every file, got {wrong}"


def _readme_block(name: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- {name} -->\s*```(?:sh|python)\n(.*?)```", text, re.S)
    assert found, f"README.md has no block marked <!-- {name} -->"
    return found.group(1)


@pytest.mark.slow  # trains ResNet-20 for one epoch on digits, as the README says
def test_the_readme_lines_reload_a_runs_weights_into_its_exported_code(tmp_path: Path, monkeypatch,
                                                                       capsys) -> None:
    monkeypatch.chdir(tmp_path)
    commands = [line.split("#")[0].split() for line in _readme_block("reload-weights-sh").splitlines()
                if line.startswith("python main.py")]
    assert [c[2] for c in commands] == ["train", "export"]
    for command in commands:
        args = [str(ROOT / a) if a.startswith("graphs/") else a for a in command[2:]]
        assert main(args + (["--threads", "1", "--quiet"] if args[0] == "train" else [])) == 0
    assert "class Resnet20" in capsys.readouterr().out
    code = _readme_block("reload-weights-python")
    assert len(code.strip().splitlines()) == 3
    check = code + ("model.eval()\nprint(tuple(model(torch.zeros(2, 1, 8, 8)).shape), "
                    "sum(p.numel() for p in model.parameters()))\n")
    done = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr  # load_state_dict is strict: every key and shape fits
    assert done.stdout.split() == ["(2,", "10)", "269434"]
