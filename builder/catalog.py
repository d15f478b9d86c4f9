"""The block catalog: one entry per block type.

Each entry holds the stable type id, its parameters, its input ports, the shape rule,
the torch module factory and the code it is written as. Shapes are per-sample tuples
without the batch dimension: ``(C, H, W)`` for images, ``(F,)`` for feature vectors.
This module never imports torch at import time; factories import it when called.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from builder.params import Param, bool_param, float_param, int_param

Shape = tuple[int, ...]
Inputs = Sequence[tuple[str, Shape]]  # (source block id, shape) per input port
Params = dict[str, Any]


class ShapeError(Exception):
    """A block cannot accept its inputs; ``code`` names the diagnostic."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class BlockType:
    """Everything Skipwire knows about one kind of block."""

    type_id: str
    label: str
    category: str
    help: str
    params: tuple[Param, ...]
    arity: int | None  # number of input ports; None means ordered variadic (two or more)
    infer: Callable[[Params, Inputs], Shape]
    make: Callable[[Params, list[Shape]], Any] | None = None  # torch module factory
    code: Callable[[Params, list[Shape]], str] | None = None  # module constructor source
    function: str | None = None  # functional op for blocks without a module
    key_params: tuple[str, ...] = ()
    count: Callable[[Params, list[Shape]], int] | None = None  # parameters, from the input shapes
    macs: Callable[[Params, list[Shape], Shape], int] | None = None  # mult-adds for one sample
    param_map: dict[str, Param] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "param_map", {p.name: p for p in self.params})

    @property
    def has_module(self) -> bool:
        return self.make is not None

    def defaults(self) -> Params:
        return {p.name: p.default for p in self.params}

    def parameters(self, params: Params, shapes: list[Shape]) -> int:
        """Learnable parameters of a block with these inputs (0 for a block without weights)."""
        return self.count(params, shapes) if self.count is not None else 0

    def mult_adds(self, params: Params, shapes: list[Shape], out: Shape) -> int:
        """Multiply-accumulates for one sample, counted as torchinfo counts them."""
        return self.macs(params, shapes, out) if self.macs is not None else 0


def fmt_shape(shape: Shape | None) -> str:
    """``(16, 32, 32)`` → ``16×32×32``; None → ``?``."""
    if shape is None:
        return "?"
    return "×".join(str(d) for d in shape)


# ----------------------------------------------------------------------------- shape helpers


def _image(inputs: Inputs, what: str) -> Shape:
    src, shape = inputs[0]
    if len(shape) != 3:
        raise ShapeError(
            "needs_image",
            f"{what} needs a C×H×W input but '{src}' gives {fmt_shape(shape)}; "
            "feed it from a convolution or pooling block, not from Flatten or Linear",
        )
    return shape


def _same(params: Params, inputs: Inputs) -> Shape:
    return inputs[0][1]


def _window(size: int, kernel: int, stride: int, pad: int, dilation: int, what: str) -> int:
    span = dilation * (kernel - 1) + 1
    if span > size + 2 * pad:
        raise ShapeError(
            "kernel_too_large",
            f"{what} kernel spans {span} pixels but its input is only {size} "
            f"(+{2 * pad} padding) wide; use a smaller kernel_size or more padding",
        )
    return (size + 2 * pad - span) // stride + 1


def conv_padding(params: Params) -> int:
    """The integer padding a Conv2d uses (``"same"`` is half the dilated kernel)."""
    pad = params["padding"]
    if pad == "same":
        return int(params["dilation"] * (params["kernel_size"] - 1) // 2)
    return int(pad)


def _infer_conv(params: Params, inputs: Inputs) -> Shape:
    c, h, w = _image(inputs, "Conv2d")
    groups, out = params["groups"], params["out_channels"]
    if c % groups or out % groups:
        raise ShapeError(
            "groups_mismatch",
            f"groups={groups} must divide both the {c} input channels and "
            f"out_channels={out}",
        )
    k, d = params["kernel_size"], params["dilation"]
    if params["padding"] == "same" and (d * (k - 1)) % 2:
        raise ShapeError("bad_param", 'padding "same" needs an odd kernel_size; set padding to a number')
    pad, s = conv_padding(params), params["stride"]
    return (out, _window(h, k, s, pad, d, "Conv2d"), _window(w, k, s, pad, d, "Conv2d"))


def _infer_pool(params: Params, inputs: Inputs) -> Shape:
    c, h, w = _image(inputs, "Pooling")
    k, s, p = params["kernel_size"], params["stride"], params["padding"]
    if 2 * p > k:
        raise ShapeError("bad_param", f"padding={p} must be at most half of kernel_size={k}")
    return (c, _window(h, k, s, p, 1, "Pooling"), _window(w, k, s, p, 1, "Pooling"))


def _infer_bn(params: Params, inputs: Inputs) -> Shape:
    return _image(inputs, "BatchNorm2d")


def _infer_gap(params: Params, inputs: Inputs) -> Shape:
    c, _, _ = _image(inputs, "GlobalAvgPool")
    return (c, 1, 1)


def _infer_flatten(params: Params, inputs: Inputs) -> Shape:
    return (math.prod(inputs[0][1]),)


def _infer_linear(params: Params, inputs: Inputs) -> Shape:
    src, shape = inputs[0]
    if len(shape) != 1:
        raise ShapeError(
            "linear_4d",
            f"Linear is fed a {fmt_shape(shape)} tensor from '{src}'; "
            "put a Flatten (or GlobalAvgPool + Flatten) before it",
        )
    return (params["out_features"],)


def _infer_add(params: Params, inputs: Inputs) -> Shape:
    first_src, first = inputs[0]
    for src, shape in inputs[1:]:
        if shape != first:
            raise ShapeError(
                "add_shape_mismatch",
                f"Add inputs differ: '{first_src}' gives {fmt_shape(first)} but '{src}' "
                f"gives {fmt_shape(shape)}; put a ShortcutPad (option A) or a 1×1 Conv2d + "
                "BatchNorm2d projection (option B) on the skip path",
            )
    return first


def _infer_concat(params: Params, inputs: Inputs) -> Shape:
    first_src, first = inputs[0]
    for src, shape in inputs[1:]:
        if len(shape) != len(first) or shape[1:] != first[1:]:
            raise ShapeError(
                "concat_mismatch",
                f"Concat needs equal spatial sizes: '{first_src}' gives {fmt_shape(first)} "
                f"but '{src}' gives {fmt_shape(shape)}; pool or stride one branch to match",
            )
    return (sum(s[0] for _, s in inputs), *first[1:])


def shortcut_channels(params: Params, in_channels: int) -> int:
    """Output channels of a ShortcutPad (0 means twice the input)."""
    return int(params["out_channels"]) or 2 * in_channels


def _infer_shortcut(params: Params, inputs: Inputs) -> Shape:
    c, h, w = _image(inputs, "ShortcutPad")
    out = shortcut_channels(params, c)
    if out < c:
        raise ShapeError("bad_param", f"out_channels={out} is less than the {c} input channels")
    s = params["stride"]
    return (out, -(-h // s), -(-w // s))


def _infer_input(params: Params, inputs: Inputs) -> Shape:
    return (params["channels"], params["height"], params["width"])


# ----------------------------------------------------------------------------- counting rules
# torchinfo's rule: a module's mult-adds are its parameter count times the output's pixels for
# a convolution (every weight is used once per output position), and times 1 otherwise.


def _count_conv(params: Params, shapes: list[Shape]) -> int:
    c, out = shapes[0][0], params["out_channels"]
    bias = out if params["bias"] else 0
    return int(c // params["groups"] * out * params["kernel_size"] ** 2 + bias)


def _macs_conv(params: Params, shapes: list[Shape], out: Shape) -> int:
    return _count_conv(params, shapes) * math.prod(out[1:])


def _count_bn(params: Params, shapes: list[Shape]) -> int:
    return 2 * shapes[0][0]  # weight and bias; the running statistics are buffers


def _count_linear(params: Params, shapes: list[Shape]) -> int:
    out = params["out_features"]
    return int(shapes[0][0] * out + (out if params["bias"] else 0))


def _macs_per_parameter(count: Callable[[Params, list[Shape]], int]) -> Callable[..., int]:
    return lambda params, shapes, out: count(params, shapes)


# ----------------------------------------------------------------------------- torch factories


def _nn() -> Any:
    import torch.nn as nn

    return nn


def _kw(params: Params, defaults: dict[str, Any]) -> str:
    """Keyword arguments that differ from torch's defaults, as source."""
    return "".join(f", {k}={params[k]!r}" for k, v in defaults.items() if params[k] != v)


def _make_conv(params: Params, shapes: list[Shape]) -> Any:
    return _nn().Conv2d(
        shapes[0][0], params["out_channels"], params["kernel_size"], stride=params["stride"],
        padding=conv_padding(params), dilation=params["dilation"], groups=params["groups"],
        bias=params["bias"],
    )


def _code_conv(params: Params, shapes: list[Shape]) -> str:
    p = dict(params, padding=conv_padding(params))
    extra = _kw(p, {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True})
    return f"nn.Conv2d({shapes[0][0]}, {params['out_channels']}, kernel_size={params['kernel_size']}{extra})"


def _make_bn(params: Params, shapes: list[Shape]) -> Any:
    return _nn().BatchNorm2d(shapes[0][0], eps=params["eps"], momentum=params["momentum"])


def _code_bn(params: Params, shapes: list[Shape]) -> str:
    return f"nn.BatchNorm2d({shapes[0][0]}{_kw(params, {'eps': 1e-5, 'momentum': 0.1})})"


def _make_linear(params: Params, shapes: list[Shape]) -> Any:
    return _nn().Linear(shapes[0][0], params["out_features"], bias=params["bias"])


def _code_linear(params: Params, shapes: list[Shape]) -> str:
    return f"nn.Linear({shapes[0][0]}, {params['out_features']}{_kw(params, {'bias': True})})"


def _make_pool(kind: str) -> Callable[[Params, list[Shape]], Any]:
    def make(params: Params, shapes: list[Shape]) -> Any:
        cls = getattr(_nn(), kind)
        return cls(params["kernel_size"], stride=params["stride"], padding=params["padding"])

    return make


def _code_pool(kind: str) -> Callable[[Params, list[Shape]], str]:
    def code(params: Params, shapes: list[Shape]) -> str:
        k, s = params["kernel_size"], params["stride"]
        stride = "" if s == k else f", stride={s}"
        return f"nn.{kind}({k}{stride}{_kw(params, {'padding': 0})})"

    return code


def _simple(cls: str, **fixed: Any) -> tuple[Callable[..., Any], Callable[..., str]]:
    """Factory and code for a module whose constructor takes only block params."""

    def make(params: Params, shapes: list[Shape]) -> Any:
        return getattr(_nn(), cls)(**{**params, **fixed})

    def code(params: Params, shapes: list[Shape]) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in {**params, **fixed}.items())
        return f"nn.{cls}({args})"

    return make, code


def _make_shortcut(params: Params, shapes: list[Shape]) -> Any:
    from builder.modules import ShortcutPad

    c = shapes[0][0]
    return ShortcutPad(params["stride"], shortcut_channels(params, c) - c)


def _code_shortcut(params: Params, shapes: list[Shape]) -> str:
    c = shapes[0][0]
    return f"ShortcutPad(stride={params['stride']}, extra_channels={shortcut_channels(params, c) - c})"


# ----------------------------------------------------------------------------- the entries

_POOL_PARAMS = (
    int_param("kernel_size", 2, "Window size in pixels (square)."),
    int_param("stride", 2, "Step between windows; 2 halves the height and width."),
    int_param("padding", 0, "Implicit padding on each side (at most half the kernel).", 0),
)
_ACT = "Activations"


def _entries() -> list[BlockType]:
    relu, relu_code = _simple("ReLU")
    sig, sig_code = _simple("Sigmoid")
    tanh, tanh_code = _simple("Tanh")
    gelu, gelu_code = _simple("GELU")
    leaky, leaky_code = _simple("LeakyReLU")
    drop, drop_code = _simple("Dropout")
    ident, ident_code = _simple("Identity")
    gap, gap_code = _simple("AdaptiveAvgPool2d", output_size=1)
    return [
        BlockType("input", "Input", "Input / Output", "The network input: one image of C×H×W.",
                  (int_param("channels", 3, "Image channels (1 grey, 3 colour).", 1, 4096),
                   int_param("height", 32, "Image height in pixels.", 1, 16384),
                   int_param("width", 32, "Image width in pixels.", 1, 16384)),
                  0, _infer_input, function="input", key_params=("channels", "height", "width")),
        BlockType("output", "Output", "Input / Output", "The network output (logits).", (), 1,
                  _same, function="output"),
        BlockType("conv2d", "Conv2d", "Convolution", "2-D convolution; in_channels come from the input.",
                  (int_param("out_channels", 16, "Number of filters.", 1, 65536),
                   int_param("kernel_size", 3, "Square kernel size.", 1, 1024),
                   int_param("stride", 1, "Step of the kernel; 2 halves height and width.", 1, 1024),
                   Param("padding", "int_or_same", "same",
                         'Zero padding per side, or "same" (half the kernel).', 0, 1024),
                   int_param("dilation", 1, "Spacing between kernel taps.", 1, 1024),
                   int_param("groups", 1, "Grouped convolution: must divide in and out channels.", 1, 65536),
                   bool_param("bias", True, "Learnable bias (usually off before BatchNorm).")),
                  1, _infer_conv, _make_conv, _code_conv,
                  key_params=("out_channels", "kernel_size", "stride"),
                  count=_count_conv, macs=_macs_conv),
        BlockType("batchnorm2d", "BatchNorm2d", "Normalization",
                  "Batch normalisation over channels; num_features come from the input.",
                  (float_param("eps", 1e-5, "Added to the variance for stability.", 0.0, 1.0),
                   float_param("momentum", 0.1, "Running-statistics momentum.", 0.0, 1.0)),
                  1, _infer_bn, _make_bn, _code_bn,
                  count=_count_bn, macs=_macs_per_parameter(_count_bn)),
        BlockType("relu", "ReLU", _ACT, "max(0, x).", (), 1, _same, relu, relu_code),
        BlockType("leaky_relu", "LeakyReLU", _ACT, "x if x > 0 else slope·x.",
                  (float_param("negative_slope", 0.01, "Slope for negative inputs.", 0.0, 1.0),),
                  1, _same, leaky, leaky_code, key_params=("negative_slope",)),
        BlockType("sigmoid", "Sigmoid", _ACT, "1 / (1 + e^-x).", (), 1, _same, sig, sig_code),
        BlockType("tanh", "Tanh", _ACT, "Hyperbolic tangent.", (), 1, _same, tanh, tanh_code),
        BlockType("gelu", "GELU", _ACT, "Gaussian error linear unit.", (), 1, _same, gelu, gelu_code),
        BlockType("maxpool2d", "MaxPool2d", "Pooling", "Maximum over each window.", _POOL_PARAMS, 1,
                  _infer_pool, _make_pool("MaxPool2d"), _code_pool("MaxPool2d"),
                  key_params=("kernel_size", "stride")),
        BlockType("avgpool2d", "AvgPool2d", "Pooling", "Average over each window.", _POOL_PARAMS, 1,
                  _infer_pool, _make_pool("AvgPool2d"), _code_pool("AvgPool2d"),
                  key_params=("kernel_size", "stride")),
        BlockType("global_avgpool", "GlobalAvgPool", "Pooling",
                  "Average over all pixels: C×H×W → C×1×1.", (), 1, _infer_gap, gap, gap_code),
        BlockType("flatten", "Flatten", "Shape", "C×H×W → C·H·W features.", (), 1, _infer_flatten,
                  function="flatten"),
        BlockType("linear", "Linear", "Dense", "Fully connected layer; in_features come from the input.",
                  (int_param("out_features", 10, "Number of outputs.", 1, 1 << 20),
                   bool_param("bias", True, "Learnable bias.")),
                  1, _infer_linear, _make_linear, _code_linear, key_params=("out_features",),
                  count=_count_linear, macs=_macs_per_parameter(_count_linear)),
        BlockType("dropout", "Dropout", "Regularization", "Zeroes inputs with probability p in training.",
                  (float_param("p", 0.5, "Drop probability.", 0.0, 1.0),),
                  1, _same, drop, drop_code, key_params=("p",)),
        BlockType("identity", "Identity", "Shape", "Passes its input through.", (), 1, _same,
                  ident, ident_code),
        BlockType("add", "Add", "Merge", "Element-wise sum of two or more equal-shaped inputs "
                  "(the residual connection H(x) = F(x) + x).", (), None, _infer_add, function="add"),
        BlockType("concat", "Concat", "Merge", "Joins inputs along the channel axis, in port order.",
                  (), None, _infer_concat, function="concat"),
        BlockType("shortcut_pad", "ShortcutPad", "Merge",
                  "He et al. option A shortcut: subsample by stride, zero-pad new channels; no parameters.",
                  (int_param("stride", 2, "Subsampling step.", 1, 64),
                   int_param("out_channels", 0, "Channels after padding (0 = twice the input).", 0, 65536)),
                  1, _infer_shortcut, _make_shortcut, _code_shortcut, key_params=("stride",)),
    ]


CATALOG: dict[str, BlockType] = {entry.type_id: entry for entry in _entries()}
CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(e.category for e in CATALOG.values()))
PARAMETERISED = frozenset(e.type_id for e in CATALOG.values() if e.count is not None)


def get(type_id: str) -> BlockType:
    """The catalog entry for ``type_id`` (KeyError names the valid ids)."""
    try:
        return CATALOG[type_id]
    except KeyError:
        raise KeyError(f"unknown block type {type_id!r}; known: {', '.join(CATALOG)}") from None
