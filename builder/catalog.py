"""The block catalog: one :class:`~builder.blocktype.BlockType` entry per block type.

Each entry holds the stable type id, its parameters, its input ports, the shape rule, the
module's constructor call (or the function a block without a module computes), how an import
recognises it in a traced PyTorch module, and its parameter count. Compile, export, import,
validation and the summary all read it from here: adding a block type is adding an entry.
Shapes are per-sample tuples without the batch dimension. Nothing here imports torch at
import time; the rules that need it import it when called.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from functools import reduce
from typing import Any

from builder.blocktype import (
    BlockType,
    Call,
    Emit,
    Function,
    Imports,
    Inputs,
    Params,
    Shape,
    ShapeError,
    TracedCall,
    Unrepresentable,
    entries_by_id,
    first_input,
    fmt_shape,
    keyword,
    need_image,
    positional,
    read_attributes,
    read_dropout,
    same,
    same_image,
    square,
    torch_module,
    window,
)
from builder.params import Param, bool_param, float_param, int_param
from builder.text import printable

__all__ = ["CATALOG", "CATEGORIES", "PARAMETERISED", "BlockType", "Shape", "ShapeError", "conv_padding",
           "fmt_shape", "get", "parse_input_shape", "shortcut_channels"]

# ----------------------------------------------------------------------------- shape helpers


def conv_padding(params: Params) -> int:
    """The integer padding a Conv2d uses (``"same"`` is half the dilated kernel)."""
    pad = params["padding"]
    if pad == "same":
        return int(params["dilation"] * (params["kernel_size"] - 1) // 2)
    return int(pad)


def shortcut_channels(params: Params, in_channels: int) -> int:
    """Output channels of a ShortcutPad (0 means twice the input)."""
    return int(params["out_channels"]) or 2 * in_channels


# ----------------------------------------------------------------------------- Input / Output


def _infer_input(params: Params, inputs: Inputs) -> Shape:
    return (params["channels"], params["height"], params["width"])


def parse_input_shape(text: str, what: str = "input shape") -> tuple[int, int, int]:
    """``3x32x32`` (or ``3×32×32``) → ``(3, 32, 32)``; ValueError naming ``what`` unless each
    size fits an Input block."""
    try:
        c, h, w = (int(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise ValueError(f"{what} must look like 3x32x32, got {printable(repr(text))}") from None
    spec = get("input")
    for name, value in (("channels", c), ("height", h), ("width", w)):
        param = spec.param_map[name]
        if param.range_error(value):
            raise ValueError(f"{what} {text}: {name} must be from {int(param.minimum or 1)} to "
                             f"{int(param.maximum or 0):,}, got {value}")
    return (c, h, w)


_INPUT = BlockType(
    "input", "Input", "Input / Output", "The network input: one image of C×H×W.",
    (int_param("channels", 3, "Image channels (1 grey, 3 colour).", 1, 4096),
     int_param("height", 32, "Image height in pixels.", 1, 16384),
     int_param("width", 32, "Image width in pixels.", 1, 16384)),
    0, _infer_input, key_params=("channels", "height", "width"))
_OUTPUT = BlockType("output", "Output", "Input / Output", "The network output (logits).", (), 1, same,
                    view=True)

# ----------------------------------------------------------------------------- Conv2d


def _infer_conv(params: Params, inputs: Inputs) -> Shape:
    c, h, w = need_image(inputs, "Conv2d")
    groups, out = params["groups"], params["out_channels"]
    if c % groups or out % groups:
        raise ShapeError(
            "groups_mismatch",
            f"groups={groups} must divide both the {c} input channels and out_channels={out}",
        )
    k, d = params["kernel_size"], params["dilation"]
    if params["padding"] == "same" and (d * (k - 1)) % 2:
        raise ShapeError("bad_param", 'padding "same" needs an odd kernel_size; set padding to a number')
    pad, s = conv_padding(params), params["stride"]
    return (out, window(h, k, s, pad, d, "Conv2d"), window(w, k, s, pad, d, "Conv2d"))


def _call_conv(p: Params, shapes: list[Shape]) -> Call:
    return Call("nn.Conv2d", (
        positional("in_channels", shapes[0][0]), positional("out_channels", p["out_channels"]),
        keyword("kernel_size", p["kernel_size"]), keyword("stride", p["stride"], 1),
        keyword("padding", conv_padding(p), 0), keyword("dilation", p["dilation"], 1),
        keyword("groups", p["groups"], 1), keyword("bias", p["bias"], True)))


def _count_conv(params: Params, shapes: list[Shape]) -> int:
    c, out = shapes[0][0], params["out_channels"]
    bias = out if params["bias"] else 0
    return int(c // params["groups"] * out * params["kernel_size"] ** 2 + bias)


def _macs_conv(params: Params, shapes: list[Shape], out: Shape) -> int:
    return _count_conv(params, shapes) * math.prod(out[1:])  # torchinfo: each weight once per pixel


def _read_conv(m: Any, shape: Shape) -> Params | None:
    if m.padding_mode != "zeros":
        return None
    padding = m.padding if isinstance(m.padding, str) else square(m.padding, "padding")
    return {"out_channels": m.out_channels, "kernel_size": square(m.kernel_size, "kernel"),
            "stride": square(m.stride, "stride"), "padding": 0 if padding == "valid" else padding,
            "dilation": square(m.dilation, "dilation"), "groups": m.groups, "bias": m.bias is not None}


_CONV = BlockType(
    "conv2d", "Conv2d", "Convolution", "2-D convolution; in_channels come from the input.",
    (int_param("out_channels", 16, "Number of filters.", 1, 65536),
     int_param("kernel_size", 3, "Square kernel size.", 1, 1024),
     int_param("stride", 1, "Step of the kernel; 2 halves height and width.", 1, 1024),
     Param("padding", "int_or_same", "same", 'Zero padding per side, or "same" (half the kernel).', 0, 1024),
     int_param("dilation", 1, "Spacing between kernel taps.", 1, 1024),
     int_param("groups", 1, "Grouped convolution: must divide in and out channels.", 1, 65536),
     bool_param("bias", True, "Learnable bias (usually off before BatchNorm).")),
    1, _infer_conv, _call_conv, imports=Imports(("torch.nn.Conv2d",), _read_conv),
    key_params=("out_channels", "kernel_size", "stride"), count=_count_conv, macs=_macs_conv)

# ----------------------------------------------------------------------------- normalisation


def _call_bn(p: Params, shapes: list[Shape]) -> Call:
    return Call("nn.BatchNorm2d", (positional("num_features", shapes[0][0]), keyword("eps", p["eps"], 1e-5),
                                   keyword("momentum", p["momentum"], 0.1)))


def _read_bn(m: Any, shape: Shape) -> Params | None:
    if not (m.affine and m.track_running_stats and m.momentum is not None):
        return None
    return {"eps": m.eps, "momentum": m.momentum}


_EPS = float_param("eps", 1e-5, "Added to the variance for stability.", 0.0, 1.0)
_BN = BlockType(
    "batchnorm2d", "BatchNorm2d", "Normalization",
    "Batch normalisation over channels; num_features come from the input.",
    (_EPS, float_param("momentum", 0.1, "Running-statistics momentum.", 0.0, 1.0)),
    1, same_image("BatchNorm2d"), _call_bn, imports=Imports(("torch.nn.BatchNorm2d",), _read_bn),
    count=lambda p, shapes: 2 * shapes[0][0])  # weight and bias; the running statistics are buffers


def _infer_group_norm(params: Params, inputs: Inputs) -> Shape:
    shape, groups = inputs[0][1], params["num_groups"]
    if shape[0] % groups:
        raise ShapeError("groups_mismatch",
                         f"num_groups={groups} must divide the {shape[0]} input channels")
    return shape


_GROUP_NORM = BlockType(
    "groupnorm", "GroupNorm", "Normalization",
    "Group normalisation: channels in num_groups groups, each normalised per sample (no batch "
    "statistics); num_channels come from the input.",
    (int_param("num_groups", 8, "Groups of channels; must divide the input channels.", 1, 65536),
     _EPS, bool_param("affine", True, "Learnable per-channel scale and shift.")),
    1, _infer_group_norm,
    lambda p, shapes: Call("nn.GroupNorm", (
        positional("num_groups", p["num_groups"]), positional("num_channels", shapes[0][0]),
        keyword("eps", p["eps"], 1e-5), keyword("affine", p["affine"], True))),
    imports=Imports(("torch.nn.GroupNorm",)), key_params=("num_groups",),
    count=lambda p, shapes: 2 * shapes[0][0], weights_switch="affine")


def _read_layer_norm(m: Any, shape: Shape) -> Params | None:
    if tuple(m.normalized_shape) != tuple(shape):
        raise Unrepresentable(f"normalises over the last {len(m.normalized_shape)} dimension(s) "
                              f"{tuple(m.normalized_shape)} only; a LayerNorm block normalises over "
                              f"the whole {fmt_shape(shape)} sample")
    if m.elementwise_affine and m.bias is None:
        raise Unrepresentable("has a scale but no shift (bias=False)")
    return {"eps": m.eps, "elementwise_affine": m.elementwise_affine}


_LAYER_NORM = BlockType(
    "layernorm", "LayerNorm", "Normalization",
    "Layer normalisation: each sample normalised over all its channels and pixels (or features); "
    "normalized_shape comes from the input.",
    (_EPS, bool_param("elementwise_affine", True, "Learnable scale and shift for every value.")),
    1, same,
    lambda p, shapes: Call("nn.LayerNorm", (
        positional("normalized_shape", tuple(shapes[0])), keyword("eps", p["eps"], 1e-5),
        keyword("elementwise_affine", p["elementwise_affine"], True))),
    imports=Imports(("torch.nn.LayerNorm",), _read_layer_norm),
    count=lambda p, shapes: 2 * math.prod(shapes[0]), weights_switch="elementwise_affine")

# ----------------------------------------------------------------------------- activations


def _activation(type_id: str, label: str, help: str, cls: str, functions: tuple[str, ...] = (),
                params: tuple[Param, ...] = (), read_module: Any = None, read_call: Any = None,
                stem: str = "") -> BlockType:
    """An element-wise activation: ``nn.<cls>`` with float keyword parameters."""

    def call(p: Params, shapes: list[Shape]) -> Call:
        return Call(f"nn.{cls}", tuple(keyword(q.name, float(p[q.name]), q.default) for q in params))

    return BlockType(type_id, label, "Activations", help, params, 1, same, call,
                     imports=Imports((f"torch.nn.{cls}",), read_module, functions, read_call),
                     key_params=tuple(q.name for q in params), stem=stem)


def _read_gelu_module(m: Any, shape: Shape) -> Params | None:
    return {} if m.approximate == "none" else None


def _read_gelu(call: TracedCall) -> tuple[Params, list[Any]] | None:
    return first_input(call) if call.argument(1, "approximate", "none") == "none" else None


def _activations() -> list[BlockType]:
    slope = float_param("negative_slope", 0.01, "Slope for negative inputs.", 0.0, 1.0)
    return [
        _activation("relu", "ReLU", "max(0, x).", "ReLU",
                    ("torch.nn.functional.relu", "torch.relu", "Tensor.relu", "Tensor.relu_")),
        _activation("leaky_relu", "LeakyReLU", "x if x > 0 else slope·x.", "LeakyReLU", params=(slope,),
                    stem="relu"),
        _activation("sigmoid", "Sigmoid", "1 / (1 + e^-x).", "Sigmoid", ("torch.sigmoid", "Tensor.sigmoid")),
        _activation("tanh", "Tanh", "Hyperbolic tangent.", "Tanh", ("torch.tanh", "Tensor.tanh")),
        _activation("gelu", "GELU", "Gaussian error linear unit.", "GELU", ("torch.nn.functional.gelu",),
                    read_module=_read_gelu_module, read_call=_read_gelu),
        _activation("silu", "SiLU", "x·sigmoid(x), the swish of EfficientNet.", "SiLU",
                    ("torch.nn.functional.silu",)),
        _activation("hardswish", "Hardswish", "x·ReLU6(x + 3)/6, a cheap swish (MobileNetV3).", "Hardswish",
                    ("torch.nn.functional.hardswish",)),
    ]


# ----------------------------------------------------------------------------- pooling

_POOL_PARAMS = (
    int_param("kernel_size", 2, "Window size in pixels (square)."),
    int_param("stride", 2, "Step between windows; 2 halves the height and width."),
    int_param("padding", 0, "Implicit padding on each side (at most half the kernel).", 0),
)
# functional pooling arguments beyond kernel_size, stride and padding, and the values a block computes
_POOL_EXTRAS: dict[str, dict[str, tuple[Any, ...]]] = {
    "MaxPool2d": {"dilation": (1, (1, 1), [1, 1]), "ceil_mode": (False,), "return_indices": (False,)},
    "AvgPool2d": {"ceil_mode": (False,), "count_include_pad": (True,), "divisor_override": (None,)},
}


def _infer_pool(params: Params, inputs: Inputs) -> Shape:
    c, h, w = need_image(inputs, "Pooling")
    k, s, p = params["kernel_size"], params["stride"], params["padding"]
    if 2 * p > k:
        raise ShapeError("bad_param", f"padding={p} must be at most half of kernel_size={k}")
    return (c, window(h, k, s, p, 1, "Pooling"), window(w, k, s, p, 1, "Pooling"))


def _pool_params(kernel: Any, stride: Any, padding: Any) -> Params:
    k = square(kernel, "kernel")
    return {"kernel_size": k, "stride": square(stride or k, "stride"),
            "padding": square(padding or 0, "padding")}


def _read_pool_module(cls: str) -> Callable[[Any, Shape], Params | None]:
    def read(m: Any, shape: Shape) -> Params | None:
        extras = _POOL_EXTRAS[cls]
        if any(getattr(m, name) not in allowed for name, allowed in extras.items()):
            return None  # a non-default dilation, ceil_mode…: no block computes it
        return _pool_params(m.kernel_size, m.stride, m.padding)

    return read


def _read_pool_call(cls: str) -> Callable[[TracedCall], tuple[Params, list[Any]] | None]:
    def read(call: TracedCall) -> tuple[Params, list[Any]] | None:
        extras = _POOL_EXTRAS[cls]
        names = ("kernel_size", "stride", "padding", *extras)
        if len(call.args) > len(names) + 1 or set(call.kwargs) - set(names):
            return None
        values = {name: call.argument(i + 1, name, None) for i, name in enumerate(names)}
        if any(values[name] is not None and values[name] not in allowed for name, allowed in extras.items()):
            return None
        if values["kernel_size"] is None:
            return None
        return _pool_params(values["kernel_size"], values["stride"], values["padding"]), list(call.args[:1])

    return read


def _pool(type_id: str, label: str, help: str, cls: str, function: str) -> BlockType:
    def call(p: Params, shapes: list[Shape]) -> Call:
        k = p["kernel_size"]
        return Call(f"nn.{cls}", (positional("kernel_size", k), keyword("stride", p["stride"], k),
                                  keyword("padding", p["padding"], 0)))

    return BlockType(type_id, label, "Pooling", help, _POOL_PARAMS, 1, _infer_pool, call,
                     imports=Imports((f"torch.nn.{cls}",), _read_pool_module(cls),
                                     (f"torch.nn.functional.{function}",), _read_pool_call(cls)),
                     key_params=("kernel_size", "stride"), stem=type_id[:-2])


def _read_global_pool(call: TracedCall) -> tuple[Params, list[Any]] | None:
    return first_input(call) if call.argument(1, "output_size", None) in (1, (1, 1), [1, 1]) else None


def _infer_gap(params: Params, inputs: Inputs) -> Shape:
    c, _, _ = need_image(inputs, "GlobalAvgPool")
    return (c, 1, 1)


def _read_global_pool_module(m: Any, shape: Shape) -> Params | None:
    return {} if m.output_size in (1, (1, 1)) else None


_GLOBAL_POOL = BlockType(
    "global_avgpool", "GlobalAvgPool", "Pooling", "Average over all pixels: C×H×W → C×1×1.", (), 1,
    _infer_gap, lambda p, shapes: Call("nn.AdaptiveAvgPool2d", (positional("output_size", 1),)),
    imports=Imports(("torch.nn.AdaptiveAvgPool2d",), _read_global_pool_module,
                    ("torch.nn.functional.adaptive_avg_pool2d",), _read_global_pool),
    stem="avgpool")

# ----------------------------------------------------------------------------- shape, dense, regularisation


def _read_flatten(call: TracedCall) -> tuple[Params, list[Any]] | None:
    """``torch.flatten(x, 1)``, ``x.view(x.size(0), -1)``, ``x.reshape(x.shape[0], -1)``."""
    x = call.args[0]
    if call.name in ("torch.flatten", "Tensor.flatten"):
        start = call.argument(1, "start_dim", 0)
        return ({}, [x]) if start == 1 and len(call.shape(x)) == 4 else None
    shape, out = call.shape(x), call.output_shape()
    return ({}, [x]) if len(out) == 2 and out[0] == shape[0] and len(shape) > 2 else None


def _read_flatten_module(m: Any, shape: Shape) -> Params | None:
    return {} if (m.start_dim, m.end_dim) == (1, -1) else None


_FLATTEN = BlockType(
    "flatten", "Flatten", "Shape", "C×H×W → C·H·W features.", (), 1,
    lambda params, inputs: (math.prod(inputs[0][1]),),
    function=Function(lambda p, xs, emit: emit(torch_module().flatten, xs[0], 1),
                      lambda p, names: f"torch.flatten({names[0]}, 1)"),
    imports=Imports(("torch.nn.Flatten",), _read_flatten_module,
                    ("torch.flatten", "Tensor.flatten", "Tensor.view", "Tensor.reshape"), _read_flatten),
    view=True)


def _infer_linear(params: Params, inputs: Inputs) -> Shape:
    src, shape = inputs[0]
    if len(shape) != 1:
        raise ShapeError(
            "linear_4d",
            f"Linear is fed a {fmt_shape(shape)} tensor from '{src}'; "
            "put a Flatten (or GlobalAvgPool + Flatten) before it",
        )
    return (params["out_features"],)


def _count_linear(params: Params, shapes: list[Shape]) -> int:
    out = params["out_features"]
    return int(shapes[0][0] * out + (out if params["bias"] else 0))


_LINEAR = BlockType(
    "linear", "Linear", "Dense", "Fully connected layer; in_features come from the input.",
    (int_param("out_features", 10, "Number of outputs.", 1, 1 << 20),
     bool_param("bias", True, "Learnable bias.")),
    1, _infer_linear,
    lambda p, shapes: Call("nn.Linear", (positional("in_features", shapes[0][0]),
                                         positional("out_features", p["out_features"]),
                                         keyword("bias", p["bias"], True))),
    imports=Imports(("torch.nn.Linear",), lambda m, shape: {"out_features": m.out_features,
                                                            "bias": m.bias is not None}),
    key_params=("out_features",), count=_count_linear)


def _dropout(type_id: str, label: str, help: str, cls: str, functions: tuple[str, ...],
             infer: Callable[[Params, Inputs], Shape]) -> BlockType:
    p = float_param("p", 0.5, "Drop probability.", 0.0, 1.0)
    return BlockType(type_id, label, "Regularization", help, (p,), 1, infer,
                     lambda q, shapes: Call(f"nn.{cls}", (keyword("p", float(q["p"]), 0.5),)),
                     imports=Imports((f"torch.nn.{cls}",), read_attributes((p,)), functions, read_dropout),
                     key_params=("p",))


_DROPOUTS = [
    _dropout("dropout", "Dropout", "Zeroes inputs with probability p in training.", "Dropout",
             ("torch.nn.functional.dropout", "torch.dropout"), same),
    _dropout("dropout2d", "Dropout2d", "Zeroes whole channels with probability p in training.", "Dropout2d",
             ("torch.nn.functional.dropout2d",), same_image("Dropout2d")),
]
_IDENTITY = BlockType("identity", "Identity", "Shape", "Passes its input through.", (), 1, same,
                      lambda p, shapes: Call("nn.Identity"), view=True)

# ----------------------------------------------------------------------------- merging


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


def _apply_add(params: Params, inputs: list[Any], emit: Emit) -> Any:
    return reduce(lambda a, b: emit(operator.add, a, b), inputs)


def _read_add(call: TracedCall) -> tuple[Params, list[Any]] | None:
    args = list(call.args)
    if len(args) == 2 and not call.kwargs and all(call.is_tensor(a) for a in args):
        return {}, args
    return None


_ADD = BlockType(
    "add", "Add", "Merge", "Element-wise sum of two or more equal-shaped inputs "
    "(the residual connection H(x) = F(x) + x).", (), None, _infer_add,
    function=Function(_apply_add, lambda p, names: " + ".join(names)),
    imports=Imports(functions=("operator.add", "operator.iadd", "torch.add", "Tensor.add", "Tensor.add_"),
                    read_call=_read_add))


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


def _read_concat(call: TracedCall) -> tuple[Params, list[Any]] | None:
    dim = call.args[1] if len(call.args) > 1 else call.kwargs.get("dim", 0)
    tensors = call.args[0]
    return ({}, list(tensors)) if dim in (1, -3) and isinstance(tensors, list | tuple) else None


_CONCAT = BlockType(
    "concat", "Concat", "Merge", "Joins inputs along the channel axis, in port order.", (), None,
    _infer_concat,
    function=Function(lambda p, xs, emit: emit(torch_module().cat, tuple(xs), 1),
                      lambda p, names: f"torch.cat([{', '.join(names)}], 1)"),
    imports=Imports(functions=("torch.cat", "torch.concat"), read_call=_read_concat), stem="cat")


def _infer_shortcut(params: Params, inputs: Inputs) -> Shape:
    c, h, w = need_image(inputs, "ShortcutPad")
    out = shortcut_channels(params, c)
    if out < c:
        raise ShapeError("bad_param", f"out_channels={out} is less than the {c} input channels")
    s = params["stride"]
    return (out, -(-h // s), -(-w // s))


def _read_shortcut_module(m: Any, shape: Shape) -> Params | None:
    stride, extra = getattr(m, "stride", None), getattr(m, "extra_channels", None)
    if not (isinstance(stride, int) and isinstance(extra, int)):
        return None
    return {"stride": stride, "out_channels": shape[0] + extra}


_SHORTCUT = BlockType(
    "shortcut_pad", "ShortcutPad", "Merge",
    "He et al. option A shortcut: subsample by stride, zero-pad new channels; no parameters.",
    (int_param("stride", 2, "Subsampling step.", 1, 64),
     int_param("out_channels", 0, "Channels after padding (0 = twice the input).", 0, 65536)),
    1, _infer_shortcut,
    lambda p, shapes: Call("ShortcutPad", (keyword("stride", p["stride"]), keyword(
        "extra_channels", shortcut_channels(p, shapes[0][0]) - shapes[0][0]))),
    imports=Imports(("ShortcutPad",), _read_shortcut_module),  # hand-written forms: fx_ops' idioms
    key_params=("stride",), stem="shortcut")

# ----------------------------------------------------------------------------- the catalog


def _entries() -> list[BlockType]:
    return [
        _INPUT, _OUTPUT, _CONV, _BN, _GROUP_NORM, _LAYER_NORM, *_activations(),
        _pool("maxpool2d", "MaxPool2d", "Maximum over each window.", "MaxPool2d", "max_pool2d"),
        _pool("avgpool2d", "AvgPool2d", "Average over each window.", "AvgPool2d", "avg_pool2d"),
        _GLOBAL_POOL, _FLATTEN, _LINEAR, *_DROPOUTS, _IDENTITY, _ADD, _CONCAT, _SHORTCUT,
    ]


CATALOG: dict[str, BlockType] = entries_by_id(_entries())
CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(e.category for e in CATALOG.values()))
PARAMETERISED = frozenset(e.type_id for e in CATALOG.values() if e.count is not None)  # may have weights


def get(type_id: str) -> BlockType:
    """The catalog entry for ``type_id`` (KeyError names the valid ids)."""
    try:
        return CATALOG[type_id]
    except KeyError:
        raise KeyError(f"unknown block type {type_id!r}; known: {', '.join(CATALOG)}") from None
