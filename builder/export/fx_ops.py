"""How torch.fx nodes become catalog blocks: modules, functions and methods (imports torch).

:func:`map_module` and :func:`map_function` return ``(type id, params[, inputs])`` for an fx node
whose operation a block computes, None when none does, and raise :class:`Unsupported` with a
precise reason when an operation is close to a block but differs (a dropout that ignores eval
mode, channels padded in front). Functional forms are accepted with their default arguments.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn


def is_shortcut_pad(m: nn.Module) -> bool:
    """Skipwire's ShortcutPad (or an exported copy of it): a leaf module for the tracer."""
    return type(m).__name__ == "ShortcutPad" and hasattr(m, "stride") and hasattr(m, "extra_channels")


def shape_of(node: Any) -> tuple[int, ...]:
    """The shape of the tensor a node gives (batch first); Unsupported when it gives none."""
    meta = node.meta.get("tensor_meta") if isinstance(node, fx.Node) else None
    if meta is None or not hasattr(meta, "shape"):
        raise unsupported(node, f"{op_name(node)} (does not give one tensor)")
    return tuple(int(d) for d in meta.shape)


def _square(value: Any, what: str, node: fx.Node) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, tuple | list) and len(set(value)) == 1 and isinstance(value[0], int):
        return int(value[0])
    raise unsupported(node, f"{node.target}: non-square {what} {value!r}")


def map_module(m: nn.Module, node: fx.Node) -> tuple[str, dict[str, Any]] | None:
    """(type id, params) of the block computing leaf module ``m``, or None."""
    simple = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}
    if type(m) in simple:
        return simple[type(m)], {}
    if isinstance(m, nn.Conv2d) and m.padding_mode == "zeros":
        padding = m.padding if isinstance(m.padding, str) else _square(m.padding, "padding", node)
        if padding == "valid":
            padding = 0
        kernel = _square(m.kernel_size, "kernel", node)
        return "conv2d", {"out_channels": m.out_channels, "kernel_size": kernel,
                          "stride": _square(m.stride, "stride", node), "padding": padding,
                          "dilation": _square(m.dilation, "dilation", node), "groups": m.groups,
                          "bias": m.bias is not None}
    if isinstance(m, nn.BatchNorm2d) and m.affine and m.track_running_stats and m.momentum is not None:
        return "batchnorm2d", {"eps": m.eps, "momentum": m.momentum}
    if isinstance(m, nn.Linear):
        return "linear", {"out_features": m.out_features, "bias": m.bias is not None}
    if isinstance(m, nn.MaxPool2d | nn.AvgPool2d) and not m.ceil_mode:
        if isinstance(m, nn.MaxPool2d) and (m.return_indices or _square(m.dilation, "dilation", node) != 1):
            return None
        if isinstance(m, nn.AvgPool2d) and (not m.count_include_pad or m.divisor_override):
            return None
        k = _square(m.kernel_size, "kernel", node)
        stride = k if m.stride is None else _square(m.stride, "stride", node)
        kind = "maxpool2d" if isinstance(m, nn.MaxPool2d) else "avgpool2d"
        return kind, {"kernel_size": k, "stride": stride, "padding": _square(m.padding, "padding", node)}
    return _map_other_module(m, node)


def _map_other_module(m: nn.Module, node: fx.Node) -> tuple[str, dict[str, Any]] | None:
    if isinstance(m, nn.AdaptiveAvgPool2d) and m.output_size in (1, (1, 1)):
        return "global_avgpool", {}
    if isinstance(m, nn.Flatten) and m.start_dim == 1 and m.end_dim == -1:
        return "flatten", {}
    if isinstance(m, nn.GELU) and m.approximate == "none":
        return "gelu", {}
    if isinstance(m, nn.LeakyReLU):
        return "leaky_relu", {"negative_slope": float(m.negative_slope)}
    if isinstance(m, nn.Dropout):
        return "dropout", {"p": float(m.p)}
    if is_shortcut_pad(m):
        in_c = shape_of(node.args[0])[1]
        stride, extra = getattr(m, "stride"), getattr(m, "extra_channels")  # noqa: B009  (untyped attrs)
        return "shortcut_pad", {"stride": int(stride), "out_channels": in_c + int(extra)}
    return None


LOCAL_NAMES = {"concat": "cat", "global_avgpool": "avgpool", "avgpool2d": "avgpool", "maxpool2d": "maxpool",
          "leaky_relu": "relu", "shortcut_pad": "shortcut"}
_ADD = {operator.add, operator.iadd, torch.add}
_ACTS = {F.relu: "relu", torch.relu: "relu", torch.sigmoid: "sigmoid", torch.tanh: "tanh",
         F.gelu: "gelu"}


def map_function(node: fx.Node) -> tuple[str, dict[str, Any], list[Any]] | None:
    """(type id, params, input nodes) of the block computing a function or method call, or None."""
    t, args = node.target, list(node.args)
    if t in _ADD or (node.op == "call_method" and t in ("add", "add_")):
        if len(args) == 2 and not node.kwargs and all(isinstance(a, fx.Node) for a in args):
            return "add", {}, args
        return None
    if t in (torch.cat, torch.concat):
        dim = args[1] if len(args) > 1 else node.kwargs.get("dim", 0)
        if dim in (1, -3) and isinstance(args[0], list | tuple):
            return "concat", {}, list(args[0])
        return None
    if t in _ACTS or (node.op == "call_method" and t in ("relu", "relu_", "sigmoid", "tanh")):
        name = _ACTS.get(t) if callable(t) else None  # type: ignore[arg-type]
        name = name or str(t).rstrip("_")
        return name, {}, args[:1]
    if _is_flatten(node):
        return "flatten", {}, args[:1]
    if t in (F.dropout, torch.dropout):
        return _map_dropout(node)
    if t is torch.mean or (node.op == "call_method" and t == "mean"):
        return _map_mean(node)
    if t is operator.getitem:
        return _map_subsample(node)
    if t is F.pad:
        return _map_channel_pad(node)
    return _map_pool(node)


def _map_subsample(node: fx.Node) -> tuple[str, dict[str, Any], list[Any]] | None:
    """``x[:, :, ::s, ::s]`` (option-A shortcuts written by hand): a ShortcutPad with stride s."""
    index: Any = node.args[1]
    if not (isinstance(index, tuple) and len(index) == 4 and all(isinstance(i, slice) for i in index)):
        return None
    if any(i != slice(None) for i in index[:2]):
        return None
    steps = {(i.start or 0, i.stop, i.step or 1) for i in index[2:]}
    if len(steps) != 1 or next(iter(steps))[:2] != (0, None):
        return None
    channels = shape_of(node.args[0])[1]
    return "shortcut_pad", {"stride": next(iter(steps))[2], "out_channels": channels}, [node.args[0]]


def _map_channel_pad(node: fx.Node) -> tuple[str, dict[str, Any], list[Any]] | None:
    """``F.pad(x, (0, 0, 0, 0, 0, n))``: zero channels after the input's, a ShortcutPad."""
    pad = _argument(node, 1, "pad", None)
    mode, value = _argument(node, 2, "mode", "constant"), _argument(node, 3, "value", None)
    if not (isinstance(pad, tuple | list) and len(pad) == 6 and mode == "constant" and value in (0, None)):
        return None
    if any(pad[:4]) or pad[5] < 0:
        return None
    if pad[4]:
        raise unsupported(node, f"{op_name(node)} with {pad[4]} zero channel(s) before the input's (as in "
                           "akamaster's option-A LambdaLayer): a ShortcutPad adds them after the input's "
                           f"channels; pad (0, 0, 0, 0, 0, {pad[4] + pad[5]}) or use a 1×1 projection")
    channels = shape_of(node.args[0])[1]
    return "shortcut_pad", {"stride": 1, "out_channels": channels + pad[5]}, [node.args[0]]


def _map_dropout(node: fx.Node) -> tuple[str, dict[str, Any], list[Any]] | None:
    """``F.dropout(x, p, training=self.training)``: a Dropout block (it follows train()/eval())."""
    p = _argument(node, 1, "p", 0.5)
    training = _argument(node, 2, "training" if node.target is F.dropout else "train", True)
    if training is not False:  # traced in eval mode: True means it drops in evaluation too
        raise unsupported(node, f"{op_name(node)} with training=True, which drops values in eval mode "
                           "too (a Dropout block follows train()/eval(): pass training=self.training)")
    return ("dropout", {"p": float(p)}, list(node.args[:1])) if isinstance(p, int | float) else None


def _argument(node: fx.Node, index: int, name: str, default: Any) -> Any:
    """Argument ``index`` (or keyword ``name``) of a call, with integer nodes read as values."""
    value = node.args[index] if len(node.args) > index else node.kwargs.get(name, default)
    if isinstance(value, fx.Node):
        return value.meta.get("value", value)
    if isinstance(value, list | tuple):
        return type(value)(v.meta.get("value", v) if isinstance(v, fx.Node) else v for v in value)
    return value


def _map_mean(node: fx.Node) -> tuple[str, dict[str, Any], list[Any]] | None:
    """``x.mean((2, 3))`` (or ``(-1, -2)``, a list, ``dim=``): a global mean over the pixels."""
    dims = _argument(node, 1, "dim", None)
    keep = _argument(node, 2, "keepdim", False)
    if not isinstance(dims, list | tuple) or len(shape_of(node.args[0])) != 4 or "dtype" in node.kwargs:
        return None
    if sorted(d % 4 if isinstance(d, int) else -1 for d in dims) != [2, 3]:
        return None
    return ("global_avgpool" if keep else "global_mean"), {}, [node.args[0]]


def _is_flatten(node: fx.Node) -> bool:
    t, args = node.target, node.args
    if t is torch.flatten or (node.op == "call_method" and t == "flatten"):
        start = args[1] if len(args) > 1 else node.kwargs.get("start_dim", 0)
        return bool(start == 1 and len(shape_of(args[0])) == 4)
    if node.op == "call_method" and t in ("view", "reshape"):
        shape, out = shape_of(args[0]), shape_of(node)
        return len(out) == 2 and out[0] == shape[0] and len(shape) > 2
    return False


# functional pooling arguments beyond kernel_size, stride and padding, and their defaults
_POOL_DEFAULTS: dict[Any, dict[str, Any]] = {
    F.max_pool2d: {"dilation": (1, (1, 1), [1, 1]), "ceil_mode": (False,), "return_indices": (False,)},
    F.avg_pool2d: {"ceil_mode": (False,), "count_include_pad": (True,), "divisor_override": (None,)},
}


def _map_pool(node: fx.Node) -> tuple[str, dict[str, Any], list[Any]] | None:
    t, args = node.target, list(node.args)
    if t is F.adaptive_avg_pool2d and _argument(node, 1, "output_size", None) in (1, (1, 1), [1, 1]):
        return "global_avgpool", {}, args[:1]
    if t not in _POOL_DEFAULTS:
        return None
    names = ("kernel_size", "stride", "padding", *_POOL_DEFAULTS[t])
    if len(args) > len(names) + 1 or set(node.kwargs) - set(names):
        return None
    values = {name: _argument(node, i + 1, name, None) for i, name in enumerate(names)}
    for name, allowed in _POOL_DEFAULTS[t].items():
        if values[name] is not None and values[name] not in allowed:
            return None  # a non-default dilation, ceil_mode…: no block computes it
    if values["kernel_size"] is None:
        return None
    k = _square(values["kernel_size"], "kernel", node)
    params = {"kernel_size": k, "stride": _square(values["stride"] or k, "stride", node),
              "padding": _square(values["padding"] or 0, "padding", node)}
    return ("avgpool2d" if t is F.avg_pool2d else "maxpool2d"), params, args[:1]


def op_name(node: Any) -> str:
    if not isinstance(node, fx.Node):
        return repr(node)
    t = node.target
    if node.op == "call_method":
        return f"Tensor.{t}"
    if callable(t):
        module = getattr(t, "__module__", None) or ""
        return f"{module}.{getattr(t, '__name__', t)}".lstrip(".")
    return str(t)


class Unsupported(Exception):
    """An fx node without a block; import_module adds where it is in the user's source."""

    def __init__(self, node_name: str, what: str) -> None:
        super().__init__(what)
        self.node_name, self.what = node_name, what

    def message(self) -> str:
        return f"unsupported operation: {self.what}; Skipwire has no block for it"


class Shared(Unsupported):
    """A module with parameters or buffers called more than once: its weights are shared."""

    def __init__(self, node: fx.Node, what: str) -> None:
        super().__init__(node.name, what)

    def message(self) -> str:
        return (f"{self.what} is called more than once, sharing its weights between the calls: weight "
                "sharing is not representable in a Skipwire graph (every block has its own weights); "
                "give each call its own module")


def unsupported(node: Any, what: str) -> Unsupported:
    return Unsupported(getattr(node, "name", ""), what)
