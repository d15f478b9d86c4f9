"""ResNet-56 on a GPU: the app's default path versus hand-written loops (prepared; needs CUDA).

Measured in one process, interleaved rounds, batch 128 of CIFAR-sized synthetic images resident
on the device:

- ``hand fp32``: the loop a person writes — the graph's module, fp32, NCHW, eager, batches cut
  from device tensors by a shuffled index, ``zero_grad``/``backward``/``step``, ``loss.item()``;
- ``hand bf16+CL``: the same under bf16 autocast with channels-last images and weights;
- ``app default``: the Trainer with the default settings (precision auto → bf16, channels-last,
  the step captured in a CUDA graph, augmentation and shuffling on the device, the per-layer
  gradient probe every step, per-step callbacks);
- ``app no graph``: the same with ``SKIPWIRE_CUDA_GRAPHS=0`` (what capture gains).

Prints images/s per variant, each ratio to ``hand fp32`` (goal: app ≥ 3×), and the achieved
training FLOP/s (6 × the summary's mult-adds per image × images/s) as a fraction of the GPU's
dense bf16 peak (``--peak-tflops``, or known for H100/H200/A100). ``--device cpu --net resnet20
--steps 2 --rounds 1`` runs the same code on the CPU as a smoke test.
Usage: ``python bench/bench_speed_gpu.py [--net resnet56] [--rounds 3] [--steps 30]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from builder import fileformat  # noqa: E402
from builder.compile import compile_graph  # noqa: E402
from builder.summary import summarize  # noqa: E402
from builder.training import TrainConfig, Trainer, synthetic  # noqa: E402
from builder.training.step import ENV  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WARMUP = 5  # steps before timing (the app captures its graph within these)
PEAKS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "RTX 4090": 165.0}  # dense bf16


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def hand(graph, data, device: torch.device, steps: int, bf16: bool) -> float:  # type: ignore[no-untyped-def]
    """Images/s of the hand-written loop over the ``steps`` after the warm-up."""
    fmt = torch.channels_last if bf16 else torch.contiguous_format
    torch.manual_seed(0)
    model = compile_graph(graph).to(device).to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    x = data.x_train.to(device).contiguous(memory_format=fmt)
    y = data.y_train.to(device)
    order = torch.randperm(len(y), device=device)
    start = 0.0
    for i in range(WARMUP + steps):
        if i == WARMUP:
            sync(device)
            start = time.perf_counter()
        idx = order[(i * 128) % (len(y) - 128):][:128]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss.item()
    sync(device)
    return 128 * steps / (time.perf_counter() - start)


def app(graph, data, device: torch.device, steps: int, graphs: bool) -> float:  # type: ignore[no-untyped-def]
    """Images/s of the Trainer's steps after the warm-up (setup left out)."""
    os.environ[ENV] = "1" if graphs else "0"
    config = TrainConfig(dataset="synthetic", epochs=1000, device=str(device), val_every=0, seed=0)
    marks: list[float] = []
    trainer = Trainer(graph, config, data, on_gradients=lambda g: None)

    def on_step(_m) -> None:  # type: ignore[no-untyped-def]
        marks.append(time.perf_counter())  # the step's values are on the host: it has ended
        if len(marks) > WARMUP + steps:
            trainer.stop()
    trainer.on_step = on_step
    result = trainer.run()
    assert result.status == "stopped", result.error
    if graphs and device.type == "cuda":
        assert trainer.setup is not None and trainer.setup.cuda_graph, trainer.setup
    return 128 * steps / (marks[WARMUP + steps] - marks[WARMUP])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", default="resnet56")
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--peak-tflops", type=float, default=0.0, help="dense bf16 peak of the GPU")
    args = parser.parse_args()
    device = torch.device(args.device)
    graph = fileformat.load(ROOT / "graphs" / f"{args.net}.json")
    data = synthetic(n=160 * 40, shape=(3, 32, 32), num_classes=10, seed=0)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    peak = args.peak_tflops or next((v for k, v in PEAKS.items() if k in name), 0.0)
    flops_per_image = 6 * summarize(graph).total_mult_adds  # forward 2×MACs, backward twice that
    print(f"torch {torch.__version__}, {name}, {args.net}, batch 128, {data.describe()}", flush=True)
    variants: dict[str, Callable[[], float]] = {
        "hand fp32": lambda: hand(graph, data, device, args.steps, bf16=False),
        "hand bf16+CL": lambda: hand(graph, data, device, args.steps, bf16=True),
        "app default": lambda: app(graph, data, device, args.steps, graphs=True),
        "app no graph": lambda: app(graph, data, device, args.steps, graphs=False)}
    seen: dict[str, list[float]] = {k: [] for k in variants}
    names = list(variants)
    for r in range(args.rounds):
        for key in names[r % len(names):] + names[:r % len(names)]:
            seen[key].append(variants[key]())
        line = ", ".join(f"{k} {v[-1]:,.0f} img/s" for k, v in seen.items())
        print(f"  round {r + 1}: {line}", flush=True)
    base = statistics.median(seen["hand fp32"])
    for key, values in seen.items():
        rate = statistics.median(values)
        tflops = rate * flops_per_image / 1e12
        share = f", {100 * tflops / peak:.1f} % of the {peak:g} TFLOP/s bf16 peak" if peak else ""
        print(f"{key}: {rate:,.0f} img/s, {rate / base:.2f}× hand fp32; {tflops:.1f} TFLOP/s{share}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
