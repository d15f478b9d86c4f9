"""Datasets as in-memory tensors with train/validation splits and normalisation.

:class:`Dataset` holds float32 ``(N, C, H, W)`` images (normalised per channel with the
training split's mean and std) and int64 labels. :func:`load_dataset` builds one from a
:class:`~builder.training.config.TrainConfig`; the readers for files on disk live in
:mod:`builder.training.readers` and fail with :class:`DatasetError` (one line naming the file).
The data types (:class:`Dataset`, :class:`RawSet`) are in :mod:`builder.training.imagesets`.
:func:`load_raw` gives the images as read (:class:`RawSet`, what the preview shows); a set
with fewer than two classes is refused, since classification needs two or more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from builder.training import readers
from builder.training.config import TrainConfig
from builder.training.imagesets import Dataset, DatasetError, RawSet, check_classes, make_dataset, split

__all__ = ["Dataset", "DatasetError", "RawSet", "SetPreview", "check_classes", "digits", "digits_raw",
           "load_dataset", "load_raw", "make_dataset", "preview", "split", "synthetic", "synthetic_raw"]


def digits_raw(val_fraction: float = 0.2, seed: int = 0) -> RawSet:
    """scikit-learn's built-in 8×8 digits (1,797 images, 10 classes) in [0, 1]."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.images.astype(np.float32) / 16.0
    y = bunch.target.astype(np.int64)
    train, val = split(len(y), val_fraction, seed)
    return RawSet("digits", x[train], y[train], x[val], y[val], [str(i) for i in range(10)])


def digits(image_size: int = 0, val_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """scikit-learn's built-in 8×8 digits (1,797 images, 10 classes), optionally upsampled."""
    return digits_raw(val_fraction, seed).to_dataset(image_size)


def synthetic_raw(n: int = 512, shape: tuple[int, int, int] = (3, 8, 8), num_classes: int = 10,
                  val_fraction: float = 0.2, seed: int = 0, noise: float = 1.0) -> RawSet:
    """Deterministic random images: a fixed random pattern per class plus Gaussian noise."""
    gen = torch.Generator().manual_seed(seed)
    patterns = torch.randn((num_classes, *shape), generator=gen)
    y = torch.randint(0, num_classes, (n,), generator=gen)
    x = (patterns[y] + noise * torch.randn((n, *shape), generator=gen)).numpy()
    train, val = split(n, val_fraction, seed)
    return RawSet("synthetic", x[train], y.numpy()[train], x[val], y.numpy()[val],
                  [f"class{i}" for i in range(num_classes)])


def synthetic(n: int = 512, shape: tuple[int, int, int] = (3, 8, 8), num_classes: int = 10,
              val_fraction: float = 0.2, seed: int = 0, noise: float = 1.0) -> Dataset:
    """Deterministic random images: a fixed random pattern per class plus Gaussian noise."""
    return synthetic_raw(n, shape, num_classes, val_fraction, seed, noise).to_dataset()


def load_raw(dataset: str, data_dir: str = "", image_size: int = 0, val_fraction: float = 0.2,
             seed: int = 0) -> RawSet:
    """The images of a data set as read; ``data_dir`` empty takes a fetched copy (CIFAR, MNIST)."""
    if dataset == "digits":
        return digits_raw(val_fraction, seed)
    if dataset == "synthetic":
        return synthetic_raw(shape=(3, image_size or 8, image_size or 8), val_fraction=val_fraction,
                             seed=seed)
    if dataset in ("mnist", "fashion_mnist"):
        return readers.mnist_raw(data_dir, dataset)
    if dataset in ("cifar10", "cifar100"):
        return readers.cifar_raw(data_dir, dataset)
    return readers.image_folder_raw(data_dir, image_size or 32, val_fraction, seed)


def load_dataset(config: TrainConfig) -> Dataset:
    """The dataset named by ``config`` (on the CPU; move it with :meth:`Dataset.to`)."""
    raw = load_raw(config.dataset, config.data_dir, config.image_size, config.val_fraction,
                   config.seed)
    resize = config.image_size if config.dataset not in ("synthetic", "folder") else 0
    return raw.to_dataset(resize)


@dataclass
class SetPreview:
    """What the preview shows: sample images with labels, class counts and the input shape."""

    name: str
    images: np.ndarray  # (n, H, W, C) uint8, ready to display
    labels: list[str]
    counts: list[tuple[str, int, int]]  # class, training images, validation images
    input_shape: tuple[int, int, int]
    n_train: int
    n_val: int


def preview(raw: RawSet, n: int = 32, seed: int = 0) -> SetPreview:
    """``n`` training images taken round-robin over the classes, so every class shows."""
    x = raw.x_train if raw.x_train.ndim == 4 else raw.x_train[:, None]
    y = np.asarray(raw.y_train, dtype=np.int64)
    rng = np.random.default_rng(seed)
    pools = [list(rng.permutation(np.flatnonzero(y == k))) for k in range(len(raw.classes))]
    picked: list[int] = []
    while len(picked) < min(n, len(y)) and any(pools):
        picked.extend(pool.pop() for pool in pools if pool)
    picked = picked[:n]
    counts_t = np.bincount(y, minlength=len(raw.classes))
    counts_v = np.bincount(np.asarray(raw.y_val, dtype=np.int64), minlength=len(raw.classes))
    c, h, w = x.shape[1:]
    return SetPreview(raw.name, _display(x[picked]), [raw.classes[int(y[i])] for i in picked],
                      [(name, int(counts_t[k]), int(counts_v[k])) for k, name in enumerate(raw.classes)],
                      (int(c), int(h), int(w)), len(y), len(raw.y_val))


def _display(x: np.ndarray) -> np.ndarray:
    """(n, C, H, W) images as (n, H, W, C) uint8: [0, 1] floats scaled, others stretched."""
    if x.dtype != np.uint8:
        lo, hi = float(x.min(initial=0.0)), float(x.max(initial=1.0))
        if lo < 0 or hi > 1:
            x = (x - lo) / max(hi - lo, 1e-6)
        x = np.clip(np.rint(np.asarray(x, np.float32) * 255), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))
