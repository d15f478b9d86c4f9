"""One archive over HTTP(S): pooch checks the hash, this module resumes a cut transfer.

:func:`download` fetches ``url`` into ``folder/filename`` through :func:`pooch.retrieve`
(MD5 checked; the file is moved into place only when it matches, and a file already there
with the right hash is not fetched again). The bytes travel through
:class:`ResumingDownloader`, a pooch downloader that keeps ``filename.part`` beside the
target: after a cut connection it asks for the rest with an HTTP ``Range`` request (a few
times, as long as each try makes progress), and a Cancel leaves the part for the next fetch
to continue. Every failure is a :class:`FetchError` naming the file.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHUNK = 64 * 1024
TIMEOUT = (15.0, 60.0)  # seconds to connect, seconds without a byte
RETRIES = 5  # further tries after a cut, each continuing where the last one stopped
USER_AGENT = "skipwire-data-fetch (pooch)"

Report = Callable[[int], None]  # bytes received so far in this file


class FetchError(Exception):
    """A data set could not be fetched or installed; the message is one line naming the file."""


class FetchCancelled(FetchError):
    """The person pressed Cancel (what was downloaded so far is kept for next time)."""


class ChecksumError(FetchError):
    """A downloaded or given archive is not the published file."""

    def __init__(self, message: str, resumed: bool = False) -> None:
        super().__init__(message)
        self.resumed = resumed  # the bad file continued an earlier partial download


class _Restart(Exception):
    """The partial file is unusable (the server ignores or rejects the range): start over."""


class ResumingDownloader:
    """A pooch downloader: streams into ``part``, continuing it with ``Range`` when it exists."""

    def __init__(self, part: Path, report: Report | None = None,
                 cancel: threading.Event | None = None) -> None:
        self.part, self.report, self.cancel = part, report, cancel
        self.resumed = False  # whether some bytes came from an earlier try
        self.requests: list[dict[str, str]] = []  # headers sent, for the record

    def __call__(self, url: str, output_file: Any, pooch: Any, check_only: bool = False) -> Any:
        import requests

        if check_only:
            return True
        for attempt in range(RETRIES + 1):
            before = self._have()
            try:
                self._transfer(url)
                break
            except _Restart:
                self.part.unlink(missing_ok=True)
            except (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError):
                if attempt == RETRIES or self._have() <= before:
                    raise
        else:
            raise FetchError(f"{self.part.name[:-5]}: the server keeps breaking off the transfer")
        os.replace(self.part, output_file)
        return None

    def _have(self) -> int:
        return self.part.stat().st_size if self.part.exists() else 0

    def _transfer(self, url: str) -> None:
        import requests

        have = self._have()
        headers = {"User-Agent": USER_AGENT}
        if have:
            headers["Range"] = f"bytes={have}-"
        self.requests.append(headers)
        with requests.get(url, headers=headers, stream=True, timeout=TIMEOUT) as resp:
            if resp.status_code == 416:  # nothing left past our end: the part is stale
                raise _Restart
            resp.raise_for_status()
            start = _range_start(resp) if resp.status_code == 206 else 0
            if start not in (0, have):
                raise _Restart
            self.resumed = self.resumed or start > 0
            self._write(resp, start)

    def _write(self, resp: Any, start: int) -> None:
        done = start
        with open(self.part, "ab" if start else "wb") as fh:
            for chunk in resp.iter_content(CHUNK):
                if self.cancel is not None and self.cancel.is_set():
                    raise FetchCancelled("cancelled")
                fh.write(chunk)
                done += len(chunk)
                if self.report is not None:
                    self.report(done)


def _range_start(resp: Any) -> int:
    """The first byte of a 206 answer (``Content-Range: bytes START-END/TOTAL``)."""
    text = resp.headers.get("Content-Range", "")
    try:
        return int(text.split()[1].split("-")[0])
    except (IndexError, ValueError):
        raise _Restart from None


def download(url: str, folder: Path, filename: str, md5: str, report: Report | None = None,
             cancel: threading.Event | None = None) -> tuple[Path, ResumingDownloader]:
    """``folder/filename`` from ``url``, its MD5 checked by pooch; resumes ``filename.part``.

    Raises the ``requests`` error for a failed transfer (the caller tries the next mirror),
    :class:`FetchCancelled` on Cancel and :class:`FetchError` on a checksum mismatch.
    """
    import pooch

    pooch.get_logger().setLevel("WARNING")
    folder.mkdir(parents=True, exist_ok=True)
    downloader = ResumingDownloader(folder / (filename + ".part"), report, cancel)
    try:
        path = pooch.retrieve(url, known_hash=f"md5:{md5}", fname=filename, path=folder,
                              downloader=downloader)
    except ValueError:  # pooch: the hash does not match; it has deleted the download
        raise ChecksumError(f"{filename}: checksum mismatch — the file from {url} is not the "
                         f"published one (MD5 should be {md5}); the download was deleted, "
                         "fetch again to start over", downloader.resumed) from None
    return Path(path), downloader


def md5_of(path: Path) -> str:
    import pooch

    return str(pooch.file_hash(str(path), alg="md5"))
