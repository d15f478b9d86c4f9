"""Fetching data sets from a local HTTP server: success, resume, mismatch, errors, redirect, Cancel.

The server (tests/fetching/server.py) serves archives in the real formats built here; the readers
then load the unpacked copy with ``data_dir`` left empty.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from builder.training import fetch, readers
from builder.training.datasets import DatasetError, load_raw
from builder.training.download import ChecksumError, FetchCancelled, FetchError
from tests.fetching.server import LocalServer, Rule

CIFAR = "/cifar10/cifar-10-binary.tar.gz"


def leftovers(root: Path) -> list[str]:
    """Anything in the data folder but complete sets and the downloads folder."""
    return sorted(p.name for p in root.iterdir() if p.name not in fetch.SOURCES and p.name != ".downloads")


def test_fetch_cifar10_unpacks_verifies_and_is_reused(server: LocalServer, private_data: Path) -> None:
    reports: list[tuple[int, int, str]] = []
    folder = fetch.fetch("cifar10", progress=lambda d, t, f: reports.append((d, t, f)))
    assert folder == private_data / "cifar10" and fetch.fetched_dir("cifar10") == folder
    assert (folder / fetch.MARKER).is_file()
    assert sorted(p.name for p in (folder / "cifar-10-batches-bin").iterdir()) == sorted(
        ["batches.meta.txt", "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
         "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"])
    size = len(server.archives[CIFAR])
    assert reports[-1] == (size, size, "cifar-10-binary.tar.gz")
    assert [d for d, _, _ in reports] == sorted(d for d, _, _ in reports)
    assert not (private_data / ".downloads" / "cifar10").exists()  # archive removed once unpacked
    assert leftovers(private_data) == []
    raw = load_raw("cifar10")  # no data_dir: the fetched copy
    assert raw.x_train.shape == (100, 3, 32, 32) and raw.x_val.shape == (20, 3, 32, 32)
    assert raw.classes[3] == "cat" and raw.y_train[:12].tolist() == [i % 10 for i in range(12)]
    asked = len(server.log)
    assert fetch.fetch("cifar10") == folder and len(server.log) == asked  # reused, nothing fetched


def test_fetch_mnist_keeps_the_gz_files_the_reader_reads(server: LocalServer) -> None:
    folder = fetch.fetch("mnist")
    names = [a.filename for a in fetch.SOURCES["mnist"].archives]
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".gz") == sorted(names)
    data = readers.mnist("", "mnist")
    assert data.x_train.shape == (30, 1, 28, 28) and data.num_classes == 10
    fetch.fetch("fashion_mnist")
    assert load_raw("fashion_mnist").classes[9] == "Ankle boot"
    assert [p for p, _ in server.log] == [f"/mnist/{a.filename}" for a in fetch.SOURCES["mnist"].archives] + \
        [f"/fashion_mnist/{a.filename}" for a in fetch.SOURCES["fashion_mnist"].archives]


def test_cifar100_takes_the_class_names_from_the_archive(server: LocalServer) -> None:
    fetch.fetch("cifar100")
    raw = load_raw("cifar100")
    assert raw.classes[:2] == ["fine0", "fine1"] and len(raw.classes) == 100
    assert raw.y_train[:3].tolist() == [0, 1, 2]  # the fine label (second byte)


def test_not_fetched_and_no_folder_is_one_line_naming_the_command(private_data: Path) -> None:
    with pytest.raises(DatasetError, match=r"^cifar10: not on this computer yet — run `python main.py "
                       r"data fetch cifar10`"):
        load_raw("cifar10")


def test_resume_after_a_cut_connection_asks_for_the_rest(server: LocalServer) -> None:
    cut = 150_000
    assert len(server.archives[CIFAR]) > 2 * cut
    server.rules[CIFAR] = Rule("cut", cut)
    folder = fetch.fetch("cifar10")  # whole and MD5-checked, or it would raise
    first, second = server.requests_for(CIFAR)
    assert first is None and second is not None and second.startswith("bytes=")
    assert 0 < int(second[6:-1]) <= cut  # continued from what had arrived, not from 0
    assert load_raw("cifar10").x_train.shape[0] == 100 and folder.is_dir()


def test_a_cut_with_a_stale_part_file_starts_over(server: LocalServer, private_data: Path) -> None:
    """A .part left from another file makes a bad whole: refetched once from the start, then fine."""
    downloads = private_data / ".downloads" / "cifar10"
    downloads.mkdir(parents=True)
    (downloads / "cifar-10-binary.tar.gz.part").write_bytes(b"x" * 1000)
    fetch.fetch("cifar10")
    assert server.requests_for(CIFAR) == ["bytes=1000-", None]


def test_checksum_mismatch_is_one_error_naming_the_file_and_leaves_nothing(
        server: LocalServer, private_data: Path) -> None:
    data = bytearray(server.archives[CIFAR])
    data[5000] ^= 0xFF
    server.files[CIFAR] = bytes(data)
    with pytest.raises(ChecksumError) as info:
        fetch.fetch("cifar10")
    message = str(info.value)
    assert message.startswith("cifar-10-binary.tar.gz: checksum mismatch") and "\n" not in message
    assert fetch.SOURCES["cifar10"].archives[0].md5 in message
    assert fetch.fetched_dir("cifar10") is None and not (private_data / "cifar10").exists()
    assert list((private_data / ".downloads" / "cifar10").iterdir()) == []  # no part, no temp file
    assert leftovers(private_data) == []


def test_server_error_tries_the_next_mirror_then_names_every_failure(server: LocalServer) -> None:
    server.rules[CIFAR] = Rule("error", 500, times=99)
    with pytest.raises(FetchError) as info:
        fetch.fetch("cifar10")
    assert str(info.value) == (f"cifar-10-binary.tar.gz: could not be downloaded — {server.url}{CIFAR}: "
                               "HTTP 500 Internal Server Error")
    server.files["/mirror2/cifar10/cifar-10-binary.tar.gz"] = server.archives[CIFAR]
    folder = fetch.fetch("cifar10", mirrors=[f"{server.url}/broken/{{name}}/", f"{server.url}/mirror2"])
    assert folder.is_dir()
    assert [p for p, _ in server.log][-2:] == ["/broken/cifar10/cifar-10-binary.tar.gz",
                                               "/mirror2/cifar10/cifar-10-binary.tar.gz"]


def test_redirect_is_followed(server: LocalServer) -> None:
    server.files["/elsewhere/c10.tgz"] = server.archives[CIFAR]
    server.rules[CIFAR] = Rule("redirect", "/elsewhere/c10.tgz")
    fetch.fetch("cifar10")
    assert [p for p, _ in server.log] == [CIFAR, "/elsewhere/c10.tgz"]


def test_cancel_keeps_the_part_and_the_next_fetch_continues(server: LocalServer, private_data: Path) -> None:
    cancel = threading.Event()
    seen: list[int] = []

    def progress(done: int, total: int, name: str) -> None:
        seen.append(done)
        cancel.set()  # the person presses Cancel once bytes arrive

    with pytest.raises(FetchCancelled):
        fetch.fetch("cifar10", progress=progress, cancel=cancel)
    part = private_data / ".downloads" / "cifar10" / "cifar-10-binary.tar.gz.part"
    assert part.is_file() and 0 < part.stat().st_size < len(server.archives[CIFAR])
    assert not (private_data / "cifar10").exists() and leftovers(private_data) == []
    kept = part.stat().st_size
    fetch.fetch("cifar10")
    assert server.requests_for(CIFAR) == [None, f"bytes={kept}-"]


def test_cancel_while_unpacking_leaves_no_half_written_set(server: LocalServer, private_data: Path) -> None:
    cancel = threading.Event()
    total = len(server.archives[CIFAR])
    with pytest.raises(FetchCancelled):
        fetch.fetch("cifar10", cancel=cancel,
                    progress=lambda d, t, f: cancel.set() if d == total else None)
    assert not (private_data / "cifar10").exists() and leftovers(private_data) == []


def test_own_archives_are_checked_and_installed_without_the_network(
        server: LocalServer, tmp_path: Path) -> None:
    mine = tmp_path / "downloads"
    mine.mkdir()
    (mine / "cifar-10-binary.tar.gz").write_bytes(server.archives[CIFAR])
    folder = fetch.fetch("cifar10", archives=str(mine))
    assert folder.is_dir() and server.log == []
    assert (mine / "cifar-10-binary.tar.gz").is_file()  # the person's file is left alone
    bad = tmp_path / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(b"not it")
    with pytest.raises(ChecksumError, match=rf"^{bad}: checksum mismatch"):
        fetch.fetch("mnist", archives=[bad])
    with pytest.raises(FetchError, match=r"^train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                       r"t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz: not found in"):
        fetch.fetch("mnist", archives=[mine])


def test_an_archive_that_is_not_a_tar_or_lacks_files_leaves_nothing(
        server: LocalServer, private_data: Path, tmp_path: Path) -> None:
    from dataclasses import replace

    from tests.fetching.server import md5, tar_gz

    for data, message in ((b"plain bytes", "not a readable .tar.gz archive"),
                          (tar_gz({"cifar-10-batches-bin/test_batch.bin": b"x"}), "the archive lacks")):
        src = fetch.SOURCES["cifar10"]
        fetch.SOURCES["cifar10"] = replace(src, archives=(replace(src.archives[0], md5=md5(data)),))
        (tmp_path / "cifar-10-binary.tar.gz").write_bytes(data)
        with pytest.raises(FetchError, match=message):
            fetch.fetch("cifar10", archives=tmp_path)
        assert not (private_data / "cifar10").exists() and leftovers(private_data) == []


def test_mirror_bases_expand_names_defaults_and_refuse_other_schemes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    src = fetch.SOURCES["mnist"]
    assert fetch.mirror_bases(src, ["https://m.example/data", "https://n.example/{name}/raw/", "default"]) \
        == ["https://m.example/data/mnist/", "https://n.example/mnist/raw/", *src.mirrors]
    monkeypatch.setenv(fetch.ENV_MIRRORS, "https://a.example/, https://b.example/x/")
    assert fetch.mirror_bases(src) == ["https://a.example/mnist/", "https://b.example/x/mnist/"]
    monkeypatch.setenv(fetch.ENV_MIRRORS, "")
    assert fetch.mirror_bases(src) == list(src.mirrors)
    with pytest.raises(FetchError, match="mirror 'ftp://x': expected an http"):
        fetch.mirror_bases(src, ["ftp://x"])


def test_data_root_setting_then_environment_then_platform(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    monkeypatch.setenv(fetch.ENV_ROOT, str(tmp_path / "env"))
    assert fetch.data_root(tmp_path / "mine") == tmp_path / "mine"
    assert fetch.data_root() == tmp_path / "env"
    monkeypatch.delenv(fetch.ENV_ROOT)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert fetch.data_root() == tmp_path / "xdg" / "skipwire" / "datasets"


def test_status_lists_every_set_and_what_is_on_disk(server: LocalServer) -> None:
    fetch.fetch("mnist")
    rows = {r.name: r for r in fetch.status()}
    assert list(rows) == ["mnist", "fashion_mnist", "cifar10", "cifar100"]
    on_disk = sum(len(d) for p, d in server.archives.items() if p.startswith("/mnist/"))
    assert rows["mnist"].on_disk and rows["mnist"].disk_bytes > on_disk  # + the marker file
    assert not rows["cifar10"].on_disk and rows["cifar10"].disk_bytes == 0
    assert fetch.remove("mnist") and not fetch.status()[0].on_disk


def test_real_sources_name_the_published_archives() -> None:
    """The conftest points the mirrors at 127.0.0.1; the archives and MD5s are the module's own."""
    real = fetch.SOURCES
    assert real["cifar10"].archives[0].md5 == "c32a1d4ab5d03f1284b67883e8d87530"
    assert real["cifar10"].archives[0].filename == "cifar-10-binary.tar.gz"
    assert real["mnist"].archives[0].filename == "train-images-idx3-ubyte.gz"
    assert all(len(a.md5) == 32 for s in real.values() for a in s.archives)
    assert set(real) == {"mnist", "fashion_mnist", "cifar10", "cifar100"}
    assert os.path.basename(real["cifar100"].members[0]) == "train.bin"
    assert np.all([m.endswith(".bin") for m in real["cifar10"].members])
