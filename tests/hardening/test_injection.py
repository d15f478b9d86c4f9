"""No code from files: injected ids, groups and values are refused; generated code stays code we wrote.

* Graph files whose ids, group paths, types or parameter values try to smuggle code in
  (``__import__('os').system(…)``, quotes, newlines, dunders, keywords, look-alike letters)
  fail with ``GraphFileError``; the mutation API refuses the same values with ``GraphError``.
* Odd-but-legal ids and groups (``self``, ``forward``, ``torch``, ``nn``…) and hostile graph
  names/descriptions compile to a working module, and the exported source — checked with
  ``compile()`` and its AST, never executed — holds only the statements and calls we expect.
* Every ``torch.load`` in ``builder/`` and ``gui/`` passes ``weights_only=True``; nothing uses
  pickle, marshal, eval or exec, and code is imported dynamically only where listed.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from builder import fileformat
from builder.fileformat import GraphFileError
from builder.graph import Graph, GraphError

from .conftest import GRAPHS, ROOT

SENTINEL = "/tmp/skipwire_pwned"
PAYLOAD = f"__import__('os').system('touch {SENTINEL}')"

BAD_IDS = [
    PAYLOAD, "os.system('x')", "x; import os", "a'b", 'a"b', "a\nb", "a\rb", "x\n", "__init__",
    "__class__", "__builtins__", "class", "import", "lambda", "None", "True", "match", "_", "type_\t",
    "ｏｓ", "аdd", "x\u200b", "x\x00", "x ", " x", "1x", "a.b", "a-b", "$(touch x)", "`x`", "{x}", "%s",
    "x" * 101, "", "é", "'''", '"""', "\\", "#x",
]
BAD_GROUPS = [
    PAYLOAD, "a;b", "a'b", 'a"b', "a\nb", "layer1\n", "\nlayer1", "class", "a.class", "a.__init__",
    "__class__", "ｌayer", "a b", "a..b", ".a", "a.", "a/b", "../x", "x\x00", "a." * 150 + "a", "a.b()",
    "a[0]", "#", "\\",
]
BAD_TYPES = [PAYLOAD, "nn.Conv2d", "conv2d\n", "Conv2d", "torch.nn.Module", "__class__", "", "relu "]
BAD_PARAMS = [  # (block type, parameter, value)
    ("conv2d", "padding", PAYLOAD), ("conv2d", "padding", "same'; x"), ("conv2d", "padding", "1+1"),
    ("conv2d", "padding", "0x10"), ("conv2d", "out_channels", "16"), ("conv2d", "out_channels", PAYLOAD),
    ("conv2d", "bias", "True"), ("conv2d", "bias", 1), ("linear", "out_features", [10]),
    ("linear", "out_features", {"__class__": 1}), ("batchnorm2d", "eps", "1e-5"),
    ("dropout", "p", "__import__('os')"), ("conv2d", "__class__", 1), ("conv2d", PAYLOAD, 1),
    ("conv2d", "out_channels; import os", 1),
]


def _doc(**block_fields: Any) -> dict[str, Any]:
    """LeNet's document with the first conv block's fields replaced."""
    doc = json.loads((GRAPHS / "lenet.json").read_bytes())
    block = next(b for b in doc["blocks"] if b["type"] == "conv2d")
    block.update(block_fields)
    return doc


def _refused(doc: dict[str, Any]) -> str:
    with pytest.raises(GraphFileError) as info:
        fileformat.loads(json.dumps(doc), "evil.json")
    message = str(info.value)
    assert message.startswith("evil.json: ") and "\n" not in message
    return message


# ----------------------------------------------------------------------------- refused at load


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_injected_block_id_is_refused_at_load(bad: str) -> None:
    doc = _doc()
    conv = next(b for b in doc["blocks"] if b["type"] == "conv2d")
    old = conv["id"]
    conv["id"] = bad
    for wire in doc["wires"]:  # keep the wires pointing at it, so only the id is wrong
        wire["source"] = bad if wire["source"] == old else wire["source"]
        wire["target"] = bad if wire["target"] == old else wire["target"]
    assert ".id" in _refused(doc)


@pytest.mark.parametrize("bad", BAD_GROUPS, ids=repr)
def test_injected_group_is_refused_at_load(bad: str) -> None:
    assert ".group" in _refused(_doc(group=bad))


@pytest.mark.parametrize("bad", BAD_TYPES, ids=repr)
def test_injected_type_is_refused_at_load(bad: str) -> None:
    assert ".type" in _refused(_doc(type=bad, params={}))


@pytest.mark.parametrize(("type_id", "name", "value"), BAD_PARAMS, ids=repr)
def test_injected_parameter_is_refused_at_load(type_id: str, name: str, value: Any) -> None:
    assert ".params" in _refused(_doc(type=type_id, params={name: value}))


@pytest.mark.parametrize("bad", ["ghost", PAYLOAD, "a\nb", 3, None, ["x"]], ids=repr)
def test_wire_to_an_unknown_block_is_refused_at_load(bad: Any) -> None:
    doc = _doc()
    doc["wires"][0]["source"] = bad
    assert "$.wires[0].source" in _refused(doc)


# ----------------------------------------------------------------------------- refused by the API


def _small_graph() -> Graph:
    graph = Graph("small")
    graph.add_block("conv2d", block_id="c")
    return graph


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_injected_ids_are_refused_by_the_mutation_api(bad: str) -> None:
    graph = _small_graph()
    before = graph.signature()
    if bad:  # an empty id asks add_block for a fresh one
        with pytest.raises(GraphError):
            graph.add_block("relu", block_id=bad)
    with pytest.raises(GraphError):
        graph.rename("c", bad)
    assert graph.signature() == before


@pytest.mark.parametrize("bad", BAD_GROUPS, ids=repr)
def test_injected_groups_are_refused_by_the_mutation_api(bad: str) -> None:
    graph = _small_graph()
    before = graph.signature()
    with pytest.raises(GraphError):
        graph.set_group(["c"], bad)
    with pytest.raises(GraphError):
        graph.add_block("relu", group=bad)
    assert graph.signature() == before


@pytest.mark.parametrize(("type_id", "name", "value"), BAD_PARAMS, ids=repr)
def test_injected_values_are_refused_by_the_mutation_api(type_id: str, name: str, value: Any) -> None:
    graph = Graph()
    block_id = graph.add_block(type_id)
    before = graph.signature()
    with pytest.raises(GraphError):
        graph.set_param(block_id, name, value)
    with pytest.raises(GraphError):
        graph.add_block(type_id, {name: value})
    assert graph.signature() == before


@pytest.mark.parametrize("bad", BAD_TYPES, ids=repr)
def test_injected_types_are_refused_by_the_mutation_api(bad: str) -> None:
    with pytest.raises(GraphError):
        Graph().add_block(bad)


# ----------------------------------------------------------------------------- generated code

ODD_IDS = ["self", "x", "out", "torch", "nn", "F", "super", "forward", "training", "dtype", "device",
           "print", "open", "eval", "exec", "os", "sys", "globals", "ShortcutPad", "Model", "input",
           "layer1_if", "layer1___init__", "_private", "code", "graph", "state_dict", "to", "cuda", "T"]
ODD_GROUPS = ["self", "nn.0", "torch.x", "F", "forward.training", "eval.exec", "layer1", "os.system",
              "0", "_x", "state_dict", "to.cuda"]
EVIL_NAME = f'x""";{PAYLOAD};"""'
EVIL_DESCRIPTION = f'"""\n{PAYLOAD}\n"""\n\'\'\'\\\n{PAYLOAD}'


def odd_graph(shortcut: bool) -> Graph:
    """A small residual net whose every id and group is legal but awkward for a code generator."""
    graph = Graph(EVIL_NAME)
    graph.description = EVIL_DESCRIPTION
    kinds = ["conv2d", "batchnorm2d", "relu", "conv2d", "identity", "leaky_relu"] * 5
    previous = graph.add_block("input", {"channels": 3, "height": 8, "width": 8}, block_id="input_")
    skip_from = previous
    for i, (block_id, kind) in enumerate(zip(ODD_IDS, kinds, strict=False)):
        group = ODD_GROUPS[i % len(ODD_GROUPS)] if i % 3 else ""
        params = {"out_channels": 8} if kind == "conv2d" else None
        graph.add_block(kind, params, block_id=block_id, group=group)
        graph.connect(previous, block_id, 0)
        previous = block_id
        if shortcut and i == 5:
            add = graph.add_block("add", block_id="add_", group="self")
            pad = graph.add_block("shortcut_pad", {"stride": 1, "out_channels": 8}, block_id="pad")
            graph.connect(skip_from, pad, 0)
            graph.connect(previous, add, 0)
            graph.connect(pad, add, 1)
            previous = add
    for kind in ("global_avgpool", "flatten", "linear", "output"):
        block_id = graph.add_block(kind)
        graph.connect(previous, block_id, 0)
        previous = block_id
    return graph


def test_odd_graph_is_valid_and_compiles(tmp_path: Path) -> None:
    import torch

    from builder.compile import compile_graph
    from builder.validate import validate

    for shortcut in (False, True):
        graph = odd_graph(shortcut)
        assert validate(graph).ok, validate(graph).errors
        module = compile_graph(graph)
        assert module(torch.zeros(2, 3, 8, 8)).shape == (2, 10)
        assert set(module.block_paths) == {b.id for b in graph.blocks() if b.spec.has_module}
        path = tmp_path / "odd.json"  # names and descriptions are data: they round-trip
        fileformat.save(graph, path)
        assert fileformat.load(path) == graph
    assert not Path(SENTINEL).exists()


def test_reserved_submodule_names_cover_every_graph_module_attribute() -> None:
    """A block id equal to any of them would clash in compile (this torch's attribute list)."""
    from torch import fx, nn

    from builder.naming import RESERVED, safe_name

    module = fx.GraphModule(nn.Module(), fx.Graph())
    names = {n for n in set(dir(module)) | set(vars(module)) if n.isidentifier()}
    assert {n for n in names if not n.startswith("_")} <= RESERVED
    assert all(safe_name(n) not in names for n in names)


ALLOWED_IMPORTS = {"torch", "torch.nn", "torch.nn.functional"}
SAFE_CALL_NAMES = {"super", "range", "len", "zip", "enumerate", "isinstance", "int", "tuple", "list", "max",
                   "min", "sum", "float"}
FORBIDDEN_NAMES = {"__import__", "eval", "exec", "compile", "open", "setattr", "globals", "locals",
                   "vars", "__builtins__", "breakpoint"}


def _check_exported_source(source: str) -> None:
    tree = ast.parse(source)  # the same parser compile() uses; the code is never run
    compile(tree, "<exported>", "exec")
    defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef | ast.FunctionDef)}
    defined |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}  # _make_stage(block, …) calls block
    body = tree.body
    assert isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant), "module docstring"
    for statement in body[1:]:
        assert isinstance(statement, ast.Import | ast.ImportFrom | ast.ClassDef | ast.FunctionDef
                          | ast.Assign), ast.unparse(statement)[:120]
        if isinstance(statement, ast.Assign):
            assert [ast.unparse(t) for t in statement.targets] == ["__all__"]
        if isinstance(statement, ast.Import):
            assert {a.name for a in statement.names} <= ALLOWED_IMPORTS
        if isinstance(statement, ast.ImportFrom):
            assert statement.module in ALLOWED_IMPORTS
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # docstrings
        assert not isinstance(node, ast.Expr) or isinstance(node.value, ast.Call), ast.unparse(node)[:120]
        if isinstance(node, ast.Call):
            _check_call(node, defined)
        if isinstance(node, ast.Name):
            assert node.id not in FORBIDDEN_NAMES, f"exported code names {node.id!r}"


def _check_call(node: ast.Call, defined: set[str]) -> None:
    func = node.func
    root = func
    while isinstance(root, ast.Attribute | ast.Subscript | ast.Call):
        root = root.value if not isinstance(root, ast.Call) else root.func
    assert isinstance(root, ast.Name), ast.unparse(node)[:120]
    if root.id == "getattr":  # getattr(self, "0"): a numeric submodule name, nothing else
        call = node if func is root else next(n for n in ast.walk(func) if isinstance(n, ast.Call))
        assert [type(a) for a in call.args] == [ast.Name, ast.Constant], ast.unparse(call)
        assert call.args[0].id == "self" and isinstance(call.args[1].value, str), ast.unparse(call)
        return
    if func is root:
        assert root.id in defined | SAFE_CALL_NAMES, f"calls {root.id}()"
    else:
        assert root.id in {"self", "nn", "torch", "F", "super", "layer", "x", "out"} | defined, \
            f"calls a method of {root.id!r}: {ast.unparse(node)[:100]}"


@pytest.mark.parametrize("shortcut", [False, True])
@pytest.mark.parametrize("description", [True, False], ids=["described", "name_as_title"])
def test_exported_code_cannot_be_made_to_emit_injected_code(shortcut: bool, description: bool) -> None:
    export = pytest.importorskip("builder.export.codegen", reason="the exporter is part of the tree")
    graph = odd_graph(shortcut)
    if not description:
        graph.description = ""
    code = export.export_code(graph)
    _check_exported_source(code.source)
    assert PAYLOAD not in _code_without_strings(code.source)
    from builder.compile import compile_graph

    assert code.module_paths == compile_graph(graph).block_paths  # same submodule names, same keys
    assert not Path(SENTINEL).exists()


@pytest.mark.parametrize("name", ['x\n"""\nimport os\n"""', '"""', "a\\", 'a\\"""', '""', '"', '\\"""x',
                                  '\u2028"""\u2029', 'x\r"""\rimport os\r', '""""'], ids=repr)
def test_graph_names_cannot_close_the_module_docstring(name: str) -> None:
    export = pytest.importorskip("builder.export.codegen", reason="the exporter is part of the tree")
    for description in ("", name):
        graph = odd_graph(False)
        graph.name, graph.description = name, description
        _check_exported_source(export.export_code(graph).source)


def _code_without_strings(source: str) -> str:
    """The source with every string constant blanked out (what could run, not what is printed)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.unparse(tree)


@pytest.mark.parametrize("name", ["resnet20", "resnet20b", "googlenet", "densenet121", "preact_resnet18"])
def test_exported_shipped_graphs_hold_only_expected_code(name: str) -> None:
    export = pytest.importorskip("builder.export.codegen", reason="the exporter is part of the tree")
    _check_exported_source(export.export_code(fileformat.load(GRAPHS / f"{name}.json")).source)


# ----------------------------------------------------------------------------- the code base itself

DYNAMIC_IMPORTS = {  # file → why it may import code at run time
    "builder/export/fx_import.py": "`import model.py:Class` runs the user's own Python file, on request",
    "builder/training/__init__.py": "lazy package exports: submodules named in the constant _WHERE table",
}
UNPICKLERS = {"pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve", "joblib", "_pickle"}


def _sources() -> list[Path]:
    files = [p for folder in ("builder", "gui") for p in (ROOT / folder).rglob("*.py")]
    return sorted(files + [ROOT / "main.py"])


def _dotted(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # pragma: no cover - unparse handles every expression
        return ""


def test_code_base_loads_no_pickles_and_evaluates_no_strings() -> None:
    problems: list[str] = []
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), rel)):
            problems += [f"{rel}:{getattr(node, 'lineno', '?')}: {p}" for p in _node_problems(rel, node)]
    assert not problems, "\n".join(problems)


def _node_problems(rel: str, node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
        bad = [n for n in names if n and n.split(".")[0] in UNPICKLERS]
        if isinstance(node, ast.ImportFrom) and node.module == "importlib" and rel not in DYNAMIC_IMPORTS:
            bad.append("importlib.<function> (call importlib.import_module so this test sees it)")
        return [f"imports {bad}"] if bad else []
    if not isinstance(node, ast.Call):
        return []
    func = _dotted(node.func)
    keywords = {k.arg: k.value for k in node.keywords}
    if func in ("eval", "exec", "__import__", "builtins.eval", "builtins.exec"):
        return [f"calls {func}()"]
    if func.endswith("torch.load"):
        flag = keywords.get("weights_only")
        if not (isinstance(flag, ast.Constant) and flag.value is True):
            return ["torch.load without weights_only=True"]
    if func.endswith(("np.load", "numpy.load")):
        flag = keywords.get("allow_pickle")
        if flag is not None and not (isinstance(flag, ast.Constant) and flag.value is False):
            return ["numpy.load with allow_pickle"]
    if func.endswith(("yaml.load", "yaml.unsafe_load", "torch.jit.load", "torch.package")):
        return [f"calls {func}()"]
    dynamic = func.endswith("importlib.import_module") or "spec_from_file_location" in func
    if dynamic and rel not in DYNAMIC_IMPORTS:
        return [f"imports code dynamically with {func}() (list it in DYNAMIC_IMPORTS with a reason)"]
    return []


def test_every_torch_load_passes_weights_only() -> None:
    """A plain-text check too, so a `torch.load` split across lines or aliased is still seen."""
    seen = 0
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _dotted(node.func).split(".")[-1] == "load" \
                    and "torch" in _dotted(node.func):
                seen += 1
                assert any(k.arg == "weights_only" and getattr(k.value, "value", None) is True
                           for k in node.keywords), f"{path}:{node.lineno}"
        assert "from torch import load" not in text, path
    assert seen >= 1, "the trainer's checkpoints and the weights reader use torch.load"
