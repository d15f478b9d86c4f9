"""The GPU checks of issues 3 and 5 in one prepared run (needs a CUDA device).

1. ResNet-56 train-step images/s on ``cuda:0``: the compiled graph versus the hand-written
   PyTorch ResNet-56 of ``bench/bench_compile.py`` (same weights), fp32 and bf16 autocast +
   channels-last, in the same process, interleaved.
2. The Skipwire trainer (gradient probe every step) versus a bare loop on the compiled module
   (``bench/bench_trainer_gpu.py``), fp32 and bf16 + channels-last.
3. One short training through the window's worker code path (``gui.training.worker.TrainThread``
   under a QCoreApplication) on ``cuda:0``: ResNet-20 on digits upsampled to 32×32.
Usage: ``python bench/gpu_check.py`` (prints one block per check).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(description=__doc__, epilog="Takes no options; exits 1 without a GPU.",
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


if __name__ == "__main__":
    _parser().parse_args()  # answers --help before torch is imported


import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from builder import templates  # noqa: E402
from builder.compile import compile_graph  # noqa: E402


def _images_per_s(model, opt, x, y, steps: int, bf16: bool) -> float:  # type: ignore[no-untyped-def]
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    torch.cuda.synchronize()
    return steps * len(y) / (time.perf_counter() - start)


def compiled_vs_hand(rounds: int = 7, steps: int = 40, batch: int = 128) -> None:
    from bench_compile import HandResNet

    for bf16, channels_last in ((False, False), (True, True)):
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        torch.manual_seed(0)
        compiled = compile_graph(templates.cifar_resnet(56)).cuda().to(memory_format=fmt)
        hand = HandResNet(56).cuda().to(memory_format=fmt)
        hand.load_state_dict(compiled.state_dict(), strict=True)
        x = torch.randn(batch, 3, 32, 32, device="cuda").contiguous(memory_format=fmt)
        y = torch.randint(0, 10, (batch,), device="cuda")
        models = {"hand": hand, "compiled": compiled}
        opts = {k: torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9) for k, m in models.items()}
        for k in models:  # warm-up (cudnn autotune)
            _images_per_s(models[k], opts[k], x, y, 10, bf16)
        rates: dict[str, list[float]] = {"hand": [], "compiled": []}
        for _ in range(rounds):
            for k in models:
                rates[k].append(_images_per_s(models[k], opts[k], x, y, steps, bf16))
        hand_rate, comp_rate = statistics.median(rates["hand"]), statistics.median(rates["compiled"])
        label = "bf16 + channels-last" if bf16 else "fp32"
        print(f"[1] ResNet-56 {label:<21} hand-written {hand_rate:9.0f} img/s   compiled "
              f"{comp_rate:9.0f} img/s   ratio {comp_rate / hand_rate:.3f}", flush=True)


def trainer_vs_bare() -> None:
    import bench_trainer_gpu

    sys.argv = ["bench_trainer_gpu", "--images", "10240", "--epochs", "3"]
    print("[2] trainer vs bare loop:", flush=True)
    bench_trainer_gpu.main()


def worker_path(device: str = "cuda:0", epochs: int = 5) -> None:
    from PySide6.QtCore import QCoreApplication, QTimer

    from builder.training import TrainConfig
    from gui.training.worker import Job, TrainThread

    app = QCoreApplication.instance() or QCoreApplication([])
    config = TrainConfig(dataset="digits", image_size=32, device=device, epochs=epochs, lr=0.05,
                         batch_size=128, probe_every=1)
    job = Job("resnet20", templates.cifar_resnet(20), config)
    thread = TrainThread([job])
    seen: dict[str, object] = {"steps": 0}
    thread.job_started.connect(lambda i, s: seen.update(device=s.device, data=s.data))
    thread.step.connect(lambda i, m: seen.update(steps=int(seen["steps"]) + 1, last=m))
    thread.job_finished.connect(lambda i, r: seen.update(result=r))
    thread.failed.connect(lambda i, msg, user: seen.update(failed=msg))
    thread.all_done.connect(app.quit)
    QTimer.singleShot(300_000, app.quit)
    start = time.perf_counter()
    thread.start()
    app.exec()
    thread.wait()
    result = seen.get("result")
    print(f"[3] worker path: device {seen.get('device')}, data {seen.get('data')}, "
          f"{seen['steps']} step signals in {time.perf_counter() - start:.1f} s", flush=True)
    if "failed" in seen:
        print(f"[3] FAILED: {seen['failed']}")
    elif result is not None:
        for m in result.history:  # type: ignore[attr-defined]
            print(f"[3]   epoch {m.epoch}: train loss {m.train_loss:.4f} acc {m.train_acc:.3f} "
                  f"val acc {m.val_acc:.3f}  {m.images_per_s:.0f} img/s")
        print(f"[3] status {result.status}")  # type: ignore[attr-defined]


def main() -> int:
    _parser().parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: this script needs a GPU")
        return 1
    torch.backends.cudnn.benchmark = True
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}", flush=True)
    for check in (compiled_vs_hand, trainer_vs_bare, worker_path):
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - report and go on to the next check
            print(f"{check.__name__} failed: {type(exc).__name__}: {exc}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
