"""Import a PyTorch ``nn.Module`` as a graph by tracing it with torch.fx.

Every traced operation must map to a catalog block: standard layers (Conv2d, BatchNorm2d,
Linear, activations, pooling, Dropout, Flatten), ``+`` (Add), ``torch.cat`` on channels
(Concat), flattening (``torch.flatten(x, 1)``, ``x.view(x.size(0), -1)``), functional ReLU
and pooling, and Skipwire's ``ShortcutPad``. Nested modules become groups (``layer2.0``),
so the graph's module paths, and the state-dict keys, are the module's own. Anything else
fails with one message naming the operation and where in the source it is.

Loading a class from a ``.py`` file executes that file: only for code the user trusts,
never for graph files.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import operator
import os
import re
import sys
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from builder.export.fx_shapes import ShapeFailure, propagate
from builder.graph import Graph, GraphError
from builder.layout import apply_layout
from builder.validate import validate


class ImportFailure(ValueError):
    """The module cannot become a graph (one line naming the operation and its place)."""


def load_class(spec: str) -> type[nn.Module]:
    """The class named by ``path/to/model.py:ClassName`` (runs that file)."""
    path, _, name = spec.rpartition(":")
    if not path or not name.isidentifier():
        raise ImportFailure(f"{spec!r}: expected path/to/model.py:ClassName")
    cls = vars(_run_file(path)).get(name)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ImportFailure(f"{path}: no nn.Module class named {name!r}")
    return cls


def module_classes(path: str | os.PathLike[str]) -> dict[str, type[nn.Module]]:
    """The ``nn.Module`` classes defined in the file at ``path`` (runs that file)."""
    module = _run_file(path)
    return {name: obj for name, obj in vars(module).items()
            if isinstance(obj, type) and issubclass(obj, nn.Module) and obj.__module__ == module.__name__}


def _run_file(path: str | os.PathLike[str]) -> Any:
    file = Path(path)
    if not file.is_file():
        raise ImportFailure(f"{path}: file not found")
    module_name = "skipwire_import_" + re.sub(r"\W", "_", file.stem)
    loader_spec = importlib.util.spec_from_file_location(module_name, file)
    if loader_spec is None or loader_spec.loader is None:
        raise ImportFailure(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[module_name] = module
    try:
        loader_spec.loader.exec_module(module)
    except Exception as exc:  # the user's file may raise anything
        raise ImportFailure(f"{path}: running the file failed: {type(exc).__name__}: {exc}") from None
    return module


_EXPORTED = re.compile(r"\w+: {header} ('.*'|\".*\")\.\n\n(?:(.*?)\n\n)?Parameters: ", re.S)


def exported_name(cls: type) -> tuple[str, str] | None:
    """(graph name, description) when ``cls`` comes from a file Skipwire exported, else None.

    Read from the module docstring (``ast.literal_eval`` of the quoted name: data, never
    code), so export → import → export reproduces the same file.
    """
    from builder.export.codegen import HEADER

    doc = getattr(sys.modules.get(cls.__module__), "__doc__", None) or ""
    match = re.match(_EXPORTED.pattern.format(header=HEADER), doc, re.S)
    if match is None:
        return None
    try:
        name = ast.literal_eval(match.group(1))
    except (ValueError, SyntaxError):
        return None
    return (name, " ".join((match.group(2) or "").split())) if isinstance(name, str) else None


class _Tracer(fx.Tracer):
    """Standard layers and ShortcutPad stay single calls; user modules are traced through."""

    def __init__(self, stack_traces: bool = False) -> None:
        super().__init__()
        self.record_stack_traces = stack_traces  # costly (seconds): only to locate a failure

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if _is_shortcut_pad(m):
            return True
        return super().is_leaf_module(m, module_qualified_name)


def _is_shortcut_pad(m: nn.Module) -> bool:
    return type(m).__name__ == "ShortcutPad" and hasattr(m, "stride") and hasattr(m, "extra_channels")


def import_module(module: nn.Module, input_shape: tuple[int, int, int], name: str = "imported",
                  memory_limit: int | str | None = None) -> Graph:
    """Trace ``module`` into a graph for inputs of ``input_shape`` (C, H, W).

    Shapes are found on the meta device first: a module too large for the memory limit
    (:mod:`builder.resources`) is refused before any activation is allocated.
    """
    defaults = _forward_defaults(module)
    was_training = module.training
    module.eval()  # traced in eval mode: `training=self.training` reads False, a literal True stays
    try:
        fx_graph = _Tracer().trace(module, concrete_args=defaults or None)
        shaped = propagate(fx.GraphModule(module, fx_graph), type(module).__name__, input_shape,
                           list(defaults.values()), memory_limit)
    except ShapeFailure as exc:
        raise ImportFailure(str(exc)) from None
    except Exception as exc:  # tracing fails on data-dependent control flow and more
        raise ImportFailure(f"torch.fx cannot trace {type(module).__name__}: {_first_line(exc)}") from None
    finally:
        module.train(was_training)
    builder = _GraphBuilder(shaped, name, module)
    try:
        for node in shaped.graph.nodes:
            builder.visit(node)
        builder.connect_all(shaped.graph)
    except _Unsupported as exc:
        where = _where(_traced_again(module, defaults, exc.node_name))
        raise ImportFailure(f"{where}{exc.message()}") from None
    graph = builder.graph
    apply_layout(graph)
    report = validate(graph, memory_limit=memory_limit)
    if not report.ok:
        raise ImportFailure(f"the imported graph is not valid: {report.errors[0]}")
    return graph


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def _forward_defaults(module: nn.Module) -> dict[str, Any]:
    """Arguments of ``forward`` after the input that have defaults (traced with those values)."""
    try:
        params = list(inspect.signature(module.forward).parameters.values())[1:]
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


class _GraphBuilder:
    """Turns fx nodes into blocks, one at a time."""

    def __init__(self, traced: fx.GraphModule, name: str, original: nn.Module) -> None:
        self.traced = traced
        self.original = original  # its named_modules() follow __init__ (traced's follow forward)
        self.graph = Graph(name)
        self.value: dict[fx.Node, str] = {}  # fx node → block id giving its value
        self.counts: dict[tuple[str, str], int] = {}
        self.fixed: set[fx.Node] = set()  # defaulted forward arguments and the checks fx adds on them
        self.wires: list[tuple[str, str, int, fx.Node]] = []
        self.calls: dict[str, int] = {}  # module path → times forward called it so far

    def visit(self, node: fx.Node) -> None:
        inputs = list(node.all_input_nodes)
        if inputs and all(a in self.fixed for a in inputs):
            self.fixed.add(node)  # e.g. `assert lin == 0` for forward(x, lin=0): no block
            return
        if node.op == "placeholder":
            if any(b.type == "input" for b in self.graph.blocks()):
                if node.args:  # a forward argument with a default value, traced as that constant
                    self.fixed.add(node)
                    return
                raise ImportFailure(f"forward takes more than one input ({node.name!r})")
            c, h, w = _shape(node)[1:]
            self.value[node] = self.graph.add_block(
                "input", {"channels": c, "height": h, "width": w}, block_id="input")
        elif node.op == "call_module":
            self._module(node)
        elif node.op in ("call_function", "call_method"):
            self._function(node)
        elif node.op == "output":
            result = node.args[0]
            if not isinstance(result, fx.Node):
                raise ImportFailure("forward must return one tensor")
            self._add("output", {}, [result], "", "output", node)
        else:
            raise _unsupported(node, f"attribute access {node.target!r}")

    def _module(self, node: fx.Node) -> None:
        target = str(node.target)
        sub = self.traced.get_submodule(target)
        if isinstance(sub, nn.Identity):
            self.value[node] = self._source(node.args[0], node)
            return
        mapped = _map_module(sub, node)
        if mapped is None:
            raise _unsupported(node, f"module {target} ({type(sub).__name__})")
        type_id, params = mapped
        group, _, local = target.rpartition(".")
        block_id = target.replace(".", "_")
        calls = self.calls[target] = self.calls.get(target, 0) + 1
        if calls > 1:  # one block per call of a stateless module (a shared pooling or ReLU)
            if any(True for _ in sub.parameters()) or any(True for _ in sub.buffers()):
                raise _Shared(node, f"module {target} ({type(sub).__name__})")
            block_id, local = f"{block_id}_{calls}", f"{local}_{calls}"
        self._add(type_id, params, [node.args[0]], group, local, node, block_id)

    def _function(self, node: fx.Node) -> None:
        if "value" in node.meta and "tensor_meta" not in node.meta:
            return  # a size or another integer (x.size(0), x.shape[3]): read where it is used
        mapped = _map_function(node)
        if mapped is None:
            raise _unsupported(node, _op_name(node))
        type_id, params, inputs = mapped
        stack = node.meta.get("nn_module_stack") or {}
        group = next(reversed(stack)) if stack else ""
        group = group if isinstance(group, str) else ""
        if type_id == "global_mean":  # x.mean((2, 3)): a global average pool, then flatten
            self._add("global_avgpool", {}, inputs, group, "avgpool", node)
            inputs, type_id = [node], "flatten"
        self._add(type_id, params, inputs, group, _LOCAL.get(type_id, type_id), node)

    def _source(self, arg: Any, node: fx.Node) -> str:
        if not isinstance(arg, fx.Node) or arg not in self.value:
            raise _unsupported(node, f"{_op_name(node)} on a non-tensor argument")
        return self.value[arg]

    def _add(self, type_id: str, params: dict[str, Any], inputs: list[Any], group: str, local: str,
             node: fx.Node, block_id: str | None = None) -> None:
        sources = [self._source(a, node) for a in inputs]
        if block_id is None:
            key = (group, local)
            self.counts[key] = self.counts.get(key, 0) + 1
            n = self.counts[key]
            stem = local if n == 1 else f"{local}{n}"
            block_id = f"{group.replace('.', '_')}_{stem}" if group else stem
            while block_id in self.graph:
                block_id += "_"
        try:
            self.graph.add_block(type_id, params, block_id=block_id, group=group)
        except GraphError as exc:
            raise _unsupported(node, f"{_op_name(node)} ({exc})") from None
        self.wires += [(src, block_id, port, node) for port, src in enumerate(sources)]
        self.value[node] = block_id

    def connect_all(self, fx_graph: fx.Graph) -> None:
        """Wire the blocks, each source's wires in the order the module registers its layers.

        The graph's topological order (and so the compiled module's and the exported code's
        layer order) then follows the module's ``__init__``, not the order ``forward`` calls them.
        """
        rank = {name: i for i, (name, _) in enumerate(self.original.named_modules())}
        key: dict[str, float] = {}
        upcoming = float("inf")
        for node in reversed(list(fx_graph.nodes)):
            if node.op == "call_module":
                upcoming = rank.get(str(node.target), upcoming)
            if node in self.value:
                key.setdefault(self.value[node], upcoming if node.op == "call_module" else upcoming - 0.5)
        for src, dst, port, node in sorted(self.wires, key=lambda w: key.get(w[1], 0.0)):
            try:
                self.graph.connect(src, dst, port)
            except GraphError as exc:
                raise _unsupported(node, f"{_op_name(node)} ({exc})") from None


def _shape(node: Any) -> tuple[int, ...]:
    meta = node.meta.get("tensor_meta") if isinstance(node, fx.Node) else None
    if meta is None or not hasattr(meta, "shape"):
        raise _unsupported(node, f"{_op_name(node)} (does not give one tensor)")
    return tuple(int(d) for d in meta.shape)


def _square(value: Any, what: str, node: fx.Node) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, tuple | list) and len(set(value)) == 1 and isinstance(value[0], int):
        return int(value[0])
    raise _unsupported(node, f"{node.target}: non-square {what} {value!r}")


def _map_module(m: nn.Module, node: fx.Node) -> tuple[str, dict[str, Any]] | None:
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
    if _is_shortcut_pad(m):
        in_c = _shape(node.args[0])[1]
        stride, extra = getattr(m, "stride"), getattr(m, "extra_channels")  # noqa: B009  (untyped attrs)
        return "shortcut_pad", {"stride": int(stride), "out_channels": in_c + int(extra)}
    return None


_LOCAL = {"concat": "cat", "global_avgpool": "avgpool", "avgpool2d": "avgpool", "maxpool2d": "maxpool",
          "leaky_relu": "relu"}
_ADD = {operator.add, operator.iadd, torch.add}
_ACTS = {F.relu: "relu", torch.relu: "relu", torch.sigmoid: "sigmoid", torch.tanh: "tanh",
         F.gelu: "gelu"}


def _map_function(node: fx.Node) -> tuple[str, dict[str, Any], list[Any]] | None:
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
    return _map_pool(node)


def _map_dropout(node: fx.Node) -> tuple[str, dict[str, Any], list[Any]] | None:
    """``F.dropout(x, p, training=self.training)``: a Dropout block (it follows train()/eval())."""
    p = _argument(node, 1, "p", 0.5)
    training = _argument(node, 2, "training" if node.target is F.dropout else "train", True)
    if training is not False:  # traced in eval mode: True means it drops in evaluation too
        raise _unsupported(node, f"{_op_name(node)} with training=True, which drops values in eval mode "
                           "too (a Dropout block follows train()/eval(): pass training=self.training)")
    return ("dropout", {"p": float(p)}, node.args[:1]) if isinstance(p, int | float) else None


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
    if not isinstance(dims, list | tuple) or len(_shape(node.args[0])) != 4 or "dtype" in node.kwargs:
        return None
    if sorted(d % 4 if isinstance(d, int) else -1 for d in dims) != [2, 3]:
        return None
    return ("global_avgpool" if keep else "global_mean"), {}, [node.args[0]]


def _is_flatten(node: fx.Node) -> bool:
    t, args = node.target, node.args
    if t is torch.flatten or (node.op == "call_method" and t == "flatten"):
        start = args[1] if len(args) > 1 else node.kwargs.get("start_dim", 0)
        return bool(start == 1 and len(_shape(args[0])) == 4)
    if node.op == "call_method" and t in ("view", "reshape"):
        shape, out = _shape(args[0]), _shape(node)
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


def _op_name(node: Any) -> str:
    if not isinstance(node, fx.Node):
        return repr(node)
    t = node.target
    if node.op == "call_method":
        return f"Tensor.{t}"
    if callable(t):
        module = getattr(t, "__module__", None) or ""
        return f"{module}.{getattr(t, '__name__', t)}".lstrip(".")
    return str(t)


class _Unsupported(Exception):
    """An fx node without a block; import_module adds where it is in the user's source."""

    def __init__(self, node_name: str, what: str) -> None:
        super().__init__(what)
        self.node_name, self.what = node_name, what

    def message(self) -> str:
        return f"unsupported operation: {self.what}; Skipwire has no block for it"


class _Shared(_Unsupported):
    """A module with parameters or buffers called more than once: its weights are shared."""

    def __init__(self, node: fx.Node, what: str) -> None:
        super().__init__(node.name, what)

    def message(self) -> str:
        return (f"{self.what} is called more than once, sharing its weights between the calls: weight "
                "sharing is not representable in a Skipwire graph (every block has its own weights); "
                "give each call its own module")


def _unsupported(node: Any, what: str) -> _Unsupported:
    return _Unsupported(getattr(node, "name", ""), what)


def _traced_again(module: nn.Module, defaults: dict[str, Any], node_name: str) -> fx.Node | None:
    """The node called ``node_name`` in a second trace that records stack traces."""
    try:
        graph = _Tracer(stack_traces=True).trace(module, concrete_args=defaults or None)
    except Exception:  # the first trace worked; be safe anyway
        return None
    return next((n for n in graph.nodes if n.name == node_name), None)


def _where(node: Any) -> str:
    """``file.py:12: `code`: `` for the user's line that made ``node``, else ''."""
    trace = getattr(node, "stack_trace", None) or ""
    frames = re.findall(r'File "([^"]+)", line (\d+), in \w+\n\s*(.*)', trace)
    torch_dir = os.sep + "torch" + os.sep
    for file, line, code in reversed(frames):
        if torch_dir not in file:
            return f"{os.path.basename(file)}:{line}: `{code.strip()}`: "
    return ""
