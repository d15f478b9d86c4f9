"""Soak: 5,024 training steps in the training window with live plots; prints resident memory.

Runs ``tests/hardening/test_gui_runs.py::test_long_run_with_live_plots_keeps_memory_bounded``
with ``SKIPWIRE_SOAK_EPOCHS`` (default 157 epochs × 32 steps). Usage::

    python bench/soak_gui.py [EPOCHS]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("epochs", nargs="?", type=int, default=157, metavar="EPOCHS",
                        help="epochs of 32 steps (default 157: 5,024 steps)")
    epochs = str(parser.parse_args(argv).epochs)
    env = dict(os.environ, SKIPWIRE_SOAK_EPOCHS=epochs, QT_QPA_PLATFORM="offscreen")
    test = "tests/hardening/test_gui_runs.py::test_long_run_with_live_plots_keeps_memory_bounded"
    cmd = [sys.executable, "-m", "pytest", test, "-q", "-s", "-p", "no:cacheprovider", "--timeout", "3600"]
    return subprocess.call(cmd, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
