"""Datasets as in-memory tensors with train/validation splits and normalisation.

:class:`Dataset` holds float32 ``(N, C, H, W)`` images (normalised per channel with the
training split's mean and std) and int64 labels. :func:`load_dataset` builds one from a
:class:`~builder.training.config.TrainConfig`; the readers for files on disk live in
:mod:`builder.training.readers` and fail with :class:`DatasetError` (one line naming the file).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from builder.training.config import TrainConfig


class DatasetError(ValueError):
    """Missing, corrupt or unusable data; the message is one line naming the file."""


@dataclass
class Dataset:
    """Images and labels for training and validation (all tensors on one device)."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    classes: list[str]
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()

    @property
    def input_shape(self) -> tuple[int, int, int]:
        c, h, w = self.x_train.shape[1:]
        return (int(c), int(h), int(w))

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def to(self, device: torch.device | str) -> Dataset:
        """The same set moved to ``device`` once (batches are then cut there)."""
        move = lambda t: t.to(device, non_blocking=True)
        return Dataset(self.name, move(self.x_train), move(self.y_train), move(self.x_val),
                       move(self.y_val), self.classes, self.mean, self.std)

    def pin(self) -> Dataset:
        """The same set in page-locked host memory (faster copies to a CUDA device)."""
        if not torch.cuda.is_available():
            return self
        return Dataset(self.name, self.x_train.pin_memory(), self.y_train.pin_memory(),
                       self.x_val.pin_memory(), self.y_val.pin_memory(), self.classes, self.mean,
                       self.std)

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.x_train, self.y_train, self.x_val,
                                                           self.y_val))

    def describe(self) -> str:
        c, h, w = self.input_shape
        return (f"{self.name}: {len(self.y_train)} train / {len(self.y_val)} val images of "
                f"{c}×{h}×{w}, {self.num_classes} classes")


def make_dataset(name: str, x_train: np.ndarray | torch.Tensor, y_train: np.ndarray | torch.Tensor,
                 x_val: np.ndarray | torch.Tensor, y_val: np.ndarray | torch.Tensor,
                 classes: list[str], image_size: int = 0) -> Dataset:
    """Resize (optional), normalise with the training split's per-channel statistics."""
    xt, xv = _float_images(x_train), _float_images(x_val)
    if image_size and xt.shape[-1] != image_size or image_size and xt.shape[-2] != image_size:
        xt, xv = _resize(xt, image_size), _resize(xv, image_size)
    mean = xt.mean(dim=(0, 2, 3))
    std = xt.std(dim=(0, 2, 3)).clamp_min(1e-6)
    norm = lambda x: ((x - mean[None, :, None, None]) / std[None, :, None, None]).contiguous()
    labels = lambda y: torch.tensor(np.asarray(y), dtype=torch.int64)
    return Dataset(name, norm(xt), labels(y_train), norm(xv), labels(y_val), classes,
                   tuple(mean.tolist()), tuple(std.tolist()))


def _float_images(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    t = x.to(torch.float32) if isinstance(x, torch.Tensor) else torch.tensor(np.asarray(x, np.float32))
    if t.dim() == 3:
        t = t[:, None]
    return t


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    if len(x) == 0:
        return x.new_zeros((0, x.shape[1], size, size))
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


def split(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A fixed random split of ``range(n)`` into train and validation indices."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = min(max(1, round(n * val_fraction)), n - 1)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def digits(image_size: int = 0, val_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """scikit-learn's built-in 8×8 digits (1,797 images, 10 classes), optionally upsampled."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.images.astype(np.float32) / 16.0
    y = bunch.target.astype(np.int64)
    train, val = split(len(y), val_fraction, seed)
    return make_dataset("digits", x[train], y[train], x[val], y[val], [str(i) for i in range(10)],
                        image_size)


def synthetic(n: int = 512, shape: tuple[int, int, int] = (3, 8, 8), num_classes: int = 10,
              val_fraction: float = 0.2, seed: int = 0, noise: float = 1.0) -> Dataset:
    """Deterministic random images: a fixed random pattern per class plus Gaussian noise."""
    gen = torch.Generator().manual_seed(seed)
    patterns = torch.randn((num_classes, *shape), generator=gen)
    y = torch.randint(0, num_classes, (n,), generator=gen)
    x = patterns[y] + noise * torch.randn((n, *shape), generator=gen)
    train, val = split(n, val_fraction, seed)
    return make_dataset("synthetic", x[train], y[train], x[val], y[val],
                        [f"class{i}" for i in range(num_classes)])


def load_dataset(config: TrainConfig) -> Dataset:
    """The dataset named by ``config`` (on the CPU; move it with :meth:`Dataset.to`)."""
    from builder.training import readers

    size, frac, seed = config.image_size, config.val_fraction, config.seed
    if config.dataset == "digits":
        return digits(size, frac, seed)
    if config.dataset == "synthetic":
        shape = (3, size or 8, size or 8)
        return synthetic(shape=shape, val_fraction=frac, seed=seed)
    if config.dataset in ("mnist", "fashion_mnist"):
        return readers.mnist(config.data_dir, config.dataset, size)
    if config.dataset in ("cifar10", "cifar100"):
        return readers.cifar(config.data_dir, config.dataset, size)
    return readers.image_folder(config.data_dir, size or 32, frac, seed)
