"""Templates: generators of classic networks as graphs (Qt-free, torch-free).

``cifar_resnet`` builds He et al.'s CIFAR nets (Table 6: depth 6n+2, stages of 16/32/64
filters) with identity shortcuts, option-A (ShortcutPad) or option-B (1×1 conv + BN)
shortcuts where the shape changes, or as the plain net with the same layers and no
shortcuts. The reference zoo (facebookresearch/mixup-cifar10's ``models/``, Wide ResNets) is in
:mod:`builder.zoo`; :data:`TEMPLATES` lists both.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from builder.graph import Graph
from builder.graphbuilder import GraphBuilder, Shape3
from builder.zoo import ALIASES as ALIASES  # re-exported: the CLI and the dialog read it here
from builder.zoo import ZOO_SHIPPED, ZOO_TEMPLATES
from builder.zoo import lenet as lenet

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
    b = GraphBuilder(name, f"He et al. 2015 CIFAR {kind}: {n} blocks per stage, widths {widths}.")
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


def _basic_block(b: GraphBuilder, x: str, group: str, in_ch: int, out: int, stride: int,
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


def plain(depth: int = 20, input_shape: Shape3 = (3, 32, 32), num_classes: int = 10) -> Graph:
    """The plain twin of He et al.'s CIFAR ResNet-``depth``: the same layers, no shortcuts."""
    return cifar_resnet(depth, residual=False, input_shape=input_shape, num_classes=num_classes)


# name → (generator, help). Generators take keyword options; see ``make``.
TEMPLATES: dict[str, tuple[Callable[..., Graph], str]] = {
    "resnet": (cifar_resnet, "He et al. CIFAR ResNet (--depth 6n+2, --shortcut A|B)"),
    "plain": (plain, "the plain twin of a CIFAR ResNet (--depth 6n+2)"),
}
# option name → the command-line flag that sets it
OPTION_FLAGS = {"depth": "--depth", "shortcut": "--shortcut", "widen": "--widen",
                "input_shape": "--input", "num_classes": "--classes"}


def template_options(name: str) -> tuple[str, ...]:
    """The options template ``name`` takes (of ``OPTION_FLAGS``), in that table's order."""
    accepted = inspect.signature(TEMPLATES[ALIASES.get(name, name)][0]).parameters
    return tuple(option for option in OPTION_FLAGS if option in accepted)


def make(name: str, **options: Any) -> Graph:
    """Build template ``name``; ValueError for an unknown name or an option it does not take."""
    name = ALIASES.get(name, name)
    if name not in TEMPLATES:
        raise ValueError(f"unknown template {name!r}; known: {', '.join(TEMPLATES)}")
    generator = TEMPLATES[name][0]
    accepted = inspect.signature(generator).parameters
    extra = [k for k in options if k not in accepted]
    if extra:
        raise ValueError(f"template {name!r} takes no {', '.join(extra)} option")
    return generator(**options)


def write_shipped(folder: str = "graphs", stems: list[str] | None = None) -> list[str]:
    """(Re)write the shipped graph files in ``folder`` from their templates; returns the paths.

    ``python -c "from builder.templates import write_shipped; write_shipped()"`` at the repository
    root regenerates ``graphs/`` (after a change to a template or to the layout).
    """
    from pathlib import Path

    from builder import fileformat

    written = []
    for stem in stems or sorted(SHIPPED):
        name, options = SHIPPED[stem]
        path = Path(folder) / f"{stem}.json"
        fileformat.save(make(name, **options), path)
        written.append(str(path))
    return written


# The files shipped in graphs/: file stem → (template, options)
SHIPPED: dict[str, tuple[str, dict[str, Any]]] = {
    **{f"resnet{d}": ("resnet", {"depth": d}) for d in (20, 32, 44, 56, 110)},
    **{f"plain{d}": ("plain", {"depth": d}) for d in (20, 32, 44, 56, 110)},
    "resnet20b": ("resnet", {"depth": 20, "shortcut": "B"}),
}

# The reference zoo (mixup-cifar10 models and Wide ResNets) lives in builder.zoo.

TEMPLATES.update(ZOO_TEMPLATES)
SHIPPED.update(ZOO_SHIPPED)
vgg16 = ZOO_TEMPLATES["vgg16"][0]
