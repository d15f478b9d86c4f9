"""Torch modules that the catalog needs beyond ``torch.nn`` (imports torch)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ShortcutPad(nn.Module):
    """He et al. option A shortcut: subsample by ``stride`` and append zero channels."""

    def __init__(self, stride: int = 2, extra_channels: int = 0) -> None:
        super().__init__()
        self.stride = stride
        self.extra_channels = extra_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        if self.extra_channels:
            x = F.pad(x, (0, 0, 0, 0, 0, self.extra_channels))
        return x

    def extra_repr(self) -> str:
        return f"stride={self.stride}, extra_channels={self.extra_channels}"
