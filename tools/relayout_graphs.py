"""Lay the shipped graph files out again with the current ``builder.layout`` (positions only).

    python tools/relayout_graphs.py           # rewrite the graphs/*.json whose positions changed
    python tools/relayout_graphs.py --check   # only list them; exit status 1 if any would change

A file made by a template (``templates.SHIPPED``) is generated again, so it stays equal to
its template; any other file gets ``apply_layout``. Nothing but block positions may differ:
a file whose blocks, parameters, groups or wires would change is reported and left alone.
Writes are atomic (``fileformat.save``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder import fileformat, templates  # noqa: E402
from builder.graph import Graph  # noqa: E402
from builder.layout import apply_layout  # noqa: E402


def _without_positions(graph: Graph) -> object:
    name, description, blocks, wires = graph.signature()
    return (name, description, [b[:3] + b[4:] for b in blocks], wires)


def relaid(path: Path) -> Graph:
    """The graph of ``path`` with fresh positions."""
    stem = path.stem
    if stem in templates.SHIPPED:
        name, options = templates.SHIPPED[stem]
        return templates.make(name, **options)
    graph = fileformat.load(path)
    apply_layout(graph)
    return graph


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="list the files that would change; write nothing")
    parser.add_argument("--graphs", type=Path, default=ROOT / "graphs")
    args = parser.parse_args(argv)
    changed, refused = [], []
    for path in sorted(args.graphs.glob("*.json")):
        old, new = fileformat.load(path), relaid(path)
        if _without_positions(old) != _without_positions(new):
            refused.append(path.name)
            continue
        if old != new:
            changed.append(path.name)
            if not args.check:
                fileformat.save(new, path)
    verb = "would change" if args.check else "laid out again"
    print(f"{verb}: {', '.join(changed) or 'none'}")
    if refused:
        print(f"left alone (more than positions differ from the template): {', '.join(refused)}")
    return 1 if (args.check and changed) or refused else 0


if __name__ == "__main__":
    sys.exit(main())
