"""The reference model zoo as graph generators (Qt-free, torch-free).

The CIFAR models of facebookresearch/mixup-cifar10 ``models/`` on 3×32×32 inputs, with
the same layers and parameter counts: pre-activation ResNet-18, ResNet-34/50/101/152,
MobileNet, ResNeXt29 (32×4d), DenseNet-121 and GoogLeNet; plus the Wide ResNets of
Zagoruyko & Komodakis 2016 (WRN-d-k: pre-activation blocks, widths 16k/32k/64k).
Functional ReLUs and poolings of the reference code are ReLU and pooling blocks; the
nested modules become groups (``layer2.0``, ``layer2.0.shortcut``), so module paths, and
state-dict keys, read like the originals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # builder.templates imports this module to register the zoo
    from builder.graph import Graph
    from builder.templates import Shape3, _Builder

# ------------------------------------------------------------------------------ helpers


def _conv(b: _Builder, x: str, name: str, out: int, group: str, kernel: int = 3, stride: int = 1,
          groups: int = 1, bias: bool = False) -> str:
    return b.add("conv2d", name, x, group=group, out_channels=out, kernel_size=kernel,
                 stride=stride, padding=kernel // 2, groups=groups, bias=bias)


def _bn_relu(b: _Builder, x: str, suffix: str, group: str) -> str:
    """``relu{suffix}(bn{suffix}(x))``."""
    bn = b.add("batchnorm2d", f"bn{suffix}", x, group=group)
    return b.add("relu", f"relu{suffix}", bn, group=group)


def _start(name: str, description: str, input_shape: Shape3) -> tuple[_Builder, str]:
    from builder.templates import _Builder

    b = _Builder(name, description)
    c, h, w = input_shape
    return b, b.add("input", "input", channels=c, height=h, width=w)


def _pool_head(b: _Builder, x: str, kernel: int, num_classes: int, name: str = "linear") -> None:
    """``linear(flatten(avg_pool2d(x, kernel)))`` as in the reference forward methods."""
    x = b.add("avgpool2d", "avgpool", x, kernel_size=kernel, stride=kernel)
    x = b.add("flatten", "flatten", x)
    b.add("output", "output", b.add("linear", name, x, out_features=num_classes))


# ------------------------------------------------------------------------------ ResNets


def _preact_block(b: _Builder, x: str, g: str, in_ch: int, planes: int, stride: int) -> tuple[str, int]:
    out = _bn_relu(b, x, "1", g)
    skip = x
    if stride != 1 or in_ch != planes:
        skip = _conv(b, out, "0", planes, f"{g}.shortcut", kernel=1, stride=stride)
    y = _bn_relu(b, _conv(b, out, "conv1", planes, g, stride=stride), "2", g)
    y = _conv(b, y, "conv2", planes, g)
    return b.add("add", "add", y, skip, group=g), planes


def _shortcut_bn(b: _Builder, x: str, g: str, in_ch: int, out: int, stride: int) -> str:
    if stride == 1 and in_ch == out:
        return x
    conv = _conv(b, x, "0", out, f"{g}.shortcut", kernel=1, stride=stride)
    return b.add("batchnorm2d", "1", conv, group=f"{g}.shortcut")


def _basic_block(b: _Builder, x: str, g: str, in_ch: int, planes: int, stride: int) -> tuple[str, int]:
    y = _bn_relu(b, _conv(b, x, "conv1", planes, g, stride=stride), "1", g)
    y = b.add("batchnorm2d", "bn2", _conv(b, y, "conv2", planes, g), group=g)
    y = b.add("add", "add", y, _shortcut_bn(b, x, g, in_ch, planes, stride), group=g)
    return b.add("relu", "relu2", y, group=g), planes


def _bottleneck(b: _Builder, x: str, g: str, in_ch: int, planes: int, stride: int) -> tuple[str, int]:
    out = 4 * planes
    y = _bn_relu(b, _conv(b, x, "conv1", planes, g, kernel=1), "1", g)
    y = _bn_relu(b, _conv(b, y, "conv2", planes, g, stride=stride), "2", g)
    y = b.add("batchnorm2d", "bn3", _conv(b, y, "conv3", out, g, kernel=1), group=g)
    y = b.add("add", "add", y, _shortcut_bn(b, x, g, in_ch, out, stride), group=g)
    return b.add("relu", "relu3", y, group=g), out


_RESNETS: dict[int, tuple[Any, tuple[int, ...]]] = {
    18: (_preact_block, (2, 2, 2, 2)),
    34: (_basic_block, (3, 4, 6, 3)),
    50: (_bottleneck, (3, 4, 6, 3)),
    101: (_bottleneck, (3, 4, 23, 3)),
    152: (_bottleneck, (3, 8, 36, 3)),
}


def resnet(depth: int = 18, input_shape: Shape3 = (3, 32, 32), num_classes: int = 10) -> Graph:
    """mixup-cifar10 ``ResNet18`` (pre-activation blocks), ``ResNet34/50/101/152``."""
    if depth not in _RESNETS:
        raise ValueError(f"depth must be one of {', '.join(map(str, _RESNETS))}, got {depth}")
    block, counts = _RESNETS[depth]
    kind = "pre-activation " if depth == 18 else ""
    b, x = _start(f"resnet{depth}_cifar", f"ResNet-{depth} with {kind}blocks {counts} for "
                  "CIFAR (mixup-cifar10 models/resnet.py).", input_shape)
    x = _bn_relu(b, _conv(b, x, "conv1", 64, ""), "1", "")
    in_ch = 64
    for stage, (n, planes) in enumerate(zip(counts, (64, 128, 256, 512), strict=True), start=1):
        for j in range(n):
            stride = 2 if stage > 1 and j == 0 else 1
            x, in_ch = block(b, x, f"layer{stage}.{j}", in_ch, planes, stride)
    _pool_head(b, x, 4, num_classes)
    return b.done()


def wide_resnet(depth: int = 28, widen: int = 10, input_shape: Shape3 = (3, 32, 32),
                num_classes: int = 10) -> Graph:
    """WRN-``depth``-``widen`` (Zagoruyko & Komodakis 2016): pre-activation basic blocks."""
    if depth < 10 or (depth - 4) % 6:
        raise ValueError(f"depth must be 6n+4 (16, 22, 28, 40…), got {depth}")
    if widen < 1:
        raise ValueError(f"widen factor must be at least 1, got {widen}")
    n = (depth - 4) // 6
    b, x = _start(f"wrn{depth}_{widen}", f"Wide ResNet WRN-{depth}-{widen} (Zagoruyko & Komodakis "
                  f"2016): {n} pre-activation blocks per stage, widths {16 * widen}/{32 * widen}/"
                  f"{64 * widen}.", input_shape)
    x, in_ch = _conv(b, x, "conv1", 16, ""), 16
    for stage, width in enumerate((16 * widen, 32 * widen, 64 * widen), start=1):
        for j in range(n):
            stride = 2 if stage > 1 and j == 0 else 1
            x, in_ch = _preact_block(b, x, f"layer{stage}.{j}", in_ch, width, stride)
    x = _bn_relu(b, x, "1", "")
    _pool_head(b, x, 8, num_classes, name="fc")
    return b.done()


# ------------------------------------------------------------------------------ MobileNet, ResNeXt

MOBILENET = (64, (128, 2), 128, (256, 2), 256, (512, 2), 512, 512, 512, 512, 512, (1024, 2), 1024)


def mobilenet(input_shape: Shape3 = (3, 32, 32), num_classes: int = 10) -> Graph:
    """mixup-cifar10 ``MobileNet``: depthwise-separable blocks (grouped convolutions)."""
    b, x = _start("mobilenet", "MobileNet (Howard et al. 2017) for CIFAR: depthwise + pointwise "
                  "blocks (mixup-cifar10 models/mobilenet.py).", input_shape)
    x, in_ch = _bn_relu(b, _conv(b, x, "conv1", 32, ""), "1", ""), 32
    for i, item in enumerate(MOBILENET):
        out, stride = item if isinstance(item, tuple) else (item, 1)
        g = f"layers.{i}"
        y = _bn_relu(b, _conv(b, x, "conv1", in_ch, g, stride=stride, groups=in_ch), "1", g)
        x = _bn_relu(b, _conv(b, y, "conv2", out, g, kernel=1), "2", g)
        in_ch = out
    _pool_head(b, x, 2, num_classes)
    return b.done()


def _resnext_block(b: _Builder, x: str, g: str, in_ch: int, width: int, cardinality: int,
                   stride: int) -> tuple[str, int]:
    group_width, out = cardinality * width, 2 * cardinality * width
    y = _bn_relu(b, _conv(b, x, "conv1", group_width, g, kernel=1), "1", g)
    y = _bn_relu(b, _conv(b, y, "conv2", group_width, g, stride=stride, groups=cardinality), "2", g)
    y = b.add("batchnorm2d", "bn3", _conv(b, y, "conv3", out, g, kernel=1), group=g)
    y = b.add("add", "add", y, _shortcut_bn(b, x, g, in_ch, out, stride), group=g)
    return b.add("relu", "relu3", y, group=g), out


def resnext29(cardinality: int = 32, width: int = 4, input_shape: Shape3 = (3, 32, 32),
              num_classes: int = 10) -> Graph:
    """mixup-cifar10 ``ResNeXt29_{cardinality}x{width}d``: grouped 3×3 convolutions."""
    b, x = _start(f"resnext29_{cardinality}x{width}d", f"ResNeXt-29 ({cardinality}×{width}d, Xie et "
                  "al. 2017) for CIFAR (mixup-cifar10 models/resnext.py).", input_shape)
    x, in_ch = _bn_relu(b, _conv(b, x, "conv1", 64, "", kernel=1), "1", ""), 64
    for stage in (1, 2, 3):
        for j in range(3):
            stride = 2 if stage > 1 and j == 0 else 1
            x, in_ch = _resnext_block(b, x, f"layer{stage}.{j}", in_ch, width, cardinality, stride)
        width *= 2
    _pool_head(b, x, 8, num_classes)
    return b.done()


# ------------------------------------------------------------------------------ DenseNet, GoogLeNet


def densenet121(growth: int = 32, input_shape: Shape3 = (3, 32, 32), num_classes: int = 10) -> Graph:
    """mixup-cifar10 ``DenseNet121``: blocks of 6/12/24/16 layers joined by concatenation."""
    b, x = _start("densenet121", "DenseNet-121 (Huang et al. 2017) for CIFAR, growth rate "
                  f"{growth} (mixup-cifar10 models/densenet.py).", input_shape)
    x, ch = _conv(b, x, "conv1", 2 * growth, ""), 2 * growth
    for stage, n in enumerate((6, 12, 24, 16), start=1):
        for j in range(n):
            g = f"dense{stage}.{j}"
            y = _conv(b, _bn_relu(b, x, "1", g), "conv1", 4 * growth, g, kernel=1)
            y = _conv(b, _bn_relu(b, y, "2", g), "conv2", growth, g)
            x, ch = b.add("concat", "cat", y, x, group=g), ch + growth
        if stage < 4:
            g, ch = f"trans{stage}", ch // 2
            y = _conv(b, _bn_relu(b, x, "", g), "conv", ch, g, kernel=1)
            x = b.add("avgpool2d", "pool", y, group=g, kernel_size=2, stride=2)
    x = _bn_relu(b, x, "", "")
    _pool_head(b, x, 4, num_classes)
    return b.done()


INCEPTIONS: tuple[tuple[str, tuple[int, ...]] | str, ...] = (
    ("a3", (64, 96, 128, 16, 32, 32)), ("b3", (128, 128, 192, 32, 96, 64)), "maxpool",
    ("a4", (192, 96, 208, 16, 48, 64)), ("b4", (160, 112, 224, 24, 64, 64)),
    ("c4", (128, 128, 256, 24, 64, 64)), ("d4", (112, 144, 288, 32, 64, 64)),
    ("e4", (256, 160, 320, 32, 128, 128)), "maxpool",
    ("a5", (256, 160, 320, 32, 128, 128)), ("b5", (384, 192, 384, 48, 128, 128)),
)


def _conv_bn_relu(b: _Builder, x: str, branch: str, i: int, out: int, g: str, kernel: int) -> str:
    conv = _conv(b, x, f"{branch}_conv{i}", out, g, kernel=kernel, bias=True)
    bn = b.add("batchnorm2d", f"{branch}_bn{i}", conv, group=g)
    return b.add("relu", f"{branch}_relu{i}", bn, group=g)


def _inception(b: _Builder, x: str, g: str, sizes: tuple[int, ...]) -> str:
    n1, n3red, n3, n5red, n5, pool_planes = sizes
    y1 = _conv_bn_relu(b, x, "b1", 1, n1, g, 1)
    y2 = _conv_bn_relu(b, _conv_bn_relu(b, x, "b2", 1, n3red, g, 1), "b2", 2, n3, g, 3)
    y3 = _conv_bn_relu(b, x, "b3", 1, n5red, g, 1)
    y3 = _conv_bn_relu(b, _conv_bn_relu(b, y3, "b3", 2, n5, g, 3), "b3", 3, n5, g, 3)
    pool = b.add("maxpool2d", "b4_pool", x, group=g, kernel_size=3, stride=1, padding=1)
    y4 = _conv_bn_relu(b, pool, "b4", 1, pool_planes, g, 1)
    return b.add("concat", "cat", y1, y2, y3, y4, group=g)


def googlenet(input_shape: Shape3 = (3, 32, 32), num_classes: int = 10) -> Graph:
    """mixup-cifar10 ``GoogLeNet``: Inception blocks with four concatenated branches."""
    b, x = _start("googlenet", "GoogLeNet (Szegedy et al. 2015) for CIFAR: Inception blocks of "
                  "four branches joined by concatenation (mixup-cifar10 models/googlenet.py).",
                  input_shape)
    x = _conv_bn_relu(b, x, "pre", 1, 192, "", 3)
    pools = 0
    for item in INCEPTIONS:
        if isinstance(item, tuple):
            x = _inception(b, x, item[0], item[1])
        else:
            pools += 1
            x = b.add("maxpool2d", f"maxpool{pools}", x, kernel_size=3, stride=2, padding=1)
    x = b.add("avgpool2d", "avgpool", x, kernel_size=8, stride=1)
    x = b.add("flatten", "flatten", x)
    b.add("output", "output", b.add("linear", "linear", x, out_features=num_classes))
    return b.done()


# ------------------------------------------------------------------------------ registry

# name → (generator, help), merged into builder.templates.TEMPLATES
ZOO_TEMPLATES: dict[str, tuple[Any, str]] = {
    "resnet_cifar": (resnet, "mixup-cifar10 ResNet (--depth 18 pre-activation, 34, 50, 101, 152)"),
    "wide_resnet": (wide_resnet, "Wide ResNet WRN-d-k (depth 6n+4, widen factor k)"),
    "mobilenet": (mobilenet, "MobileNet (mixup-cifar10)"),
    "resnext29": (resnext29, "ResNeXt-29 32×4d (mixup-cifar10)"),
    "densenet121": (densenet121, "DenseNet-121 (mixup-cifar10)"),
    "googlenet": (googlenet, "GoogLeNet (mixup-cifar10)"),
}

# shipped file stem → (template, options), merged into builder.templates.SHIPPED
ZOO_SHIPPED: dict[str, tuple[str, dict[str, Any]]] = {
    "preact_resnet18": ("resnet_cifar", {"depth": 18}),
    "resnet34": ("resnet_cifar", {"depth": 34}),
    "resnet50": ("resnet_cifar", {"depth": 50}),
    "mobilenet": ("mobilenet", {}),
    "resnext29_32x4d": ("resnext29", {}),
    "densenet121": ("densenet121", {}),
    "googlenet": ("googlenet", {}),
    "wrn16_4": ("wide_resnet", {"depth": 16, "widen": 4}),
    "wrn28_10": ("wide_resnet", {"depth": 28, "widen": 10}),
}

# The reference parameter counts on 3×32×32 with 10 classes (mixup-cifar10 models/)
REFERENCE_PARAMS = {
    "preact_resnet18": 11_171_274, "resnet34": 21_282_122, "resnet50": 23_520_842,
    "mobilenet": 3_217_226, "resnext29_32x4d": 4_774_218, "densenet121": 6_956_298,
    "googlenet": 6_166_250,
}
