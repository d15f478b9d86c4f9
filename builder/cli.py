"""Command line: ``python main.py SUBCOMMAND …`` (argparse; Qt-free).

Each feature area registers its own subcommands through a ``register(subparsers)``
function in one of ``PLUGINS``; this module holds the core ones (validate, summary,
template) and the shared error handling: a bad file gives exit code 2 and one line.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from builder.fileformat import GraphFileError

EXIT_OK, EXIT_DIAGNOSTICS, EXIT_BAD_INPUT = 0, 1, 2

# Modules that add subcommands; each defines register(subparsers). Missing ones are skipped.
PLUGINS = ("builder.training.cli", "builder.export.cli", "builder.xray.cli")


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


def load_graph(path: str):  # type: ignore[no-untyped-def]
    """Load a graph file for a command (GraphFileError becomes a one-line CliError)."""
    from builder import fileformat

    try:
        return fileformat.load(path)
    except GraphFileError as exc:
        raise CliError(str(exc)) from None


def _cmd_validate(args: argparse.Namespace) -> int:
    from builder.validate import validate

    graph = load_graph(args.file)
    report = validate(graph)
    for diag in report.diagnostics:
        print(diag)
    n_err, n_warn = len(report.errors), len(report.diagnostics) - len(report.errors)
    print(f"{args.file}: {len(graph)} blocks, {n_err} error(s), {n_warn} warning(s)")
    return EXIT_OK if report.ok else EXIT_DIAGNOSTICS


def _cmd_summary(args: argparse.Namespace) -> int:
    from builder.summary import summarize
    from builder.validate import validate

    graph = load_graph(args.file)
    report = validate(graph)
    if not report.ok:
        for diag in report.errors:
            print(diag, file=sys.stderr)
        return EXIT_DIAGNOSTICS
    print(f"{graph.name}: {graph.description}".rstrip(": "))
    print(summarize(graph, report).table())
    return EXIT_OK


def _cmd_template(args: argparse.Namespace) -> int:
    from builder import fileformat, templates

    options: dict[str, object] = {"depth": args.depth, "shortcut": args.shortcut}
    if args.input:
        options["input_shape"] = _shape(args.input)
    if args.classes:
        options["num_classes"] = args.classes
    options = {k: v for k, v in options.items() if v is not None}
    try:
        graph = templates.make(args.name, **options)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    try:
        fileformat.save(graph, args.output)
    except OSError as exc:
        raise CliError(f"{args.output}: cannot write the file ({exc.strerror or exc})") from None
    print(f"wrote {args.output}: {graph.name}, {len(graph)} blocks")
    return EXIT_OK


def _shape(text: str) -> tuple[int, int, int]:
    try:
        c, h, w = (int(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise CliError(f"--input must look like 3x32x32, got {text!r}") from None
    return (c, h, w)


def _core_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("validate", help="check a graph file and print its diagnostics",
                       description="Print every diagnostic; exit 1 if there are errors.")
    p.add_argument("file", help="graph file (.json)")
    p.set_defaults(func=_cmd_validate)
    p = sub.add_parser("summary", help="per-block shapes, parameters and mult-adds",
                       description="Compile the graph and print a per-block summary table.")
    p.add_argument("file", help="graph file (.json)")
    p.set_defaults(func=_cmd_summary)
    from builder.templates import TEMPLATES

    names = ", ".join(f"{k} ({v[1]})" for k, v in TEMPLATES.items())
    p = sub.add_parser("template", help="write a graph from a template",
                       description=f"Templates: {names}.")
    p.add_argument("name", choices=sorted(TEMPLATES), help="template name")
    p.add_argument("--depth", type=int, help="depth 6n+2 for resnet/plain (default 20)")
    p.add_argument("--shortcut", choices=("A", "B"), help="resnet shortcut option (default A)")
    p.add_argument("--input", help="input shape CxHxW (default 3x32x32)")
    p.add_argument("--classes", type=int, help="number of classes (default 10)")
    p.add_argument("-o", "--output", required=True, help="file to write")
    p.set_defaults(func=_cmd_template)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skipwire", description="Design, train and understand residual networks. "
        "Run without a subcommand to open the app.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _core_commands(sub)
    for name in PLUGINS:
        register = _plugin(name)
        if register is not None:
            register(sub)
    return parser


def _plugin(name: str) -> Callable[[argparse._SubParsersAction], None] | None:  # type: ignore[type-arg]
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            return None  # that feature is not installed in this tree
        raise
    return getattr(module, "register", None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run a subcommand; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"skipwire: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("skipwire: interrupted", file=sys.stderr)
        return 130

