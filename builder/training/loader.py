"""Batches cut on the device from tensors that already live there, and tensor augmentation.

A set too large for the device stays in (pinned) host memory and each batch is copied over.

Shuffling and augmentation draw from a ``torch.Generator`` seeded by (seed, epoch), so an
epoch's batches do not depend on what ran before: a resumed run sees the same data. With
several processes each rank takes every ``world``-th sample of the same permutation. For data
resident on a CUDA device the generator lives there too: the permutation, the crop offsets and
the flips are drawn on the device and nothing is copied from the host per batch.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F


def epoch_generator(seed: int, epoch: int, device: torch.device | str | None = None) -> torch.Generator:
    """The generator for one epoch's shuffle and augmentation: on a CUDA ``device``, else the CPU."""
    where = torch.device(device) if device is not None else torch.device("cpu")
    where = where if where.type == "cuda" else torch.device("cpu")
    return torch.Generator(device=where).manual_seed(seed * 1_000_003 + epoch)


def random_crop(x: torch.Tensor, padding: int, gen: torch.Generator) -> torch.Tensor:
    """Zero-pad by ``padding`` and cut a random H×W window per image (batched gather)."""
    n, _, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    top = torch.randint(0, 2 * padding + 1, (n,), generator=gen, device=gen.device).to(x.device)
    left = torch.randint(0, 2 * padding + 1, (n,), generator=gen, device=gen.device).to(x.device)
    rows = (top[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (left[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
    index = torch.arange(n, device=x.device)[:, None, None, None]
    chans = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[index, chans, rows, cols]


def random_flip(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Mirror each image left-right with probability 1/2."""
    flip = (torch.rand(len(x), generator=gen, device=gen.device) < 0.5).to(x.device)[:, None, None, None]
    return torch.where(flip, x.flip(3), x)


def augment(x: torch.Tensor, gen: torch.Generator, padding: int = 4) -> torch.Tensor:
    """The CIFAR recipe: random crop with padding, then a horizontal flip."""
    return random_flip(random_crop(x, padding, gen), gen)


class Batches:
    """Mini-batches of ``(x, y)`` cut from device tensors, optionally shuffled and sharded."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, *, shuffle: bool = False,
                 gen: torch.Generator | None = None, rank: int = 0, world: int = 1,
                 augment_images: bool = False, device: torch.device | None = None) -> None:
        self.x, self.y, self.batch_size = x, y, batch_size
        self.device = device if device is not None and device != x.device else None
        self.gen = gen or torch.Generator().manual_seed(0)
        self.shuffle, self.augment = shuffle, augment_images
        self.rank, self.world = rank, world
        self.indices = self._indices()

    def _indices(self) -> torch.Tensor | None:
        n = len(self.y)
        if not self.shuffle and self.world == 1:
            return None
        order = (torch.randperm(n, generator=self.gen, device=self.gen.device) if self.shuffle
                 else torch.arange(n, device=self.gen.device))
        if self.world > 1:
            per_rank = n // self.world  # equal shards keep the ranks in step
            order = order[self.rank:per_rank * self.world:self.world]
        return order.to(self.x.device)

    def __len__(self) -> int:
        n = len(self.y) if self.indices is None else len(self.indices)
        return -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.y) if self.indices is None else len(self.indices)
        for start in range(0, n, self.batch_size):
            if self.indices is None:
                xb, yb = self.x[start:start + self.batch_size], self.y[start:start + self.batch_size]
            else:
                idx = self.indices[start:start + self.batch_size]
                xb, yb = self.x[idx], self.y[idx]
            if self.device is not None:  # a set too large for the device: copy each batch
                xb = xb.to(self.device, non_blocking=True)
                yb = yb.to(self.device, non_blocking=True)
            if self.augment:
                xb = augment(xb, self.gen)
            yield xb, yb
