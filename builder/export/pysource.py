"""Python source helpers for the code generator: names and line wrapping.

Constructor calls come from the catalog (:class:`builder.blocktype.Call`); :func:`call_lines`
lays a statement out the way ``ruff format`` does (one line, or the arguments on one indented
line, or one argument per line with a trailing comma), so generated files are stable under the
formatter.
"""

from __future__ import annotations

import ast
import builtins
import keyword
from functools import lru_cache
from pathlib import Path

LINE = 88  # ruff format's default line length
RESERVED = frozenset({"self", "x", "torch", "nn", "F", "super", "range", "i", "_"}) | frozenset(dir(builtins))


class Namespace:
    """Hands out identifiers that are unique and shadow nothing (after torch.fx's ``_Namespace``)."""

    def __init__(self, taken: set[str] | frozenset[str] = frozenset()) -> None:
        self.used: set[str] = set(taken) | RESERVED

    def create(self, stem: str) -> str:
        name = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in stem) or "value"
        if not name.isidentifier():
            name = "v_" + name
        base, n = name, 1
        while name in self.used or keyword.iskeyword(name):
            n += 1
            name = f"{base}_{n}"
        self.used.add(name)
        return name


def call_lines(prefix: str, func: str, args: list[str], indent: int, suffix: str = "") -> list[str]:
    """``prefix + func(args) + suffix`` laid out as ``ruff format`` would."""
    pad = " " * indent
    one = f"{pad}{prefix}{func}({', '.join(args)}){suffix}"
    if len(one) <= LINE or not args:
        return [one]
    inner = " " * (indent + 4) + ", ".join(args)
    if len(inner) <= LINE:
        return [f"{pad}{prefix}{func}(", inner, f"{pad}){suffix}"]
    lines = [f"{pad}{prefix}{func}("]
    for arg in args:
        lines += expr_lines(arg, indent + 4, ",")
    return lines + [f"{pad}){suffix}"]


def expr_lines(expr: str, indent: int, suffix: str = "") -> list[str]:
    """One expression (a call is split recursively when it is too long)."""
    line = f"{' ' * indent}{expr}{suffix}"
    if len(line) <= LINE or not _is_call(expr):
        return [line]
    func, args = split_call(expr)
    return call_lines("", func, args, indent, suffix)


def _is_call(expr: str) -> bool:
    head = expr.split("(", 1)[0]
    return expr.endswith(")") and "(" in expr and head.replace(".", "").replace("_", "").isalnum()


def access(parts: list[str]) -> str:
    """Source that reaches the submodule at ``parts`` below ``self``."""
    head = f"self.{parts[0]}" if parts[0].isidentifier() else f"getattr(self, {parts[0]!r})"
    return head + "".join(f"[{p!r}]" for p in parts[1:]).replace("'", '"')


def split_call(text: str) -> tuple[str, list[str]]:
    """``"f(a, g(b, c), d=1)"`` → ``("f", ["a", "g(b, c)", "d=1"])`` (top-level commas only)."""
    head, body = text.split("(", 1)
    body = body[:-1]
    args, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(body[start:i].strip())
            start = i + 1
    if body.strip():
        args.append(body[start:].strip())
    return head, args


def statement_lines(target: str, expr: str, indent: int) -> list[str]:
    """``target = expr`` wrapped when ``expr`` is a call and the line is too long."""
    line = f"{' ' * indent}{target} = {expr}"
    if len(line) <= LINE or not _is_call(expr):
        return [line]
    func, args = split_call(expr)
    return call_lines(f"{target} = ", func, args, indent)


@lru_cache(maxsize=1)
def shortcut_pad_source() -> str:
    """The ``ShortcutPad`` class exactly as ``builder/modules.py`` defines it.

    Read as text with ``ast`` (not imported), so exporting code never imports torch and the
    exported class cannot drift from the one the compiled module runs.
    """
    path = Path(__file__).resolve().parent.parent / "modules.py"
    text = path.read_text(encoding="utf-8")
    node = next(n for n in ast.parse(text).body
                if isinstance(n, ast.ClassDef) and n.name == "ShortcutPad")
    return (ast.get_source_segment(text, node) or "") + "\n"


MAKE_STAGE = '''def _make_stage(
    block: type[nn.Module], first: tuple[int, ...], rest: tuple[int, ...], blocks: int
) -> nn.Sequential:
    """``blocks`` blocks in a row: the first built from ``first``, the others from ``rest``."""
    layers = [block(*first)]
    layers += [block(*rest) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)
'''
