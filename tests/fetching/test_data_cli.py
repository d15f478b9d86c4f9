"""``main.py data fetch`` and ``main.py data list`` against the local server (in-process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder import cli
from tests.fetching.server import LocalServer, Rule

CIFAR = "/cifar10/cifar-10-binary.tar.gz"


def test_data_fetch_shows_a_byte_progress_bar_then_the_folder(
        server: LocalServer, private_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["data", "fetch", "cifar10"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"cifar10: ready in {private_data / 'cifar10'}"
    last = err.replace("\r", "\n").strip().splitlines()[-1]
    size_k = f"{len(server.archives[CIFAR]) / 1000:.0f}k"
    assert last.startswith("cifar-10-binary.tar.gz: 100%") and f"{size_k}/{size_k}" in last
    assert "B/s]" in last and "<00:00" in last  # speed and time left
    assert cli.main(["data", "fetch", "cifar10"]) == 0
    assert capsys.readouterr().out.startswith("cifar10: already in")


def test_data_fetch_errors_are_one_line_with_exit_2(server: LocalServer,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    server.rules[CIFAR] = Rule("error", 503, times=9)
    assert cli.main(["data", "fetch", "cifar10", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == (f"skipwire: cifar-10-binary.tar.gz: could not be downloaded — {server.url}{CIFAR}: "
                   "HTTP 503 Service Unavailable\n")
    assert cli.main(["data", "fetch", "imagenet"]) == 2
    assert "'imagenet': no such data set to fetch (known: mnist, fashion_mnist, cifar10, cifar100)" in \
        capsys.readouterr().err


def test_data_fetch_mirror_and_root_flags(server: LocalServer, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    server.files["/m/mnist/" + "train-images-idx3-ubyte.gz"] = server.archives[
        "/mnist/train-images-idx3-ubyte.gz"]
    for name in ("train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        server.files["/m/mnist/" + name] = server.archives["/mnist/" + name]
    root = tmp_path / "elsewhere"
    assert cli.main(["data", "fetch", "mnist", "--quiet", "--root", str(root),
                     "--mirror", f"{server.url}/m"]) == 0
    assert (root / "mnist" / "skipwire-dataset.json").is_file()
    assert {p for p, _ in server.log} == {f"/m/mnist/{n}" for n in (
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz")}


def test_data_fetch_from_own_archives(server: LocalServer, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(server.archives[CIFAR])
    assert cli.main(["data", "fetch", "cifar10", "--from", str(tmp_path)]) == 0
    assert server.log == [] and "ready in" in capsys.readouterr().out


def test_data_list_shows_sets_sizes_and_what_is_on_disk(
        server: LocalServer, private_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["data", "fetch", "mnist", "--quiet"]) == 0
    capsys.readouterr()
    assert cli.main(["data", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"data folder: {private_data}"
    rows = {line.split()[0]: line.split() for line in lines[2:6]}
    assert list(rows) == ["mnist", "fashion_mnist", "cifar10", "cifar100"]
    assert rows["mnist"][4] == "KB" and rows["cifar10"][3] == "-"  # on disk vs not
    assert lines[-1].startswith("built in (no download): digits, synthetic")
