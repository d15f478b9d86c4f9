"""The graph document: mutations emit one event each and refuse bad input."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import networkx as nx
import pytest

from builder.graph import (
    EVENT_KINDS,
    EVENT_TYPES,
    BlockAdded,
    BlockMoved,
    BlockRenamed,
    Event,
    Graph,
    GraphError,
    GroupChanged,
    ParamChanged,
    Wire,
    WireAdded,
    group_problem,
    id_problem,
)
from tests.core.conftest import chain


@pytest.fixture
def events() -> tuple[Graph, list[Event]]:
    graph = chain("conv2d", "relu")
    seen: list[Event] = []
    graph.subscribe(seen.append)
    return graph, seen


def test_each_mutation_emits_its_event(events: tuple[Graph, list[Event]]) -> None:
    graph, seen = events
    graph.add_block("sigmoid", block_id="s")
    graph.connect("b1", "s", 0)
    graph.set_param("b0", "out_channels", 8)
    graph.move("s", (5, 6))
    graph.set_group(["s"], "head")
    graph.rename("s", "squash")
    graph.disconnect("squash", 0)
    graph.remove_block("squash")
    assert [e.kind for e in seen] == ["block_added", "wire_added", "param_changed", "block_moved",
                                     "group_changed", "block_renamed", "wire_removed", "block_removed"]
    assert set(e.kind for e in seen) == set(EVENT_KINDS)
    assert seen[1] == WireAdded(block_id="s", source="b1", port=0)
    assert seen[2] == ParamChanged(block_id="b0", name="out_channels", old=16, new=8)
    assert seen[3] == BlockMoved(block_id="s", old=(0.0, 0.0), new=(5.0, 6.0))
    assert seen[5] == BlockRenamed(block_id="squash", old="s")


def test_events_are_typed_frozen_records(events: tuple[Graph, list[Event]]) -> None:
    graph, seen = events
    graph.add_block("sigmoid", block_id="s")
    graph.connect("b1", "s", 0)
    graph.set_param("b0", "out_channels", 8)
    graph.set_group(["s", "b1"], "head")
    graph.rename("s", "squash")
    described = []
    for event in seen:
        match event:  # how a listener dispatches: the payload's fields are checked by mypy
            case BlockAdded(block_id=block_id):
                described.append(f"+{block_id}")
            case WireAdded(source=source, block_id=target, port=port):
                described.append(f"{source}→{target}:{port}")
            case ParamChanged(block_id=block_id, name=name, old=old, new=new):
                described.append(f"{block_id}.{name} {old}→{new}")
            case GroupChanged(old=old, new=new):
                described.append(f"{sorted(old)}→{new}")
            case BlockRenamed(old=old, block_id=block_id):
                described.append(f"{old}→{block_id}")
    assert described == ["+s", "b1→s:0", "b0.out_channels 16→8", "['b1', 's']→head", "s→squash"]
    assert [type(e).kind for e in seen] == [e.kind for e in seen]
    with pytest.raises(FrozenInstanceError):
        seen[0].block_id = "other"  # type: ignore[misc]
    assert {t.kind for t in EVENT_TYPES} == set(EVENT_KINDS) and len(EVENT_TYPES) == len(EVENT_KINDS)


def test_version_counts_mutations(events: tuple[Graph, list[Event]]) -> None:
    graph, seen = events
    before = graph.version
    graph.move("b0", (1, 1))
    graph.set_param("b0", "bias", False)
    assert graph.version == before + 2 == before + len(seen)


def test_unsubscribe(events: tuple[Graph, list[Event]]) -> None:
    graph, seen = events
    extra: list[Event] = []
    stop = graph.subscribe(extra.append)
    graph.move("b0", (1, 1))
    stop()
    graph.move("b0", (2, 2))
    assert len(extra) == 1 and len(seen) == 2


def test_remove_block_returns_its_wires_for_undo() -> None:
    graph = chain("conv2d", "relu")
    before = graph.signature()
    block, wires = graph.remove_block("b0")
    assert set(wires) == {Wire("input", "b0", 0), Wire("b0", "b1", 0)}
    assert "b0" not in graph and graph.inputs_of("b1") == {}
    graph.add_block(block.type, block.params, block.pos, block.id, block.group)
    for wire in wires:
        graph.connect(wire.source, wire.target, wire.port)
    assert graph.signature() == before


def test_rename_keeps_wires_and_order() -> None:
    graph = chain("conv2d", "relu")
    graph.rename("b0", "stem")
    assert graph.ids() == ["input", "stem", "b1", "output"]
    assert graph.inputs_of("b1") == {0: "stem"} and graph.inputs_of("stem") == {0: "input"}
    assert graph.block("stem").id == "stem"


BAD_MUTATIONS = {
    "unknown type": lambda g: g.add_block("conv9d"),
    "id not identifier": lambda g: g.add_block("relu", block_id="1relu"),
    "keyword id": lambda g: g.add_block("relu", block_id="class"),
    "dunder id": lambda g: g.add_block("relu", block_id="__init__"),
    "taken id": lambda g: g.add_block("relu", block_id="b0"),
    "unknown param": lambda g: g.add_block("relu", {"slope": 1}),
    "bad group": lambda g: g.add_block("relu", group="layer 1"),
    "connect missing": lambda g: g.connect("ghost", "b0", 0),
    "port taken": lambda g: g.connect("b0", "b1", 0),
    "negative port": lambda g: g.connect("b0", "output", -1),
    "bool port": lambda g: g.connect("b0", "b1", True),
    "disconnect unwired": lambda g: g.disconnect("b1", 3),
    "param unknown": lambda g: g.set_param("b0", "colour", 1),
    "param wrong type": lambda g: g.set_param("b0", "out_channels", "8"),
    "bool for int": lambda g: g.set_param("b0", "stride", True),
    "move missing": lambda g: g.move("ghost", (0, 0)),
    "rename to taken": lambda g: g.rename("b0", "b1"),
    "rename to bad": lambda g: g.rename("b0", "b 0"),
    "remove missing": lambda g: g.remove_block("ghost"),
    "group bad": lambda g: g.set_group(["b0"], "a..b"),
    "group missing block": lambda g: g.set_group(["ghost"], "a"),
}


@pytest.mark.parametrize("case", sorted(BAD_MUTATIONS))
def test_bad_mutation_is_refused_and_changes_nothing(case: str) -> None:
    graph = chain("conv2d", "relu")
    seen: list[Event] = []
    graph.subscribe(seen.append)
    before, version = graph.signature(), graph.version
    with pytest.raises(GraphError):
        BAD_MUTATIONS[case](graph)
    assert graph.signature() == before and graph.version == version and seen == []


def test_add_block_fills_defaults_and_fresh_ids() -> None:
    graph = Graph()
    first = graph.add_block("conv2d", {"out_channels": 4})
    second = graph.add_block("conv2d")
    assert (first, second) == ("conv2d1", "conv2d2")
    assert graph.block(first).params == {"out_channels": 4, "kernel_size": 3, "stride": 1,
                                         "padding": "same", "dilation": 1, "groups": 1, "bias": True}
    assert graph.fresh_id("3x3 conv") == "b_3x3_conv1"


def test_float_params_are_stored_as_floats() -> None:
    graph = chain("dropout")
    graph.set_param("b0", "p", 0)
    assert graph.block("b0").params["p"] == 0.0 and isinstance(graph.block("b0").params["p"], float)


def test_copy_is_deep_and_equal() -> None:
    graph = chain("conv2d")
    other = graph.copy()
    assert other == graph
    other.set_param("b0", "out_channels", 3)
    assert other != graph and graph.block("b0").params["out_channels"] == 16


@pytest.mark.parametrize("value", ["x", "conv_1", "A9"])
def test_good_ids(value: str) -> None:
    assert id_problem(value) is None


@pytest.mark.parametrize("value", ["", "9a", "a-b", "déjà", "lambda", "__x", 5, None, "x" * 101])
def test_bad_ids(value: object) -> None:
    assert id_problem(value)


@pytest.mark.parametrize("value", ["", "layer2.0", "features.stage1", "a.1.b"])
def test_good_groups(value: str) -> None:
    assert group_problem(value) is None


@pytest.mark.parametrize("value", ["layer2.", ".a", "a b", "for.x", "a.__x", 3])
def test_bad_groups(value: object) -> None:
    assert group_problem(value)


def test_topological_order_follows_insertion_when_free() -> None:
    graph = chain("relu", "add")
    graph.add_block("sigmoid", block_id="side")
    graph.connect("input", "side", 0)
    graph.connect("side", "b1", 1)
    assert graph.topological_ids() == ["input", "b0", "side", "b1", "output"]


def test_topological_order_leaves_out_a_cycle_and_what_follows_it() -> None:
    graph = chain("relu", "relu", "relu")
    graph.connect("b2", "b1", 1)  # b1 ⇄ b2: a cycle, and b2 feeds the Output
    assert graph.topological_order() == ["input", "b0"]
    with pytest.raises(nx.NetworkXUnfeasible):
        graph.topological_ids()


def test_one_topological_order() -> None:
    """Every module asks the graph for its order; no private copy of Kahn's algorithm is imported."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    users = []
    for path in sorted([*root.glob("builder/**/*.py"), *root.glob("gui/**/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and any(a.name == "_kahn" for a in node.names):
                users.append(path.relative_to(root).as_posix())
    assert users == []
