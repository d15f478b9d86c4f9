"""Get ready to train while the person looks at the window: Start then reaches the first step soon.

Once the training docks exist (after the window's first paint) :class:`Warmup` runs one
background thread that imports what a run needs — torch, ``torch._dynamo`` (which the first
optimizer imports: 5 s on the development machine), the trainer, scikit-learn's digits,
TensorBoard's writer — works out what ``precision: auto`` means on this machine, and builds the
form's data set when it is built in (digits, synthetic: a fraction of a second). Start then
takes that data set (:meth:`Warmup.dataset_for`, keyed on the settings the data depend on)
instead of loading it again. ``ready`` is emitted on the window's thread when it is done.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from builder.training.config import BUILT_IN

DATA_KEYS = ("dataset", "data_dir", "image_size", "val_fraction", "seed")


def data_key(config: Any) -> tuple[Any, ...]:
    """The settings a data set depends on."""
    return tuple(getattr(config, name) for name in DATA_KEYS)


class Warmup(QObject):
    """Imports and data prepared in a background thread."""

    ready = Signal()
    _done = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker: threading.Thread | None = None
        self.key: tuple[Any, ...] | None = None
        self.data: Any = None
        self.done = False
        self.error = ""
        self._done.connect(self._finish, Qt.ConnectionType.QueuedConnection)

    def start(self, config: Any) -> None:
        """Begin (once) with the form's current settings (None when they are not valid)."""
        if self.worker is not None:
            return
        self.worker = threading.Thread(target=self._work, args=(config,), name="skipwire-train-warmup",
                                       daemon=True)
        self.worker.start()

    def _work(self, config: Any) -> None:
        try:
            self._imports()
            if config is not None and config.dataset in BUILT_IN:
                from builder.training.datasets import load_dataset

                self.data, self.key = load_dataset(config), data_key(config)
        except Exception as exc:  # noqa: BLE001 (a failed warm-up only means a slower start)
            self.error = f"{type(exc).__name__}: {exc}"
        try:
            self._done.emit()
        except RuntimeError:  # the window was closed before the warm-up ended: nobody to tell
            pass

    @staticmethod
    def _imports() -> None:
        import torch
        import torch._dynamo  # noqa: F401  (every torch.optim optimizer imports it: ~5 s here)

        import builder.training.trainer  # noqa: F401
        from builder.training import datasets, precision, tboard

        precision.resolve("auto", torch.device("cpu"))  # the CPU's capabilities, read once
        tboard.available()  # imports TensorBoard's writer when it is installed
        datasets.digits_raw  # noqa: B018 (the module; scikit-learn is imported below)
        import sklearn.datasets  # noqa: F401

    def _finish(self) -> None:
        self.done = True
        self.ready.emit()

    def dataset_for(self, config: Any) -> Any:
        """The prepared data set when it fits ``config``'s data settings, else None."""
        return self.data if self.done and self.key == data_key(config) else None

    def wait(self, timeout: float = 30.0) -> None:
        """Block until the thread has ended (tests, benches, closing)."""
        if self.worker is not None:
            self.worker.join(timeout)


def config_or_none(source: Callable[[], Any]) -> Any:
    """``source()`` (the form's config), or None when the settings are not valid."""
    try:
        return source()
    except ValueError:
        return None
