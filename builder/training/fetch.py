"""Data sets on request: CIFAR-10, CIFAR-100, MNIST and Fashion-MNIST, fetched and unpacked.

Each set's archives come from its canonical public location (the ones torchvision uses; for
CIFAR the *binary* version from the same page, which :mod:`builder.training.readers` parses
without unpickling) or from configured mirrors, tried in order, each checked against its
published MD5 by pooch (:mod:`builder.training.download`, which also resumes a cut transfer).
Unpacking writes a temporary folder beside the final one and renames it, so a set's folder is
either complete (it holds ``skipwire-dataset.json``) or absent; the downloaded archives are
then removed. A person can also install from archives they already have (``archives=``).

Where: :func:`data_root` — an explicit setting, else ``SKIPWIRE_DATA``, else the platform's
user data folder + ``datasets``. Mirrors: an explicit list, else ``SKIPWIRE_MIRRORS`` (base
URLs separated by spaces or commas; ``{name}`` in one stands for the set's name, otherwise
``NAME/`` is appended; the word ``default`` stands for the canonical locations), else the
canonical locations.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from builder.training.download import ChecksumError, FetchCancelled, FetchError, download, md5_of

__all__ = ["FetchCancelled", "FetchError", "SOURCES", "data_root", "fetch", "fetched_dir"]

ENV_ROOT, ENV_MIRRORS = "SKIPWIRE_DATA", "SKIPWIRE_MIRRORS"
MARKER = "skipwire-dataset.json"
DOWNLOADS = ".downloads"

Progress = Callable[[int, int, str], None]  # bytes done, bytes in all, archive being fetched


@dataclass(frozen=True)
class Archive:
    filename: str
    md5: str
    size: int  # bytes as published (CIFAR-100's is the page's "161 MB")


@dataclass(frozen=True)
class Source:
    """One data set: its archives, canonical base URLs and the files taken out of a tar."""

    name: str
    title: str
    archives: tuple[Archive, ...]
    mirrors: tuple[str, ...]
    members: tuple[str, ...] = ()  # required files inside a .tar.gz (empty: keep the .gz files)
    optional: tuple[str, ...] = ()  # taken when present (class names)

    @property
    def size(self) -> int:
        return sum(a.size for a in self.archives)


def _idx(sizes: tuple[int, int, int, int], md5s: tuple[str, str, str, str]) -> tuple[Archive, ...]:
    names = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    return tuple(Archive(n, m, s) for n, m, s in zip(names, md5s, sizes, strict=True))


_CIFAR10_BIN = "cifar-10-batches-bin/"
_CIFAR100_BIN = "cifar-100-binary/"
SOURCES: dict[str, Source] = {s.name: s for s in (
    Source("mnist", "MNIST handwritten digits (60,000 + 10,000 of 1×28×28)",
           _idx((9_912_422, 28_881, 1_648_877, 4_542),
                ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
                 "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c")),
           ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")),
    Source("fashion_mnist", "Fashion-MNIST clothing (60,000 + 10,000 of 1×28×28)",
           _idx((26_421_880, 29_515, 4_422_102, 5_148),
                ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                 "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310")),
           ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)),
    Source("cifar10", "CIFAR-10 (50,000 + 10,000 of 3×32×32, 10 classes)",
           (Archive("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530", 170_052_171),),
           ("https://www.cs.toronto.edu/~kriz/",),
           tuple(f"{_CIFAR10_BIN}{n}.bin" for n in
                 ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
                  "test_batch")),
           (f"{_CIFAR10_BIN}batches.meta.txt",)),
    Source("cifar100", "CIFAR-100 (50,000 + 10,000 of 3×32×32, 100 classes)",
           (Archive("cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8", 161 << 20),),
           ("https://www.cs.toronto.edu/~kriz/",),
           (f"{_CIFAR100_BIN}train.bin", f"{_CIFAR100_BIN}test.bin"),
           (f"{_CIFAR100_BIN}fine_label_names.txt", f"{_CIFAR100_BIN}coarse_label_names.txt")),
)}


def source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise FetchError(f"{name!r}: no such data set to fetch (known: {', '.join(SOURCES)})") from None


def data_root(setting: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: ``setting``, else ``$SKIPWIRE_DATA``, else the user data folder."""
    if setting:
        return Path(setting).expanduser()
    if os.environ.get(ENV_ROOT):
        return Path(os.environ[ENV_ROOT]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("skipwire", appauthor=False)) / "datasets"


def mirror_bases(src: Source, mirrors: Sequence[str] | str | None = None) -> list[str]:
    """The base URLs to try for ``src``, in order (see the module docstring)."""
    if mirrors is None:
        mirrors = os.environ.get(ENV_MIRRORS, "")
    if isinstance(mirrors, str):
        mirrors = mirrors.replace(",", " ").split()
    if not mirrors:
        return list(src.mirrors)
    bases: list[str] = []
    for entry in mirrors:
        if entry == "default":
            bases.extend(src.mirrors)
            continue
        if not entry.startswith(("http://", "https://")):
            raise FetchError(f"mirror {entry!r}: expected an http:// or https:// base URL")
        base = entry.replace("{name}", src.name) if "{name}" in entry else \
            f"{entry.rstrip('/')}/{src.name}/"
        bases.append(base if base.endswith("/") else base + "/")
    return bases


def dataset_dir(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    return data_root(root) / name


def fetched_dir(name: str, root: str | os.PathLike[str] | None = None) -> Path | None:
    """The set's folder when it is completely on disk, else None."""
    folder = dataset_dir(name, root)
    return folder if (folder / MARKER).is_file() else None


@dataclass(frozen=True)
class SetStatus:
    name: str
    title: str
    download_bytes: int
    folder: Path
    on_disk: bool
    disk_bytes: int


def status(root: str | os.PathLike[str] | None = None) -> list[SetStatus]:
    """Every fetchable set: where it goes, whether it is there and how much it takes."""
    out = []
    for src in SOURCES.values():
        folder = dataset_dir(src.name, root)
        there = fetched_dir(src.name, root) is not None
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if there else 0
        out.append(SetStatus(src.name, src.title, src.size, folder, there, size))
    return out


def fetch(name: str, root: str | os.PathLike[str] | None = None,
          mirrors: Sequence[str] | str | None = None, progress: Progress | None = None,
          cancel: threading.Event | None = None,
          archives: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None) -> Path:
    """Make ``name`` present in the data folder and return its folder (at once if it is there).

    ``archives``: a folder holding the set's archive files, or the files themselves, used
    instead of downloading (checked against the same MD5s).
    """
    src = source(name)
    existing = fetched_dir(name, root)
    if existing is not None:
        return existing
    base = data_root(root)
    given = _given(src, archives) if archives is not None else None  # nothing written if missing
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(f"{base}: cannot create the data folder ({exc.strerror or exc})") from None
    if given is not None:
        paths, downloaded = given, False
    else:
        paths, downloaded = _download_all(src, base / DOWNLOADS / name, mirrors, progress, cancel), True
    folder = _install(src, paths, base, cancel)
    if downloaded:
        shutil.rmtree(base / DOWNLOADS / name, ignore_errors=True)
    return folder


def _given(src: Source, archives: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
           ) -> list[Path]:
    """The person's own archive files for ``src``, each checked against its MD5."""
    given = [Path(archives)] if isinstance(archives, (str, os.PathLike)) else [Path(a) for a in archives]
    found: dict[str, Path] = {}
    for archive in src.archives:
        candidates = [g / archive.filename if g.is_dir() else g for g in given]
        path = next((c for c in candidates if c.is_file() and c.name == archive.filename), None)
        if path is None:
            continue
        if md5_of(path) != archive.md5:
            raise ChecksumError(f"{path}: checksum mismatch — not the published {archive.filename} "
                                f"(MD5 should be {archive.md5})")
        found[archive.filename] = path
    missing = [a.filename for a in src.archives if a.filename not in found]
    if missing:
        raise FetchError(f"{', '.join(missing)}: not found in {', '.join(map(str, given))} "
                         f"(needed for {src.name})")
    return list(found.values())


def _download_all(src: Source, folder: Path, mirrors: Sequence[str] | str | None,
                  progress: Progress | None, cancel: threading.Event | None) -> list[Path]:
    bases = mirror_bases(src, mirrors)
    total, done_before = src.size, 0
    paths = []
    for archive in src.archives:
        def report(done: int, _before: int = done_before, _name: str = archive.filename) -> None:
            if progress is not None:
                progress(_before + done, total, _name)
        paths.append(_download_one(archive, bases, folder, report, cancel))
        done_before += archive.size
        if progress is not None:
            progress(done_before, total, archive.filename)
    return paths


def _download_one(archive: Archive, bases: list[str], folder: Path,
                  report: Callable[[int], None], cancel: threading.Event | None) -> Path:
    """``archive`` from the first base URL that delivers it whole and with the right MD5."""
    import requests

    failures: list[str] = []
    for base in bases:
        url = base + archive.filename
        for fresh_try in (False, True):
            try:
                return download(url, folder, archive.filename, archive.md5, report, cancel)[0]
            except ChecksumError as exc:
                if fresh_try or not exc.resumed:
                    failures.append(str(exc))
                    break
            except requests.HTTPError as exc:
                answer = exc.response
                failures.append(f"{url}: HTTP {answer.status_code} {answer.reason}" if answer is not None
                                else f"{url}: {exc}")
                break
            except requests.RequestException as exc:
                failures.append(f"{url}: {_reason(exc)}")
                break
    if len(failures) == 1 and failures[0].startswith(archive.filename):
        raise ChecksumError(failures[0])
    raise FetchError(f"{archive.filename}: could not be downloaded — " + "; ".join(failures))


def _reason(exc: Exception) -> str:
    text = str(exc)
    for hint in ("Connection refused", "Name or service not known", "timed out",
                 "Temporary failure in name resolution", "Connection reset"):
        if hint in text:
            return hint.lower()
    return type(exc).__name__ + (f" ({text[:120]})" if text else "")


def _install(src: Source, paths: list[Path], root: Path, cancel: threading.Event | None) -> Path:
    """Unpack into a temporary folder under ``root``, then rename it to ``root/NAME``."""
    final = root / src.name
    tmp = Path(tempfile.mkdtemp(prefix=f".{src.name}-", dir=root))
    try:
        for path in paths:
            if src.members:
                _extract(path, tmp, src, cancel)
            else:
                shutil.copyfile(path, tmp / path.name)
        missing = [m for m in src.members if not (tmp / m).is_file()]
        if missing:
            raise FetchError(f"{paths[0]}: the archive lacks {', '.join(missing)} "
                             f"(not the {src.title.split(' (')[0]} binary version?)")
        _write_marker(tmp, src)
        if final.exists():
            shutil.rmtree(final)  # an older or incomplete copy
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _extract(path: Path, dest: Path, src: Source, cancel: threading.Event | None) -> None:
    """Copy the wanted regular files out of a .tar.gz (never follows links, never other paths)."""
    wanted = set(src.members) | set(src.optional)
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                name = member.name[2:] if member.name.startswith("./") else member.name
                if name not in wanted:
                    continue
                if not member.isfile():
                    raise FetchError(f"{path}: {name} is not a regular file in the archive")
                reader = tar.extractfile(member)
                assert reader is not None  # a regular file always has one
                target = dest / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with reader, open(target, "wb") as out:
                    while block := reader.read(1 << 20):
                        if cancel is not None and cancel.is_set():
                            raise FetchCancelled("cancelled")
                        out.write(block)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise FetchError(f"{path}: not a readable .tar.gz archive ({exc})") from None


def _write_marker(folder: Path, src: Source) -> None:
    info = {"name": src.name, "title": src.title, "fetched": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "archives": [{"file": a.filename, "md5": a.md5} for a in src.archives]}
    (folder / MARKER).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def remove(name: str, root: str | os.PathLike[str] | None = None) -> bool:
    """Delete a fetched set's folder; returns whether there was one."""
    folder = dataset_dir(source(name).name, root)
    if not folder.exists():
        return False
    shutil.rmtree(folder)
    return True


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"
