"""Regenerate the golden exported files: ``python -m tests.export.regen`` (from the repo root)."""

from __future__ import annotations

from pathlib import Path

from builder import fileformat
from builder.export.codegen import export_code

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
STEMS = ("resnet20", "plain20", "lenet")  # residual, plain and flat


def golden_source(stem: str) -> str:
    """The code exported now for ``graphs/{stem}.json``."""
    return export_code(fileformat.load(ROOT / "graphs" / f"{stem}.json")).source


def main() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for stem in STEMS:
        path = GOLDEN / f"{stem}.py"
        path.write_text(golden_source(stem), encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
