"""Python source helpers for the code generator: constructor calls, names, line wrapping.

Constructor calls are described as :class:`Call` objects whose integer arguments may be
replaced by expressions (a class's ``in_channels``…); :func:`call_lines` lays a statement
out the way ``ruff format`` does (one line, or the arguments on one indented line, or one
argument per line with a trailing comma), so generated files are stable under the formatter.
"""

from __future__ import annotations

import ast
import builtins
import keyword
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from builder.catalog import conv_padding, shortcut_channels

LINE = 88  # ruff format's default line length
RESERVED = frozenset({"self", "x", "torch", "nn", "F", "super", "range", "i", "_"}) | frozenset(dir(builtins))


@dataclass(frozen=True)
class Arg:
    """One constructor argument: ``name`` None for positional; ``default`` omitted when equal."""

    name: str | None
    value: Any
    default: Any = None
    has_default: bool = False


@dataclass(frozen=True)
class Call:
    """``func(args…)`` where integer values may later become expressions."""

    func: str
    args: tuple[Arg, ...]

    def numbers(self) -> list[int]:
        """The integer arguments (candidates for class parameters), in order."""
        return [a.value for a in self.args if _is_int(a.value)]

    def skeleton(self) -> tuple[Any, ...]:
        """Everything but the integer values."""
        return (self.func, tuple((a.name, None if _is_int(a.value) else a.value) for a in self.args))

    def render(self, exprs: list[str] | None = None) -> str:
        """Source text, with the integer arguments replaced by ``exprs`` when given."""
        texts, k = [], 0
        for a in self.args:
            if _is_int(a.value):
                text = exprs[k] if exprs is not None else repr(a.value)
                k += 1
                if a.has_default and text == repr(a.default):
                    continue
            else:
                if a.has_default and a.value == a.default:
                    continue
                text = repr(a.value)
            texts.append(text if a.name is None else f"{a.name}={text}")
        return f"{self.func}({', '.join(texts)})"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kw(name: str, value: Any, default: Any) -> Arg:
    return Arg(name, value, default, True)


def module_call(type_id: str, params: dict[str, Any], in_shape: tuple[int, ...]) -> Call:
    """The constructor call of a block's module (the same module the catalog makes)."""
    p, c = params, in_shape[0]
    if type_id == "conv2d":
        return Call("nn.Conv2d", (Arg(None, c), Arg(None, p["out_channels"]),
                                  Arg("kernel_size", p["kernel_size"]), _kw("stride", p["stride"], 1),
                                  _kw("padding", conv_padding(p), 0), _kw("dilation", p["dilation"], 1),
                                  _kw("groups", p["groups"], 1), _kw("bias", p["bias"], True)))
    if type_id == "batchnorm2d":
        return Call("nn.BatchNorm2d", (Arg(None, c), _kw("eps", p["eps"], 1e-5),
                                       _kw("momentum", p["momentum"], 0.1)))
    if type_id == "linear":
        return Call("nn.Linear", (Arg(None, c), Arg(None, p["out_features"]), _kw("bias", p["bias"], True)))
    if type_id in ("maxpool2d", "avgpool2d"):
        func = "nn.MaxPool2d" if type_id == "maxpool2d" else "nn.AvgPool2d"
        return Call(func, (Arg(None, p["kernel_size"]), _kw("stride", p["stride"], p["kernel_size"]),
                           _kw("padding", p["padding"], 0)))
    if type_id == "shortcut_pad":
        extra = shortcut_channels(p, c) - c
        return Call("ShortcutPad", (Arg("stride", p["stride"]), Arg("extra_channels", extra)))
    if type_id == "global_avgpool":
        return Call("nn.AdaptiveAvgPool2d", (Arg(None, 1),))
    simple = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "gelu": "GELU",
              "identity": "Identity", "leaky_relu": "LeakyReLU", "dropout": "Dropout"}
    if type_id not in simple:
        raise ValueError(f"no code rule for block type {type_id!r}")
    args = tuple(_kw(k, float(v), {"negative_slope": 0.01, "p": 0.5}[k]) for k, v in p.items())
    return Call(f"nn.{simple[type_id]}", args)


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
