"""ResNet-56 training throughput on ``cuda:0``: the Skipwire trainer versus hand-written PyTorch.

Prepared for a machine with a GPU (the development machine has none). Two settings, each
measured for both loops on the same synthetic CIFAR-sized data (3×32×32, 10 classes, resident
on the GPU): fp32, and bf16 autocast + channels-last. Prints images/s and the ratio
trainer/hand-written for each; the trainer runs with its per-layer gradient probe every step.
Usage: ``python bench/bench_trainer_gpu.py [--images 10240] [--epochs 3] [--batch-size 128]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10240, help="synthetic images (default 10240)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs; the first is warm-up (default 3)")
    parser.add_argument("--batch-size", type=int, default=128, help="default 128")
    return parser


if __name__ == "__main__":
    _parser().parse_args()  # answers --help before torch is imported


import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from builder import templates  # noqa: E402
from builder.compile import compile_graph  # noqa: E402
from builder.training import TrainConfig, Trainer, synthetic  # noqa: E402
from builder.training.loader import Batches, epoch_generator  # noqa: E402


def hand_written(graph, config: TrainConfig, data) -> float:  # type: ignore[no-untyped-def]
    """Images/s of a plain loop over the last ``epochs - 1`` epochs (the first one warms up)."""
    torch.manual_seed(config.seed)
    fmt = torch.channels_last if config.channels_last else torch.contiguous_format
    model = compile_graph(graph).cuda().to(memory_format=fmt)
    x = data.x_train.cuda().contiguous(memory_format=fmt)
    y = data.y_train.cuda()
    opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9, weight_decay=1e-4)
    dtype = torch.bfloat16 if config.precision == "bf16" else torch.float32
    images, start = 0, 0.0
    for epoch in range(config.epochs):
        if epoch == 1:
            torch.cuda.synchronize()
            start = time.perf_counter()
        for xb, yb in Batches(x, y, config.batch_size, shuffle=True, gen=epoch_generator(0, epoch)):
            with torch.autocast("cuda", dtype=dtype, enabled=config.precision != "fp32"):
                loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss.item()
            images += len(yb) if epoch else 0
    torch.cuda.synchronize()
    return images / (time.perf_counter() - start)


def trainer(graph, config: TrainConfig, data) -> float:  # type: ignore[no-untyped-def]
    """Images/s the trainer reports for its epochs after the first."""
    epochs: list = []
    result = Trainer(graph, config, data, on_epoch=epochs.append).run()
    assert result.status == "completed", result.error
    later = epochs[1:]
    return sum(m.images_per_s * m.seconds for m in later) / sum(m.seconds for m in later)


def main() -> int:
    args = _parser().parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: this benchmark needs a GPU")
        return 1
    torch.backends.cudnn.benchmark = True
    data = synthetic(n=args.images, shape=(3, 32, 32), num_classes=10, val_fraction=0.05)
    graph = templates.cifar_resnet(56)
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}, ResNet-56, "
          f"{len(data.y_train)} images of 3×32×32, batch {args.batch_size}, {args.epochs} epochs "
          "(first one is warm-up)")
    for precision, channels_last in (("fp32", False), ("bf16", True)):
        config = TrainConfig(dataset="synthetic", device="cuda:0", epochs=args.epochs, lr=0.05,
                             batch_size=args.batch_size, precision=precision,
                             channels_last=channels_last, probe_every=1, schedule="constant")
        bare = hand_written(graph, config, data)
        ours = trainer(graph, config, data)
        label = f"{precision}{' + channels-last' if channels_last else ''}"
        print(f"{label:<22} hand-written {bare:8.0f} img/s   trainer {ours:8.0f} img/s   "
              f"ratio {ours / bare:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
