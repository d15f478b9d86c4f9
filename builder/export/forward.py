"""The ``forward`` method of a generated class: one statement per step, readable names.

A linear chain reuses one variable (``out = self.bn1(out)``); a value that is still
needed later keeps its own name; a module call whose only use is an Add or Concat is
written inside it, so a residual block reads ``out = out + self.shortcut(x)``.
"""

from __future__ import annotations

from builder.export.pysource import Namespace, access, statement_lines
from builder.export.structure import Node, Tree, Unit
from builder.naming import local_name


def forward_lines(tree: Tree, node: Node, node_units: list[Unit], entry: str, exit_id: str) -> list[str]:
    """The body of ``forward(self, x)`` for a class (or the root) made of ``node_units``."""
    graph = tree.graph
    producer = {u.output: i for i, u in enumerate(node_units)}
    uses: dict[str, list[int]] = {}
    for i, u in enumerate(node_units):
        for src in u.inputs:
            uses.setdefault(src, []).append(i)
    kinds = [graph.block(u.block).type if u.block and u.block not in tree.paths else "" for u in node_units]
    side = _skip_paths(node_units, kinds, uses, exit_id)
    inlined: set[int] = set()  # ``out + self.shortcut(x)``: skip-path calls starting from x
    for i in sorted(side):
        if all(s == entry or producer.get(s) in inlined for s in node_units[i].inputs):
            inlined.add(i)
    sequence = _schedule(node_units, side - inlined, producer)
    slot = {i: k for k, i in enumerate(sequence)}
    position = {i: slot[_consumer(i, inlined, uses, node_units)] for i in range(len(node_units))}
    last_use = {v: max(position[c] for c in cs) for v, cs in uses.items()}
    last_use[exit_id] = len(node_units) + 1
    names = {entry: "x"}
    holder: dict[str, str] = {}  # variable name → value it holds
    space = Namespace({"out"})
    lines: list[str] = []

    def expr(i: int) -> str:
        u = node_units[i]
        args = [expr(producer[s]) if producer.get(s) in inlined else names[s] for s in u.inputs]
        if kinds[i]:  # a block without a module: the expression its catalog entry writes
            block = graph.block(u.block)
            if block.spec.function is None:
                raise ValueError(f"no code rule for block type {block.type!r}")
            return block.spec.function.source(block.params, args)
        return f"{access(u.parts)}({args[0]})"

    for i in sequence:
        if i in inlined:
            continue
        u = node_units[i]
        target = _target(slot[i], u, names, holder, last_use, space, tree)
        lines += statement_lines(target, expr(i), 8)
        names[u.output] = target
        holder[target] = u.output
    lines.append(f"        return {names.get(exit_id, 'x')}")
    return lines


def _skip_paths(node_units: list[Unit], kinds: list[str], uses: dict[str, list[int]],
                exit_id: str) -> set[int]:
    """Module calls whose only use is a later operand of an Add, or another such call (shortcuts)."""
    side: set[int] = set()
    for i in reversed(range(len(node_units))):
        u = node_units[i]
        consumers = uses.get(u.output, [])
        if kinds[i] or u.output == exit_id or len(consumers) != 1:
            continue
        c = consumers[0]
        if c in side or (kinds[c] == "add" and node_units[c].inputs[0] != u.output):
            side.add(i)
    return side


def _schedule(node_units: list[Unit], hoisted: set[int], producer: dict[str, int]) -> list[int]:
    """Unit order with each hoisted shortcut call right after the unit producing its input."""
    after: dict[int, list[int]] = {}
    for i in sorted(hoisted):
        sources = [producer[s] for s in node_units[i].inputs if s in producer]
        after.setdefault(max(sources, default=-1), []).append(i)
    sequence: list[int] = []

    def emit(i: int) -> None:
        sequence.append(i)
        for j in after.get(i, []):
            emit(j)

    for j in after.get(-1, []):
        emit(j)
    for i in range(len(node_units)):
        if i not in hoisted:
            emit(i)
    return sequence


def _consumer(i: int, inlined: set[int], uses: dict[str, list[int]], node_units: list[Unit]) -> int:
    while i in inlined:
        i = uses[node_units[i].output][0]
    return i


def _target(position: int, u: Unit, names: dict[str, str], holder: dict[str, str],
            last_use: dict[str, int], space: Namespace, tree: Tree) -> str:
    """Reuse a dying input's variable, else ``out`` when free, else a fresh name."""
    for src in u.inputs:
        name = names.get(src)
        if name and name != "x" and last_use.get(src) == position and holder.get(name) == src:
            return name
    current = holder.get("out")
    if current is None or last_use.get(current, -1) <= position:
        return "out"
    if u.parts:
        stem = "_".join(u.parts)
    else:
        stem = local_name(u.block, tree.graph.block(u.block).group)
    head = stem.rsplit("_", 1)[0]  # a branch "b2_conv1" → "b2"
    return space.create(head if "_" in stem and head else stem)
