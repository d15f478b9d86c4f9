"""An imported two-path network is laid out without misleading frames or wires."""

from __future__ import annotations

import torch
from torch import nn

from builder.export.fx_import import trace_module
from builder.geometry import Geometry, overlap, problems


class Bottleneck(nn.Module):
    """A residual block whose shortcut is a 1×1 projection (its own ``shortcut`` submodule)."""

    def __init__(self, cin: int, mid: int, cout: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):  # type: ignore[no-untyped-def]
        out = self.bn1(self.conv1(x)).relu()
        out = self.bn2(self.conv2(out)).relu()
        out = self.bn3(self.conv3(out))
        return (out + self.shortcut(x)).relu()


class TwoPath(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.layer1 = nn.Sequential(Bottleneck(8, 4, 16), Bottleneck(16, 4, 32))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):  # type: ignore[no-untyped-def]
        out = self.pool(self.layer1(self.conv(x)))
        return self.fc(torch.flatten(out, 1))


def test_an_imported_two_path_net_keeps_the_main_path_out_of_the_shortcut_frame() -> None:
    graph = trace_module(TwoPath(), (3, 8, 8), "two_path")
    assert problems(graph) == []
    geo = Geometry(graph)
    frames = geo.frames()
    shortcuts = [g for g in frames if g.endswith(".shortcut")]
    assert len(shortcuts) == 2
    for group in shortcuts:
        block = group.removesuffix(".shortcut")
        main_path = [b.id for b in graph.blocks() if b.group == block]
        assert main_path
        for block_id in main_path:
            assert not overlap(frames[group], geo.item(block_id)), (group, block_id)
        ys = {graph.block(b).pos[1] for b in main_path if graph.block(b).type != "add"}
        shortcut_ys = {b.pos[1] for b in graph.blocks() if b.group == group}
        assert len(shortcut_ys) == 1 and not ys & shortcut_ys  # a lane of its own
