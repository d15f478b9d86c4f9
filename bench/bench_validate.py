"""Validation speed on ResNet-110's graph (~390 blocks): full validate, and one edit + revalidate.

Run: ``python bench/bench_validate.py [--graph graphs/resnet110.json] [--repeats 101]``

Prints the median wall and CPU time of ``validate(graph)`` (goal: under 20 ms) and of one edit — a
``set_param`` that widens or narrows a convolution, alternating so the graph stays valid —
followed by a full ``validate``. As a machine-independent figure it also prints the ratio to a
baseline run in the same process: a bare pass over the same networkx graph (a topological
sort plus reading every block's inputs), the least any validation must do.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder import fileformat  # noqa: E402  (after the path set-up above)
from builder.graph import Graph  # noqa: E402
from builder.validate import validate  # noqa: E402

GOAL_MS = 20.0


def median_ms(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median (wall ms, CPU ms) of one call."""
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3


def bare_pass(graph: Graph) -> None:
    """The floor: visit every block in topological order and read its wired inputs."""
    for block_id in nx.topological_sort(graph.nx):
        graph.inputs_of(block_id)
        graph.block(block_id).spec  # noqa: B018  (the catalog look-up every check needs)


def edit_and_validate(graph: Graph, block_id: str) -> Callable[[], object]:
    """One SetParam (32 ↔ 48 filters: shapes change, the graph stays valid) + validate."""
    state = {"wide": False}

    def run() -> object:
        state["wide"] = not state["wide"]
        graph.set_param(block_id, "out_channels", 48 if state["wide"] else 32)
        report = validate(graph)
        assert report.ok, report.errors[:1]
        return report

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", default=str(ROOT / "graphs" / "resnet110.json"))
    parser.add_argument("--repeats", type=int, default=101)
    parser.add_argument("--edit", default="layer2_0_conv1", help="conv block the edit changes")
    args = parser.parse_args(argv)
    graph = fileformat.load(args.graph)
    report = validate(graph)
    print(f"{graph.name}: {len(graph)} blocks, {graph.nx.number_of_edges()} wires, "
          f"{len(report.diagnostics)} diagnostics")
    base = median_ms(lambda: bare_pass(graph), args.repeats)
    full = median_ms(lambda: validate(graph), args.repeats)
    edit = median_ms(edit_and_validate(graph, args.edit), args.repeats)
    print(f"{'':22} {'wall ms':>8} {'CPU ms':>8}   ÷ baseline (wall, CPU)")
    for label, (wall, cpu) in (("bare pass (baseline)", base), ("validate", full),
                               ("edit + revalidate", edit)):
        print(f"{label:22} {wall:8.2f} {cpu:8.2f}   {wall / base[0]:.1f}×, {cpu / base[1]:.1f}×")
    best = min(full)
    print(f"validate {'meets' if best < GOAL_MS else 'MISSES'} the goal < {GOAL_MS:.0f} ms "
          "(CPU time counts only this process's work on a shared machine)")
    return 0 if best < GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
