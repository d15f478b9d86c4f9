"""The module tree of a graph, as the code generator sees it (torch-free).

Groups become nodes of a tree. A group whose blocks form a single-entry, single-exit
region becomes a *class* instance (``layer1.0`` → ``BasicBlock``); a group made only of
such instances named ``0``, ``1``, … in a chain becomes a *stage* (``nn.Sequential``);
any other group is a *container* (``nn.ModuleDict``) whose blocks the enclosing class
calls directly. Each class node is cut into *units*: its own blocks, and child classes or
stages as single calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import networkx as nx

from builder.graph import Graph
from builder.naming import module_paths, safe_group
from builder.validate import Report

NodeKind = Literal["", "root", "class", "stage", "container", "seq"]  # "" until classified
ROOT: NodeKind = "root"
CLASS: NodeKind = "class"
STAGE: NodeKind = "stage"
CONTAINER: NodeKind = "container"
SEQ: NodeKind = "seq"


@dataclass(eq=False)
class Node:
    """One group of the module tree."""

    path: str
    parent: Node | None = None
    members: list[str] = field(default_factory=list)  # every block below, in order
    children: dict[str, Node] = field(default_factory=dict)
    kind: NodeKind = ""
    entry: str = ""  # the one block outside that feeds the region
    exit: str = ""  # the one block inside whose value leaves it

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def relative(self, path: str) -> list[str]:
        """The parts of ``path`` below this node."""
        return (path[len(self.path) + 1:] if self.path else path).split(".")


@dataclass(eq=False)
class Unit:
    """One statement-level step of a class's forward: a block, or a child class/stage."""

    key: str  # block id, or the child node's path
    inputs: list[str]  # block ids whose values it reads (port order)
    output: str  # block id whose value it produces
    block: str = ""  # set for block units
    node: Node | None = None  # set for child units
    parts: list[str] = field(default_factory=list)  # attribute path below the class


@dataclass
class Tree:
    """The analysed graph: module paths, the node tree and the order of useful blocks."""

    graph: Graph
    report: Report
    order: list[str]
    paths: dict[str, str]  # module block id → module path (as compile names them)
    root: Node
    group_of: dict[str, str]  # block id → safe group path of the node it sits in
    input_id: str
    output_id: str


def analyse(graph: Graph, report: Report) -> Tree:
    """Build the tree for a validated graph."""
    output_id = next(b.id for b in graph.blocks() if b.type == "output")
    input_id = next(b.id for b in graph.blocks() if b.type == "input")
    useful = nx.ancestors(graph.nx, output_id) | {output_id}
    order = [b for b in report.order if b in useful]
    module_ids = [b for b in order if graph.block(b).spec.has_module]
    paths = module_paths(graph, module_ids)
    group_of = {}
    for b in order:
        if b in paths:
            group_of[b] = paths[b].rpartition(".")[0]
        elif b in (input_id, output_id):
            group_of[b] = ""
        else:
            group_of[b] = safe_group(graph.block(b).group)
    root = Node("", kind=ROOT)
    for b in order:
        _node_for(root, group_of[b]).members.append(b)
    rank = {b: i for i, b in enumerate(order)}
    _propagate(root, rank)
    tree = Tree(graph, report, order, paths, root, group_of, input_id, output_id)
    for child in root.children.values():
        _classify(tree, child, ROOT)
    return tree


def _node_for(root: Node, path: str) -> Node:
    node = root
    if not path:
        return node
    parts = path.split(".")
    for i, part in enumerate(parts):
        if part not in node.children:
            node.children[part] = Node(".".join(parts[: i + 1]), node)
        node = node.children[part]
    return node


def _propagate(node: Node, rank: dict[str, int]) -> None:
    """Fill ``members`` of every node with the blocks of its descendants (in graph order)."""
    for child in node.children.values():
        _propagate(child, rank)
    below = [b for c in node.children.values() for b in c.members]
    node.members = sorted(node.members + below, key=rank.__getitem__)


def _region(tree: Tree, node: Node) -> tuple[str, str] | None:
    """(entry, exit) when the node's blocks form a single-entry, single-exit region."""
    inside = set(node.members)
    if tree.input_id in inside or tree.output_id in inside:
        return None
    sources = {src for b in node.members for src in tree.graph.inputs_of(b).values() if src not in inside}
    exits = [b for b in node.members
             if any(w.target not in inside for w in tree.graph.consumers(b) if w.target in tree.group_of)]
    if len(sources) != 1 or len(exits) != 1:
        return None
    return next(iter(sources)), exits[0]


def _classify(tree: Tree, node: Node, parent_kind: NodeKind) -> None:
    region = _region(tree, node)
    named = node.name.isidentifier() or parent_kind == STAGE
    if region is None or not named:
        node.kind = CONTAINER
        for child in node.children.values():
            _classify(tree, child, CONTAINER)
        return
    node.entry, node.exit = region
    if _sequential(tree, node):
        node.kind = SEQ
        return
    if _stage_candidate(tree, node):
        node.kind = STAGE
        for child in node.children.values():
            _classify(tree, child, STAGE)
        if all(c.kind == CLASS for c in node.children.values()) and _chained(node):
            return
    node.kind = CLASS
    for child in node.children.values():
        _classify(tree, child, CLASS)


def _stage_candidate(tree: Tree, node: Node) -> bool:
    direct = [b for b in node.members if tree.group_of[b] == node.path]
    names = list(node.children)
    return not direct and names == [str(i) for i in range(len(names))]


def _sequential(tree: Tree, node: Node) -> bool:
    """Only module blocks named 0, 1, … each feeding the next: an ``nn.Sequential`` of layers."""
    if node.children or not all(b in tree.paths for b in node.members):
        return False
    names = [tree.paths[b].rsplit(".", 1)[-1] for b in node.members]
    if names != [str(i) for i in range(len(names))]:
        return False
    pairs = zip(node.members, node.members[1:], strict=False)
    return all(tree.graph.inputs_of(b) == {0: a} for a, b in pairs)


def _chained(node: Node) -> bool:
    kids = list(node.children.values())
    if kids[0].entry != node.entry or kids[-1].exit != node.exit:
        return False
    return all(b.entry == a.exit for a, b in zip(kids, kids[1:], strict=False))


def units(tree: Tree, node: Node) -> list[Unit]:
    """The steps of a class (or root) node's forward, in a valid order."""
    out: list[Unit] = []
    seen: set[str] = set()
    for b in node.members:
        if b in (tree.input_id, tree.output_id):
            continue
        owner = _owner(tree, node, b)
        if owner is None:
            inputs = [src for _, src in sorted(tree.graph.inputs_of(b).items())]
            parts = node.relative(tree.paths[b]) if b in tree.paths else []
            out.append(Unit(b, inputs, b, block=b, parts=parts))
        elif owner.path not in seen:
            seen.add(owner.path)
            out.append(Unit(owner.path, [owner.entry], owner.exit, node=owner,
                            parts=node.relative(owner.path)))
    return out


def _owner(tree: Tree, node: Node, block_id: str) -> Node | None:
    """The outermost class or stage below ``node`` that holds ``block_id`` (None: a plain block)."""
    group = tree.group_of[block_id]
    below = node.relative(group) if group != node.path else []
    current = node
    for part in below:
        current = current.children[part]
        if current.kind in (CLASS, STAGE, SEQ):
            return current
    return None


def walk_post(node: Node) -> list[Node]:
    """Nodes in post-order (children before parents)."""
    out: list[Node] = []
    for child in node.children.values():
        out += walk_post(child)
    out.append(node)
    return out
