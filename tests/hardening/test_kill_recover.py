"""Kill the editor with SIGKILL while it holds unsaved edits: the next start offers them back.

The real app runs offscreen in a subprocess (``app_driver.py``) with a 300 ms autosave
interval (``SKIPWIRE_AUTOSAVE_MS``; the default stays 30 s) and its data folder in a temp
directory. After three edits reach the recovery file it is SIGKILLed; a second start must
offer the recovery, and the graph it then shows must equal the edited graph exactly.
A save interrupted between writing and renaming leaves the previous file intact.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from builder import fileformat
from builder.graph import Graph

from .conftest import GRAPHS, ROOT

DRIVER = Path(__file__).with_name("app_driver.py")


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM="offscreen", SKIPWIRE_AUTOSAVE_MS="300", XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_CACHE_HOME=str(tmp_path / "cache"),
               XDG_RUNTIME_DIR=str(tmp_path / "runtime"))
    (tmp_path / "runtime").mkdir(mode=0o700, exist_ok=True)
    return env


def _driver(mode: str, graph: Path, out: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(DRIVER), mode, str(graph), str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _recovery_file(tmp_path: Path) -> Path | None:
    found = list((tmp_path / "data").rglob("recovery.skipwire.json"))
    return found[0] if found else None


def _wait_for_recovery(proc: subprocess.Popen[str], tmp_path: Path, expected: Path) -> Graph:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the app exited early (rc {proc.returncode}):\n{proc.stdout.read()[-3000:]}")
        recovery = _recovery_file(tmp_path)
        if expected.exists() and recovery is not None:
            try:
                graph = fileformat.load(recovery)
            except fileformat.GraphFileError:
                graph = None  # never half-written (atomic), but the edit may not be in it yet
            if graph is not None and graph == fileformat.load(expected):
                return graph
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"no recovery file with the edits within 90 s:\n{proc.communicate()[0][-3000:]}")


def test_sigkill_while_editing_then_restart_offers_the_edited_graph(tmp_path: Path) -> None:
    graph_path = tmp_path / "lenet.json"
    graph_path.write_bytes((GRAPHS / "lenet.json").read_bytes())
    env = _env(tmp_path)
    edited = tmp_path / "edited.json"
    proc = _driver("edit", graph_path, edited, env)
    _wait_for_recovery(proc, tmp_path, edited)
    os.kill(proc.pid, signal.SIGKILL)
    out = proc.communicate(timeout=30)[0]
    assert proc.returncode == -signal.SIGKILL and "EDITED modified=True" in out, out
    assert fileformat.load(graph_path) == fileformat.load(GRAPHS / "lenet.json"), "the file was not saved"

    shown = tmp_path / "shown.json"
    proc = _driver("recover", graph_path, shown, env)
    out = proc.communicate(timeout=120)[0]
    assert proc.returncode == 0, out
    assert "QUESTION Restore unsaved changes?" in out and str(graph_path) in out, out
    assert "SHOWN modified=True" in out, out
    recovered = fileformat.load(shown)
    assert recovered == fileformat.load(edited)
    assert recovered.block("added_by_the_test").pos == (123.0, 456.0)
    conv = next(b for b in recovered.blocks() if b.type == "conv2d")
    assert conv.params["out_channels"] == 7 and conv.pos == (-50.0, 75.5)
    print(f"recovered after SIGKILL: {len(recovered)} blocks, conv {conv.id} out_channels 7, "
          f"block added_by_the_test at (123, 456); the question was: "
          f"{next(line for line in out.splitlines() if line.startswith('QUESTION'))[:140]}")


# ----------------------------------------------------------------------------- interrupted saves


def _interrupted_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: Any) -> Path:
    target = tmp_path / "graph.json"
    fileformat.save(fileformat.load(GRAPHS / "resnet20.json"), target)
    monkeypatch.setattr(os, *failure)
    edited = fileformat.load(target)
    edited.set_param("conv1", "out_channels", 99)
    with pytest.raises(OSError):
        fileformat.save(edited, target)
    monkeypatch.undo()
    return target


@pytest.mark.parametrize("failure", [
    ("replace", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left on device"))),
    ("fsync", lambda fd: (_ for _ in ()).throw(OSError(5, "Input/output error"))),
], ids=["rename_fails", "fsync_fails"])
def test_a_save_interrupted_midway_leaves_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             failure: Any) -> None:
    target = _interrupted_save(tmp_path, monkeypatch, failure)
    assert fileformat.load(target) == fileformat.load(GRAPHS / "resnet20.json")
    assert [p.name for p in tmp_path.iterdir()] == ["graph.json"], "the temp file is cleaned up"


def test_a_save_killed_between_write_and_rename_leaves_the_previous_file(tmp_path: Path) -> None:
    """A child process writes the temp file and is SIGKILLed just before os.replace."""
    target = tmp_path / "graph.json"
    fileformat.save(fileformat.load(GRAPHS / "lenet.json"), target)
    code = (
        "import os, signal, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from builder import fileformat\n"
        "os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"g = fileformat.load({str(target)!r}); g.set_param('conv1', 'out_channels', 99)\n"
        f"fileformat.save(g, {str(target)!r})\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert fileformat.load(target) == fileformat.load(GRAPHS / "lenet.json")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "graph.json"]
    assert all(name.startswith(".graph.json.") and name.endswith(".tmp") for name in leftovers), leftovers
