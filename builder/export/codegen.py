"""Export a graph as a readable, standalone PyTorch module (torch-free, fast).

``export_code(graph)`` returns an :class:`ExportedCode` whose ``source`` needs only torch.
Submodules get the same paths as in :func:`builder.compile.compile_graph` (see
:mod:`builder.naming`), so ``exported.load_state_dict(compiled.state_dict())`` works.
Repeated groups become classes (:mod:`builder.export.classes`), chains of them
``nn.Sequential`` stages built in a loop, and everything else plain statements.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

from builder.catalog import fmt_shape
from builder.export.classes import TAKEN_NAMES, Analysis, ClassDef, build_classes
from builder.export.forward import forward_lines
from builder.export.pysource import MAKE_STAGE, access, call_lines, shortcut_pad_source, statement_lines
from builder.export.structure import SEQ, STAGE, Node, Tree, Unit, analyse
from builder.graph import Graph
from builder.naming import class_name
from builder.text import printable
from builder.validate import Report, input_shapes, validate

HEADER = "exported by Skipwire from the graph"  # the import reads the graph name back from it


class ExportError(ValueError):
    """The graph cannot be exported (it has errors); the message lists them."""


@dataclass
class ExportedCode:
    """Generated source and what it contains."""

    source: str
    class_name: str  # the top-level model class
    classes: list[str]  # every class defined, in file order
    parameter_count: int
    input_shape: tuple[int, ...]
    module_paths: dict[str, str] = field(default_factory=dict)  # block id → submodule path


def parameter_count(graph: Graph, report: Report, block_ids: list[str]) -> int:
    """Trainable parameters of the given blocks, from shapes alone (the catalog's rules; no torch)."""
    total = 0
    for b in block_ids:
        block = graph.block(b)
        total += block.spec.parameters(block.params, input_shapes(graph, report, b))
    return total


def export_code(graph: Graph, report: Report | None = None) -> ExportedCode:
    """Generate the module source for ``graph``; raises :class:`ExportError` on graph errors."""
    report = report or validate(graph)
    if not report.ok:
        lines = "\n".join(f"  {d}" for d in report.errors)
        raise ExportError(f"the graph has {len(report.errors)} error(s):\n{lines}")
    tree = analyse(graph, report)
    flags: set[str] = set()
    analysis = build_classes(tree, lambda a, node: _stage_source(a, node, flags))
    top = class_name(graph.name)
    names = [cd.name for cd in analysis.classes]
    if top in names or top in TAKEN_NAMES:
        top += "Model"
    count = parameter_count(graph, report, tree.order)
    shape = report.shapes[tree.input_id]
    chunks = [_class_source(tree, analysis, cd) for cd in analysis.classes]
    chunks.append(_root_source(tree, analysis, top, count, shape))
    uses_pad = any(graph.block(b).type == "shortcut_pad" for b in tree.order)
    header = _header(graph, top, names, count, shape, uses_pad, "stage" in flags)
    source = "\n\n\n".join(part.strip("\n") for part in [header, *chunks]) + "\n"
    classes = (["ShortcutPad"] if uses_pad else []) + names + [top]
    return ExportedCode(source, top, classes, count, shape, dict(tree.paths))


def _header(graph: Graph, top: str, names: list[str], count: int, shape: tuple[int, ...],
            uses_pad: bool, uses_stage: bool) -> str:
    description = " ".join(graph.description.split()).replace('"""', "'''").replace("\\", "/")
    description = _in_docstring(printable(description))  # controls (NUL, ESC…) as visible escapes
    lines = [f'"""{top}: {HEADER} {_in_docstring(repr(graph.name))}.', ""]
    if description:
        lines += [*textwrap.wrap(description, 88), ""]
    exported = (["ShortcutPad"] if uses_pad else []) + names + [top]
    lines += [
        f"Parameters: {count:,}. Input: N×{fmt_shape(shape)} (batch, channels, height, width).",
        "Needs only PyTorch; the state-dict keys are those of the model trained in Skipwire.",
        '"""',
        "",
        "import torch",
    ]
    if uses_pad:
        lines.append("import torch.nn.functional as F")
    lines += ["from torch import nn", ""]
    lines += _list_lines("__all__", [f'"{n}"' for n in sorted(exported, key=_natural)])
    text = "\n".join(lines)
    if uses_pad:
        text += "\n\n\n" + shortcut_pad_source().rstrip()
    if uses_stage:
        text += "\n\n\n" + MAKE_STAGE.rstrip()
    return text + "\n"


def _in_docstring(text: str) -> str:
    """``text`` as it must be written in a docstring to read back the same (backslashes doubled,
    and a graph name's triple quotes escaped, so it cannot close the docstring)."""
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _natural(name: str) -> list[object]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def _list_lines(target: str, items: list[str]) -> list[str]:
    one = f"{target} = [{', '.join(items)}]"
    if len(one) <= 88:
        return [one]
    return [f"{target} = [", *(f"    {item}," for item in items), "]"]


# ------------------------------------------------------------------------------ classes


def _class_source(tree: Tree, analysis: Analysis, cd: ClassDef) -> str:
    node = cd.unit_node
    where = ", ".join(n.path for n in cd.instances[:3]) + (", …" if len(cd.instances) > 3 else "")
    lines = [f"class {cd.name}(nn.Module):", f'    """{_describe(tree, cd)}', "",
             f"    Used {len(cd.instances)}× ({where}).", '    """', ""]
    params = ["self"] + [f"{p}: int" for p in cd.params]
    lines += call_lines("def ", "__init__", params, 4, " -> None:")
    lines.append("        super().__init__()")
    lines += _init_lines(tree, analysis, cd.units, cd.exprs, cd)
    lines += ["", "    def forward(self, x: torch.Tensor) -> torch.Tensor:"]
    lines += forward_lines(tree, node, cd.units, node.entry, node.exit)
    return "\n".join(lines) + "\n"


def _describe(tree: Tree, cd: ClassDef) -> str:
    types = [tree.graph.block(u.block).type for u in cd.units if u.block]
    if "add" in types:
        return "Residual block: the skip path is added to the output."
    if "concat" in types:
        return "Branches joined by channel concatenation."
    return "A repeated group of layers."


def _root_source(tree: Tree, analysis: Analysis, top: str, count: int, shape: tuple[int, ...]) -> str:
    root = tree.root
    node_units = analysis.units[""]
    lines = [f"\nclass {top}(nn.Module):",
             f'    """The model: N×{fmt_shape(shape)} in, {count:,} parameters."""', "",
             "    def __init__(self) -> None:", "        super().__init__()"]
    lines += _init_lines(tree, analysis, node_units, None)
    lines += ["", "    def forward(self, x: torch.Tensor) -> torch.Tensor:"]
    exit_id = tree.graph.inputs_of(tree.output_id)[0]
    lines += forward_lines(tree, root, node_units, tree.input_id, exit_id)
    return "\n".join(lines) + "\n"


def _init_lines(tree: Tree, analysis: Analysis, node_units: list[Unit], exprs: list[str] | None,
                cd: ClassDef | None = None) -> list[str]:
    lines: list[str] = []
    created: set[tuple[str, ...]] = set()
    k = 0
    for i, u in enumerate(node_units):
        if not u.parts:
            continue
        if cd is not None and i in cd.optional:
            text, k = _constructor(analysis, u, exprs, k)
            lines += _assign(u.parts, "nn.Identity()")
            lines.append(f"        if {cd.condition}:")
            lines += _assign(u.parts, text, 12)
            continue
        for i in range(1, len(u.parts)):
            prefix = tuple(u.parts[:i])
            if prefix not in created:
                created.add(prefix)
                lines += _assign(list(prefix), "nn.ModuleDict()")
        text, k = _constructor(analysis, u, exprs, k)
        lines += _assign(u.parts, text)
    return lines


def _constructor(analysis: Analysis, u: Unit, exprs: list[str] | None, k: int) -> tuple[str, int]:
    if u.node is not None and u.node.kind == STAGE:
        return analysis.stage_text[u.node.path], k
    if u.node is not None and u.node.kind == SEQ:
        layers = []
        for b in u.node.members:
            call = analysis.calls[b]
            n = len(call.numbers())
            layers.append(call.render(exprs[k:k + n] if exprs is not None else None))
            k += n
        return f"nn.Sequential({', '.join(layers)})", k
    if u.node is not None:
        child = analysis.class_of[u.node.path]
        n = len(child.params)
        values = exprs[k:k + n] if exprs is not None else [str(v) for v in child.args[u.node.path]]
        return f"{child.name}({', '.join(values)})", k + n
    call = analysis.calls[u.block]
    n = len(call.numbers())
    return call.render(exprs[k:k + n] if exprs is not None else None), k + n


def _assign(parts: list[str], expr: str, indent: int = 8) -> list[str]:
    if len(parts) == 1 and not parts[0].isidentifier():
        return call_lines("self.", "add_module", [f'"{parts[0]}"', expr], indent)
    return statement_lines(access(parts), expr, indent)


# ------------------------------------------------------------------------------ stages


def _stage_source(analysis: Analysis, node: Node, flags: set[str]) -> str:
    kids = list(node.children.values())
    classes = [analysis.class_of[k.path] for k in kids]
    rows = [classes[i].args[k.path] for i, k in enumerate(kids)]
    cd, n = classes[0], len(kids)
    same = all(c is cd for c in classes)
    if not same or n == 1:
        calls = [f"{c.name}({', '.join(map(str, r))})" for c, r in zip(classes, rows, strict=True)]
        return f"nn.Sequential({', '.join(calls)})"
    if all(r == rows[0] for r in rows):
        return f"nn.Sequential(*({cd.name}({', '.join(map(str, rows[0]))}) for _ in range(n)))".replace(
            "range(n)", f"range({n})")
    steps = [rows[1][j] - rows[0][j] for j in range(len(rows[0]))]
    if all(r[j] == rows[0][j] + i * steps[j] for i, r in enumerate(rows) for j in range(len(steps))):
        terms = [_linear(a, d) for a, d in zip(rows[0], steps, strict=True)]
        return f"nn.Sequential(*({cd.name}({', '.join(terms)}) for i in range({n})))"
    if all(r == rows[1] for r in rows[2:]):
        flags.add("stage")
        first, rest = (_tuple(rows[0]), _tuple(rows[1]))
        return f"_make_stage({cd.name}, {first}, {rest}, blocks={n})"
    calls = [f"{cd.name}({', '.join(map(str, r))})" for r in rows]
    return f"nn.Sequential({', '.join(calls)})"


def _linear(start: int, step: int) -> str:
    if step == 0:
        return str(start)
    term = "i" if step == 1 else f"{step} * i"
    return term if start == 0 else f"{start} + {term}"


def _tuple(values: list[int]) -> str:
    return f"({values[0]},)" if len(values) == 1 else f"({', '.join(map(str, values))})"
