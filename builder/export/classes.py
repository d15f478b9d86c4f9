"""Classes of the generated code: one per distinct repeated group structure.

Group instances with the same *skeleton* (blocks, wiring, everything but integer
arguments) share a class. The integer arguments that differ between instances become
constructor parameters; equal columns share one parameter, and a column that is a small
multiple, a fraction or a difference of others is written as that expression
(``out_channels // 4``, ``out_channels - in_channels``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from builder.blocktype import Call
from builder.export.structure import CLASS, ROOT, SEQ, STAGE, Node, Tree, Unit, units, walk_post
from builder.naming import local_name

Column = tuple[int | None, ...]  # one integer argument across instances (None: unit absent)
Values = tuple[int, ...]  # a constructor parameter across instances


class _NoMerge(Exception):
    """An optional unit's argument cannot be written in the class's parameters."""


# Names a generated class must not take: module-level names of the generated file.
TAKEN_NAMES = frozenset({"F", "ShortcutPad", "Sequential", "Module", "Identity", "Tensor"})


@dataclass(eq=False)
class ClassDef:
    """A generated ``nn.Module`` subclass and the group instances that use it."""

    name: str
    instances: list[Node]  # in graph order
    units: list[Unit]  # the template: units of ``unit_node``
    unit_node: Node
    metas: list[tuple[str, str]]  # (attribute, argument) per integer column
    col_unit: list[int]  # template unit index per integer column
    values: list[list[int | None]]  # per instance, per column (None: optional unit absent)
    optional: tuple[int, ...] = ()  # template units (a skip-path chain) only some instances have
    condition: str = ""  # when the optional units are built (else nn.Identity)
    params: list[str] = field(default_factory=list)
    exprs: list[str] = field(default_factory=list)  # per column: literal, parameter or expression
    args: dict[str, list[int]] = field(default_factory=dict)  # node path → parameter values


@dataclass(eq=False)
class _Instance:
    node: Node
    units: list[Unit]
    key: tuple[Any, ...]
    numbers: list[list[int]]  # per unit
    metas: list[list[tuple[str, str]]]  # per unit


@dataclass
class Analysis:
    """Per-node facts the emitter needs: calls of block units, classes, stage sources."""

    calls: dict[str, Call] = field(default_factory=dict)  # block id → constructor call
    classes: list[ClassDef] = field(default_factory=list)  # children before parents
    class_of: dict[str, ClassDef] = field(default_factory=dict)  # node path → class
    units: dict[str, list[Unit]] = field(default_factory=dict)  # class/root node path → units
    stage_text: dict[str, str] = field(default_factory=dict)  # stage path → constructor source


def build_classes(tree: Tree, stage_source: Any) -> Analysis:
    """Group class nodes by skeleton and solve their parameters (deepest groups first)."""
    result = Analysis()
    for b in tree.order:
        block = tree.graph.block(b)
        if block.spec.call is not None:
            src = tree.graph.inputs_of(b)[0]
            result.calls[b] = block.spec.call(block.params, [tree.report.shapes[src]])
    nodes = walk_post(tree.root)
    depth = {n.path: n.path.count(".") + 1 if n.path else 0 for n in nodes}
    taken = set(TAKEN_NAMES)
    for level in sorted(set(depth.values()), reverse=True):
        at_level = [n for n in nodes if depth[n.path] == level]
        for node in at_level:
            if node.kind == STAGE:
                result.stage_text[node.path] = stage_source(result, node)
        groups: dict[Any, list[_Instance]] = {}
        for node in at_level:
            if node.kind in (CLASS, ROOT):
                result.units[node.path] = units(tree, node)
            if node.kind == CLASS:
                inst = _instance(tree, result, node, result.units[node.path])
                groups.setdefault(inst.key, []).append(inst)
        for cd in _classes_for(tree, groups):
            cd.name = _unique(_class_stem(tree, cd), taken)
            result.classes.append(cd)
            result.class_of.update({n.path: cd for n in cd.instances})
    return result


def _unique(base: str, taken: set[str]) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}{n}"
    taken.add(name)
    return name


def _classes_for(tree: Tree, groups: dict[Any, list[_Instance]]) -> list[ClassDef]:
    """One class per skeleton, merging skeletons that differ by an optional skip-path chain."""
    out, used = [], set()
    for key, insts in groups.items():
        if key in used:
            continue
        for chain in _optional_candidates(key):
            other = _reduced(key, chain)
            if other in groups and other not in used:
                try:
                    cd = _make_class(tree, insts, groups[other], chain)
                except _NoMerge:
                    continue
                used |= {key, other}
                out.append(cd)
                break
    for key, insts in groups.items():
        if key not in used:
            out.append(_make_class(tree, insts, [], ()))  # no optional chain: always one class
    rank = {b: i for i, b in enumerate(tree.order)}
    return sorted(out, key=lambda cd: rank[cd.instances[0].members[0]])


def _optional_candidates(key: tuple[Any, ...]) -> list[tuple[int, ...]]:
    """Chains of one-input module units whose last feeds a later port of an Add (a shortcut)."""
    parts = key[:-1]
    users: dict[int, list[tuple[int, int]]] = {}
    for i, p in enumerate(parts):
        for port, ref in enumerate(p[-1]):
            if isinstance(ref, int):
                users.setdefault(ref, []).append((i, port))

    def movable(j: int) -> bool:
        return parts[j][0] in ("module", "seq") and len(parts[j][3]) == 1 and key[-1][1] != j

    found = []
    for j in range(len(parts)):
        use = users.get(j, [])
        if not (movable(j) and len(use) == 1 and parts[use[0][0]][:2] == ("func", "add") and use[0][1] > 0):
            continue
        chain: tuple[int, ...] = (j,)
        found.append(chain)
        while True:
            head = parts[chain[0]][3][0]
            if not (isinstance(head, int) and movable(head) and len(users.get(head, [])) == 1):
                break
            chain = (head, *chain)
            found.append(chain)
    return found


def _reduced(key: tuple[Any, ...], chain: tuple[int, ...]) -> tuple[Any, ...]:
    """The skeleton without the ``chain`` units, their user reading the chain's input instead."""
    source, last = key[chain[0]][3][0], chain[-1]

    def remap(ref: Any) -> Any:
        if ref == last:
            ref = source
        return ref - sum(1 for c in chain if c < ref) if isinstance(ref, int) else ref

    parts = [(*p[:-1], tuple(remap(r) for r in p[-1])) for i, p in enumerate(key[:-1]) if i not in chain]
    return (*parts, ("exit", remap(key[-1][1])))


def _make_class(tree: Tree, present: list[_Instance], absent: list[_Instance],
                chain: tuple[int, ...]) -> ClassDef:
    """The class of ``present`` (with the optional ``chain``) and ``absent`` (without it);
    _NoMerge when no parameters or condition describe them all."""
    first = present[0]
    col_unit = [i for i, ms in enumerate(first.metas) for _ in ms]
    metas = [m for ms in first.metas for m in ms]
    rows: list[tuple[Node, list[int | None]]] = [(p.node, [v for ns in p.numbers for v in ns])
                                                 for p in present]
    for a in absent:
        numbers: list[list[int | None]] = [list(ns) for ns in a.numbers]
        for j in chain:  # ascending: each insertion lands at its template index
            numbers.insert(j, [None] * len(first.metas[j]))
        rows.append((a.node, [v for ns in numbers for v in ns]))
    rank = {b: i for i, b in enumerate(tree.order)}
    rows.sort(key=lambda r: rank[r[0].members[0]])
    cd = ClassDef("", [r[0] for r in rows], first.units, first.node, metas, col_unit, [r[1] for r in rows],
                  chain)
    _solve(tree, cd)
    if chain:
        mask = [n in {p.node for p in present} for n in cd.instances]
        cd.condition = _condition(cd, mask)
        if not cd.condition:
            raise _NoMerge("no test on the parameters tells the instances apart")
    return cd


_TESTS: dict[str, Any] = {
    "stride != 1 or in_channels != out_channels":
        lambda e: e["stride"] != 1 or e["in_channels"] != e["out_channels"],
    "in_channels != out_channels": lambda e: e["in_channels"] != e["out_channels"],
    "stride != 1": lambda e: e["stride"] != 1,
}


def _condition(cd: ClassDef, mask: list[bool]) -> str:
    """A test on the parameters that is true exactly for the instances with the optional unit."""
    envs = [dict(zip(cd.params, cd.args[n.path], strict=True)) for n in cd.instances]
    for text, test in _TESTS.items():
        try:
            if [test(e) for e in envs] == mask:
                return text
        except KeyError:
            continue
    return ""


def _instance(tree: Tree, result: Analysis, node: Node, node_units: list[Unit]) -> _Instance:
    index = {u.output: i for i, u in enumerate(node_units)}
    parts: list[Any] = []
    numbers: list[list[int]] = []
    metas: list[list[tuple[str, str]]] = []
    for u in node_units:
        refs = tuple("x" if s == node.entry else index[s] for s in u.inputs)
        attr = "_".join(u.parts) if u.parts else local_name(u.block, tree.graph.block(u.block).group)
        if u.node is not None and u.node.kind == STAGE:
            parts.append(("stage", tuple(u.parts), result.stage_text[u.node.path], refs))
            numbers.append([])
            metas.append([])
        elif u.node is not None and u.node.kind == SEQ:
            calls = [result.calls[b] for b in u.node.members]
            parts.append(("seq", tuple(u.parts), tuple(c.skeleton() for c in calls), refs))
            numbers.append([n for c in calls for n in c.numbers()])
            metas.append([(f"{attr}_{i}", n) for i, c in enumerate(calls) for n in c.number_names()])
        elif u.node is not None:
            child = result.class_of[u.node.path]
            parts.append(("class", tuple(u.parts), id(child), refs))
            numbers.append(list(child.args[u.node.path]))
            metas.append([(attr, p) for p in child.params])
        elif u.block in result.calls:
            call = result.calls[u.block]
            parts.append(("module", tuple(u.parts), call.skeleton(), refs))
            numbers.append(call.numbers())
            metas.append([(attr, n) for n in call.number_names()])
        else:
            parts.append(("func", tree.graph.block(u.block).type, refs))
            numbers.append([])
            metas.append([])
    parts.append(("exit", index[node.exit]))
    return _Instance(node, node_units, tuple(parts), numbers, metas)


def _solve(tree: Tree, cd: ClassDef) -> None:
    """Turn the integer columns into literals, parameters and expressions."""
    columns = [tuple(row[j] for row in cd.values) for j in range(len(cd.metas))]
    shapes = tree.report.shapes
    virtual = {"in_channels": tuple(shapes[n.entry][0] for n in cd.instances),
               "out_channels": tuple(shapes[n.exit][0] for n in cd.instances)}
    args: dict[str, Values] = {}
    exprs: dict[int, str] = {}
    optional = [j for j, u in enumerate(cd.col_unit) if u in cd.optional]
    for j in [j for j in range(len(columns)) if j not in optional] + optional:
        column, (attr, arg) = columns[j], cd.metas[j]
        present = {v for v in column if v is not None}
        only_some = None in column and len(present) == 1  # optional unit, same value wherever built
        expr = None if len(cd.instances) == 1 else _match(column, args, virtual, arg == "extra_channels",
                                                          only_some)
        if expr is None and len(present) == 1:
            expr = repr(next(iter(present)))
        if expr is None:
            values = tuple(v for v in column if v is not None)
            if len(values) != len(column):
                raise _NoMerge(attr)
            expr = _new_param(values, attr, arg, args, virtual)
            args[expr] = values
        exprs[j] = expr
    cd.exprs = [exprs[j] for j in range(len(columns))]
    order = [n for n in ("in_channels", "out_channels", "stride") if n in args]
    cd.params = order + [n for n in args if n not in order]
    for i, node in enumerate(cd.instances):
        cd.args[node.path] = [args[p][i] for p in cd.params]


def _match(column: Column, args: dict[str, Values], virtual: dict[str, Values],
           difference_first: bool = False, exact_only: bool = False) -> str | None:
    """An expression over existing (or the virtual in/out) parameters equal to ``column``."""
    if difference_first:
        expr = _difference(column, args)
        if expr is not None:
            return expr
    candidates = {**args, **{k: v for k, v in virtual.items() if k not in args and len(set(v)) > 1}}
    for ks in ((1,), () if exact_only else (2, 3, 4, 5, 6, 7, 8)):
        for name, values in candidates.items():
            expr = _relation(column, name, values, ks)
            if expr is not None:
                args.setdefault(name, values)
                return expr
    return None if exact_only else _difference(column, args)


def _difference(column: Column, args: dict[str, Values]) -> str | None:
    for a, va in args.items():
        for b, vb in args.items():
            if a != b and all(c is None or c == x - y for c, x, y in zip(column, va, vb, strict=True)):
                return f"{a} - {b}"
    return None


def _relation(column: Column, name: str, values: Values, factors: tuple[int, ...]) -> str | None:
    """``name``, ``k * name`` or ``name // k`` when that gives ``column`` (None entries ignored)."""
    pairs = [(c, v) for c, v in zip(column, values, strict=True) if c is not None]
    if len(set(values)) < 2:
        return None
    for k in factors:
        if all(c == k * v for c, v in pairs):
            return name if k == 1 else f"{k} * {name}"
        if k > 1 and all(v == k * c for c, v in pairs):
            return f"{name} // {k}"
    return None


def _new_param(column: Values, attr: str, arg: str, args: dict[str, Values],
               virtual: dict[str, Values]) -> str:
    for name, values in virtual.items():
        if column == values and name not in args:
            return name
    if arg == "stride":
        name = "stride" if "stride" not in args else f"{attr}_stride"
    elif arg in ("out_channels", "out_features"):
        name = "width" if "width" not in args else f"{attr}_{arg.split('_')[1]}"
    else:
        name = f"{attr}_{arg}"
    while name in args or name in virtual:
        name += "_"
    return name


def _class_stem(tree: Tree, cd: ClassDef) -> str:
    types = [tree.graph.block(u.block).type for u in cd.units if u.block]
    concat = [u for u in cd.units if u.block and tree.graph.block(u.block).type == "concat"]
    if concat:
        return "Inception" if max(len(u.inputs) for u in concat) >= 3 else "DenseLayer"
    if "add" in types:
        if types and types[0] == "batchnorm2d":
            return "PreActBlock"
        blocks = [tree.graph.block(u.block) for u in cd.units if u.block]
        ones = [b for b in blocks if b.type == "conv2d" and b.params["kernel_size"] == 1]
        return "Bottleneck" if len(ones) >= 2 else "BasicBlock"
    name = cd.instances[0].name
    convs = [tree.graph.block(u.block) for u in cd.units if u.block and u.block in tree.paths
             and tree.graph.block(u.block).type == "conv2d"]
    if any(c.params["groups"] > 1 and c.params["groups"] == _in_channels(tree, c.id) for c in convs):
        return "DepthwiseSeparable"
    if name.isdigit():
        return "PlainBlock" if types.count("conv2d") >= 2 and "batchnorm2d" in types else "Block"
    words = [w for w in re.split(r"[^0-9A-Za-z]+", re.sub(r"\d+$", "", name)) if w]
    return "".join(w[:1].upper() + w[1:] for w in words) or "Block"


def _in_channels(tree: Tree, block_id: str) -> int:
    return tree.report.shapes[tree.graph.inputs_of(block_id)[0]][0]
