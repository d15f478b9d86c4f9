"""Import a PyTorch ``nn.Module`` as a graph by tracing it with torch.fx.

Every traced operation must map to a catalog block (:mod:`builder.export.fx_ops`): standard
layers (Conv2d, BatchNorm2d, Linear, activations, pooling, Dropout, Flatten), ``+`` (Add),
``torch.cat`` on channels (Concat), flattening (``torch.flatten(x, 1)``,
``x.view(x.size(0), -1)``, ``x.reshape(x.shape[0], -1)``), global means (``x.mean((2, 3))``),
functional ReLU, pooling and dropout with their default arguments, and option-A shortcuts
(Skipwire's ``ShortcutPad``, ``x[:, :, ::2, ::2]``, channel padding with ``F.pad``). Sizes read
in ``forward`` (``x.size(0)``) are values, not blocks. A stateless module called twice is two
blocks; a module with weights called twice is refused (weights cannot be shared). Nested
modules become groups (``layer2.0``), so the graph's module paths, and the state-dict keys,
are the module's own. Anything else fails with one message naming the operation and where in
the source it is. Shapes come from a meta-device run (:mod:`builder.export.fx_shapes`), so a
module too large for the memory limit is refused before anything is allocated.

Loading a class from a ``.py`` file executes that file: only for code the user trusts,
never for graph files.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import os
import re
import sys
from pathlib import Path
from typing import Any

from torch import fx, nn

from builder import catalog
from builder.export.fx_ops import (
    Shared,
    Unsupported,
    is_named_leaf,
    map_function,
    map_module,
    op_name,
    shape_of,
    unsupported,
)
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
        if is_named_leaf(m):
            return True
        return super().is_leaf_module(m, module_qualified_name)




def trace_module(module: nn.Module, input_shape: tuple[int, int, int], name: str = "imported",
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
    except Unsupported as exc:
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
            c, h, w = shape_of(node)[1:]
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
            raise unsupported(node, f"attribute access {node.target!r}")

    def _module(self, node: fx.Node) -> None:
        target = str(node.target)
        sub = self.traced.get_submodule(target)
        if isinstance(sub, nn.Identity):
            self.value[node] = self._source(node.args[0], node)
            return
        mapped = map_module(sub, node)
        if mapped is None:
            raise unsupported(node, f"module {target} ({type(sub).__name__})")
        type_id, params = mapped
        group, _, local = target.rpartition(".")
        block_id = target.replace(".", "_")
        calls = self.calls[target] = self.calls.get(target, 0) + 1
        if calls > 1:  # one block per call of a stateless module (a shared pooling or ReLU)
            if any(True for _ in sub.parameters()) or any(True for _ in sub.buffers()):
                raise Shared(node, f"module {target} ({type(sub).__name__})")
            block_id, local = f"{block_id}_{calls}", f"{local}_{calls}"
        self._add(type_id, params, [node.args[0]], group, local, node, block_id)

    def _function(self, node: fx.Node) -> None:
        if "value" in node.meta and "tensor_meta" not in node.meta:
            return  # a size or another integer (x.size(0), x.shape[3]): read where it is used
        mapped = map_function(node)
        if mapped is None:
            raise unsupported(node, op_name(node))
        type_id, params, inputs = mapped
        stack = node.meta.get("nn_module_stack") or {}
        group = next(reversed(stack)) if stack else ""
        group = group if isinstance(group, str) else ""
        if type_id == "global_mean":  # x.mean((2, 3)): a global average pool, then flatten
            self._add("global_avgpool", {}, inputs, group, "avgpool", node)
            inputs, type_id = [node], "flatten"
        self._add(type_id, params, inputs, group, catalog.get(type_id).stem, node)

    def _source(self, arg: Any, node: fx.Node) -> str:
        if not isinstance(arg, fx.Node) or arg not in self.value:
            raise unsupported(node, f"{op_name(node)} on a non-tensor argument")
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
            raise unsupported(node, f"{op_name(node)} ({exc})") from None
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
                raise unsupported(node, f"{op_name(node)} ({exc})") from None


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
