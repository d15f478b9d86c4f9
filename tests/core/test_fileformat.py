"""Graph file format v1: exact round trips and one-line errors for malformed files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder import catalog, fileformat, templates
from builder.fileformat import GraphFileError
from builder.graph import Graph
from builder.params import Param
from tests.core.conftest import GRAPHS, SHIPPED_FILES, chain


def test_graphs_folder_is_not_empty() -> None:
    names = {p.stem for p in SHIPPED_FILES}
    assert {"resnet20", "resnet56", "resnet110", "plain20", "plain110", "vgg16", "lenet"} <= names


def test_round_trip_is_exact(shipped: Path, tmp_path: Path) -> None:
    text = shipped.read_text(encoding="utf-8")
    graph = fileformat.load(shipped)
    assert fileformat.dumps(graph) == text  # re-saving changes no byte
    copy = tmp_path / shipped.name
    fileformat.save(graph, copy)
    assert copy.read_bytes() == shipped.read_bytes()
    again = fileformat.load(copy)
    assert again == graph
    assert [b.id for b in again.blocks()] == [b.id for b in graph.blocks()]  # order kept
    assert list(tmp_path.iterdir()) == [copy]  # no temp file left behind


@pytest.mark.parametrize("stem", sorted(templates.SHIPPED))
def test_shipped_file_matches_its_template(stem: str) -> None:
    name, options = templates.SHIPPED[stem]
    assert fileformat.load(GRAPHS / f"{stem}.json") == templates.make(name, **options)


def test_round_trip_keeps_every_field() -> None:
    graph = chain("conv2d", "relu", b0={"out_channels": 4, "padding": "same", "bias": False})
    graph.description = "ünïcode ✓"
    graph.move("b0", (12.5, -3.0))
    graph.set_group(["b0", "b1"], "stage1.0")
    again = fileformat.loads(fileformat.dumps(graph))
    assert again == graph
    assert again.block("b0").params["padding"] == "same"
    assert again.block("b0").pos == (12.5, -3.0)
    assert again.block("b1").group == "stage1.0"


def test_save_is_atomic_when_writing_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "g.json"
    target.write_text("old", encoding="utf-8")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(fileformat.os, "replace", broken_replace)
    with pytest.raises(OSError):
        fileformat.save(chain("relu"), target)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["g.json"]


def _doc() -> dict:
    return fileformat.to_dict(chain("conv2d", "relu"))


def _mutate(path: str, value: object) -> dict:
    """A valid document with the value at a simple dotted/indexed path replaced."""
    doc = _doc()
    node = doc
    keys = [int(k) if k.isdigit() else k for k in path.split("/")]
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value
    return doc


def _dup_ids() -> dict:
    doc = _doc()
    doc["blocks"][2]["id"] = doc["blocks"][1]["id"]
    return doc


MALFORMED = {
    # name: (document text, JSON path or phrase the one-line message must contain)
    "truncated": (fileformat.dumps(chain("relu"))[:120], "not valid JSON"),
    "not_an_object": ("[1, 2]", "$: expected a JSON object"),
    "wrong_format_name": (json.dumps(_mutate("format", "other")), "$.format"),
    "version_not_int": (json.dumps(_mutate("format_version", "1")), "$.format_version"),
    "future_version": (json.dumps(_mutate("format_version", 99)), "made by a newer Skipwire"),
    "blocks_not_list": (json.dumps(_mutate("blocks", {})), "$.blocks: expected a list"),
    "name_not_text": (json.dumps(_mutate("name", 5)), "$.name"),
    "param_wrong_type": (json.dumps(_mutate("blocks/1/params/out_channels", "16")),
                         "$.blocks[1].params.out_channels: expected an integer"),
    "bool_as_int": (json.dumps(_mutate("blocks/1/params/stride", True)),
                    "$.blocks[1].params.stride"),
    "unknown_param": (json.dumps(_mutate("blocks/1/params/colour", 1)), "$.blocks[1].params.colour"),
    "position_wrong": (json.dumps(_mutate("blocks/1/position", [1])), "$.blocks[1].position"),
    "unknown_type": (json.dumps(_mutate("blocks/1/type", "conv9d")),
                     "$.blocks[1].type: expected a known block type"),
    "duplicate_id": (json.dumps(_dup_ids()), "$.blocks[2].id: expected a unique block id"),
    "id_not_identifier": (json.dumps(_mutate("blocks/1/id", "2conv")),
                          "$.blocks[1].id: expected a block id that is a Python identifier"),
    "id_with_space": (json.dumps(_mutate("blocks/1/id", "my conv")), "$.blocks[1].id"),
    "bad_group": (json.dumps(_mutate("blocks/1/group", "layer 2")), "$.blocks[1].group"),
    "wire_to_missing": (json.dumps(_mutate("wires/0/target", "ghost")),
                        "$.wires[0].target: expected the id of a block in $.blocks"),
    "wire_from_missing": (json.dumps(_mutate("wires/0/source", "ghost")), "$.wires[0].source"),
    "port_negative": (json.dumps(_mutate("wires/0/port", -1)), "$.wires[0].port"),
    "unknown_key": (json.dumps(_mutate("extra", 1)), "$.extra"),
    "nan_constant": (fileformat.dumps(chain("relu")).replace('"width": 8', '"width": NaN'),
                     "not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_file_gives_one_line(case: str, tmp_path: Path) -> None:
    text, expected = MALFORMED[case]
    path = tmp_path / f"{case}.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GraphFileError) as info:
        fileformat.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert expected in message


def test_two_wires_into_one_port_are_refused() -> None:
    doc = _doc()
    doc["wires"].append(dict(doc["wires"][0], source="input"))
    with pytest.raises(GraphFileError, match=r"\$\.wires\[3\]: input 0 of .* already wired"):
        fileformat.from_dict(doc, "f.json")


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(GraphFileError, match="cannot read the file"):
        fileformat.load(tmp_path / "missing.json")
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"name": "\xe9"}')
    with pytest.raises(GraphFileError, match="not UTF-8"):
        fileformat.load(bad)


def test_deep_nesting_is_a_file_error() -> None:
    with pytest.raises(GraphFileError):
        fileformat.loads("[" * 100_000 + "]" * 100_000)


def _random_graph(data: st.DataObject) -> Graph:
    """A graph built from random catalog blocks, parameter values, positions and wires."""
    graph = Graph(data.draw(st.text(max_size=20), "name"))
    types = sorted(catalog.CATALOG)
    for i in range(data.draw(st.integers(0, 8), "blocks")):
        spec = catalog.get(data.draw(st.sampled_from(types)))
        params = {p.name: data.draw(_value(p)) for p in spec.params if data.draw(st.booleans())}
        pos = (data.draw(st.floats(-1e6, 1e6)), data.draw(st.integers(-1000, 1000)))
        group = data.draw(st.sampled_from(["", "layer1.0", "head"]))
        graph.add_block(spec.type_id, params, pos, f"b{i}", group)
    ids = graph.ids()
    for _ in range(data.draw(st.integers(0, 10)) if ids else 0):
        src, dst = data.draw(st.sampled_from(ids)), data.draw(st.sampled_from(ids))
        port = data.draw(st.integers(0, 3))
        if port not in graph.inputs_of(dst):
            graph.connect(src, dst, port)
    return graph


def _value(param: Param) -> st.SearchStrategy:
    if param.kind == "bool":
        return st.booleans()
    if param.kind == "float":
        return st.floats(0, 1)
    if param.kind == "int_or_same":
        return st.one_of(st.just("same"), st.integers(0, 9))
    return st.integers(-3, 300)  # out-of-range values are kept and reported by validation


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_round_trip_of_random_graphs(data: st.DataObject) -> None:
    graph = _random_graph(data)
    text = fileformat.dumps(graph)
    again = fileformat.loads(text)
    assert again == graph
    assert fileformat.dumps(again) == text
