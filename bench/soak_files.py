"""Soak: many more fuzzed graph files than the test suite loads; prints what the loader did.

Usage: ``python bench/soak_files.py [FILES_PER_SOURCE]`` (default 2,000 per shipped graph).
Every file must load (then validate and round-trip) or fail with one GraphFileError line.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files_per_source", nargs="?", type=int, default=2000, metavar="FILES_PER_SOURCE",
                        help="mutated files made from each shipped graph (default 2000)")
    return parser


from tests.hardening.test_file_fuzz import Outcome, mutate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    per_source = _parser().parse_args(argv).files_per_source
    sources = sorted((ROOT / "graphs").glob("*.json"))
    total, start = Outcome(), time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for source in sources:
            raw, rng = source.read_bytes(), random.Random(f"soak-{source.stem}")
            for i in range(per_source):
                kind, data = mutate(raw, rng)
                path = Path(tmp) / f"{source.stem}_{i}_{kind}.json"
                path.write_bytes(data)
                total.check(path)
                path.unlink()
    files = per_source * len(sources)
    print(f"{files:,} mutated files from {len(sources)} graphs: {total.loaded:,} loaded, "
          f"{total.refused:,} refused, slowest {total.slowest:.3f} s, "
          f"{time.perf_counter() - start:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
