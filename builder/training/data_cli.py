"""``main.py data fetch NAME`` and ``main.py data list`` (registered by :mod:`builder.cli`).

``fetch`` shows a tqdm bar (bytes, speed, time left) on stderr; Ctrl+C keeps what was
downloaded for the next fetch to continue. ``--from`` installs from archives already on disk.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from builder.clitools import EXIT_OK, CliError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("data", help="fetch CIFAR-10/100, MNIST, Fashion-MNIST; list them",
                              description="Data sets on request, kept in the data folder "
                              "(--root, else $SKIPWIRE_DATA, else the user data folder).")
    sub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    f = sub.add_parser("fetch", help="download, verify and unpack a data set",
                       description="Download a data set's archives (MD5-checked; a cut "
                       "download continues where it stopped) and unpack them.")
    f.add_argument("name", help="cifar10, cifar100, mnist or fashion_mnist")
    f.add_argument("--root", help="data folder (default: $SKIPWIRE_DATA or the user data folder)")
    f.add_argument("--mirror", action="append", metavar="URL",
                   help="base URL to try, in order (repeatable; '{name}' = the set's name, else "
                   "NAME/ is appended; 'default' = the official locations); default "
                   "$SKIPWIRE_MIRRORS, else the official locations")
    f.add_argument("--from", dest="archives", nargs="+", metavar="PATH",
                   help="archive files you already have, or a folder holding them")
    f.add_argument("--quiet", action="store_true", help="no progress bar")
    f.set_defaults(func=cmd_fetch)
    ls = sub.add_parser("list", help="data sets, where they go, which are on disk")
    ls.add_argument("--root", help="data folder (default: $SKIPWIRE_DATA or the user data folder)")
    ls.set_defaults(func=cmd_list)


def cmd_fetch(args: argparse.Namespace) -> int:
    from builder.training import fetch

    _check_fetch(args)
    bar = _Bar(enabled=not args.quiet)
    try:
        if fetch.fetched_dir(fetch.source(args.name).name, args.root) is not None:
            print(f"{args.name}: already in {fetch.dataset_dir(args.name, args.root)}")
            return EXIT_OK
        folder = fetch.fetch(args.name, args.root, args.mirror, bar.update, archives=args.archives)
    except fetch.FetchError as exc:
        raise CliError(str(exc)) from None
    except KeyboardInterrupt:
        bar.close()
        print("skipwire: interrupted; fetch again to continue the download", file=sys.stderr)
        return 130
    finally:
        bar.close()
    print(f"{args.name}: ready in {folder}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from builder.training import fetch

    root, flag = _root(args.root)
    if root.exists() and not root.is_dir():
        raise CliError(f"{flag} {root} is a file, not a folder")
    rows = fetch.status(args.root)
    print(f"data folder: {fetch.data_root(args.root)}")
    print(f"{'name':<14} {'download':>9} {'on disk':>9}  title")
    for r in rows:
        disk = fetch.human_bytes(r.disk_bytes) if r.on_disk else "-"
        print(f"{r.name:<14} {fetch.human_bytes(r.download_bytes):>9} {disk:>9}  {r.title}")
    print("built in (no download): digits, synthetic; your own images: folder")
    return EXIT_OK


def _check_fetch(args: argparse.Namespace) -> None:
    """Every option checked before anything is downloaded or written (CliError names the flag)."""
    from builder.cli_paths import existing, writable_folder
    from builder.training import fetch

    try:
        fetch.mirror_bases(fetch.source(args.name), args.mirror)
    except fetch.FetchError as exc:
        raise CliError(f"--mirror: {exc}" if args.mirror else str(exc)) from None
    writable_folder(*_root(args.root))
    existing(args.archives or (), "--from")


def _root(setting: str | None) -> tuple[Path, str]:
    """The data folder and what set it: ``--root``, ``$SKIPWIRE_DATA`` or the default."""
    from builder.training import fetch

    origin = "--root" if setting else f"${fetch.ENV_ROOT}" if os.environ.get(fetch.ENV_ROOT) \
        else "the data folder"
    return fetch.data_root(setting), origin


class _Bar:
    """A tqdm bar in bytes, created at the first progress report."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None

    def update(self, done: int, total: int, filename: str) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit="B", unit_scale=True,
                            unit_divisor=1000, file=sys.stderr, dynamic_ncols=True,
                            mininterval=0.2)
        self.bar.set_description(filename, refresh=False)
        if total != self.bar.total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
