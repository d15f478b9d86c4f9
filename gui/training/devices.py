"""The device picker: where a run trains, in how many processes, and what ``precision: auto`` means there.

:class:`DeviceCombo` lists the CPU, Auto, every CUDA device, "All N GPUs" when there are
several, MPS, and "CPU × 2 processes". An entry's data is ``DEVICE`` or ``DEVICE*N``: the form's
``device`` setting is the part before ``*`` and :meth:`DeviceCombo.processes` the count, so a
multi-process choice never reaches the config as an odd device name. The window starts a run
with several processes under torchrun (:mod:`gui.training.launch`). CUDA devices need torch:
they are listed the first time the list opens or torch has been imported in the background.

:func:`auto_precision` says what ``auto`` resolves to on the chosen device ("bf16 on this CPU"),
once torch is imported (never imports it).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from builder.training.settings import Spec
from gui.training.editors import ChoiceBox

CPU_PROCESSES = 2  # the CPU multi-process entry


def split(value: str) -> tuple[str, int]:
    """``"cpu*2"`` → ``("cpu", 2)``; ``"cuda:0"`` → ``("cuda:0", 1)``."""
    device, _, count = value.partition("*")
    return device, int(count) if count.isdigit() else 1


def process_entries(gpus: int, cores: int | None = None) -> list[tuple[str, str]]:
    """The multi-process entries: all GPUs when there are several, and the CPU in processes."""
    cores = cores or os.cpu_count() or 1
    out = [(f"auto*{gpus}", f"All {gpus} GPUs ({gpus} processes, torchrun)")] if gpus > 1 else []
    counts = [CPU_PROCESSES] + ([cores // 2] if cores >= 8 else [])
    out += [(f"cpu*{n}", f"CPU × {n} processes (torchrun, gloo)") for n in counts]
    return out


class DeviceCombo(ChoiceBox):
    """Auto, the CPU, CUDA/MPS devices and multi-process choices."""

    AUTO = ("auto", "Auto (CUDA if available, else CPU)")

    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        self.addItem("CPU", "cpu")
        self.addItem(self.AUTO[1], self.AUTO[0])
        for value, label in process_entries(0):
            self.addItem(label, value)
        self.probed = False

    def refresh(self) -> None:
        """List the devices torch sees (imports torch)."""
        from gui.training.worker import devices

        current = self.currentData()
        self.blockSignals(True)
        self.clear()
        cpu, *others = devices()
        gpus = sum(value.startswith("cuda:") for value, _ in others)
        for value, label in (cpu, self.AUTO, *others, *process_entries(gpus)):
            self.addItem(label, value)
        self.probed = True
        index = self.findData(current)
        self.setCurrentIndex(index if index >= 0 else 0)
        self.blockSignals(False)

    def showPopup(self) -> None:  # noqa: N802 (Qt override)
        if not self.probed:
            self.refresh()
        super().showPopup()

    def field_value(self) -> Any:
        return split(str(self.currentData()))[0]

    def processes(self) -> int:
        """How many processes the chosen entry trains in (1: the window's own thread)."""
        return split(str(self.currentData()))[1]

    def set_field_value(self, value: Any) -> None:
        if self.findData(value) < 0 and isinstance(value, str):
            self.addItem(f"{value} (not found here)", value)  # a remembered or a run's device
        super().set_field_value(value)

    def set_processes(self, count: int) -> bool:
        """Choose the entry for the current device in ``count`` processes, if there is one."""
        device = self.field_value()
        wanted = f"{'auto' if device.startswith('cuda') else device}*{count}" if count > 1 else device
        index = self.findData(wanted)
        if index >= 0:
            self.setCurrentIndex(index)
        return index >= 0


_AUTO: dict[str, tuple[str, str, str]] = {}  # device → what auto becomes, why, where


def auto_precision(device: str) -> tuple[str, str, str] | None:
    """``("bf16", reason, "this CPU")`` for ``precision: auto`` on ``device``; None until torch
    is imported (this never imports it)."""
    if "torch" not in sys.modules:
        return None
    if device not in _AUTO:
        import torch

        from builder.training import precision

        where = device if device not in ("auto", "") else ("cuda" if torch.cuda.is_available() else "cpu")
        label = "this CPU" if where == "cpu" else "this GPU" if where == "cuda" else where
        try:
            choice = precision.resolve("auto", torch.device(where))
        except (RuntimeError, ValueError, AssertionError) as exc:  # a device that is not here
            return "fp32", str(exc).splitlines()[0] if str(exc) else "device not available", label
        _AUTO[device] = (choice.name, choice.reason, label)
    return _AUTO[device]
