"""Random edit storms: hundreds of core mutations, valid and invalid, then undo/redo through the GUI.

A storm is driven by a hypothesis-chosen seed: each step picks a mutation (add, remove,
connect, disconnect, set_param, move, move of several blocks, rename, set_group) with
arguments that are usually legal and sometimes not. An illegal attempt must raise
``GraphError`` and leave the graph, its version and its listeners untouched; after every
step the graph's invariants hold, it survives a file round trip and validation never raises.
The successful edits are then pushed as ``gui.commands`` on a ``Document``'s undo stack:
each undo step returns the exact earlier document, and redo returns the final one.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from builder import catalog, fileformat
from builder.graph import Event, Graph, GraphError, group_problem, id_problem
from builder.validate import CODES, validate

from .conftest import GRAPHS

STEPS = 200  # successful mutations per storm (the issue asks for at least 200)
MAX_ATTEMPTS_PER_STEP = 3
SHIPPED = ("resnet20", "lenet", "plain20", "googlenet")
TYPES = tuple(catalog.CATALOG)
GOOD_IDS = ("x", "_x", "training", "eval", "forward", "self", "torch", "nn", "input", "layer1_0_conv1", "Δ")
BAD_IDS = ("", "1a", "a b", "__x", "class", "None", "x\n", "a" * 101, "a-b", "ｏｓ", None, 5, ["x"], "é")
GOOD_GROUPS = ("", "layer1", "layer1.0", "a.b.c", "0", "stage_2.1", "forward")
BAD_GROUPS = ("a..b", ".a", "a.", "class", "a.__init__", "a\n", 5, "a b", "x" * 201, None, "layer1.0\n")
BAD_POSITIONS = ((math.nan, 0.0), (0.0, math.inf), (2e9, 0.0), ("a", "b"), (1.0,), None)


# ----------------------------------------------------------------------------- invariants


def check_invariants(graph: Graph, *, full: bool = True, deep: bool = True) -> None:
    """Everything that must hold of any graph the mutation API can produce."""
    wired: set[tuple[str, int]] = set()
    assert graph.nx.number_of_nodes() == len(list(graph.blocks()))
    for node, data in graph.nx.nodes(data=True):
        block = data["block"]
        assert block.id == node, f"node {node!r} holds block {block.id!r}"
        assert id_problem(node) is None, id_problem(node)
        assert group_problem(block.group) is None, group_problem(block.group)
        spec = catalog.get(block.type)
        assert set(block.params) == set(spec.param_map), (node, block.params)
        for name, value in block.params.items():
            assert spec.param_map[name].type_error(value) is None, (node, name, value)
        assert isinstance(block.pos, tuple) and len(block.pos) == 2
        assert all(isinstance(v, float) and math.isfinite(v) for v in block.pos), block.pos
    for source, target, port in graph.nx.edges(keys=True):
        assert source in graph and target in graph
        assert isinstance(port, int) and not isinstance(port, bool) and 0 <= port < 4096
        assert (target, port) not in wired, f"two wires into port {port} of {target!r}"
        wired.add((target, port))
    if not full:
        return
    report = validate(graph)  # must never raise
    assert set(report.order) <= set(graph.ids())
    for diag in report.diagnostics:
        assert diag.code in CODES and (diag.block_id == "" or diag.block_id in graph), diag
    assert fileformat.loads(fileformat.dumps(graph)) == graph
    if deep:  # a deep copy is slow: every 10th edit
        assert graph.copy() == graph


# ----------------------------------------------------------------------------- the storm


@dataclass
class Storm:
    """Applies random mutations to ``graph`` and records the ones that succeeded."""

    graph: Graph
    rng: random.Random
    ops: list[tuple[str, tuple[Any, ...], Any]] = field(default_factory=list)
    signatures: list[Any] = field(default_factory=list)  # after each successful op
    refused: int = 0
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.graph.subscribe(self.events.append)
        self.signatures.append(self.graph.signature())

    # -- argument pickers: mostly legal, sometimes not
    def some_id(self) -> Any:
        ids = self.graph.ids()
        if ids and self.rng.random() < 0.9:
            return self.rng.choice(ids)
        return self.rng.choice(("ghost", "", None, ["x"], 3))

    def new_id(self) -> Any:
        roll = self.rng.random()
        if roll < 0.15 and len(self.graph):
            return self.rng.choice(self.graph.ids())  # taken
        if roll < 0.3:
            return self.rng.choice(BAD_IDS)
        if roll < 0.45:
            return self.rng.choice(GOOD_IDS)
        return f"b{self.rng.randrange(10_000)}"

    def group(self) -> Any:
        return self.rng.choice(BAD_GROUPS) if self.rng.random() < 0.2 else self.rng.choice(GOOD_GROUPS)

    def position(self) -> Any:
        if self.rng.random() < 0.1:
            return self.rng.choice(BAD_POSITIONS)
        return (self.rng.uniform(-1e4, 1e4), self.rng.choice((0, 1, -7.5, self.rng.uniform(-1e9, 1e9))))

    def port(self) -> Any:
        if self.rng.random() < 0.1:
            return self.rng.choice((-1, True, 1.5, "0", 4096, 10**9, None))
        return self.rng.randrange(4)

    def param_value(self, param: Any) -> Any:
        roll = self.rng.random()
        if roll < 0.15:  # wrong type
            return self.rng.choice(("3", None, [1], {"a": 1}, math.nan, math.inf, 10**400, 2**64, True
                                    if param.kind != "bool" else 1))
        if param.kind == "bool":
            return self.rng.random() < 0.5
        if param.kind == "choice":
            return self.rng.choice(param.choices)
        if param.kind == "int_or_same" and roll < 0.3:
            return "same"
        if param.kind == "float":
            return self.rng.choice((0, 1, 0.5, -1.0, 1e300, self.rng.uniform(0, 2)))
        return self.rng.choice((0, 1, 2, 3, 7, 64, -5, 2**40, self.rng.randrange(1, 100)))

    def params_for(self, type_id: Any) -> dict[str, Any] | None:
        spec = catalog.CATALOG.get(type_id) if isinstance(type_id, str) else None
        if spec is None or not spec.params or self.rng.random() < 0.5:
            return None
        chosen = self.rng.sample(spec.params, self.rng.randint(1, len(spec.params)))
        params = {p.name: self.param_value(p) for p in chosen}
        if self.rng.random() < 0.05:
            params["no_such_param"] = 1
        return params

    # -- one step
    def pick(self) -> tuple[str, tuple[Any, ...]]:
        g, rng = self.graph, self.rng
        kind = rng.choices(("add", "remove", "connect", "disconnect", "set_param", "move", "move_many",
                            "rename", "set_group"),
                           weights=(14 if len(g) < 40 else 6, 5, 16, 7, 14, 8, 4, 7, 5))[0]
        if kind == "add":
            type_id = rng.choice(TYPES) if rng.random() < 0.95 else rng.choice(("nope", "", None, ["relu"]))
            block_id = None if rng.random() < 0.5 else self.new_id()
            return kind, (type_id, self.params_for(type_id), self.position(), block_id, self.group())
        if kind == "remove":
            return kind, (self.some_id(),)
        if kind == "connect":
            return kind, (self.some_id(), self.some_id(), self.port())
        if kind == "disconnect":
            wires = list(g.wires())
            if wires and rng.random() < 0.8:
                wire = rng.choice(wires)
                return kind, (wire.target, wire.port)
            return kind, (self.some_id(), self.port())
        if kind == "set_param":
            block_id = self.some_id()
            params = g.block(block_id).spec.params if block_id in g.ids() else ()
            if not params or rng.random() < 0.05:
                return kind, (block_id, "no_such_param", 1)
            param = rng.choice(params)
            return kind, (block_id, param.name, self.param_value(param))
        if kind in ("move", "move_many"):
            count = 1 if kind == "move" else rng.randint(2, 5)
            return kind, tuple((self.some_id(), self.position()) for _ in range(count))
        if kind == "rename":
            return kind, (self.some_id(), self.new_id())
        ids = g.ids()
        chosen = rng.sample(ids, min(len(ids), rng.randint(0, 5)))
        if rng.random() < 0.05:
            chosen.append("ghost")
        return kind, (chosen, self.group())

    def apply(self, kind: str, args: tuple[Any, ...]) -> Any:
        g = self.graph
        if kind == "add":
            type_id, params, pos, block_id, group = args
            return g.add_block(type_id, params, pos, block_id, group)
        if kind in ("move", "move_many"):
            ids = [block_id for block_id, _ in args]
            if len(set(map(repr, ids))) != len(ids):
                raise GraphError("the storm moves each block once per step")  # keeps replay simple
            for block_id, _ in args:  # check every block before moving any: one step, all or nothing
                g.block(block_id)
            return self._move_all(args)
        method = {"remove": g.remove_block, "connect": g.connect, "disconnect": g.disconnect,
                  "set_param": g.set_param, "rename": g.rename, "set_group": g.set_group}[kind]
        return method(*args)

    def _move_all(self, moves: tuple[tuple[Any, Any], ...]) -> None:
        done: list[tuple[str, tuple[float, float]]] = []
        try:
            for block_id, pos in moves:
                done.append((block_id, self.graph.move(block_id, pos)))
        except GraphError:
            for block_id, old in reversed(done):  # a later bad position: put the earlier ones back
                self.graph.move(block_id, old)
            raise

    def step(self, check_every: int) -> None:
        kind, args = self.pick()
        before, version, n_events = self.graph.signature(), self.graph.version, len(self.events)
        try:
            result = self.apply(kind, args)
        except GraphError:
            self.refused += 1
            assert self.graph.signature() == before, f"refused {kind}{args!r} changed the graph"
            if kind != "move_many":  # a refused multi-move may have moved and restored blocks
                assert self.graph.version == version and len(self.events) == n_events, (kind, args)
            return
        no_op = kind == "rename" and args[0] == args[1]  # renaming a block to its own id
        assert no_op or (self.graph.version > version and len(self.events) > n_events), (kind, args)
        self.ops.append((kind, args, result))
        self.signatures.append(self.graph.signature())
        check_invariants(self.graph, full=len(self.ops) % check_every == 0, deep=len(self.ops) % 10 == 0)

    def run(self, steps: int, check_every: int = 1) -> None:
        for _ in range(MAX_ATTEMPTS_PER_STEP * steps):
            if len(self.ops) >= steps:
                break
            self.step(check_every)
        assert len(self.ops) >= steps, f"only {len(self.ops)} of {steps} edits succeeded"
        check_invariants(self.graph)


# ----------------------------------------------------------------------------- GUI replay


def replay_through_undo_stack(start: Graph, storm: Storm, rng: random.Random) -> None:
    """Push the storm's edits as undo commands; walk undo to the start and redo to the end."""
    from gui import commands as c
    from gui.document import Document

    doc = Document(start.copy())
    stack = doc.undo_stack
    expected = {0: storm.signatures[0]}  # undo-stack index → signature
    i = 0
    while i < len(storm.ops):
        size = rng.choice((1, 1, 1, 3))  # sometimes several edits as one macro
        if size > 1:
            stack.beginMacro(f"storm macro at {i}")
        for kind, args, result in storm.ops[i:i + size]:
            stack.push(_command(c, doc, kind, args, result))
        if size > 1:
            stack.endMacro()
        i = min(i + size, len(storm.ops))
        expected[stack.index()] = storm.signatures[i]
        assert doc.graph.signature() == storm.signatures[i], f"GUI replay differs after edit {i}"
    final = doc.graph.signature()
    assert final == storm.graph.signature()
    check_invariants(doc.graph)
    while stack.canUndo():
        stack.undo()
        assert doc.graph.signature() == expected[stack.index()], f"undo to index {stack.index()} differs"
    assert doc.graph.signature() == start.signature()
    check_invariants(doc.graph)
    while stack.canRedo():
        stack.redo()
        assert doc.graph.signature() == expected[stack.index()], f"redo to index {stack.index()} differs"
    assert doc.graph.signature() == final
    check_invariants(doc.graph)


def _command(c: Any, doc: Any, kind: str, args: tuple[Any, ...], result: Any) -> Any:
    if kind == "add":
        type_id, params, pos, block_id, group = args
        command = c.AddBlock(doc, type_id, pos, params, block_id, group)
        if block_id is None:  # the id is chosen on the first redo: it must be the one the core chose
            command.redo = _checked_redo(command, result)
        return command
    if kind in ("move", "move_many"):
        return c.Move(doc, dict(args))
    return {"remove": c.RemoveBlock, "connect": c.Connect, "disconnect": c.Disconnect,
            "set_param": c.SetParam, "rename": c.Rename, "set_group": c.SetGroup}[kind](doc, *args)


def _checked_redo(command: Any, expected_id: str) -> Any:
    original = type(command).redo

    def redo() -> None:
        original(command)
        assert command.block_id == expected_id, (command.block_id, expected_id)

    return redo


# ----------------------------------------------------------------------------- the tests


def _start_graph(name: str) -> Graph:
    if name == "empty":
        return Graph("storm")
    return fileformat.load(GRAPHS / f"{name}.json")


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), start=st.sampled_from(("empty",) + SHIPPED))
@example(seed=0, start="empty")
@example(seed=1, start="resnet20")
def test_storm_keeps_invariants_and_undo_returns_every_state(qapp: Any, seed: int, start: str) -> None:
    graph = _start_graph(start)
    original = graph.copy()
    storm = Storm(graph, random.Random(seed))
    storm.run(STEPS)
    print(f"storm from {start} (seed {seed}): {len(storm.ops)} edits applied, {storm.refused} refused")
    assert storm.refused > 0, "the storm should also try illegal edits"
    assert len({kind for kind, _, _ in storm.ops}) >= 7, "most kinds of edit should have succeeded"
    replay_through_undo_stack(original, storm, random.Random(seed + 1))


def test_storm_on_a_big_shipped_graph(qapp: Any) -> None:
    """ResNet-56 (199 blocks): validation and the round trip run every 20 edits to keep it quick."""
    graph = fileformat.load(GRAPHS / "resnet56.json")
    original = graph.copy()
    storm = Storm(graph, random.Random(110))
    storm.run(200, check_every=20)
    print(f"storm on resnet56: {len(storm.ops)} edits applied, {storm.refused} refused")
    replay_through_undo_stack(original, storm, random.Random(111))


@pytest.mark.parametrize("seed", range(1))
def test_long_storm_from_empty(seed: int) -> None:
    """1,000 edits on a graph that starts empty (core only, round trip every 10)."""
    storm = Storm(Graph("long"), random.Random(1000 + seed))
    storm.run(1000, check_every=10)
    print(f"long storm from empty: {len(storm.ops)} edits applied, {storm.refused} refused")
    assert storm.refused > 50


def test_self_loop_block_removes_cleanly() -> None:
    graph = Graph()
    a = graph.add_block("relu")
    b = graph.add_block("add")
    graph.connect(a, a, 0)
    graph.connect(a, b, 0)
    graph.connect(b, a, 1)
    block, wires = graph.remove_block(a)
    assert block.id == a and len(wires) == 3 and len(graph) == 1 and not list(graph.wires())


@pytest.mark.parametrize("call", [
    lambda g: g.set_param("bn", "eps", 10**400),
    lambda g: g.set_param("bn", "eps", math.nan),
    lambda g: g.set_param("bn", "eps", -math.inf),
    lambda g: g.move("bn", (math.nan, 0)),
    lambda g: g.move("bn", (1e300, 0)),
    lambda g: g.add_block("conv2d", {"out_channels": "64"}),
    lambda g: g.add_block(["relu"]),
    lambda g: g.connect("bn", "bn", 10**9),
    lambda g: g.disconnect(["bn"], 0),
    lambda g: g.rename(["bn"], "x"),
    lambda g: g.set_group(["bn"], "layer1\n"),
], ids=["eps_huge", "eps_nan", "eps_inf", "pos_nan", "pos_far", "add_bad_param", "type_list",
        "port_huge", "unhashable_target", "unhashable_rename", "group_newline"])
def test_edits_that_would_make_an_unloadable_file_are_refused(call: Any) -> None:
    graph = Graph()
    graph.add_block("batchnorm2d", block_id="bn")
    before = graph.signature()
    with pytest.raises(GraphError):
        call(graph)
    assert graph.signature() == before
    assert fileformat.loads(fileformat.dumps(graph)) == graph


@pytest.mark.parametrize("make", [
    lambda c, d: c.Connect(d, "x", "b", 0),  # port taken: undoing it once removed a→b
    lambda c, d: c.Connect(d, "x", "x", 5000),
    lambda c, d: c.AddBlock(d, "relu", (0, 0), block_id="b"),
    lambda c, d: c.AddBlock(d, "relu", (0, 0), block_id="class"),
    lambda c, d: c.Rename(d, "a", "b"),
    lambda c, d: c.Rename(d, "a", "__init__"),
    lambda c, d: c.SetParam(d, "bn", "eps", math.nan),
    lambda c, d: c.SetGroup(d, ["a"], "a..b"),
    lambda c, d: c.Move(d, {"a": (math.inf, 0.0)}),
    lambda c, d: c.Move(d, {"a": (1.0, 1.0), "b": (2.0, 2.0), "bn": (math.nan, 0.0)}),
], ids=["port_taken", "port_huge", "id_taken", "id_keyword", "rename_taken", "rename_dunder", "param_nan",
        "bad_group", "pos_inf", "move_all_or_nothing"])
def test_refused_commands_never_reach_the_undo_stack(qapp: Any, make: Any) -> None:
    from gui import commands as c
    from gui.document import Document

    graph = Graph("g")
    for block_id in ("a", "b", "x"):
        graph.add_block("relu", block_id=block_id)
    graph.add_block("batchnorm2d", block_id="bn")
    graph.connect("a", "b", 0)
    doc = Document(graph)
    doc.undo_stack.push(c.Move(doc, {"x": (5.0, 5.0)}))  # one good step to undo afterwards
    before = doc.graph.signature()
    doc.undo_stack.push(make(c, doc))
    assert doc.graph.signature() == before and doc.undo_stack.count() == 1
    doc.undo_stack.undo()  # undoes the good step only; the wire a→b stays
    assert doc.graph.block("x").pos == (0.0, 0.0) and doc.graph.inputs_of("b") == {0: "a"}
