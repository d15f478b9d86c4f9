"""Summary speed and memory: the shapes-only summary on every shipped graph, and the largest files.

Run: ``python bench/bench_summary.py [--repeats 21] [--largest] [--keep DIR]``

For each file in ``graphs/`` it prints the median wall and CPU time of ``summarize(graph)``
(validation included; goal: under 1 s for every shipped graph) and, as a machine-independent
figure, the ratio to a baseline run in the same process: the torchinfo summary that Skipwire
used before (compile the graph to a torch module, then ``torchinfo.summary`` on a batch of one),
whose numbers the shapes-only summary must equal (checked here too).

``--largest`` writes the largest legal graph files it knows how to make — 50,000 blocks (the
file format's limit), and blocks nested 100 groups deep (the deepest group path a file
accepts) — and runs ``python main.py summary FILE`` on each in a fresh process, printing its
wall time (goal: under 5 s) and peak memory (the child's maximum resident set size).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_validate import median_ms  # noqa: E402  (the same timing loop)
from builder import fileformat  # noqa: E402  (after the path set-up above)
from builder.graph import Graph  # noqa: E402
from builder.summary import Summary, summarize  # noqa: E402

GOAL_S, LARGE_GOAL_S = 1.0, 5.0


def torchinfo_summary(graph: Graph) -> tuple[int, int]:
    """The baseline: (total params, total mult-adds) measured by torchinfo on the compiled module."""
    import torch
    import torchinfo

    from builder.compile import compile_graph
    from builder.validate import validate

    report = validate(graph)
    module = compile_graph(graph, report)
    shape = next(report.shapes[b.id] for b in graph.blocks() if b.type == "input")
    with torch.no_grad():
        stats = torchinfo.summary(module, input_size=(1, *shape), verbose=0, device=torch.device("cpu"))
    return int(stats.total_params), int(stats.total_mult_adds)


def shipped(repeats: int) -> None:
    import torch

    torch.set_num_threads(1)
    print(f"{'graph':<18} {'blocks':>6} {'wall ms':>9} {'CPU ms':>8} {'torchinfo CPU ms':>17} {'ratio':>7}")
    worst = 0.0
    for path in sorted((ROOT / "graphs").glob("*.json")):
        graph = fileformat.load(path)
        wall, cpu = median_ms(lambda g=graph: summarize(g), repeats)
        ours: Summary = summarize(graph)
        _, base_cpu = median_ms(lambda g=graph: torchinfo_summary(g), max(3, repeats // 7))
        assert (ours.total_params, ours.total_mult_adds) == torchinfo_summary(graph), path.stem
        worst = max(worst, wall)
        print(f"{path.stem:<18} {len(graph):>6} {wall:>9.2f} {cpu:>8.2f} {base_cpu:>17.1f} "
              f"{base_cpu / cpu:>6.0f}×")
    print(f"slowest shapes-only summary: {worst:.1f} ms (goal: under {GOAL_S * 1e3:.0f} ms)")


def _chain(blocks: int, group: Callable[[int], str]) -> Graph:
    """Input → ``blocks`` ReLUs in a chain (block ``i`` in ``group(i)``) → Flatten → Linear → Output."""
    graph = Graph("largest")
    prev = graph.add_block("input", {"channels": 3, "height": 32, "width": 32}, block_id="input")
    for i in range(blocks):
        block_id = f"r{i}"
        graph.add_block("relu", block_id=block_id, group=group(i))
        graph.connect(prev, block_id, 0)
        prev = block_id
    for type_id, params in (("flatten", {}), ("linear", {"out_features": 10}), ("output", {})):
        block_id = graph.add_block(type_id, params, block_id=type_id)
        graph.connect(prev, block_id, 0)
        prev = block_id
    return graph


def largest_files(folder: Path) -> list[Path]:
    """Files at the format's limits: the most blocks, and the deepest nesting for many blocks."""
    deep = ".".join(["g"] * 100)  # 199 characters: the longest group path
    cases = {
        "blocks_50000": _chain(fileformat.MAX_BLOCKS - 4, lambda i: ""),
        "nested_100_deep": _chain(20_000, lambda i: deep[: 2 * (1 + i % 100) - 1]),
    }
    paths = []
    for name, graph in cases.items():
        path = folder / f"{name}.json"
        fileformat.save(graph, path)
        fileformat.load(path)  # legal: it loads
        paths.append(path)
    return paths


def run_summary(path: Path) -> tuple[int, float, float, int]:
    """(exit code, wall s, CPU s, peak RSS bytes) of ``python main.py summary PATH`` in a fresh process.

    The peak comes from ``/usr/bin/time`` (a small parent: a child forked from this process would
    report this process's memory, which ``ru_maxrss`` keeps across ``exec``).
    """
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as report:
        start = time.perf_counter()
        command = ["/usr/bin/time", "-f", "%U %S %M", "-o", report.name, sys.executable, "main.py",
                   "summary", str(path)]
        result = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                check=False)
        wall = time.perf_counter() - start
        user, system, peak_kib = report.read().split()[-3:]
    return result.returncode, wall, float(user) + float(system), int(peak_kib) * 1024


def largest(keep: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for path in largest_files(folder):
            code, wall, cpu, rss = run_summary(path)
            blocks = len(fileformat.load(path))
            print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB, {blocks:,} blocks: "
                  f"`python main.py summary` exit {code}, {wall:.2f} s wall, {cpu:.2f} s CPU "
                  f"(goal under {LARGE_GOAL_S:.0f} s), "
                  f"peak memory {rss / 1e6:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=21, help="timed calls per graph (default 21)")
    parser.add_argument("--largest", action="store_true",
                        help="also summarise the largest legal files in fresh processes")
    parser.add_argument("--keep", metavar="DIR", help="write the largest files to DIR and keep them")
    args = parser.parse_args()
    shipped(args.repeats)
    if args.largest:
        largest(args.keep)


if __name__ == "__main__":
    main()
