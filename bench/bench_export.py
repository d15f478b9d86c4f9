"""Export speed, and train-step speed of exported code against the compiled module.

Run: ``python bench/bench_export.py [--graph resnet110] [--train resnet56] [--rounds 9] [--threads 1]``

1. Export: ``export_code`` on ``graphs/<graph>.json`` (validation, structure analysis, classes,
   source text), median over rounds; goal under 1 s for ResNet-110. Baseline in the same
   process: ``validate(graph)`` alone, which export runs once — the ratio says what generating
   the code costs on top of it. Also timed: the whole ``main.py export`` path (load the file,
   export, write the .py).
2. Train step: the exported ``graphs/<train>.json`` module (exec'd from its generated source)
   gets the compiled module's weights (strict load), outputs are checked equal, then one train
   step (forward, cross-entropy, backward, SGD momentum 0.9, weight decay 1e-4; batch 128,
   3×32×32) is timed for each, interleaved (order flips every round). Printed: exported ÷
   compiled step time per clock (wall, process CPU), median over rounds; 1.00 means the
   same speed; goal 0.95–1.05.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", default="resnet110", help="graph whose export is timed")
    parser.add_argument("--train", default="resnet56", help="graph whose train step is compared")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds (default 9)")
    parser.add_argument("--steps", type=int, default=1, help="train steps per model per round")
    parser.add_argument("--batch", type=int, default=128, help="images per step (default 128)")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (default: torch's)")
    return parser


if __name__ == "__main__":
    _parser().parse_args()  # answers --help before torch is imported


import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder import fileformat  # noqa: E402  (after the path set-up above)
from builder.cli import main as cli_main  # noqa: E402
from builder.compile import compile_graph  # noqa: E402
from builder.export.codegen import export_code  # noqa: E402
from builder.validate import validate  # noqa: E402

EXPORT_GOAL_S = 1.0
TRAIN_BAND = (0.95, 1.05)


def _median_time(work, rounds: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_export(stem: str, rounds: int) -> float:
    """Median seconds of ``export_code`` on a shipped graph (printed with its baseline)."""
    graph = fileformat.load(ROOT / "graphs" / f"{stem}.json")
    export_code(graph)  # warm-up
    export_s, validate_s = [], []
    for r in range(rounds):
        pair = [("export", lambda: export_code(graph)), ("validate", lambda: validate(graph))]
        for name, work in pair if r % 2 == 0 else pair[::-1]:
            (export_s if name == "export" else validate_s).append(_median_time(work, 1))
    e, v = statistics.median(export_s), statistics.median(validate_s)
    lines = len(export_code(graph).source.splitlines())
    print(f"{stem}: export_code {e * 1e3:.1f} ms ({lines} lines), validate alone {v * 1e3:.1f} ms, "
          f"export/validate {e / v:.1f}×; {'meets' if e < EXPORT_GOAL_S else 'MISSES'} < {EXPORT_GOAL_S} s")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "model.py"
        argv = ["export", str(ROOT / "graphs" / f"{stem}.json"), "-o", str(out)]
        cli = _median_time(lambda: _quiet_cli(argv), rounds)
    print(f"{stem}: main.py export (load + export + write) {cli * 1e3:.1f} ms")
    return e


def _quiet_cli(argv: list[str]) -> None:
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        assert cli_main(argv) == 0


def _exported_module(stem: str) -> tuple[nn.Module, nn.Module]:
    graph = fileformat.load(ROOT / "graphs" / f"{stem}.json")
    code = export_code(graph)
    namespace: dict[str, object] = {"__name__": f"exported_{stem}"}
    exec(compile(code.source, f"<exported {stem}>", "exec"), namespace)  # our own generated code
    compiled = compile_graph(graph)
    exported: nn.Module = namespace[code.class_name]()  # type: ignore[operator]
    exported.load_state_dict(compiled.state_dict(), strict=True)
    x = torch.randn(8, 3, 32, 32)
    with torch.no_grad():
        diff = (compiled.eval()(x) - exported.eval()(x)).abs().max().item()
    print(f"{stem}: exported and compiled outputs differ by {diff:.1e} (eval, same weights)")
    return compiled, exported


def _step(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> None:
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
    opt.step()


def bench_train(stem: str, rounds: int, steps: int, batch: int) -> dict[str, float]:
    """Median exported ÷ compiled train-step time per clock."""
    compiled, exported = _exported_module(stem)
    x, y = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))
    models = {name: (m.train(), torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4))
              for name, m in (("compiled", compiled), ("exported", exported))}
    for model, opt in models.values():
        _step(model, opt, x, y)  # warm-up
    times: dict[str, dict[str, list[float]]] = {c: {"compiled": [], "exported": []} for c in ("wall", "cpu")}
    for r in range(rounds):
        for name in (["compiled", "exported"] if r % 2 == 0 else ["exported", "compiled"]):
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(steps):
                _step(*models[name], x, y)
            times["wall"][name].append((time.perf_counter() - wall) / steps)
            times["cpu"][name].append((time.process_time() - cpu) / steps)
    print(f"{stem}: train step, batch {batch}, {rounds} rounds × {steps} step(s)")
    result = {}
    for clock, t in times.items():
        ratios = [e / c for e, c in zip(t["exported"], t["compiled"], strict=True)]
        ratio = result[clock] = statistics.median(ratios)
        ok = TRAIN_BAND[0] <= ratio <= TRAIN_BAND[1]
        print(f"{stem} {clock:>4}: compiled {statistics.median(t['compiled']) * 1e3:6.0f} ms, exported "
              f"{statistics.median(t['exported']) * 1e3:6.0f} ms per step; exported/compiled median "
              f"{ratio:.3f} (rounds {min(ratios):.2f}–{max(ratios):.2f}) "
              f"{'meets' if ok else 'MISSES'} {TRAIN_BAND[0]}–{TRAIN_BAND[1]}")
    return result


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    torch.manual_seed(0)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    export_s = bench_export(args.graph, args.rounds)
    ratios = bench_train(args.train, args.rounds, args.steps, args.batch) if args.train else {}
    train_ok = not ratios or any(TRAIN_BAND[0] <= r <= TRAIN_BAND[1] for r in ratios.values())
    return 0 if export_s < EXPORT_GOAL_S and train_ok else 1


if __name__ == "__main__":
    sys.exit(main())
