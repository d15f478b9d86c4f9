"""What a block type is: the :class:`BlockType` record and the pieces it is made of (torch-free).

A block type says everything the program knows about one kind of block, and every part of
the program reads it from there: validation (its parameters, ports and shape rule), the
compiler and the code exporter (the module's constructor :class:`Call`, or the
:class:`Function` a block without a module computes), the PyTorch importer (the
:class:`Imports` that recognise it in a traced module), the summary and the memory estimate
(its parameter and mult-add counts). The entries themselves are in :mod:`builder.catalog`.

Shapes are per-sample tuples without the batch dimension: ``(C, H, W)`` for images, ``(F,)``
for feature vectors. Nothing here imports torch at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from builder.params import Param

Shape = tuple[int, ...]
Inputs = Sequence[tuple[str, Shape]]  # (source block id, shape) per input port
Params = dict[str, Any]
Emit = Callable[..., Any]  # emit(function, *args): the value of ``function(*args)`` in the module built


class ShapeError(Exception):
    """A block cannot accept its inputs; ``code`` names the diagnostic."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Unrepresentable(Exception):
    """A traced operation close to a block that computes something else (the reason says what)."""


def fmt_shape(shape: Shape | None) -> str:
    """``(16, 32, 32)`` → ``16×32×32``; None → ``?``."""
    if shape is None:
        return "?"
    return "×".join(str(d) for d in shape)


# ----------------------------------------------------------------------------- constructor calls

_NO_DEFAULT = object()


@dataclass(frozen=True)
class Arg:
    """One constructor argument: its parameter name, value and (when it has one) default.

    ``keyword`` False writes it positionally; an argument equal to its default is left out.
    """

    name: str
    value: Any
    default: Any = _NO_DEFAULT
    keyword: bool = True

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT


def positional(name: str, value: Any) -> Arg:
    """An argument written by position (``nn.Conv2d(16, 32, …)``)."""
    return Arg(name, value, keyword=False)


def keyword(name: str, value: Any, default: Any = _NO_DEFAULT) -> Arg:
    """An argument written ``name=value`` (left out when it equals ``default``)."""
    return Arg(name, value, default)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Call:
    """``func(args…)``: a block's module constructor, written once for compile and export.

    ``func`` is ``nn.<Class>`` (a ``torch.nn`` class) or the name of a class in
    :mod:`builder.modules`. :meth:`build` makes the module, :meth:`render` writes the source;
    the code generator may replace integer arguments by expressions (a class's ``in_channels``).
    """

    func: str
    args: tuple[Arg, ...] = ()

    def numbers(self) -> list[int]:
        """The integer arguments (candidates for class parameters), in order."""
        return [a.value for a in self.args if _is_int(a.value)]

    def number_names(self) -> list[str]:
        """The parameter names of :meth:`numbers`."""
        return [a.name for a in self.args if _is_int(a.value)]

    def skeleton(self) -> tuple[Any, ...]:
        """Everything but the integer values."""
        return (self.func, tuple((a.name, None if _is_int(a.value) else a.value) for a in self.args))

    def render(self, exprs: list[str] | None = None) -> str:
        """Source text, with the integer arguments replaced by ``exprs`` when given."""
        texts, k = [], 0
        for a in self.args:
            if _is_int(a.value):
                text = exprs[k] if exprs is not None else repr(a.value)
                k += 1
                if a.has_default and text == repr(a.default):
                    continue
            else:
                if a.has_default and a.value == a.default:
                    continue
                text = repr(a.value)
            texts.append(f"{a.name}={text}" if a.keyword else text)
        return f"{self.func}({', '.join(texts)})"

    def values(self) -> dict[str, Any]:
        """``{parameter name: value}`` for every argument (defaults included)."""
        return {a.name: a.value for a in self.args}

    def build(self) -> Any:
        """The torch module this call makes (imports torch)."""
        from torch import nn

        from builder import modules

        cls = getattr(nn, self.func[3:]) if self.func.startswith("nn.") else getattr(modules, self.func)
        args = [a.value for a in self.args if not a.keyword]
        return cls(*args, **{a.name: a.value for a in self.args if a.keyword})


# ----------------------------------------------------------------------------- functional blocks


@dataclass(frozen=True)
class Function:
    """A block computed by a function of its inputs rather than a module (it has no weights).

    ``apply(params, inputs, emit)`` builds the block's value with ``emit(function, *args)``
    (the compiler records each call as a node of the torch.fx graph); ``source(params,
    names)`` is the same computation as a Python expression over the inputs' variable names.
    """

    apply: Callable[[Params, list[Any], Emit], Any]
    source: Callable[[Params, list[str]], str]


# ----------------------------------------------------------------------------- rules entries share


def need_image(inputs: Inputs, what: str) -> Shape:
    """The first input's C×H×W shape; ShapeError (``needs_image``) for a flat tensor."""
    src, shape = inputs[0]
    if len(shape) != 3:
        raise ShapeError(
            "needs_image",
            f"{what} needs a C×H×W input but '{src}' gives {fmt_shape(shape)}; "
            "feed it from a convolution or pooling block, not from Flatten or Linear",
        )
    return shape


def same(params: Params, inputs: Inputs) -> Shape:
    """The shape rule of a block whose output has its input's shape."""
    return inputs[0][1]


def same_image(what: str) -> Callable[[Params, Inputs], Shape]:
    """The shape rule of a block that keeps a C×H×W input's shape and needs one."""
    return lambda params, inputs: need_image(inputs, what)


def window(size: int, kernel: int, stride: int, pad: int, dilation: int, what: str) -> int:
    """Output size of a sliding window; ShapeError (``kernel_too_large``) when it does not fit."""
    span = dilation * (kernel - 1) + 1
    if span > size + 2 * pad:
        raise ShapeError(
            "kernel_too_large",
            f"{what} kernel spans {span} pixels but its input is only {size} "
            f"(+{2 * pad} padding) wide; use a smaller kernel_size or more padding",
        )
    return (size + 2 * pad - span) // stride + 1


def square(value: Any, what: str) -> int:
    """A square size written as ``3`` or ``(3, 3)``; Unrepresentable when it is not square."""
    if isinstance(value, int):
        return value
    if isinstance(value, tuple | list) and len(set(value)) == 1 and isinstance(value[0], int):
        return int(value[0])
    raise Unrepresentable(f"has a non-square {what} {value!r}")


# ----------------------------------------------------------------------------- importing


class TracedCall(Protocol):
    """A function or method call in a traced PyTorch module, as the importer shows it to a block.

    ``args`` hold tensor arguments as opaque values; :meth:`argument` reads an argument with
    integer values resolved; :meth:`shape` gives a tensor argument's shape as traced (batch
    first), :meth:`output_shape` the call result's.
    """

    @property
    def args(self) -> tuple[Any, ...]: ...

    @property
    def kwargs(self) -> dict[str, Any]: ...

    def argument(self, index: int, name: str, default: Any) -> Any: ...

    def is_tensor(self, value: Any) -> bool: ...

    def shape(self, value: Any) -> Shape: ...

    def output_shape(self) -> Shape: ...

    @property
    def name(self) -> str: ...  # the name the block's Imports list it under ("Tensor.view")


ReadModule = Callable[[Any, Shape], "Params | None"]  # (module, input shape) → params, None: not this block
ReadCall = Callable[[TracedCall], "tuple[Params, list[Any]] | None"]  # → (params, input tensors) or None


@dataclass(frozen=True)
class Imports:
    """How an import of a traced PyTorch module recognises this block.

    ``modules``: ``torch.nn`` classes (``"torch.nn.ReLU"``; subclasses too) or, unqualified,
    classes matched by name (``"ShortcutPad"``, so an exported copy of it is recognised);
    ``read_module`` turns such a module into block parameters (default: the block's
    parameters read as the module's attributes of the same names). ``functions``: functions
    (``"torch.nn.functional.relu"``) and tensor methods (``"Tensor.relu"``); ``read_call``
    gives (parameters, input tensors) of a call (default: no parameters, the first argument).
    Either reader returns None when the operation is not this block, or raises
    :class:`Unrepresentable` when it is close but computes something else.
    """

    modules: tuple[str, ...] = ()
    read_module: ReadModule | None = None
    functions: tuple[str, ...] = ()
    read_call: ReadCall | None = None


def read_attributes(params: tuple[Param, ...]) -> ReadModule:
    """The default module reader: each block parameter from the module attribute of its name."""

    def read(module: Any, shape: Shape) -> Params:
        return {p.name: p.coerce(getattr(module, p.name)) for p in params}

    return read


def first_input(call: TracedCall) -> tuple[Params, list[Any]]:
    """The default call reader: no parameters, the first argument is the block's input."""
    return {}, list(call.args[:1])


# ----------------------------------------------------------------------------- the record

Role = Literal["input", "output", "module", "function"]
Count = Callable[[Params, list[Shape]], int]


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
    call: Callable[[Params, list[Shape]], Call] | None = None  # the module's constructor
    function: Function | None = None  # what a block without a module computes
    imports: Imports = Imports()
    key_params: tuple[str, ...] = ()  # shown on the block
    count: Count | None = None  # learnable parameters, from the input shapes
    macs: Callable[[Params, list[Shape], Shape], int] | None = None  # default: one per parameter
    weights_switch: str = ""  # a bool parameter that, when False, leaves the block without weights
    stem: str = ""  # local name of imported blocks (default: the type id)
    view: bool = False  # its output is its input's tensor (no memory of its own)
    param_map: dict[str, Param] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "param_map", {p.name: p for p in self.params})
        if not self.stem:
            object.__setattr__(self, "stem", self.type_id)

    @property
    def has_module(self) -> bool:
        return self.call is not None

    @property
    def role(self) -> Role:
        if self.type_id in ("input", "output"):
            return "input" if self.type_id == "input" else "output"
        return "module" if self.call is not None else "function"

    def defaults(self) -> Params:
        return {p.name: p.default for p in self.params}

    def make(self, params: Params, shapes: list[Shape]) -> Any:
        """The block's torch module for inputs of ``shapes`` (imports torch)."""
        if self.call is None:
            raise ValueError(f"{self.label} has no module")
        return self.call(params, shapes).build()

    def has_weights(self, params: Params) -> bool:
        """Whether a block with these parameters has learnable weights."""
        return self.count is not None and (not self.weights_switch or bool(params[self.weights_switch]))

    def parameters(self, params: Params, shapes: list[Shape]) -> int:
        """Learnable parameters of a block with these inputs (0 for a block without weights)."""
        return self.count(params, shapes) if self.has_weights(params) and self.count else 0

    def mult_adds(self, params: Params, shapes: list[Shape], out: Shape) -> int:
        """Multiply-accumulates for one sample, counted as torchinfo counts them."""
        if not self.has_weights(params):
            return 0
        if self.macs is not None:
            return self.macs(params, shapes, out)
        return self.parameters(params, shapes)  # torchinfo: each weight once per sample


def entries_by_id(entries: Sequence[BlockType]) -> dict[str, BlockType]:
    """``{type id: entry}``; ValueError on a repeated id."""
    table: dict[str, BlockType] = {}
    for entry in entries:
        if entry.type_id in table:
            raise ValueError(f"block type {entry.type_id!r} is declared twice")
        table[entry.type_id] = entry
    return table


def torch_module() -> Any:
    """``torch``, imported when a rule runs (the catalog loads without it)."""
    import torch

    return torch


def not_in_training(call: TracedCall, name: str) -> None:
    """A functional dropout must follow train()/eval(): traced in eval mode, training reads False."""
    if call.argument(2, name, True) is not False:
        raise Unrepresentable("with training=True, which drops values in eval mode too (a dropout "
                              "block follows train()/eval(): pass training=self.training)")


def read_dropout(call: TracedCall) -> tuple[Params, list[Any]] | None:
    """A functional dropout (``F.dropout(x, p, training=self.training)``) as a dropout block's ``p``."""
    not_in_training(call, "training" if call.name.startswith("torch.nn.functional") else "train")
    p = call.argument(1, "p", 0.5)
    return ({"p": float(p)}, list(call.args[:1])) if isinstance(p, int | float) else None
