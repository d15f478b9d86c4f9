"""Resnet20: exported by Skipwire from the graph 'resnet20'.

He et al. 2015 CIFAR ResNet-20 (option A shortcuts): 3 blocks per stage, widths (16, 32,
64).

Parameters: 269,722. Input: N×3×32×32 (batch, channels, height, width).
Needs only PyTorch; the state-dict keys are those of the model trained in Skipwire.
"""

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["BasicBlock", "Resnet20", "ShortcutPad"]


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


def _make_stage(
    block: type[nn.Module], first: tuple[int, ...], rest: tuple[int, ...], blocks: int
) -> nn.Sequential:
    """``blocks`` blocks in a row: the first built from ``first``, the others from ``rest``."""
    layers = [block(*first)]
    layers += [block(*rest) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    """Residual block: the skip path is added to the output.

    Used 9× (layer1.0, layer1.1, layer1.2, …).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size=3,
            stride=stride,
            padding=1,
            bias=False,
        )
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = ShortcutPad(
                stride=stride, extra_channels=out_channels - in_channels
            )
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(
            out_channels, out_channels, kernel_size=3, padding=1, bias=False
        )
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu1(out)
        out = self.conv2(out)
        out = self.bn2(out)
        out = out + self.shortcut(x)
        out = self.relu2(out)
        return out


class Resnet20(nn.Module):
    """The model: N×3×32×32 in, 269,722 parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu1 = nn.ReLU()
        self.layer1 = nn.Sequential(*(BasicBlock(16, 16, 1) for _ in range(3)))
        self.layer2 = _make_stage(BasicBlock, (16, 32, 2), (32, 32, 1), blocks=3)
        self.layer3 = _make_stage(BasicBlock, (32, 64, 2), (64, 64, 1), blocks=3)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu1(out)
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        out = self.avgpool(out)
        out = torch.flatten(out, 1)
        out = self.fc(out)
        return out
