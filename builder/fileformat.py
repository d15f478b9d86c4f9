"""Graph file format v1: JSON, checked field by field, written atomically.

```
{"format": "skipwire-graph", "format_version": 1, "name": "resnet20", "description": "…",
 "blocks": [{"id": "conv1", "type": "conv2d", "params": {…}, "position": [x, y], "group": ""}],
 "wires": [{"source": "conv1", "target": "bn1", "port": 0}]}
```
Every problem raises :class:`GraphFileError` with one line naming the file, the JSON path
and what was expected. Files are data: nothing in them is ever executed.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from builder import catalog
from builder.graph import Graph, GraphError, group_problem, id_problem

FORMAT_NAME = "skipwire-graph"
FORMAT_VERSION = 1
MAX_BYTES = 16 * 1024 * 1024  # ~300 bytes a block: 50,000 blocks fit; parsing stays under ~0.4 GB
MAX_BLOCKS = 50_000
MAX_CONTAINERS = 10 * MAX_BLOCKS  # JSON objects + arrays: a block needs 3, a wire 1
MAX_TEXT = 10_000
COORD_LIMIT = 1e9


class GraphFileError(ValueError):
    """A graph file cannot be read; the message is one line a person can act on."""


def _fail(where: str, path: str, expected: str, got: Any = ...) -> GraphFileError:
    tail = "" if got is ... else f", got {_short(got)}"
    return GraphFileError(f"{where}: {path}: expected {expected}{tail}")


def _short(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=True) if not isinstance(value, str) else repr(value)
    except (RecursionError, ValueError):  # nested nearly as deep as the parser allows
        text = f"a deeply nested {type(value).__name__}"
    return text if len(text) <= 60 else text[:57] + "..."


# ----------------------------------------------------------------------------- writing


def to_dict(graph: Graph) -> dict[str, Any]:
    """The JSON-ready document for ``graph``."""
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "name": graph.name,
        "description": graph.description,
        "blocks": [
            {"id": b.id, "type": b.type, "params": dict(b.params),
             "position": [b.pos[0], b.pos[1]], "group": b.group}
            for b in graph.blocks()
        ],
        "wires": [{"source": w.source, "target": w.target, "port": w.port}
                  for w in sorted(graph.wires(), key=lambda w: (w.target, w.port))],
    }


def dumps(graph: Graph) -> str:
    return json.dumps(to_dict(graph), indent=1, ensure_ascii=False) + "\n"


def atomic_write(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` via a temp file + rename: the old file survives a crash.

    A new file gets the ordinary mode for the user's umask (0666 less the umask, what
    ``open(path, "w")`` gives); a file that exists keeps its permission bits.
    """
    target = Path(path)
    fd, tmp = _new_temp_file(target)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            _keep_mode(target, handle.fileno())
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _new_temp_file(target: Path) -> tuple[int, str]:
    """An empty new file beside ``target``, created with mode 0666 so the umask applies
    (``tempfile.mkstemp`` would make it 0600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = str(target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{target.parent}: cannot create a temporary file for {target.name}")


def _keep_mode(target: Path, fd: int) -> None:
    """Give the temp file ``fd`` the permission bits of ``target`` when it exists."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)


def save(graph: Graph, path: str | os.PathLike[str]) -> None:
    atomic_write(path, dumps(graph))


# ----------------------------------------------------------------------------- reading


def load(path: str | os.PathLike[str]) -> Graph:
    """Read a graph file; raises :class:`GraphFileError` (one line) on any problem."""
    where = str(path)
    try:
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            raise GraphFileError(f"{where}: file is {size:,} bytes; graph files are at most {MAX_BYTES:,}")
        with open(path, "rb") as handle:
            raw = handle.read(min(size, MAX_BYTES) + 1)  # read(MAX_BYTES) would allocate 64 MiB
    except OSError as exc:
        raise GraphFileError(f"{where}: cannot read the file ({exc.strerror or exc})") from None
    return loads(raw, where)


def loads(raw: bytes | str, where: str = "<graph>") -> Graph:
    """Parse a graph document from bytes or text."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise GraphFileError(f"{where}: not UTF-8 text (byte {exc.start})") from None
    if len(raw) > MAX_BYTES:
        raise GraphFileError(f"{where}: {len(raw):,} characters; graph files are at most {MAX_BYTES:,} bytes")
    containers = raw.count("{") + raw.count("[")  # each costs ~60 bytes of memory once parsed
    if containers > MAX_CONTAINERS:
        raise GraphFileError(f"{where}: {containers:,} JSON objects and lists; a graph file has at most "
                             f"{MAX_CONTAINERS:,}")
    try:
        doc = json.loads(raw, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise GraphFileError(
            f"{where}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (RecursionError, ValueError) as exc:
        raise GraphFileError(f"{where}: not valid JSON: {str(exc)[:80]}") from None
    return from_dict(doc, where)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a graph file")


def from_dict(doc: Any, where: str = "<graph>") -> Graph:
    """Check every field of a parsed document and build the graph."""
    if not isinstance(doc, dict):
        raise _fail(where, "$", "a JSON object", doc)
    if doc.get("format") != FORMAT_NAME:
        raise _fail(where, "$.format", f'"{FORMAT_NAME}" (is this a Skipwire graph file?)', doc.get("format"))
    version = doc.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _fail(where, "$.format_version", "a positive integer", version)
    if version > FORMAT_VERSION:
        raise GraphFileError(f"{where}: made by a newer Skipwire (format version {version}; "
                             f"this one reads up to {FORMAT_VERSION}); update Skipwire to open it")
    _known_keys(doc, {"format", "format_version", "name", "description", "blocks", "wires"}, where, "$")
    graph = Graph(_text(doc.get("name", "untitled"), where, "$.name"))
    graph.description = _text(doc.get("description", ""), where, "$.description")
    blocks = _list(doc.get("blocks"), where, "$.blocks", MAX_BLOCKS)
    for i, item in enumerate(blocks):
        _read_block(graph, item, where, f"$.blocks[{i}]")
    wires = _list(doc.get("wires", []), where, "$.wires", 4 * MAX_BLOCKS)
    for i, item in enumerate(wires):
        _read_wire(graph, item, where, f"$.wires[{i}]")
    return graph


def _known_keys(obj: dict[str, Any], allowed: set[str], where: str, path: str) -> None:
    for key in obj:
        if key not in allowed:
            raise _fail(where, _member(path, key),
                        "only the keys " + ", ".join(sorted(allowed)), key)


def _member(path: str, key: Any) -> str:
    """``$.a.key`` — or ``$.a["odd key"]`` (quoted, one line) when the key is no plain name."""
    if isinstance(key, str) and key.isidentifier() and key.isascii() and len(key) <= 60:
        return f"{path}.{key}"
    return f"{path}[{_short(key)}]"


def _text(value: Any, where: str, path: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT or not _encodable(value):
        raise _fail(where, path, f"a string of at most {MAX_TEXT} characters of Unicode text", value)
    return value


def _encodable(text: str) -> bool:
    """False for text with lone surrogates ("\\ud800"): it could not be saved as UTF-8 again."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _list(value: Any, where: str, path: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(where, path, "a list", value)
    if len(value) > limit:
        raise _fail(where, path, f"at most {limit:,} entries", f"{len(value):,} entries")
    return value


def _read_block(graph: Graph, item: Any, where: str, path: str) -> None:
    if not isinstance(item, dict):
        raise _fail(where, path, "an object with id, type, params, position", item)
    _known_keys(item, {"id", "type", "params", "position", "group"}, where, path)
    block_id = item.get("id")
    if not isinstance(block_id, str) or len(block_id) > 200:
        raise _fail(where, f"{path}.id", "a block id that is a Python identifier", block_id)
    problem = id_problem(block_id)
    if problem:  # say why: not an identifier, a keyword, a dunder name, too long
        why = problem.removeprefix(f"{block_id!r} ")
        raise GraphFileError(f"{where}: {path}.id: expected a block id that is a Python identifier, "
                             f"got {_short(block_id)}: {why}")
    if block_id in graph:
        raise _fail(where, f"{path}.id", "a unique block id", f"a second {block_id!r}")
    type_id = item.get("type")
    if not isinstance(type_id, str) or type_id not in catalog.CATALOG:
        raise _fail(where, f"{path}.type", "a known block type (" + ", ".join(catalog.CATALOG) + ")", type_id)
    params = _read_params(catalog.get(type_id), item.get("params", {}), where, f"{path}.params")
    pos = _read_position(item.get("position", [0, 0]), where, f"{path}.position")
    group = item.get("group", "")
    if group_problem(group):
        raise _fail(where, f"{path}.group", "a group path such as 'layer2.0' or \"\"", group)
    graph.add_block(type_id, params, pos, block_id, group)


def _read_params(spec: catalog.BlockType, value: Any, where: str, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, path, "an object of parameter values", value)
    for name, param_value in value.items():
        param = spec.param_map.get(name)
        if param is None:
            known = ", ".join(spec.param_map) or "none"
            raise _fail(where, _member(path, name), f"a parameter of {spec.label} ({known})", name)
        expected = param.type_error(param_value)
        if expected:
            raise _fail(where, f"{path}.{name}", expected, param_value)
        if isinstance(param_value, float) and not math.isfinite(param_value):
            raise _fail(where, f"{path}.{name}", "a finite number", param_value)
    return {k: spec.param_map[k].coerce(v) for k, v in value.items()}


def _read_position(value: Any, where: str, path: str) -> tuple[float, float]:
    ok = (isinstance(value, list) and len(value) == 2
          and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
          and all(abs(v) <= COORD_LIMIT for v in value))  # False for NaN and inf; no float() overflow
    if not ok:
        raise _fail(where, path, "[x, y] with finite numbers", value)
    return (float(value[0]), float(value[1]))


def _read_wire(graph: Graph, item: Any, where: str, path: str) -> None:
    if not isinstance(item, dict):
        raise _fail(where, path, "an object with source, target, port", item)
    _known_keys(item, {"source", "target", "port"}, where, path)
    for key in ("source", "target"):
        if item.get(key) not in graph:
            raise _fail(where, f"{path}.{key}", "the id of a block in $.blocks", item.get(key))
    port = item.get("port", 0)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port < 4096:
        raise _fail(where, f"{path}.port", "an input port number from 0 to 4095", port)
    try:
        graph.connect(item["source"], item["target"], port)
    except GraphError as exc:
        raise GraphFileError(f"{where}: {path}: {exc}") from None
