"""Which arithmetic a run uses: ``precision: auto`` resolved for the device, with the reason.

``auto`` is bf16 autocast where the device computes bf16 natively and fp32 elsewhere:

- CPU: an x86 processor with AVX512-BF16 or AMX-BF16 (``torch.cpu.get_capabilities()``; a
  ResNet-20 train step there runs ~1.9× faster in bf16, ~2.1× with channels-last). An x86 CPU
  without them would emulate bf16 and get slower: fp32. On other processors (ARM, POWER…) a
  one-off timed probe (a convolution's forward and backward in fp32 and in bf16) decides; its
  answer is cached per machine and torch version in the user's cache folder.
- CUDA: a GPU that computes bf16 (compute capability 8.0 and later): bf16, else fp32.
- MPS: fp32.

``bf16`` and ``fp32`` force the choice either way (bf16 on a CPU that emulates it is allowed,
only slow); ``fp16`` is CUDA only and trains with loss scaling. Parameters, optimizer state,
BatchNorm running statistics and gradients stay fp32 in every mode: autocast changes only the
arithmetic of the forward and backward passes, so a checkpoint of a bf16 run resumes in fp32
and the other way round.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from builder.training.config import ConfigError

CACHE_ENV = "SKIPWIRE_CACHE"  # a folder instead of the user cache folder (tests)
PROBE_FILE = "cpu_bf16.json"
PROBE_GAIN = 0.8  # bf16 counts as native when the probe step takes under 0.8× the fp32 time
_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class Choice:
    """What a run computes in: ``requested`` (the setting) resolved to ``name`` because ``reason``."""

    requested: str  # auto, fp32, bf16 or fp16
    name: str  # fp32, bf16 or fp16
    reason: str

    @property
    def dtype(self) -> torch.dtype | None:
        """The autocast dtype, or None for plain fp32."""
        return _DTYPES[self.name]

    def describe(self) -> str:
        """``auto → bf16 (this CPU computes bf16 natively: AMX-BF16)``, ``fp32 (forced)``."""
        head = f"auto → {self.name}" if self.requested == "auto" else self.name
        return f"{head} ({self.reason})" if self.reason else head


def cache_dir() -> Path:
    """Where per-machine answers are kept: ``$SKIPWIRE_CACHE`` or the user cache folder."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("skipwire", appauthor=False))


def capabilities() -> dict[str, Any]:
    """The processor's features as torch sees them (empty when this torch cannot say)."""
    get = getattr(getattr(torch, "cpu", None), "get_capabilities", None)
    try:
        return dict(get()) if get is not None else {}
    except (RuntimeError, TypeError):
        return {}


def cpu_bf16(caps: Mapping[str, Any] | None = None, machine: str | None = None,
             probe: Callable[[], tuple[bool, str]] | None = None) -> tuple[bool, str]:
    """Whether this CPU computes bf16 natively, and how that was decided."""
    caps = capabilities() if caps is None else caps
    machine = (machine or platform.machine()).lower()
    if machine in ("x86_64", "amd64", "i386", "i686", "x86"):
        if caps.get("amx_bf16"):
            return True, "this CPU computes bf16 natively: AMX-BF16"
        if caps.get("avx512_bf16"):
            return True, "this CPU computes bf16 natively: AVX512-BF16"
        return False, "this CPU has no AVX512-BF16 or AMX: bf16 would be emulated"
    return (probe or cached_probe)()


def cached_probe(folder: Path | None = None) -> tuple[bool, str]:
    """:func:`timed_probe`, run once per machine and torch version (the answer is kept on disk)."""
    path = (folder or cache_dir()) / PROBE_FILE
    key = f"{platform.machine()} {platform.processor() or platform.node()} torch {torch.__version__}"
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    entry = known.get(key) if isinstance(known, dict) else None
    if not (isinstance(entry, dict) and isinstance(entry.get("native"), bool)):
        fp32, bf16 = timed_probe()
        entry = {"native": bf16 < PROBE_GAIN * fp32, "fp32_ms": round(1000 * fp32, 2),
                 "bf16_ms": round(1000 * bf16, 2)}
        known = {**(known if isinstance(known, dict) else {}), key: entry}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(known, indent=2) + "\n", encoding="utf-8")
        except OSError:
            pass  # an unwritable cache only means probing again next time
    verdict = "computes bf16 natively" if entry["native"] else "gains nothing from bf16"
    return bool(entry["native"]), (f"this CPU {verdict} (timed probe: {entry.get('bf16_ms')} ms "
                                   f"bf16 vs {entry.get('fp32_ms')} ms fp32)")


def timed_probe(repeats: int = 5) -> tuple[float, float]:
    """CPU seconds of a 3×3 convolution's forward and backward (channels-last, one thread) in
    fp32 and under bf16 autocast: the least of ``repeats`` alternating tries of each."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # thread CPU time, undisturbed by other processes on the cores
    conv = torch.nn.Conv2d(32, 32, 3, padding=1).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    x = torch.randn(32, 32, 16, 16).contiguous(memory_format=torch.channels_last)

    def once(bf16: bool) -> float:
        start = time.thread_time()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = conv(x)
        out.float().sum().backward()
        return time.thread_time() - start

    try:
        once(False), once(True)  # first calls build oneDNN's kernels
        tries = [(once(False), once(True)) for _ in range(repeats)]
    finally:
        torch.set_num_threads(threads)
    return min(t[0] for t in tries), min(t[1] for t in tries)


def cuda_bf16(device: torch.device) -> tuple[bool, str]:
    """Whether the GPU computes bf16 (compute capability 8.0 or later)."""
    major, minor = torch.cuda.get_device_capability(device)
    name = torch.cuda.get_device_name(device)
    if major >= 8:
        return True, f"{name} computes bf16 natively (compute capability {major}.{minor})"
    return False, f"{name} has no native bf16 (compute capability {major}.{minor}, 8.0 needed)"


def resolve(requested: str, device: torch.device,
            cpu_check: Callable[[], tuple[bool, str]] = cpu_bf16) -> Choice:
    """The precision a run on ``device`` uses for the setting ``requested``.

    Raises :class:`ConfigError` for a choice the device cannot run (fp16 off CUDA, bf16 on MPS).
    """
    if requested == "fp16" and device.type != "cuda":
        raise ConfigError([f"precision: fp16 needs a CUDA device (running on {device})"])
    if requested == "bf16" and device.type == "mps":
        raise ConfigError(["precision: bf16 is not offered on MPS (use fp32 or auto)"])
    if requested == "bf16" and device.type == "cpu" and not cpu_check()[0]:
        return Choice("bf16", "bf16", "forced; this CPU emulates bf16, slower than fp32")
    if requested != "auto":
        return Choice(requested, requested, "forced")
    if device.type == "cpu":
        native, reason = cpu_check()
    elif device.type == "cuda":
        native, reason = cuda_bf16(device)
    else:
        native, reason = False, f"{device.type}: fp32"
    return Choice("auto", "bf16" if native else "fp32", reason)
