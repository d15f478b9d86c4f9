"""In-memory image sets: :class:`Dataset` (normalised tensors, train/validation splits) and
:class:`RawSet` (the images as read), and the checks every reader applies.

The readers of files on disk (:mod:`builder.training.readers`) and the built-in sets
(:mod:`builder.training.datasets`, which also loads any set by name) build on these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


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
        def move(t: torch.Tensor) -> torch.Tensor:
            return t.to(device, non_blocking=True)

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


@dataclass
class RawSet:
    """Images as read (uint8, or floats for the built-in sets) and labels, not normalised."""

    name: str
    x_train: np.ndarray  # (N, C, H, W) or (N, H, W)
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    classes: list[str]

    def to_dataset(self, image_size: int = 0) -> Dataset:
        return make_dataset(self.name, self.x_train, self.y_train, self.x_val, self.y_val,
                            self.classes, image_size)


def make_dataset(name: str, x_train: np.ndarray | torch.Tensor, y_train: np.ndarray | torch.Tensor,
                 x_val: np.ndarray | torch.Tensor, y_val: np.ndarray | torch.Tensor,
                 classes: list[str], image_size: int = 0) -> Dataset:
    """Resize (optional), normalise with the training split's per-channel statistics.

    uint8 images are scaled to [0, 1] first. Fewer than two classes (named, or present in
    the training labels) is a :class:`DatasetError`.
    """
    check_classes(name, np.asarray(y_train), classes)
    xt, xv = _float_images(x_train), _float_images(x_val)
    if image_size and xt.shape[-1] != image_size or image_size and xt.shape[-2] != image_size:
        xt, xv = _resize(xt, image_size), _resize(xv, image_size)
    mean = xt.mean(dim=(0, 2, 3))
    std = xt.std(dim=(0, 2, 3)).clamp_min(1e-6)
    def norm(x: torch.Tensor) -> torch.Tensor:
        return ((x - mean[None, :, None, None]) / std[None, :, None, None]).contiguous()

    def labels(y: np.ndarray | torch.Tensor) -> torch.Tensor:
        return torch.tensor(np.asarray(y), dtype=torch.int64)

    return Dataset(name, norm(xt), labels(y_train), norm(xv), labels(y_val), classes,
                   tuple(mean.tolist()), tuple(std.tolist()))


def check_classes(name: str, labels: np.ndarray, classes: list[str]) -> None:
    """Refuse a set with one class: every prediction would be right, and nothing is learnt."""
    need = "classification needs two or more classes"
    if len(classes) < 2:
        raise DatasetError(f"{name}: only one class ({', '.join(map(repr, classes)) or 'none'}); {need}")
    present = np.unique(labels)
    if len(present) == 1:
        only = classes[int(present[0])] if 0 <= int(present[0]) < len(classes) else str(present[0])
        raise DatasetError(f"{name}: every training image is of class {only!r}; {need}")


def _float_images(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        t = x.to(torch.float32)
    elif np.asarray(x).dtype == np.uint8:
        t = torch.from_numpy(np.asarray(x).astype(np.float32)).div_(255.0)
    else:
        t = torch.tensor(np.asarray(x, np.float32))
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
