"""How torch.fx nodes become catalog blocks: modules, functions and methods (imports torch).

Each block type says in its catalog entry (:class:`builder.blocktype.Imports`) which torch
modules, functions and tensor methods compute it, and reads their arguments into block
parameters. This module turns those lists into lookup tables and shows each traced call to the
readers (:class:`_Call`). :func:`map_module` and :func:`map_function` return ``(type id, params[,
inputs])`` for an fx node whose operation a block computes, None when none does, and raise
:class:`Unsupported` with a precise reason when an operation is close to a block but differs (a
dropout that ignores eval mode, channels padded in front). Idioms that write a block with
general tensor operations are read here: a global mean ``x.mean((2, 3))`` (a global average
pool, then flatten: two blocks) and hand-written option-A shortcuts (``x[:, :, ::2, ::2]``,
``F.pad`` adding zero channels), which are ShortcutPads.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from builder import catalog
from builder.blocktype import BlockType, Shape, Unrepresentable, read_attributes

_NAMESPACES = {"torch": torch, "torch.nn": nn, "torch.nn.functional": F, "operator": operator}


def _resolve(name: str) -> Any:
    """The object a qualified name like ``torch.nn.functional.relu`` names (in ``_NAMESPACES``)."""
    module, _, attr = name.rpartition(".")
    return getattr(_NAMESPACES[module], attr)


def _tables() -> tuple[dict[type, BlockType], dict[str, BlockType], dict[Any, list[tuple[str, BlockType]]],
                       dict[str, list[tuple[str, BlockType]]]]:
    """Module classes, module class names, functions and methods → the entries that read them."""
    classes: dict[type, BlockType] = {}
    named: dict[str, BlockType] = {}
    functions: dict[Any, list[tuple[str, BlockType]]] = {}
    methods: dict[str, list[tuple[str, BlockType]]] = {}
    for entry in catalog.CATALOG.values():
        for name in entry.imports.modules:
            if "." in name:
                classes[_resolve(name)] = entry
            else:
                named[name] = entry
        for name in entry.imports.functions:
            if name.startswith("Tensor."):
                methods.setdefault(name[len("Tensor."):], []).append((name, entry))
            else:
                functions.setdefault(_resolve(name), []).append((name, entry))
    return classes, named, functions, methods


_CLASSES, _NAMED, _FUNCTIONS, _METHODS = _tables()


def is_named_leaf(m: nn.Module) -> bool:
    """A module a block names by class name (Skipwire's ShortcutPad, or an exported copy): a leaf."""
    return type(m).__name__ in _NAMED


def shape_of(node: Any) -> tuple[int, ...]:
    """The shape of the tensor a node gives (batch first); Unsupported when it gives none."""
    meta = node.meta.get("tensor_meta") if isinstance(node, fx.Node) else None
    if meta is None or not hasattr(meta, "shape"):
        raise unsupported(node, f"{op_name(node)} (does not give one tensor)")
    return tuple(int(d) for d in meta.shape)


def _entry_for(m: nn.Module) -> BlockType | None:
    for cls in type(m).__mro__:
        if cls in _CLASSES:
            return _CLASSES[cls]
    return _NAMED.get(type(m).__name__)


def map_module(m: nn.Module, node: fx.Node) -> tuple[str, dict[str, Any]] | None:
    """(type id, params) of the block computing leaf module ``m``, or None."""
    entry = _entry_for(m)
    if entry is None:
        return None
    read = entry.imports.read_module or read_attributes(entry.params)
    try:
        params = read(m, shape_of(node.args[0])[1:])
    except Unrepresentable as exc:
        raise unsupported(node, f"{node.target} ({type(m).__name__}) {exc}") from None
    return None if params is None else (entry.type_id, params)


class _Call:
    """A traced call as a block's reader sees it (:class:`builder.blocktype.TracedCall`)."""

    def __init__(self, node: fx.Node, name: str) -> None:
        self.node, self.name = node, name

    @property
    def args(self) -> tuple[Any, ...]:
        return tuple(self.node.args)

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.node.kwargs)

    def argument(self, index: int, name: str, default: Any) -> Any:
        return _argument(self.node, index, name, default)

    def is_tensor(self, value: Any) -> bool:
        return isinstance(value, fx.Node)

    def shape(self, value: Any) -> Shape:
        return shape_of(value)

    def output_shape(self) -> Shape:
        return shape_of(self.node)


def map_function(node: fx.Node) -> tuple[str, dict[str, Any], list[Any]] | None:
    """(type id, params, input nodes) of the block computing a function or method call, or None."""
    t = node.target
    if node.op == "call_method":
        readers = _METHODS.get(str(t), [])
    else:
        readers = _FUNCTIONS.get(t, []) if _hashable(t) else []
    for name, entry in readers:
        read = entry.imports.read_call
        call = _Call(node, name)
        try:
            found = read(call) if read else ({}, list(node.args[:1]))
        except Unrepresentable as exc:
            raise unsupported(node, f"{op_name(node)} {exc}") from None
        if found is not None:
            return entry.type_id, *found
    if t is torch.mean or (node.op == "call_method" and t == "mean"):
        return _map_mean(node)
    if t is operator.getitem:
        return _map_subsample(node)
    if t is F.pad:
        return _map_channel_pad(node)
    return None


def _hashable(target: Any) -> bool:
    try:
        hash(target)
    except TypeError:
        return False
    return True


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
    x = node.args[0]
    return "shortcut_pad", {"stride": next(iter(steps))[2], "out_channels": shape_of(x)[1]}, [x]


def _map_channel_pad(node: fx.Node) -> tuple[str, dict[str, Any], list[Any]] | None:
    """``F.pad(x, (0, 0, 0, 0, 0, n))``: zero channels after the input's, a ShortcutPad."""
    pad = _argument(node, 1, "pad", None)
    mode, value = _argument(node, 2, "mode", "constant"), _argument(node, 3, "value", None)
    if not (isinstance(pad, tuple | list) and len(pad) == 6 and mode == "constant" and value in (0, None)):
        return None
    if any(pad[:4]) or pad[5] < 0:
        return None
    if pad[4]:
        raise unsupported(node, f"{op_name(node)} with {pad[4]} zero channel(s) before the input's (as "
                          "in akamaster's option-A LambdaLayer): a ShortcutPad adds them after the input's "
                          f"channels; pad (0, 0, 0, 0, 0, {pad[4] + pad[5]}) or use a 1×1 projection")
    x = node.args[0]
    return "shortcut_pad", {"stride": 1, "out_channels": shape_of(x)[1] + pad[5]}, [x]


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
    """An fx node without a block; trace_module adds where it is in the user's source."""

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
