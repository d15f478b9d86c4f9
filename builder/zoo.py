"""The reference model zoo as graph generators (Qt-free, torch-free).

The CIFAR models of facebookresearch/mixup-cifar10 ``models/`` on 3×32×32 inputs, computing
what that code computes, with its layers, parameter counts and state-dict keys: ResNet-18
(pre-activation blocks), ResNet-34/50/101/152, ResNeXt-29, DenseNet-121/169/201/161 and
``densenet_cifar``, DenseNet-BC-190 (``densenet3.py``), VGG-11/13/16/19, GoogLeNet, MobileNet
and LeNet; plus the Wide ResNets of Zagoruyko & Komodakis 2016 and the Identity-Mappings form of
the pre-activation ResNet-18. Functional ReLUs and poolings of the reference code are ReLU and
pooling blocks; nested modules become groups (``layer2.0``, ``layer2.0.shortcut``) and the layers
of an ``nn.Sequential`` are named ``0``, ``1``, … inside theirs, so module paths, and state-dict
keys, are the reference code's own: its trained weights load with ``strict=True``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from builder.graph import Graph
from builder.graphbuilder import GraphBuilder, Shape3

CIFAR = (3, 32, 32)

# ------------------------------------------------------------------------------ helpers


def _conv(b: GraphBuilder, x: str, name: str, out: int, group: str, kernel: int = 3, stride: int = 1,
          groups: int = 1, bias: bool = False) -> str:
    return b.add("conv2d", name, x, group=group, out_channels=out, kernel_size=kernel,
                 stride=stride, padding=kernel // 2, groups=groups, bias=bias)


def _bn_relu(b: GraphBuilder, x: str, suffix: str, group: str) -> str:
    """``relu{suffix}(bn{suffix}(x))``."""
    bn = b.add("batchnorm2d", f"bn{suffix}", x, group=group)
    return b.add("relu", f"relu{suffix}", bn, group=group)


def _start(name: str, description: str, input_shape: Shape3) -> tuple[GraphBuilder, str]:
    b = GraphBuilder(name, description)
    c, h, w = input_shape
    return b, b.add("input", "input", channels=c, height=h, width=w)


def _pool_head(b: GraphBuilder, x: str, kernel: int, num_classes: int, name: str = "linear") -> None:
    """``linear(flatten(avg_pool2d(x, kernel)))`` as in the reference forward methods."""
    x = b.add("avgpool2d", "avgpool", x, kernel_size=kernel, stride=kernel)
    x = b.add("flatten", "flatten", x)
    b.add("output", "output", b.add("linear", name, x, out_features=num_classes))


class _Seq:
    """Layers of an ``nn.Sequential`` inside ``group``: ids ``{group}_0``, ``{group}_1``, …"""

    def __init__(self, b: GraphBuilder, group: str) -> None:
        self.b, self.group, self.index = b, group, 0

    def add(self, type_id: str, x: str, **params: Any) -> str:
        x = self.b.add(type_id, str(self.index), x, group=self.group, **params)
        self.index += 1
        return x

    def conv_bn_relu(self, x: str, out: int, kernel: int, padding: int | None = None) -> str:
        pad = kernel // 2 if padding is None else padding
        x = self.add("conv2d", x, out_channels=out, kernel_size=kernel, padding=pad)
        return self.add("relu", self.add("batchnorm2d", x))


# ------------------------------------------------------------------------------ ResNets


def _preact_block(b: GraphBuilder, x: str, g: str, in_ch: int, planes: int, stride: int,
                  seed_form: bool = True) -> tuple[str, int]:
    """mixup-cifar10's ``PreActBlock``: the shortcut takes ``relu(bn1(x))``, identity or not.

    With ``seed_form=False`` the identity shortcut adds ``x`` itself (He et al. 2016,
    "Identity Mappings in Deep Residual Networks", and Wide ResNets).
    """
    out = _bn_relu(b, x, "1", g)
    skip = out if seed_form else x
    if stride != 1 or in_ch != planes:
        skip = _conv(b, out, "0", planes, f"{g}.shortcut", kernel=1, stride=stride)
    y = _bn_relu(b, _conv(b, out, "conv1", planes, g, stride=stride), "2", g)
    y = _conv(b, y, "conv2", planes, g)
    return b.add("add", "add", y, skip, group=g), planes


def _identity_preact_block(b: GraphBuilder, x: str, g: str, in_ch: int, planes: int,
                           stride: int) -> tuple[str, int]:
    return _preact_block(b, x, g, in_ch, planes, stride, seed_form=False)


def _shortcut_bn(b: GraphBuilder, x: str, g: str, in_ch: int, out: int, stride: int) -> str:
    if stride == 1 and in_ch == out:
        return x
    conv = _conv(b, x, "0", out, f"{g}.shortcut", kernel=1, stride=stride)
    return b.add("batchnorm2d", "1", conv, group=f"{g}.shortcut")


def _basic_block(b: GraphBuilder, x: str, g: str, in_ch: int, planes: int, stride: int) -> tuple[str, int]:
    y = _bn_relu(b, _conv(b, x, "conv1", planes, g, stride=stride), "1", g)
    y = b.add("batchnorm2d", "bn2", _conv(b, y, "conv2", planes, g), group=g)
    y = b.add("add", "add", y, _shortcut_bn(b, x, g, in_ch, planes, stride), group=g)
    return b.add("relu", "relu2", y, group=g), planes


def _bottleneck(b: GraphBuilder, x: str, g: str, in_ch: int, planes: int, stride: int) -> tuple[str, int]:
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


def resnet(depth: int = 18, input_shape: Shape3 = CIFAR, num_classes: int = 10,
           identity_mappings: bool = False) -> Graph:
    """mixup-cifar10 ``ResNet18`` (pre-activation blocks), ``ResNet34/50/101/152``.

    ``identity_mappings`` (depth 18 only) builds the Identity-Mappings form of the
    pre-activation blocks, whose identity shortcuts add ``x`` rather than ``relu(bn1(x))``.
    """
    if depth not in _RESNETS:
        raise ValueError(f"depth must be one of {', '.join(map(str, _RESNETS))}, got {depth}")
    block, counts = _RESNETS[depth]
    if identity_mappings:
        if depth != 18:
            raise ValueError("the Identity-Mappings form is a pre-activation ResNet-18 (depth 18)")
        block = _identity_preact_block
        b, x = _start("preact_resnet18_identity", "Pre-activation ResNet-18 in the Identity-Mappings "
                      "form (He et al. 2016): identity shortcuts add x itself; weights of mixup-cifar10's "
                      "ResNet18 load by key, but it computes a different function.", input_shape)
    else:
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


def _blocks_6n4(depth: int, examples: str, width: int, width_name: str) -> int:
    """n for a depth of 6n+4 (ValueError otherwise, or for a width below 1)."""
    if depth < 10 or (depth - 4) % 6:
        raise ValueError(f"depth must be 6n+4 ({examples}), got {depth}")
    if width < 1:
        raise ValueError(f"{width_name} must be at least 1, got {width}")
    return (depth - 4) // 6


def wide_resnet(depth: int = 28, widen: int = 10, input_shape: Shape3 = CIFAR,
                num_classes: int = 10) -> Graph:
    """WRN-``depth``-``widen`` (Zagoruyko & Komodakis 2016): pre-activation basic blocks."""
    n = _blocks_6n4(depth, "16, 22, 28, 40…", widen, "widen factor")
    b, x = _start(f"wrn{depth}_{widen}", f"Wide ResNet WRN-{depth}-{widen} (Zagoruyko & Komodakis "
                  f"2016): {n} pre-activation blocks per stage, widths {16 * widen}/{32 * widen}/"
                  f"{64 * widen}.", input_shape)
    x, in_ch = _conv(b, x, "conv1", 16, ""), 16
    for stage, width in enumerate((16 * widen, 32 * widen, 64 * widen), start=1):
        for j in range(n):
            stride = 2 if stage > 1 and j == 0 else 1
            x, in_ch = _identity_preact_block(b, x, f"layer{stage}.{j}", in_ch, width, stride)
    x = _bn_relu(b, x, "1", "")
    _pool_head(b, x, 8, num_classes, name="fc")
    return b.done()


# ------------------------------------------------------------------------------ MobileNet, ResNeXt

MOBILENET = (64, (128, 2), 128, (256, 2), 256, (512, 2), 512, 512, 512, 512, 512, (1024, 2), 1024)


def mobilenet(input_shape: Shape3 = CIFAR, num_classes: int = 10) -> Graph:
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


def _resnext_block(b: GraphBuilder, x: str, g: str, in_ch: int, width: int, cardinality: int,
                   stride: int) -> tuple[str, int]:
    group_width, out = cardinality * width, 2 * cardinality * width
    y = _bn_relu(b, _conv(b, x, "conv1", group_width, g, kernel=1), "1", g)
    y = _bn_relu(b, _conv(b, y, "conv2", group_width, g, stride=stride, groups=cardinality), "2", g)
    y = b.add("batchnorm2d", "bn3", _conv(b, y, "conv3", out, g, kernel=1), group=g)
    y = b.add("add", "add", y, _shortcut_bn(b, x, g, in_ch, out, stride), group=g)
    return b.add("relu", "relu3", y, group=g), out


def resnext29(cardinality: int = 32, width: int = 4, input_shape: Shape3 = CIFAR,
              num_classes: int = 10) -> Graph:
    """mixup-cifar10 ``ResNeXt29_{cardinality}x{width}d``: grouped 3×3 convolutions."""
    if cardinality < 1 or width < 1:
        raise ValueError(f"cardinality and width must be at least 1, got {cardinality}×{width}d")
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


# ------------------------------------------------------------------------------ DenseNets

DENSENETS = {121: ((6, 12, 24, 16), 32), 169: ((6, 12, 32, 32), 32), 201: ((6, 12, 48, 32), 32),
             161: ((6, 12, 36, 24), 48)}


def densenet(depth: int = 121, growth: int | None = None, input_shape: Shape3 = CIFAR,
             num_classes: int = 10, name: str = "") -> Graph:
    """mixup-cifar10 ``DenseNet121/169/201/161`` (``densenet.py``): layers joined by concatenation.

    ``growth`` overrides the growth rate (``densenet_cifar`` is DenseNet-121's layout at 12).
    """
    if depth not in DENSENETS:
        raise ValueError(f"depth must be one of {', '.join(map(str, DENSENETS))}, got {depth}")
    blocks, growth = DENSENETS[depth][0], growth or DENSENETS[depth][1]
    b, x = _start(name or f"densenet{depth}", f"DenseNet-{depth} (Huang et al. 2017) for CIFAR, "
                  f"growth rate {growth} (mixup-cifar10 models/densenet.py).", input_shape)
    x, ch = _conv(b, x, "conv1", 2 * growth, ""), 2 * growth
    for stage, n in enumerate(blocks, start=1):
        for j in range(n):
            g = f"dense{stage}.{j}"
            y = _conv(b, _bn_relu(b, x, "1", g), "conv1", 4 * growth, g, kernel=1)
            y = _conv(b, _bn_relu(b, y, "2", g), "conv2", growth, g)
            x, ch = b.add("concat", "cat", y, x, group=g), ch + growth
        if stage < len(blocks):
            g, ch = f"trans{stage}", ch // 2
            y = _conv(b, _bn_relu(b, x, "", g), "conv", ch, g, kernel=1)
            x = b.add("avgpool2d", "pool", y, group=g, kernel_size=2, stride=2)
    x = _bn_relu(b, x, "", "")
    _pool_head(b, x, 4, num_classes)
    return b.done()


def densenet121(growth: int = 32, input_shape: Shape3 = CIFAR, num_classes: int = 10) -> Graph:
    """mixup-cifar10 ``DenseNet121``."""
    return densenet(121, growth, input_shape, num_classes)


def _bc_layer(b: GraphBuilder, x: str, g: str, growth: int) -> str:
    """``densenet3.py``'s ``BottleneckBlock``: its one ReLU module is called twice (two blocks)."""
    y = _conv(b, b.add("relu", "relu", b.add("batchnorm2d", "bn1", x, group=g), group=g),
              "conv1", 4 * growth, g, kernel=1)
    y = _conv(b, b.add("relu", "relu_2", b.add("batchnorm2d", "bn2", y, group=g), group=g),
              "conv2", growth, g)
    return b.add("concat", "cat", x, y, group=g)


def _bc_transition(b: GraphBuilder, x: str, g: str, out: int) -> str:
    y = b.add("relu", "relu", b.add("batchnorm2d", "bn1", x, group=g), group=g)
    return b.add("avgpool2d", "pool", _conv(b, y, "conv1", out, g, kernel=1), group=g,
                 kernel_size=2, stride=2)


def densenet_bc(depth: int = 190, growth: int = 40, input_shape: Shape3 = CIFAR,
                num_classes: int = 10) -> Graph:
    """mixup-cifar10 ``DenseNet190`` (``densenet3.py``: DenseNet-BC, bottleneck layers, reduction 0.5)."""
    n = _blocks_6n4(depth, "40, 100, 190…", growth, "growth rate")
    b, x = _start(f"densenet_bc{depth}", f"DenseNet-BC-{depth} (Huang et al. 2017), growth rate "
                  f"{growth}: {n} bottleneck layers per block (mixup-cifar10 models/densenet3.py).",
                  input_shape)
    x, ch = _conv(b, x, "conv1", 2 * growth, ""), 2 * growth
    for stage in (1, 2, 3):
        for j in range(n):
            x, ch = _bc_layer(b, x, f"block{stage}.layer.{j}", growth), ch + growth
        if stage < 3:
            ch //= 2
            x = _bc_transition(b, x, f"trans{stage}", ch)
    x = b.add("relu", "relu", b.add("batchnorm2d", "bn1", x))
    _pool_head(b, x, 8, num_classes, name="fc")
    return b.done()


# ------------------------------------------------------------------------------ VGG, GoogLeNet, LeNet

VGGS: dict[int, tuple[int | str, ...]] = {
    11: (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    13: (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    16: (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    19: (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512,
         512, "M"),
}


def vgg(depth: int = 16, input_shape: Shape3 = CIFAR, num_classes: int = 10) -> Graph:
    """mixup-cifar10 ``VGG('VGG{depth}')``: conv-BN-ReLU layers in one ``features`` sequence."""
    if depth not in VGGS:
        raise ValueError(f"depth must be one of {', '.join(map(str, VGGS))}, got {depth}")
    b, x = _start(f"vgg{depth}", f"VGG-{depth} with BatchNorm for 32×32 inputs (mixup-cifar10 "
                  "models/vgg.py).", input_shape)
    features = _Seq(b, "features")
    for item in VGGS[depth]:
        if item == "M":
            x = features.add("maxpool2d", x, kernel_size=2, stride=2)
        else:
            x = features.conv_bn_relu(x, int(item), 3)
    x = b.add("flatten", "flatten", features.add("avgpool2d", x, kernel_size=1, stride=1))
    b.add("output", "output", b.add("linear", "classifier", x, out_features=num_classes))
    return b.done()


INCEPTIONS: tuple[tuple[str, tuple[int, ...]] | str, ...] = (
    ("a3", (64, 96, 128, 16, 32, 32)), ("b3", (128, 128, 192, 32, 96, 64)), "maxpool",
    ("a4", (192, 96, 208, 16, 48, 64)), ("b4", (160, 112, 224, 24, 64, 64)),
    ("c4", (128, 128, 256, 24, 64, 64)), ("d4", (112, 144, 288, 32, 64, 64)),
    ("e4", (256, 160, 320, 32, 128, 128)), "maxpool",
    ("a5", (256, 160, 320, 32, 128, 128)), ("b5", (384, 192, 384, 48, 128, 128)),
)


def _inception(b: GraphBuilder, x: str, g: str, sizes: tuple[int, ...]) -> str:
    """Four ``nn.Sequential`` branches ``b1``…``b4`` joined by concatenation."""
    n1, n3red, n3, n5red, n5, pool_planes = sizes
    y1 = _Seq(b, f"{g}.b1").conv_bn_relu(x, n1, 1)
    b2 = _Seq(b, f"{g}.b2")
    y2 = b2.conv_bn_relu(b2.conv_bn_relu(x, n3red, 1), n3, 3)
    b3 = _Seq(b, f"{g}.b3")
    y3 = b3.conv_bn_relu(b3.conv_bn_relu(b3.conv_bn_relu(x, n5red, 1), n5, 3), n5, 3)
    b4 = _Seq(b, f"{g}.b4")
    y4 = b4.conv_bn_relu(b4.add("maxpool2d", x, kernel_size=3, stride=1, padding=1), pool_planes, 1)
    return b.add("concat", "cat", y1, y2, y3, y4, group=g)


def googlenet(input_shape: Shape3 = CIFAR, num_classes: int = 10) -> Graph:
    """mixup-cifar10 ``GoogLeNet``: Inception blocks with four concatenated branches."""
    b, x = _start("googlenet", "GoogLeNet (Szegedy et al. 2015) for CIFAR: Inception blocks of "
                  "four branches joined by concatenation (mixup-cifar10 models/googlenet.py).",
                  input_shape)
    x = _Seq(b, "pre_layers").conv_bn_relu(x, 192, 3)
    pools = 0
    for item in INCEPTIONS:
        if isinstance(item, tuple):
            x = _inception(b, x, item[0], item[1])
        else:  # the reference calls its one `maxpool` module twice: two blocks here
            pools += 1
            x = b.add("maxpool2d", f"maxpool{pools}", x, kernel_size=3, stride=2, padding=1)
    x = b.add("avgpool2d", "avgpool", x, kernel_size=8, stride=1)
    x = b.add("flatten", "flatten", x)
    b.add("output", "output", b.add("linear", "linear", x, out_features=num_classes))
    return b.done()


def lenet(input_shape: Shape3 = CIFAR, num_classes: int = 10) -> Graph:
    """mixup-cifar10 ``LeNet`` (62,006 parameters on 3×32×32)."""
    b, x = _start("lenet", "LeNet-5 style network (mixup-cifar10 models/lenet.py).", input_shape)
    for i, out in ((1, 6), (2, 16)):
        conv = b.add("conv2d", f"conv{i}", x, out_channels=out, kernel_size=5, padding=0)
        x = b.add("maxpool2d", f"pool{i}", b.add("relu", f"relu{i}", conv), kernel_size=2, stride=2)
    x = b.add("flatten", "flatten", x)
    x = b.add("relu", "relu3", b.add("linear", "fc1", x, out_features=120))
    x = b.add("relu", "relu4", b.add("linear", "fc2", x, out_features=84))
    b.add("output", "output", b.add("linear", "fc3", x, out_features=num_classes))
    return b.done()


# ------------------------------------------------------------------------------ registry


def _variant(generator: Callable[..., Graph], **fixed: Any) -> Callable[..., Graph]:
    """A template of one reference model: it takes only the input shape and the classes."""

    def build(input_shape: Shape3 = CIFAR, num_classes: int = 10) -> Graph:
        return generator(input_shape=input_shape, num_classes=num_classes, **fixed)

    build.__doc__ = generator.__doc__
    return build


def _registry() -> dict[str, tuple[Callable[..., Graph], str]]:
    seed = "mixup-cifar10"
    table: dict[str, tuple[Callable[..., Graph], str]] = {
        "preact_resnet18": (_variant(resnet, depth=18), f"ResNet-18 of {seed} (its ResNet18: "
                            "pre-activation blocks whose shortcut takes relu(bn1(x)))"),
        "preact_resnet18_identity": (_variant(resnet, depth=18, identity_mappings=True),
                                     "Pre-activation ResNet-18, Identity-Mappings form (He et al. "
                                     "2016): identity shortcuts add x itself"),
    }
    for depth, kind in ((34, "basic"), (50, "bottleneck"), (101, "bottleneck"), (152, "bottleneck")):
        table[f"resnet{depth}"] = (_variant(resnet, depth=depth), f"ResNet-{depth} of {seed} "
                                   f"({kind} blocks)")
    for c, w in ((2, 64), (4, 64), (8, 64), (32, 4)):
        table[f"resnext29_{c}x{w}d"] = (_variant(resnext29, cardinality=c, width=w),
                                        f"ResNeXt-29 {c}×{w}d of {seed}")
    for depth, (_, growth) in DENSENETS.items():
        table[f"densenet{depth}"] = (_variant(densenet, depth=depth), f"DenseNet-{depth} of {seed} "
                                     f"(growth rate {growth})")
    table["densenet_cifar"] = (_variant(densenet, depth=121, growth=12, name="densenet_cifar"),
                               f"densenet_cifar of {seed} (DenseNet-121 layout, growth rate 12)")
    table["densenet_bc190"] = (_variant(densenet_bc), f"DenseNet-BC-190, growth rate 40 ({seed} "
                               "densenet3.py DenseNet190)")
    for depth in VGGS:
        table[f"vgg{depth}"] = (_variant(vgg, depth=depth), f"VGG-{depth} with BatchNorm of {seed}")
    table["googlenet"] = (googlenet, f"GoogLeNet of {seed}")
    table["mobilenet"] = (mobilenet, f"MobileNet of {seed}")
    table["lenet"] = (lenet, f"LeNet of {seed}")
    table["wide_resnet"] = (wide_resnet, "Wide ResNet WRN-d-k (depth 6n+4, widen factor k)")
    return table


# name → (generator, help), merged into builder.templates.TEMPLATES
ZOO_TEMPLATES: dict[str, tuple[Callable[..., Graph], str]] = _registry()

# other names people use for the same models (the reference code's function names)
ALIASES = {"resnet18": "preact_resnet18", "densenet190": "densenet_bc190"}

# shipped file stem → (template, options), merged into builder.templates.SHIPPED
ZOO_SHIPPED: dict[str, tuple[str, dict[str, Any]]] = {
    **{stem: (stem, {}) for stem in ("preact_resnet18", "resnet34", "resnet50", "mobilenet",
                                     "resnext29_32x4d", "densenet121", "googlenet", "vgg16", "lenet")},
    "wrn16_4": ("wide_resnet", {"depth": 16, "widen": 4}),
    "wrn28_10": ("wide_resnet", {"depth": 28, "widen": 10}),
}

# The reference parameter counts on 3×32×32 with 10 classes (mixup-cifar10 models/)
REFERENCE_PARAMS = {
    "preact_resnet18": 11_171_274, "resnet34": 21_282_122, "resnet50": 23_520_842,
    "mobilenet": 3_217_226, "resnext29_32x4d": 4_774_218, "densenet121": 6_956_298,
    "googlenet": 6_166_250, "vgg16": 14_728_266, "lenet": 62_006,
}
