"""Control characters in names and descriptions: exported code stays Python, terminals stay safe."""

from __future__ import annotations

import ast
import sys
import types
from pathlib import Path

import pytest

from builder import cli, fileformat, templates
from builder.export.codegen import export_code
from builder.export.fx_import import exported_name
from builder.text import is_printable, printable

# NUL, ANSI colour and clear-screen, BEL, backspace, DEL, C1 (NEL, CSI), separators, bidi override
NASTY = ["\x00", "\x1b[31m", "\x1b[2J", "\x07", "\x08", "\x7f", "\x85", "\x9b", "\u2028", "\u2029", "\u202e",
         "\r", "\x0b", "\x0c"]


def _nasty_graph() -> templates.Graph:
    graph = templates.make("lenet")
    graph.name = "le" + "".join(NASTY) + "net\\x"
    graph.description = "A description " + " and ".join(NASTY) + ' with """ quotes and a \\ backslash'
    return graph


def test_printable_escapes_every_control_character() -> None:
    text = printable("".join(NASTY) + "plain ünïcode ✓")
    assert is_printable(text) and text.endswith("plain ünïcode ✓")
    assert "\\x00" in text and "\\x1b[31m" in text and "\\u202e" in text and "\\x9b" in text
    assert printable("a\nb", keep_newlines=True) == "a\nb" and printable("a\nb") == "a\\x0ab"


@pytest.mark.parametrize("char", NASTY, ids=repr)
def test_exported_code_is_valid_python_and_keeps_the_name(char: str) -> None:
    graph = templates.make("lenet")
    graph.name, graph.description = f"net{char}name", f"about{char}it"
    source = export_code(graph).source
    assert "\x00" not in source and is_printable(source)
    module = types.ModuleType("exported_nasty")
    exec(compile(ast.parse(source), "<exported>", "exec"), module.__dict__)
    cls = module.__dict__[export_code(graph).class_name]
    sys.modules["exported_nasty"] = module
    cls.__module__ = "exported_nasty"
    try:  # the import reads the graph name back exactly, and the description as printable text
        assert exported_name(cls) == (graph.name, printable(" ".join(graph.description.split())))
    finally:
        del sys.modules["exported_nasty"]


def test_all_of_them_at_once() -> None:
    graph = _nasty_graph()
    source = export_code(graph).source
    tree = ast.parse(source)
    assert isinstance(tree.body[0], ast.Expr) and is_printable(source)


@pytest.mark.parametrize("command", ["summary", "validate"])
def test_terminal_output_holds_no_raw_control_characters(command: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nasty\x1b[31m.json"
    fileformat.save(_nasty_graph(), path)
    code = cli.main([command, str(path)])
    out, err = capsys.readouterr()
    assert code == 0
    assert is_printable(out) and is_printable(err)
    assert "\\x1b[31m" in out  # shown, escaped


def test_error_messages_hold_no_raw_control_characters(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad\x1b]0;title\x07.json"
    path.write_text('{"format": "skipwire-graph", "format_version": 1, "blocks": 3}', encoding="utf-8")
    assert cli.main(["validate", str(path)]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert is_printable(err) and err.count("\n") == 1 and "\\x1b]0;title\\x07" in err
