"""Quality at the fast default: He et al.'s degradation result on digits, bf16 (auto) and fp32, per seed.

Runs ``main.py compare graphs/plain20.json graphs/plain56.json graphs/resnet20.json
graphs/resnet56.json --seed S --precision P`` for every seed and precision (the experiment's
defaults otherwise: digits, 30 epochs, batch 128, warm-up, multistep), each in its own process
(``--jobs`` at a time), reads the CSV each writes beside its PNG, and prints:

- per seed and precision, each net's final training loss and training error, and the checks
  "plain-56's final training loss ≥ 10× plain-20's" and "ResNet-56's training error within
  1 point of ResNet-20's";
- per net, the fp32 runs' seed-to-seed range of the final training loss, whether each bf16
  (auto) run's loss lies inside it, the medians, and a Mann–Whitney U test of the two sets of
  losses (a small p: the precisions end at different losses).

The figures are measured, not asserted in tests. Usage: ``python bench/bench_quality.py
[--seeds 0,1,2] [--precisions auto,fp32] [--jobs 1] [--out DIR] [--reuse] [-- extra compare
flags]``; ``--reuse`` reads a CSV already in ``--out`` instead of training again.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NETS = ("plain20", "plain56", "resnet20", "resnet56")
Row = dict[str, str]


def run_compare(out: Path, seed: int, precision: str, extra: list[str],
                reuse: bool) -> tuple[dict[str, Row], float]:
    """The compare table of one seed and precision (net → CSV row) and its wall seconds."""
    stem = out / f"{precision}_s{seed}"
    table = stem.with_suffix(".csv")
    start, seconds = time.perf_counter(), float("nan")  # nan: read back, not trained here
    if not (reuse and table.is_file()):
        cmd = [sys.executable, "main.py", "compare", *(f"graphs/{n}.json" for n in NETS), "--seed",
               str(seed), "--precision", precision, "--quiet", "-o", str(stem.with_suffix(".png")), *extra]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        stem.with_suffix(".log").write_text(done.stdout + done.stderr, encoding="utf-8")
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
        seconds = time.perf_counter() - start
    with open(table, newline="", encoding="utf-8") as fh:
        return {row["net"]: row for row in csv.DictReader(fh)}, seconds


def checks(rows: dict[str, Row]) -> tuple[float, float]:
    """(plain-56 loss ÷ plain-20 loss, ResNet-56 − ResNet-20 training error in points)."""
    ratio = float(rows["plain56"]["train_loss"]) / float(rows["plain20"]["train_loss"])
    gap = 100 * (float(rows["resnet56"]["train_err"]) - float(rows["resnet20"]["train_err"]))
    return ratio, gap


def print_runs(results: dict[tuple[str, int], tuple[dict[str, Row], float]]) -> None:
    print("| precision | seed | " + " | ".join(f"{n} loss / err" for n in NETS)
          + " | plain56 ÷ plain20 loss (≥ 10) | ResNet-56 − ResNet-20 err (≤ 1 pt) | wall |")
    print("| --- | ---: | " + " | ".join("---" for _ in NETS) + " | ---: | ---: | ---: |")
    for (precision, seed), (rows, seconds) in sorted(results.items()):
        ratio, gap = checks(rows)
        wall = "reused" if math.isnan(seconds) else f"{seconds / 60:.1f} min"
        cells = " | ".join(f"{float(rows[n]['train_loss']):.3g} / {100 * float(rows[n]['train_err']):.2f} %"
                           for n in NETS)
        print(f"| {precision} | {seed} | {cells} | {ratio:.0f}× {'✓' if ratio >= 10 else '✗'} | "
              f"{gap:+.2f} {'✓' if abs(gap) <= 1 else '✗'} | {wall} |")


def print_spread(results: dict[tuple[str, int], tuple[dict[str, Row], float]], fast: str) -> None:
    ref = {n: [float(rows[n]["train_loss"]) for (p, _), (rows, _) in results.items() if p == "fp32"]
           for n in NETS}
    got = {n: [float(rows[n]["train_loss"]) for (p, _), (rows, _) in sorted(results.items()) if p == fast]
           for n in NETS}
    if not all(ref.values()) or not all(got.values()):
        return
    from scipy.stats import mannwhitneyu  # scikit-learn's dependency, so always here

    print(f"\n| net | fp32 final training loss, seed range (median) | {fast} losses (median) | "
          f"inside the fp32 range | Mann–Whitney p, {fast} vs fp32 |")
    print("| --- | --- | --- | --- | ---: |")
    for n in NETS:
        lo, hi = min(ref[n]), max(ref[n])
        inside = sum(lo <= v <= hi for v in got[n])
        p = mannwhitneyu(got[n], ref[n]).pvalue if min(len(got[n]), len(ref[n])) > 1 else math.nan
        print(f"| {n} | {lo:.3g} – {hi:.3g} ({statistics.median(ref[n]):.3g}) | "
              f"{', '.join(f'{v:.3g}' for v in got[n])} ({statistics.median(got[n]):.3g}) | "
              f"{inside} of {len(got[n])} | {p:.2f} |")


def resolved() -> str:
    """What ``precision auto`` means on this machine's CPU (imports torch: after the arguments)."""
    import torch

    sys.path.insert(0, str(ROOT))
    from builder.training import precision

    return f"torch {torch.__version__}, precision {precision.resolve('auto', torch.device('cpu')).describe()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--precisions", default="auto,fp32")
    parser.add_argument("--jobs", type=int, default=1, help="compare runs at a time (each one thread)")
    parser.add_argument("--out", default="", help="folder for the PNGs, CSVs and logs (default: temporary)")
    parser.add_argument("--reuse", action="store_true", help="read CSVs already in --out")
    parser.add_argument("extra", nargs="*", help="more `main.py compare` flags (after --)")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    precisions = args.precisions.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out or tmp)
        out.mkdir(parents=True, exist_ok=True)
        print(f"{resolved()}; load average before: {os.getloadavg()} ({time.strftime('%H:%M:%S')}); "
              f"output in {out}", flush=True)
        jobs = [(p, s) for s in seeds for p in precisions]
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = {job: pool.submit(run_compare, out, job[1], job[0], args.extra, args.reuse)
                       for job in jobs}
            results = {job: future.result() for job, future in futures.items()}
        print_runs(results)
        print_spread(results, precisions[0])
    print(f"load average after: {os.getloadavg()} ({time.strftime('%H:%M:%S')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
