"""Command line: ``python main.py SUBCOMMAND …`` (argparse; Qt-free).

Each feature area registers its own subcommands through a ``register(subparsers)``
function listed by :func:`feature_commands`; this module holds the core ones (validate, summary,
template) and the shared error handling: a bad file or option gives exit code 2 and one line
(an unknown flag: the usage of the subcommand it was given to), a graph with errors exit code
1, and output into a pipe whose reader has gone (``summary … | head``) ends silently with 141,
as a shell reports death by SIGPIPE. Commands check their output paths before any work
(:mod:`builder.cli_paths`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import cast

from builder.clitools import (  # noqa: F401 (re-exported: tests and scripts import them from here)
    EXIT_BAD_INPUT,
    EXIT_DIAGNOSTICS,
    EXIT_OK,
    EXIT_PIPE_CLOSED,
    CliError,
    load_graph,
    parse_shape,
    say,
)

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _cmd_validate(args: argparse.Namespace) -> int:
    from builder.validate import validate

    graph = load_graph(args.file)
    report = validate(graph, batch_size=args.batch_size, memory_limit=_limit(args))
    for diag in report.diagnostics:
        say(str(diag))
    n_err, n_warn = len(report.errors), len(report.diagnostics) - len(report.errors)
    say(f"{args.file}: {len(graph)} blocks, {n_err} error(s), {n_warn} warning(s)")
    return EXIT_OK if report.ok else EXIT_DIAGNOSTICS


def _cmd_summary(args: argparse.Namespace) -> int:
    from builder.summary import summarize
    from builder.validate import validate

    graph = load_graph(args.file)
    report = validate(graph, memory_limit=_limit(args))
    if not report.ok:
        for diag in report.errors:
            say(str(diag), sys.stderr)
        return EXIT_DIAGNOSTICS
    say(f"{graph.name}: {graph.description}".rstrip(": "))
    say(summarize(graph, report).table())
    return EXIT_OK


def _limit(args: argparse.Namespace) -> int | None:
    """``--memory-limit`` in bytes (None: the environment variable or the default)."""
    from builder.resources import LimitError, parse_size

    if args.memory_limit is None:
        return None
    try:
        return parse_size(args.memory_limit)
    except LimitError as exc:
        raise CliError(f"--memory-limit: {exc}") from None


def _cmd_template(args: argparse.Namespace) -> int:
    from builder import fileformat, templates
    from builder.cli_paths import output_file
    from builder.validate import validate

    output_file(args.output, "-o", (".json",))
    options = _template_options(args, templates.template_options(args.name))
    try:
        graph = templates.make(args.name, **options)
    except ValueError as exc:
        raise CliError(f"template {args.name}: {exc}") from None
    report = validate(graph)
    if not report.ok:  # e.g. an input too small for the template's kernels and poolings
        given = " ".join(f"{flag} {value}" for flag, value in _given(args).items())
        raise CliError(f"template {args.name} with {given or 'its defaults'} gives an invalid graph: "
                       f"{report.errors[0]}")
    try:
        fileformat.save(graph, args.output)
    except OSError as exc:
        raise CliError(f"{args.output}: cannot write the file ({exc.strerror or exc})") from None
    say(f"wrote {args.output}: {graph.name}, {len(graph)} blocks")
    return EXIT_OK


def _given(args: argparse.Namespace) -> dict[str, object]:
    """The template flags the person typed, as ``{flag: value}``."""
    values = {"--depth": args.depth, "--shortcut": args.shortcut, "--widen": args.widen,
              "--input": args.input, "--classes": args.classes}
    return {flag: value for flag, value in values.items() if value is not None}


def _template_options(args: argparse.Namespace, accepted: tuple[str, ...]) -> dict[str, object]:
    """Keyword options for the template; CliError for a flag it does not take or a bad value."""
    from builder.templates import OPTION_FLAGS

    flag_option = {flag: option for option, flag in OPTION_FLAGS.items()}
    options: dict[str, object] = {}
    for flag, value in _given(args).items():
        option = flag_option[flag]
        if option not in accepted:
            takes = ", ".join(OPTION_FLAGS[o] for o in accepted)
            raise CliError(f"{flag} does not apply to template '{args.name}' (it takes {takes})")
        options[option] = value
    if args.input is not None:
        options["input_shape"] = parse_shape(args.input)
    if args.classes is not None:
        options["num_classes"] = _classes(args.classes)
    return options


def _classes(count: int) -> int:
    from builder import catalog

    param = catalog.get("linear").param_map["out_features"]
    if param.range_error(count):
        raise CliError(f"--classes must be a whole number from 1 to {int(param.maximum or 0):,}, "
                       f"got {count}")
    return count


def _core_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    limit_help = ("memory the model may need, e.g. 8G or 512MB (default: $SKIPWIRE_MEMORY_LIMIT, "
                  "else half of this machine's memory)")
    p = sub.add_parser("validate", help="check a graph file and print its diagnostics",
                       description="Print every diagnostic; exit 1 if there are errors. The memory "
                       "the model needs (parameters and block outputs for the batch) is estimated "
                       "from shapes and must fit the memory limit.")
    p.add_argument("file", help="graph file (.json)")
    p.add_argument("--batch-size", type=_positive, default=1, metavar="N",
                   help="batch size for the memory estimate (default 1)")
    p.add_argument("--memory-limit", metavar="SIZE", help=limit_help)
    p.set_defaults(func=_cmd_validate)
    p = sub.add_parser("summary", help="per-block shapes, parameters and mult-adds",
                       description="Print a per-block summary table: output shapes, parameters and "
                       "mult-adds for one sample, computed from shapes (nothing is allocated).")
    p.add_argument("file", help="graph file (.json)")
    p.add_argument("--memory-limit", metavar="SIZE", help=limit_help)
    p.set_defaults(func=_cmd_summary)
    from builder.templates import ALIASES, TEMPLATES

    names = "; ".join(f"{k}: {v[1]}" for k, v in TEMPLATES.items())
    p = sub.add_parser("template", help="write a graph from a template",
                       description=f"Templates — {names}. Aliases: "
                       + ", ".join(f"{a} = {n}" for a, n in ALIASES.items()) + ".")
    p.add_argument("name", choices=sorted([*TEMPLATES, *ALIASES]), metavar="NAME",
                   help="template name (listed above)")
    p.add_argument("--depth", type=int, help="depth: 6n+2 for resnet/plain (default 20), 6n+4 for "
                   "wide_resnet (default 28)")
    p.add_argument("--shortcut", choices=("A", "B"), help="resnet shortcut option (default A)")
    p.add_argument("--widen", type=int, help="wide_resnet widen factor k (default 10)")
    p.add_argument("--input", help="input shape CxHxW (default 3x32x32)")
    p.add_argument("--classes", type=int, help="number of classes (default 10)")
    p.add_argument("-o", "--output", required=True, help="graph file to write (.json)")
    p.set_defaults(func=_cmd_template)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """A parser that reports arguments it does not know itself, with its own usage.

    argparse hands a subcommand's unknown arguments up to the top-level parser, which prints
    the top-level usage; here ``train x.json --bogus`` prints ``train``'s usage instead (the
    subcommands' parsers are made with the top-level parser's class).
    """

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None
                         ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="skipwire", description="Design, train and understand residual networks. "
        "Run without a subcommand to open the app.")
    # each subcommand's parser is a _Parser too; the registers only need ArgumentParser's API
    sub = cast("argparse._SubParsersAction[argparse.ArgumentParser]",
               parser.add_subparsers(dest="command", metavar="COMMAND"))
    _core_commands(sub)
    for register in feature_commands():
        register(sub)
    return parser


def feature_commands() -> tuple[Register, ...]:
    """The subcommands of the features that always ship: training, export, evaluation, data.

    Imported here, when the parser is built, because those modules import this one's helpers
    (:class:`CliError`, :func:`load_graph`…).
    """
    from builder.export.cli import register as export_commands
    from builder.training.cli import register as training_commands
    from builder.training.data_cli import register as data_commands
    from builder.training.evaluate import register as evaluate_commands
    from builder.xray.cli import register as xray_commands

    return (training_commands, export_commands, evaluate_commands, data_commands, xray_commands)


def main(argv: Sequence[str] | None = None) -> int:
    """Run a subcommand; returns the exit code (``EXIT_PIPE_CLOSED``, silently, if stdout closed)."""
    try:
        try:
            code = _run(argv)
        finally:
            sys.stdout.flush()  # a closed pipe shows here (after --help too), not at exit
    except BrokenPipeError:
        _stdout_to_devnull()
        return EXIT_PIPE_CLOSED
    return code


def _stdout_to_devnull() -> None:
    """Point stdout at the null device so Python's flush at exit does not fail a second time."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (a test's capture): nothing is flushed at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK
    try:
        return int(args.func(args))
    except CliError as exc:
        say(f"skipwire: {exc}", sys.stderr)
        return EXIT_BAD_INPUT
    except MemoryError:
        say("skipwire: out of memory: this machine cannot hold what the command needs; check "
            "the graph with `validate --batch-size N` (or lower SKIPWIRE_MEMORY_LIMIT)", sys.stderr)
        return EXIT_BAD_INPUT
    except RuntimeError as exc:
        if not _allocation_failure(exc):
            raise
        say(f"skipwire: out of memory: {_first_line(exc)}", sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        say("skipwire: interrupted", sys.stderr)
        return 130


def _allocation_failure(exc: RuntimeError) -> bool:
    """torch's allocators raise RuntimeError (CUDA: torch.OutOfMemoryError) when memory runs out."""
    text = str(exc).lower()
    return type(exc).__name__ == "OutOfMemoryError" or "out of memory" in text or "can't allocate" in text


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__

