"""Fuzzed graph files: every mutated file loads and validates, or fails with one GraphFileError line.

More than 1,000 mutations of the shipped graph files (truncated, bytes flipped, fields
removed, values of the wrong type, huge numbers, NaN/Infinity, deep nesting, enormous
arrays, non-UTF-8) are loaded with ``fileformat.load``. Each load must either return a graph
that validates without raising *and saves to a file that loads back equal*, or raise
``GraphFileError`` with a one-line message naming the file — never another exception,
never more than a couple of seconds, never more than a bounded amount of memory.
"""

from __future__ import annotations

import json
import random
import resource
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder import fileformat
from builder.fileformat import GraphFileError
from builder.graph import Graph
from builder.validate import validate

from .conftest import GRAPHS

SOURCES = ("resnet20", "lenet", "vgg16", "resnet20b", "googlenet", "mobilenet", "plain20")
PER_SOURCE = 150  # 7 sources × 150 = 1,050 mutated files
TIME_CAP_S = 2.0  # CPU seconds per file
PEAK_CAP_BYTES = 256 * 1024 * 1024  # for the hostile shapes measured with tracemalloc

ODD_VALUES: tuple[Any, ...] = (None, True, False, 0, -1, 1.5, "", "x", [], {}, [1, 2], {"a": 1},
                               1e308, -1e308, 5e-324, 2**63, -(2**63) - 1, 10**400, "\u0000", "é" * 50,
                               "\ud800", [[[[]]]], "same", 4096, 10**9)
HUGE_NUMBER_TEXT = ("1e308", "-1e308", "1e999", "-1e999", "1" + "0" * 400, "1" + "0" * 5000, "1e-400",
                    "NaN", "Infinity", "-Infinity", "9" * 30, "1.7976931348623157e309")


# ----------------------------------------------------------------------------- outcomes


class Outcome:
    """Counts what the loader did with each file."""

    def __init__(self) -> None:
        self.loaded = 0
        self.refused = 0
        self.slowest = 0.0

    def check(self, path: Path) -> None:
        """Load ``path``; accept a valid graph or a GraphFileError, nothing else."""
        start = time.process_time()  # CPU time: other processes on a busy machine do not count
        try:
            graph = fileformat.load(path)
        except GraphFileError as exc:
            self.refused += 1
            _check_message(str(exc), path)
        else:
            self.loaded += 1
            _check_loaded(graph)
        elapsed = time.process_time() - start
        self.slowest = max(self.slowest, elapsed)
        assert elapsed < TIME_CAP_S, f"{path.name} took {elapsed:.2f} s of CPU time"


def _check_message(message: str, path: Path) -> None:
    assert "\n" not in message and "Traceback" not in message, message
    assert message.startswith(str(path)), message
    assert len(message) < 600, message


def _check_loaded(graph: Graph) -> None:
    validate(graph)  # must not raise
    again = fileformat.loads(fileformat.dumps(graph))  # what loaded must save and load back
    assert again == graph


# ----------------------------------------------------------------------------- mutators


def _walk(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (tuple of keys/indexes) to a value in the document, capped to stay quick."""
    paths = [path]
    if isinstance(doc, dict):
        for key, value in doc.items():
            paths += _walk(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc[:40]):
            paths += _walk(value, (*path, i))
    return paths


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


def _delete(doc: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return {}
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return doc


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


def _replace_text(doc: Any, rng: random.Random, text: str) -> bytes:
    """Put raw JSON ``text`` where a random value was (for numbers JSON cannot build from Python)."""
    marker = "\u2603MARK\u2603"
    doc = _set(doc, rng.choice(_walk(doc)), marker)
    return _dump(doc).replace(json.dumps(marker, ensure_ascii=False).encode(), text.encode())


def m_truncate(raw: bytes, doc: Any, rng: random.Random) -> bytes:
    return raw[:rng.randrange(len(raw))]


def m_flip_bytes(raw: bytes, doc: Any, rng: random.Random) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 12)):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


def m_random_bytes(raw: bytes, doc: Any, rng: random.Random) -> bytes:
    data = bytearray(raw)
    pos = rng.randrange(len(data))
    data[pos:pos + rng.randint(0, 8)] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(data)


def m_remove_field(raw: bytes, doc: Any, rng: random.Random) -> bytes:
    paths = [p for p in _walk(doc) if p]
    return _dump(_delete(doc, rng.choice(paths)))


def m_wrong_type(raw: bytes, doc: Any, rng: random.Random) -> bytes:
    return _dump(_set(doc, rng.choice(_walk(doc)), rng.choice(ODD_VALUES)))


def m_huge_number(raw: bytes, doc: Any, rng: random.Random) -> bytes:
    return _replace_text(doc, rng, rng.choice(HUGE_NUMBER_TEXT))


def m_swap_values(raw: bytes, doc: Any, rng: random.Random) -> bytes:
    paths = _walk(doc)
    a, b = rng.choice(paths), rng.choice(paths)
    if a[:len(b)] == b or b[:len(a)] == a:
        return _dump(doc)
    value_a, value_b = _get(doc, a), _get(doc, b)
    return _dump(_set(_set(doc, a, value_b), b, value_a))


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def m_duplicate(raw: bytes, doc: Any, rng: random.Random) -> bytes:
    """A block or wire listed twice (a second id, a second wire into one port)."""
    key = rng.choice(("blocks", "wires"))
    items = doc.get(key) or [{}]
    doc[key] = items + [rng.choice(items)]
    return _dump(doc)


def m_unknown_key(raw: bytes, doc: Any, rng: random.Random) -> bytes:
    dicts = [p for p in _walk(doc) if isinstance(_get(doc, p), dict)]
    target = _get(doc, rng.choice(dicts))
    target[rng.choice(("__class__", "eval", "x" * 200, "", "pickle"))] = rng.choice(ODD_VALUES)
    return _dump(doc)


def m_deep_nesting(raw: bytes, doc: Any, rng: random.Random) -> bytes:
    depth = rng.choice((50, 900, 990, 5_000, 100_000))
    opener, closer = rng.choice((("[", "]"), ('{"a":', "}")))
    return _replace_text(doc, rng, opener * depth + "0" + closer * depth)


def m_enormous_array(raw: bytes, doc: Any, rng: random.Random) -> bytes:
    count = rng.choice((10_000, 50_001, 150_000))
    item = rng.choice(("0", "{}", '"x"', '{"id":"a","type":"relu"}', "[]"))
    return _replace_text(doc, rng, "[" + ",".join([item] * count) + "]")


def m_long_string(raw: bytes, doc: Any, rng: random.Random) -> bytes:
    return _replace_text(doc, rng, json.dumps("x" * rng.choice((9_999, 10_001, 3_000_000))))


def m_not_utf8(raw: bytes, doc: Any, rng: random.Random) -> bytes:
    choice = rng.randrange(4)
    if choice == 0:
        return raw.decode("utf-8").encode("utf-16")
    if choice == 1:
        pos = rng.randrange(len(raw))
        bad = rng.choice((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"))
        return raw[:pos] + bad + raw[pos:]
    if choice == 2:
        return b"\xef\xbb\xbf" + raw  # a UTF-8 byte-order mark
    return _replace_text(doc, rng, '"\\ud800\\udfff\\ud800"')


MUTATORS: tuple[Callable[[bytes, Any, random.Random], bytes], ...] = (
    m_truncate, m_flip_bytes, m_random_bytes, m_remove_field, m_wrong_type, m_huge_number,
    m_swap_values, m_duplicate, m_unknown_key, m_deep_nesting, m_enormous_array, m_long_string,
    m_not_utf8,
)
HEAVY = {m_deep_nesting, m_enormous_array, m_long_string}


def mutate(raw: bytes, rng: random.Random) -> tuple[str, bytes]:
    light = [m for m in MUTATORS if m not in HEAVY]
    mutator = rng.choice(MUTATORS) if rng.random() < 0.06 else rng.choice(light)
    return mutator.__name__, mutator(raw, json.loads(raw), rng)


# ----------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("source", SOURCES)
def test_mutated_graph_files_load_or_fail_cleanly(tmp_path: Path, source: str) -> None:
    raw = (GRAPHS / f"{source}.json").read_bytes()
    rng = random.Random(f"fuzz-{source}")
    outcome = Outcome()
    kinds: dict[str, int] = {}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for i in range(PER_SOURCE):
        kind, data = mutate(raw, rng)
        kinds[kind] = kinds.get(kind, 0) + 1
        path = tmp_path / f"{source}_{i:03d}_{kind}.json"
        path.write_bytes(data)
        outcome.check(path)
        path.unlink()
    rss_growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    print(f"{source}: {PER_SOURCE} files, {outcome.loaded} loaded, {outcome.refused} refused, "
          f"slowest {outcome.slowest:.3f} s, peak RSS growth {rss_growth_mb:.0f} MB, kinds {kinds}")
    assert outcome.loaded + outcome.refused == PER_SOURCE
    assert outcome.refused > PER_SOURCE // 3, "most mutations should break the file"
    assert len(kinds) >= 9
    assert rss_growth_mb < 400


@pytest.mark.parametrize("mutator", sorted(HEAVY, key=lambda m: m.__name__), ids=lambda m: m.__name__)
def test_hostile_shapes_stay_within_time_and_memory(tmp_path: Path, mutator: Any) -> None:
    """Deep nesting, enormous arrays and long strings, each measured with tracemalloc."""
    raw = (GRAPHS / "lenet.json").read_bytes()
    rng = random.Random(mutator.__name__)
    outcome = Outcome()
    peaks = []
    for i in range(4):
        path = tmp_path / f"{i}.json"
        path.write_bytes(mutator(raw, json.loads(raw), rng))
        outcome.check(path)  # timed without tracemalloc, which slows allocation down
        tracemalloc.start()
        try:
            _load_quietly(path)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert peaks[-1] < PEAK_CAP_BYTES, f"{mutator.__name__} #{i}: peak {peaks[-1] / 2**20:.0f} MiB"
    biggest = max(p.stat().st_size for p in tmp_path.iterdir()) / 2**20
    print(f"{mutator.__name__}: file sizes up to {biggest:.1f} MiB, slowest load {outcome.slowest:.2f} s, "
          f"peak traced memory {max(peaks) / 2**20:.0f} MiB")


def _load_quietly(path: Path) -> None:
    try:
        fileformat.load(path)
    except GraphFileError:
        pass


@pytest.mark.parametrize("depth", [990, 995, 1_000, 100_000])
@pytest.mark.parametrize("where", ["name", "params", "eps", "position", "group", "id", "wires"])
def test_deep_nesting_in_every_field(tmp_path: Path, depth: int, where: str) -> None:
    nested = "[" * depth + "]" * depth
    block = {"id": "a", "type": "batchnorm2d", "params": {}, "position": [0, 0], "group": ""}
    doc = {"format": "skipwire-graph", "format_version": 1, "name": "n", "blocks": [block], "wires": []}
    target = {"name": (doc, "name"), "params": (block, "params"), "position": (block, "position"),
              "group": (block, "group"), "id": (block, "id"), "wires": (doc, "wires")}.get(where)
    if target is None:
        block["params"] = {"eps": "MARK"}
    else:
        target[0][target[1]] = "MARK"
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(doc).replace('"MARK"', nested))
    with pytest.raises(GraphFileError) as info:
        fileformat.load(path)
    _check_message(str(info.value), path)


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(fileformat.MAX_BYTES + 1)  # sparse: nothing is written
    start = time.process_time()  # CPU time: the machine may be busy
    with pytest.raises(GraphFileError, match="at most"):
        fileformat.load(path)
    assert time.process_time() - start < 0.5


@pytest.mark.parametrize("name", ["missing.json", "a_directory"])
def test_unreadable_paths_fail_with_one_line(tmp_path: Path, name: str) -> None:
    (tmp_path / "a_directory").mkdir()
    with pytest.raises(GraphFileError) as info:
        fileformat.load(tmp_path / name)
    _check_message(str(info.value), tmp_path / name)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=JSON_VALUES, pick=st.integers(0, 10**6))
def test_any_json_value_anywhere(value: Any, pick: int) -> None:
    """Hypothesis puts arbitrary JSON at an arbitrary place of LeNet's document."""
    doc = json.loads((GRAPHS / "lenet.json").read_bytes())
    paths = _walk(doc)
    doc = _set(doc, paths[pick % len(paths)], value)
    try:
        graph = fileformat.loads(json.dumps(doc), "lenet-variant.json")
    except GraphFileError as exc:
        _check_message(str(exc), Path("lenet-variant.json"))
    else:
        _check_loaded(graph)


@pytest.mark.parametrize(("field", "item", "count"), [
    ("blocks", "{}", 250_000),  # more than MAX_BLOCKS entries
    ("blocks", '{"id":"a","type":"relu"}', 50_001),
    ("wires", "[]", 500_001),  # more JSON lists than MAX_CONTAINERS
    ("position", "0", 400_000),
])
def test_enormous_arrays(tmp_path: Path, field: str, item: str, count: int) -> None:
    doc = json.loads((GRAPHS / "lenet.json").read_bytes())
    target = doc["blocks"][0] if field == "position" else doc
    target[field] = "MARK"
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc).replace('"MARK"', "[" + ",".join([item] * count) + "]"))
    outcome = Outcome()
    outcome.check(path)
    tracemalloc.start()
    try:
        _load_quietly(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(f"{count:,} × {item} in {field}: {path.stat().st_size / 2**20:.1f} MiB file, "
          f"load {outcome.slowest:.2f} s, peak traced memory {peak / 2**20:.0f} MiB")
    assert outcome.refused == 1
    assert peak < PEAK_CAP_BYTES
