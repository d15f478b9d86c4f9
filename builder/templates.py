"""Templates: generators of classic networks as graphs (Qt-free, torch-free).

``cifar_resnet`` builds He et al.'s CIFAR nets (Table 6: depth 6n+2, stages of 16/32/64
filters) with identity shortcuts, option-A (ShortcutPad) or option-B (1×1 conv + BN)
shortcuts where the shape changes, or as the plain net with the same layers and no
shortcuts. ``vgg16`` and ``lenet`` follow facebookresearch/mixup-cifar10's ``models/``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from builder.graph import Graph
from builder.layout import apply_layout

Shape3 = tuple[int, int, int]


class _Builder:
    """Adds blocks with group-prefixed ids and wires them in port order."""

    def __init__(self, name: str, description: str) -> None:
        self.graph = Graph(name)
        self.graph.description = description

    def add(self, type_id: str, local: str, *sources: str, group: str = "", **params: Any) -> str:
        block_id = f"{group.replace('.', '_')}_{local}" if group else local
        self.graph.add_block(type_id, params, block_id=block_id, group=group)
        for port, src in enumerate(sources):
            self.graph.connect(src, block_id, port)
        return block_id

    def conv_bn(self, src: str, group: str, suffix: str, out: int, stride: int = 1,
                kernel: int = 3) -> str:
        conv = self.add("conv2d", f"conv{suffix}", src, group=group, out_channels=out,
                        kernel_size=kernel, stride=stride, padding=kernel // 2, bias=False)
        return self.add("batchnorm2d", f"bn{suffix}", conv, group=group)

    def head(self, src: str, num_classes: int) -> str:
        pool = self.add("global_avgpool", "avgpool", src)
        flat = self.add("flatten", "flatten", pool)
        fc = self.add("linear", "fc", flat, out_features=num_classes)
        return self.add("output", "output", fc)

    def done(self) -> Graph:
        apply_layout(self.graph)
        return self.graph


MAX_CIFAR_DEPTH = 1202  # the deepest net of He et al.'s CIFAR study (~4,000 blocks)


def cifar_resnet(depth: int = 20, residual: bool = True, shortcut: str = "A",
                 input_shape: Shape3 = (3, 32, 32), num_classes: int = 10,
                 widths: tuple[int, int, int] = (16, 32, 64),
                 strides: tuple[int, int, int] = (1, 2, 2)) -> Graph:
    """He et al.'s CIFAR ResNet-``depth`` (or its plain twin when ``residual`` is False)."""
    if depth < 8 or (depth - 2) % 6 or depth > MAX_CIFAR_DEPTH:
        raise ValueError(f"depth must be 6n+2 from 8 to {MAX_CIFAR_DEPTH} (20, 32, 44, 56, 110…), "
                         f"got {depth}")
    if shortcut not in ("A", "B"):
        raise ValueError(f"shortcut must be 'A' or 'B', got {shortcut!r}")
    n = (depth - 2) // 6
    kind = f"ResNet-{depth} (option {shortcut} shortcuts)" if residual else f"plain-{depth}"
    name = f"resnet{depth}" + ("" if shortcut == "A" else "b") if residual else f"plain{depth}"
    b = _Builder(name, f"He et al. 2015 CIFAR {kind}: {n} blocks per stage, widths {widths}.")
    c, h, w = input_shape
    x = b.add("input", "input", channels=c, height=h, width=w)
    x = b.add("relu", "relu1", b.conv_bn(x, "", "1", widths[0]))
    in_ch = widths[0]
    for stage, (width, first_stride) in enumerate(zip(widths, strides, strict=True), start=1):
        for j in range(n):
            stride = first_stride if j == 0 else 1
            x = _basic_block(b, x, f"layer{stage}.{j}", in_ch, width, stride, residual, shortcut)
            in_ch = width
    b.head(x, num_classes)
    return b.done()


def _basic_block(b: _Builder, x: str, group: str, in_ch: int, out: int, stride: int,
                 residual: bool, shortcut: str) -> str:
    y = b.add("relu", "relu1", b.conv_bn(x, group, "1", out, stride), group=group)
    y = b.conv_bn(y, group, "2", out)
    if residual:
        skip = x
        if stride != 1 or in_ch != out:
            if shortcut == "A":
                skip = b.add("shortcut_pad", "shortcut", x, group=group, stride=stride,
                             out_channels=out)
            else:
                skip = b.conv_bn(x, group, "_shortcut", out, stride, kernel=1)
        y = b.add("add", "add", y, skip, group=group)
    return b.add("relu", "relu2", y, group=group)


VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


def vgg16(input_shape: Shape3 = (3, 32, 32), num_classes: int = 10) -> Graph:
    """VGG-16 with BatchNorm as in mixup-cifar10 ``models/vgg.py`` (14,728,266 parameters)."""
    b = _Builder("vgg16", "VGG-16 with BatchNorm for 32×32 inputs (mixup-cifar10 models/vgg.py).")
    c, h, w = input_shape
    x = b.add("input", "input", channels=c, height=h, width=w)
    stage, index = 1, 1
    for item in VGG16:
        group = f"features.stage{stage}"
        if item == "M":
            x = b.add("maxpool2d", "pool", x, group=group, kernel_size=2, stride=2)
            stage, index = stage + 1, 1
            continue
        conv = b.add("conv2d", f"conv{index}", x, group=group, out_channels=item, padding=1)
        x = b.add("relu", f"relu{index}", b.add("batchnorm2d", f"bn{index}", conv, group=group),
                  group=group)
        index += 1
    x = b.add("avgpool2d", "avgpool", x, kernel_size=1, stride=1)
    flat = b.add("flatten", "flatten", x)
    b.add("output", "output", b.add("linear", "classifier", flat, out_features=num_classes))
    return b.done()


def lenet(input_shape: Shape3 = (3, 32, 32), num_classes: int = 10) -> Graph:
    """LeNet as in mixup-cifar10 ``models/lenet.py`` (62,006 parameters on 3×32×32)."""
    b = _Builder("lenet", "LeNet-5 style network (mixup-cifar10 models/lenet.py).")
    c, h, w = input_shape
    x = b.add("input", "input", channels=c, height=h, width=w)
    for i, out in ((1, 6), (2, 16)):
        conv = b.add("conv2d", f"conv{i}", x, out_channels=out, kernel_size=5, padding=0)
        x = b.add("maxpool2d", f"pool{i}", b.add("relu", f"relu{i}", conv), kernel_size=2, stride=2)
    x = b.add("flatten", "flatten", x)
    x = b.add("relu", "relu3", b.add("linear", "fc1", x, out_features=120))
    x = b.add("relu", "relu4", b.add("linear", "fc2", x, out_features=84))
    b.add("output", "output", b.add("linear", "fc3", x, out_features=num_classes))
    return b.done()


# name → (generator, help). Generators take keyword options; see ``make``.
TEMPLATES: dict[str, tuple[Callable[..., Graph], str]] = {
    "resnet": (cifar_resnet, "He et al. CIFAR ResNet (--depth 6n+2, --shortcut A|B)"),
    "plain": (lambda **kw: cifar_resnet(residual=False, **kw), "the plain twin of a CIFAR ResNet"),
    "vgg16": (vgg16, "VGG-16 with BatchNorm (mixup-cifar10)"),
    "lenet": (lenet, "LeNet (mixup-cifar10)"),
}


def make(name: str, **options: Any) -> Graph:
    """Build template ``name`` with the options it accepts (others are ignored)."""
    if name not in TEMPLATES:
        raise ValueError(f"unknown template {name!r}; known: {', '.join(TEMPLATES)}")
    generator = TEMPLATES[name][0]
    if name in ("vgg16", "lenet"):
        options = {k: v for k, v in options.items() if k in ("input_shape", "num_classes")}
    if name == "plain":
        options.pop("shortcut", None)
    if name in ZOO_TEMPLATES:
        accepted = inspect.signature(generator).parameters
        options = {k: v for k, v in options.items() if k in accepted}
    return generator(**options)


# The files shipped in graphs/: file stem → (template, options)
SHIPPED: dict[str, tuple[str, dict[str, Any]]] = {
    **{f"resnet{d}": ("resnet", {"depth": d}) for d in (20, 32, 44, 56, 110)},
    **{f"plain{d}": ("plain", {"depth": d}) for d in (20, 32, 44, 56, 110)},
    "resnet20b": ("resnet", {"depth": 20, "shortcut": "B"}),
    "vgg16": ("vgg16", {}),
    "lenet": ("lenet", {}),
}

# The reference zoo (mixup-cifar10 models and Wide ResNets) lives in builder.zoo.
from builder.zoo import ZOO_SHIPPED, ZOO_TEMPLATES  # noqa: E402  (zoo builds on _Builder above)

TEMPLATES.update(ZOO_TEMPLATES)
SHIPPED.update(ZOO_SHIPPED)
