"""The wheel: built from a copy of the tree, installed into a fresh venv, run from a temp folder.

Offline and quick: ``pip wheel --no-build-isolation`` uses this venv's setuptools; the new
venv (no pip of its own) gets the wheel with ``pip --python … install --no-deps`` and reaches
torch and the other dependencies through a ``.pth`` line naming this venv's site-packages.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from builder import shipped

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.name for p in (ROOT / "graphs").glob("*.json"))


def _run(*command: str | Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run([str(c) for c in command], cwd=cwd, env={**clean, **env}, capture_output=True,
                          text=True, timeout=300)


def _pip(*args: str | Path, cwd: Path) -> None:
    done = _run(sys.executable, "-m", "pip", "--disable-pip-version-check", *args, cwd=cwd)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "main.py"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("builder", "gui", "graphs"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path_factory.mktemp("dist")
    _pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", dist, source, cwd=source)
    (found,) = dist.glob("skipwire-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("venv")
    done = _run(sys.executable, "-m", "venv", "--without-pip", folder, cwd=folder)
    assert done.returncode == 0, done.stderr
    python = folder / "bin" / "python"
    _pip("--python", python, "install", "--no-deps", "--no-index", "-q", wheel, cwd=folder)
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=folder)
    # torch, networkx, … from this venv (a plain path line: its own .pth files are not run)
    Path(purelib.stdout.strip(), "project_deps.pth").write_text(site.getsitepackages()[0] + "\n")
    return folder


def _package_folders() -> set[str]:
    return {str(p.parent.relative_to(ROOT)).replace(os.sep, ".")
            for top in ("builder", "gui") for p in (ROOT / top).rglob("__init__.py")}


@pytest.mark.slow  # the wheel and the venv: 15-40 s together
def test_the_wheel_ships_the_graphs_inside_builder_and_every_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert sorted(n.rsplit("/", 1)[1] for n in names if n.startswith("builder/shipped_graphs/")) == SHIPPED
    assert len(SHIPPED) >= 20
    tops = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert tops == {"builder", "gui", "main.py"}  # no top-level graphs/, tests/ or bench/
    packages = {n.rsplit("/", 1)[0].replace("/", ".") for n in names if n.endswith("/__init__.py")}
    missing = _package_folders() - packages
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml"


@pytest.mark.slow  # the wheel and the venv: 15-40 s together
def test_the_installed_command_works_outside_the_repository(venv: Path, tmp_path: Path) -> None:
    skipwire = venv / "bin" / "skipwire"
    done = _run(skipwire, "template", "resnet", "--depth", "20", "-o", "r20.json", cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "r20.json").is_file(), done.stderr
    done = _run(skipwire, "summary", "r20.json", cwd=tmp_path)
    assert done.returncode == 0 and "Total params: 269,722" in done.stdout, done.stderr
    where = _run(venv / "bin" / "python", "-c", "import builder, builder.shipped as r; "
                 "print(builder.__file__); print(r.shipped_graph()); print(len(r.shipped_graphs()))",
                 cwd=tmp_path)
    package, default, count = where.stdout.split()
    assert Path(package).is_relative_to(venv) and Path(default).is_relative_to(venv), where.stdout
    assert Path(default).name == "resnet20.json" and int(count) == len(SHIPPED)
    done = _run(skipwire, "summary", default, cwd=tmp_path)
    assert done.returncode == 0 and "Total params: 269,722" in done.stdout


@pytest.mark.slow  # the wheel and the venv: 15-40 s together
def test_the_installed_app_without_pyside6_says_what_to_install(venv: Path, tmp_path: Path) -> None:
    code = "import sys; sys.modules['PySide6'] = None; import main; sys.exit(main.main([]))"
    done = _run(venv / "bin" / "python", "-c", code, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("skipwire: the window needs PySide6, which is not installed: "
                                  "pip install 'skipwire[gui]'") and done.stderr.count("\n") == 1


def test_python_main_without_pyside6_is_one_line_and_exit_2(monkeypatch, capsys) -> None:
    import main

    monkeypatch.setitem(sys.modules, "PySide6", None)  # as if the gui extra were not installed
    assert main.main([]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "pip install 'skipwire[gui]'" in err


def test_shipped_finds_the_repository_graphs_from_a_checkout() -> None:
    assert shipped.graphs_dir() == ROOT / "graphs"
    assert shipped.shipped_graph().name == "resnet20.json"
    assert shipped.shipped_graphs()[0] == "densenet121" and "resnet110" in shipped.shipped_graphs()
    with pytest.raises(shipped.ResourceError, match="no shipped graph named 'resnet21'.*resnet20"):
        shipped.shipped_graph("resnet21")
