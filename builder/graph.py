"""The graph document: blocks and wires in a networkx multi-digraph.

Every change goes through one of the mutation methods (``add_block``, ``remove_block``,
``connect``, ``disconnect``, ``set_param``, ``move``, ``rename``, ``set_group``); each emits
one :data:`Event` (a frozen record of what changed: :class:`BlockAdded`, :class:`WireAdded`…)
to the subscribers. Wires run from a source block's single output to a numbered input port of
the target block; the edge key is the port number.
"""

from __future__ import annotations

import copy
import keyword
import math
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import networkx as nx

from builder import catalog

GROUP_RE = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+)(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+))*$")
ID_MAX = 100
COORD_LIMIT = 1e9  # canvas coordinates a graph file accepts
MAX_PORT = 4096  # input ports a graph file accepts


class GraphError(ValueError):
    """A mutation that cannot be applied (unknown block, taken id, occupied port…)."""


def id_problem(block_id: object) -> str | None:
    """Why ``block_id`` cannot be a block id, or None when it can."""
    if not isinstance(block_id, str) or not block_id.isidentifier() or not block_id.isascii():
        return f"{block_id!r} is not a Python identifier (letters, digits, _; not starting with a digit)"
    if keyword.iskeyword(block_id) or keyword.issoftkeyword(block_id):
        return f"{block_id!r} is a Python keyword"
    if block_id.startswith("__"):
        return f"{block_id!r} starts with a double underscore"
    if len(block_id) > ID_MAX:
        return f"block id is longer than {ID_MAX} characters"
    return None


def group_problem(group: object) -> str | None:
    """Why ``group`` cannot be a group path (``""`` or dotted names like ``layer2.0``)."""
    if group == "":
        return None
    if not isinstance(group, str) or len(group) > 200 or not GROUP_RE.fullmatch(group):
        return f"{group!r} is not a group path (dot-separated names or numbers, e.g. 'layer2.0')"
    if any(keyword.iskeyword(part) or part.startswith("__") for part in group.split(".")):
        return f"{group!r} uses a Python keyword or a dunder name"
    return None


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _checked_value(spec: catalog.BlockType, block_id: str, name: str, value: Any) -> Any:
    """``value`` coerced for parameter ``name``; GraphError when the type is wrong."""
    param = spec.param_map.get(name)
    if param is None:
        raise GraphError(f"{spec.label} '{block_id}' has no parameter {_short(name)}")
    expected = param.type_error(value)
    if expected:
        raise GraphError(f"{block_id}.{name} must be {expected}, got {_short(value)}")
    return param.coerce(value)


def _position(pos: Any) -> tuple[float, float]:
    """``(x, y)`` as floats; GraphError unless both are finite and within the canvas limit."""
    try:
        x, y = (float(v) for v in pos)
    except (TypeError, ValueError, OverflowError):
        raise GraphError(f"a position is two numbers, got {_short(pos)}") from None
    if not (math.isfinite(x) and math.isfinite(y) and abs(x) <= COORD_LIMIT and abs(y) <= COORD_LIMIT):
        raise GraphError(f"a position must be finite and within ±{COORD_LIMIT:g}, got {_short(pos)}")
    return (x, y)


@dataclass
class Block:
    """One block: a stable id, a catalog type, parameter values, a position, a group path."""

    id: str
    type: str
    params: dict[str, Any]
    pos: tuple[float, float] = (0.0, 0.0)
    group: str = ""

    @property
    def spec(self) -> catalog.BlockType:
        return catalog.get(self.type)


@dataclass(frozen=True)
class Wire:
    source: str
    target: str
    port: int


@dataclass(frozen=True)
class _Change:
    """What every graph event has: the block it concerns and a ``kind`` name."""

    kind: ClassVar[str]


@dataclass(frozen=True)
class BlockAdded(_Change):
    block_id: str
    kind: ClassVar[Literal["block_added"]] = "block_added"


@dataclass(frozen=True)
class BlockRemoved(_Change):
    block_id: str
    block: Block  # as it was, for undo
    kind: ClassVar[Literal["block_removed"]] = "block_removed"


@dataclass(frozen=True)
class WireAdded(_Change):
    block_id: str  # the wire's target
    source: str
    port: int
    kind: ClassVar[Literal["wire_added"]] = "wire_added"


@dataclass(frozen=True)
class WireRemoved(_Change):
    block_id: str  # the wire's target
    source: str
    port: int
    kind: ClassVar[Literal["wire_removed"]] = "wire_removed"


@dataclass(frozen=True)
class ParamChanged(_Change):
    block_id: str
    name: str
    old: Any
    new: Any
    kind: ClassVar[Literal["param_changed"]] = "param_changed"


@dataclass(frozen=True)
class BlockMoved(_Change):
    block_id: str
    old: tuple[float, float]
    new: tuple[float, float]
    kind: ClassVar[Literal["block_moved"]] = "block_moved"


@dataclass(frozen=True)
class BlockRenamed(_Change):
    block_id: str  # the new id
    old: str
    kind: ClassVar[Literal["block_renamed"]] = "block_renamed"


@dataclass(frozen=True)
class GroupChanged(_Change):
    old: dict[str, str]  # block id → its group before
    new: str
    block_id: str = ""  # several blocks: see ``old``
    kind: ClassVar[Literal["group_changed"]] = "group_changed"


# A change to the graph: one of these frozen records (``match`` on the class, or read ``kind``).
Event = BlockAdded | BlockRemoved | WireAdded | WireRemoved | ParamChanged | BlockMoved | BlockRenamed \
    | GroupChanged
EVENT_TYPES: tuple[type[_Change], ...] = (BlockAdded, BlockRemoved, WireAdded, WireRemoved, ParamChanged,
                                          BlockMoved, BlockRenamed, GroupChanged)
EVENT_KINDS = tuple(t.kind for t in EVENT_TYPES)


class Graph:
    """The document. Read freely; change only through the mutation methods."""

    def __init__(self, name: str = "untitled") -> None:
        self.name = name
        self.description = ""
        self.nx = nx.MultiDiGraph()
        self.version = 0  # bumped by every mutation; caches key on it
        self._listeners: list[Callable[[Event], None]] = []

    # ------------------------------------------------------------------ reading
    def __contains__(self, block_id: object) -> bool:
        return block_id in self.nx

    def __len__(self) -> int:
        return int(self.nx.number_of_nodes())

    def block(self, block_id: str) -> Block:
        try:
            block: Block = self.nx.nodes[block_id]["block"]
        except (KeyError, TypeError):  # TypeError: an unhashable "id"
            raise GraphError(f"no block named {_short(block_id)}") from None
        return block

    def blocks(self) -> Iterator[Block]:
        for _, data in self.nx.nodes(data=True):
            yield data["block"]

    def wires(self) -> Iterator[Wire]:
        for src, dst, port in self.nx.edges(keys=True):
            yield Wire(src, dst, port)

    def inputs_of(self, block_id: str) -> dict[int, str]:
        """``{port: source id}`` for the wires into ``block_id`` (``{}`` for an unknown id)."""
        # networkx's own adjacency dict (as its algorithms use it): 4× faster than in_edges,
        # and validation calls this for every block on every edit.
        pred = self.nx._pred.get(block_id, {}) if isinstance(block_id, str) else {}
        return {port: src for src, keys in pred.items() for port in keys}

    def consumers(self, block_id: str) -> list[Wire]:
        return [Wire(block_id, dst, port) for _, dst, port in self.nx.out_edges(block_id, keys=True)]

    def ids(self) -> list[str]:
        return list(self.nx.nodes)

    def fresh_id(self, stem: str) -> str:
        """An unused id built from ``stem`` (``conv`` → ``conv1``, ``conv2``…)."""
        stem = re.sub(r"\W", "_", stem) or "block"
        if stem[0].isdigit():
            stem = "b_" + stem
        stem = stem.rstrip("0123456789") or stem
        n = 1
        while f"{stem}{n}" in self.nx:
            n += 1
        return f"{stem}{n}"

    # ------------------------------------------------------------------ events
    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``listener`` after every change; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _emit(self, event: Event) -> None:
        self.version += 1
        for listener in list(self._listeners):
            listener(event)

    # ------------------------------------------------------------------ mutations
    def add_block(self, type_id: str, params: dict[str, Any] | None = None,
                  pos: tuple[float, float] = (0.0, 0.0), block_id: str | None = None,
                  group: str = "") -> str:
        """Add a block of catalog type ``type_id``; missing params take their defaults."""
        if not isinstance(type_id, str) or type_id not in catalog.CATALOG:
            raise GraphError(f"unknown block type {_short(type_id)}; known: {', '.join(catalog.CATALOG)}")
        spec = catalog.get(type_id)
        block_id = block_id or self.fresh_id(type_id)
        self._check_new_id(block_id)
        problem = group_problem(group)
        if problem:
            raise GraphError(problem)
        values = spec.defaults()
        for name, value in (params or {}).items():
            values[name] = _checked_value(spec, block_id, name, value)
        block = Block(block_id, type_id, values, _position(pos), group)
        self.nx.add_node(block_id, block=block)
        self._emit(BlockAdded(block_id))
        return block_id

    def remove_block(self, block_id: str) -> tuple[Block, list[Wire]]:
        """Remove a block and its wires; returns them (for undo)."""
        block = self.block(block_id)
        wires = [Wire(s, d, p) for s, d, p in self.nx.in_edges(block_id, keys=True)]
        wires += [w for w in self.consumers(block_id) if w.target != block_id]  # a self-loop once
        for wire in wires:
            self.disconnect(wire.target, wire.port)
        self.nx.remove_node(block_id)
        self._emit(BlockRemoved(block_id, block))
        return block, wires

    def connect(self, source: str, target: str, port: int = 0) -> None:
        """Wire ``source``'s output to input ``port`` of ``target``.

        A port beyond the block's arity is accepted here and reported by validation
        (``extra_input``), so that a graph file loads and shows its problem on the canvas.
        """
        self.block(source)
        self.block(target)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port < MAX_PORT:
            raise GraphError(f"port must be an integer from 0 to {MAX_PORT - 1}, got {_short(port)}")
        taken = self.inputs_of(target).get(port)
        if taken is not None:
            raise GraphError(f"input {port} of '{target}' is already wired from '{taken}'")
        self.nx.add_edge(source, target, key=port)
        self._emit(WireAdded(target, source, port))

    def disconnect(self, target: str, port: int) -> str:
        """Remove the wire into ``port`` of ``target``; returns its source id."""
        self.block(target)
        source = self.inputs_of(target).get(port) if isinstance(port, int) else None
        if source is None:
            raise GraphError(f"input {port} of '{target}' is not wired")
        self.nx.remove_edge(source, target, key=port)
        self._emit(WireRemoved(target, source, port))
        return source

    def set_param(self, block_id: str, name: str, value: Any) -> Any:
        """Set one parameter; returns the old value. Bounds are checked by validation."""
        block = self.block(block_id)
        new = _checked_value(block.spec, block_id, name, value)
        old = block.params[name]
        block.params[name] = new
        self._emit(ParamChanged(block_id, name, old, block.params[name]))
        return old

    def move(self, block_id: str, pos: tuple[float, float]) -> tuple[float, float]:
        """Move a block on the canvas; returns the old position."""
        block = self.block(block_id)
        new = _position(pos)
        old = block.pos
        block.pos = new
        self._emit(BlockMoved(block_id, old, block.pos))
        return old

    def rename(self, old: str, new: str) -> None:
        """Give a block a new id, keeping its wires."""
        block = self.block(old)
        if old == new:
            return
        self._check_new_id(new)
        mapping = {old: new}
        rebuilt = nx.MultiDiGraph()  # rebuilt rather than relabelled, to keep block order
        for node, data in self.nx.nodes(data=True):
            rebuilt.add_node(mapping.get(node, node), **data)
        for src, dst, port in self.nx.edges(keys=True):
            rebuilt.add_edge(mapping.get(src, src), mapping.get(dst, dst), key=port)
        block.id = new
        self.nx = rebuilt
        self._emit(BlockRenamed(new, old))

    def set_group(self, block_ids: Iterable[str], group: str) -> dict[str, str]:
        """Put blocks into group path ``group`` (``""`` ungroups); returns old groups."""
        problem = group_problem(group)
        if problem:
            raise GraphError(problem)
        blocks = [self.block(b) for b in block_ids]
        old = {b.id: b.group for b in blocks}
        for b in blocks:
            b.group = group
        self._emit(GroupChanged(old, group))
        return old

    def _check_new_id(self, block_id: str) -> None:
        problem = id_problem(block_id)
        if problem:
            raise GraphError(problem)
        if block_id in self.nx:
            raise GraphError(f"a block named {block_id!r} already exists")

    # ------------------------------------------------------------------ helpers
    def copy(self) -> Graph:
        """A deep copy without listeners."""
        other = Graph(self.name)
        other.description = self.description
        other.nx = copy.deepcopy(self.nx)
        return other

    def depths(self, order: list[str] | None = None) -> dict[str, int]:
        """Longest-path depth of each block from the sources (0), along ``order`` (default: the
        topological order, which leaves out blocks on a cycle; an input not yet seen counts as
        absent, so blocks of a cycle that ``order`` includes count from 0)."""
        depth: dict[str, int] = {}
        for block_id in self.topological_order() if order is None else order:
            sources = [s for s in self.inputs_of(block_id).values() if s in depth]
            depth[block_id] = 1 + max((depth[s] for s in sources), default=-1)
        return depth

    def topological_order(self) -> list[str]:
        """Blocks in topological order: the order validation, compile, export and layout follow.

        Kahn's algorithm, ready blocks first in, first out (so free blocks keep their insertion
        order). Blocks on a cycle, and blocks after one, are left out.
        """
        # networkx's adjacency dicts ({node: {neighbour: {key: data}}}) directly: validation runs
        # on every edit, and the edge views cost several times more.
        pred, succ = self.nx._pred, self.nx._succ
        indeg = {n: sum(len(keys) for keys in sources.values()) for n, sources in pred.items()}
        ready = deque(n for n, d in indeg.items() if d == 0)
        order: list[str] = []
        while ready:
            node = ready.popleft()
            order.append(node)
            for dst, keys in succ[node].items():
                indeg[dst] -= len(keys)
                if indeg[dst] == 0:
                    ready.append(dst)
        return order

    def topological_ids(self) -> list[str]:
        """:meth:`topological_order` of a graph without cycles (NetworkXUnfeasible on a cycle)."""
        order = self.topological_order()
        if len(order) != len(self.nx):
            raise nx.NetworkXUnfeasible("the graph has a cycle")
        return order

    def signature(self) -> Any:
        """A comparable snapshot of the whole document (equal graphs, equal signatures)."""
        blocks = sorted((b.id, b.type, sorted(b.params.items()), b.pos, b.group) for b in self.blocks())
        wires = sorted((w.source, w.target, w.port) for w in self.wires())
        return (self.name, self.description, blocks, wires)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Graph) and self.signature() == other.signature()

    __hash__ = None  # type: ignore[assignment]
