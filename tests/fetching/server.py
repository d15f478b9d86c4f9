"""A local HTTP server on 127.0.0.1 and small archives in the real CIFAR/MNIST formats.

:class:`LocalServer` serves byte strings by path, honours ``Range: bytes=N-`` (206 with
``Content-Range``), logs every request with its range header, and follows per-path rules:
``cut`` (send N bytes of the first answer, then drop the connection), ``error`` (an HTTP
status), ``redirect`` (302 to another path) and ``stall`` (send N bytes, then wait until
:attr:`LocalServer.release` is set). Nothing here reaches outside the machine.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import socket
import struct
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

CIFAR10_MEMBERS = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
CIFAR10_NAMES = "airplane automobile bird cat deer dog frog horse ship truck".split()


@dataclass
class Rule:
    kind: str  # cut | error | redirect | stall
    value: Any = None
    times: int = 1  # how many answers the rule applies to (then the path behaves normally)


@dataclass
class LocalServer:
    files: dict[str, bytes] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    log: list[tuple[str, str | None]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    archives: dict[str, bytes] = field(default_factory=dict)  # path → bytes, by serve_sources
    httpd: Any = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> LocalServer:
        owner = self

        class Handler(_Handler):
            server_state = owner

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def requests_for(self, path: str) -> list[str | None]:
        return [rng for p, rng in self.log if p == path]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that drops its connection (Cancel, a finished fetch) is expected here


class _Handler(BaseHTTPRequestHandler):
    server_state: LocalServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        state = self.server_state
        path = self.path.split("?")[0]
        state.log.append((path, self.headers.get("Range")))
        rule = state.rules.get(path)
        if rule is not None and rule.times > 0:
            rule.times -= 1
        else:
            rule = None
        if rule is not None and rule.kind == "error":
            self._plain(int(rule.value), b"server trouble")
            return
        if rule is not None and rule.kind == "redirect":
            self.send_response(302)
            self.send_header("Location", rule.value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = state.files.get(path)
        if data is None:
            self._plain(404, b"not here")
            return
        self._send(data, rule)

    def _plain(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send(self, data: bytes, rule: Rule | None) -> None:
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                self._plain(416, b"")
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        if rule is not None and rule.kind in ("cut", "stall"):
            self.wfile.write(body[:rule.value])
            self.wfile.flush()
            if rule.kind == "stall":
                self.server_state.release.wait(20)
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(body)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def idx_gz(array: np.ndarray, magic: int) -> bytes:
    raw = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    return gzip.compress(raw + array.astype(np.uint8).tobytes(), mtime=0)


def mnist_files(n_train: int = 30, n_val: int = 10, seed: int = 0) -> dict[str, bytes]:
    """The four gzipped IDX files of an MNIST-format set (labels cycle through 0-9)."""
    rng = np.random.default_rng(seed)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_val)):
        out[f"{prefix}-images-idx3-ubyte.gz"] = idx_gz(rng.integers(0, 256, (n, 28, 28)), 2051)
        out[f"{prefix}-labels-idx1-ubyte.gz"] = idx_gz(np.arange(n) % 10, 2049)
    return out


def cifar_record_bytes(n: int, label_bytes: int, classes: int, rng: np.random.Generator) -> bytes:
    rows = np.zeros((n, label_bytes + 3072), dtype=np.uint8)
    rows[:, label_bytes - 1] = np.arange(n) % classes
    if label_bytes == 2:
        rows[:, 0] = (np.arange(n) % classes) // 5  # a coarse label
    rows[:, label_bytes:] = rng.integers(0, 256, (n, 3072))
    return rows.tobytes()


def tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def cifar10_archive(per_batch: int = 20, seed: int = 0) -> bytes:
    """``cifar-10-binary.tar.gz`` in the real layout, ``per_batch`` records per batch file."""
    rng = np.random.default_rng(seed)
    members = {f"cifar-10-batches-bin/{m}": cifar_record_bytes(per_batch, 1, 10, rng)
               for m in CIFAR10_MEMBERS}
    members["cifar-10-batches-bin/batches.meta.txt"] = ("\n".join(CIFAR10_NAMES) + "\n").encode()
    return tar_gz(members)


def cifar100_archive(n_train: int = 200, n_val: int = 100, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    fine = [f"fine{i}" for i in range(100)]
    return tar_gz({"cifar-100-binary/train.bin": cifar_record_bytes(n_train, 2, 100, rng),
                   "cifar-100-binary/test.bin": cifar_record_bytes(n_val, 2, 100, rng),
                   "cifar-100-binary/fine_label_names.txt": ("\n".join(fine) + "\n").encode(),
                   "cifar-100-binary/coarse_label_names.txt": b"coarse\n"})


def serve_sources(server: LocalServer, monkeypatch: Any, cifar_per_batch: int = 20) -> dict[str, bytes]:
    """Serve test archives for every fetchable set and point ``fetch.SOURCES`` at the server.

    Each set's canonical base becomes ``URL/NAME/``; returns ``{filename: bytes}`` per path.
    """
    from dataclasses import replace

    from builder.training import fetch

    archives = {"cifar10": {"cifar-10-binary.tar.gz": cifar10_archive(cifar_per_batch)},
                "cifar100": {"cifar-100-binary.tar.gz": cifar100_archive()},
                "mnist": mnist_files(), "fashion_mnist": mnist_files(seed=1)}
    for name, files in archives.items():
        src = fetch.SOURCES[name]
        by_name = {a.filename: a for a in src.archives}
        for filename, data in files.items():
            server.files[f"/{name}/{filename}"] = data
        patched = tuple(replace(by_name[f], md5=md5(d), size=len(d)) for f, d in files.items())
        monkeypatch.setitem(fetch.SOURCES, name, replace(src, archives=patched,
                                                          mirrors=(f"{server.url}/{name}/",)))
    server.archives = {f"/{n}/{f}": d for n, files in archives.items() for f, d in files.items()}
    return server.archives


NOWHERE = "http://127.0.0.1:9/"  # the discard port: refused at once


def isolate(tmp_path: Any, monkeypatch: Any) -> Any:
    """A private data folder, and every mirror and canonical location made unreachable."""
    from dataclasses import replace

    from builder.training import fetch

    root = tmp_path / "data"
    monkeypatch.setenv(fetch.ENV_ROOT, str(root))
    monkeypatch.setenv(fetch.ENV_MIRRORS, NOWHERE)
    for name, src in list(fetch.SOURCES.items()):
        monkeypatch.setitem(fetch.SOURCES, name, replace(src, mirrors=(NOWHERE,)))
    return root


def start_serving(monkeypatch: Any) -> LocalServer:
    """A started server with every set's test archives, the sources pointed at it (stop it after)."""
    from builder.training import fetch

    srv = LocalServer().start()
    serve_sources(srv, monkeypatch)
    monkeypatch.delenv(fetch.ENV_MIRRORS)
    return srv


# ---------------------------------------------- fixtures (tests/fetching and the GUI's data dialogs)
@pytest.fixture(autouse=True)
def private_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data folder; nothing can reach outside the machine (:func:`isolate`)."""
    return isolate(tmp_path, monkeypatch)  # type: ignore[no-any-return]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    """A running local server whose archives every source points at (canonical locations)."""
    srv = start_serving(monkeypatch)
    yield srv
    srv.stop()
