"""``main.py export`` and ``main.py import`` subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path

from builder.clitools import EXIT_OK, CliError, load_graph, say
from builder.graph import Graph

FORMATS = {".py": "py", ".onnx": "onnx", ".pt": "weights", ".pth": "weights"}
WHAT = {"py": "PyTorch code (.py)", "onnx": "an ONNX model (.onnx)", "weights": "a state_dict (.pt)"}
UNTRAINED = "untrained: freshly initialised weights (--weights RUN exports a run's trained ones)"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``export`` and ``import`` subcommands."""
    p = sub.add_parser("export", help="write PyTorch code, ONNX or weights for a graph",
                       description="Export a graph as a standalone PyTorch module (.py), an ONNX "
                       "model (.onnx) or a state_dict (.pt). With --weights, trained weights go "
                       "into the ONNX file, or beside the code as OUTPUT.pt.")
    p.add_argument("file", help="graph file (.json)")
    p.add_argument("-o", "--output", required=True,
                   help="file to write: .py, .onnx or .pt/.pth (its folder must exist)")
    p.add_argument("--format", choices=("py", "onnx", "weights"),
                   help="what to write (default: from the output suffix; a suffix that means "
                   "another format is refused)")
    p.add_argument("--weights", metavar="RUN_OR_CHECKPOINT",
                   help="run folder, training checkpoint or state_dict file with trained weights "
                   "(without it .onnx and .pt get untrained, freshly initialised weights, and the "
                   "output line says so)")
    p.add_argument("--onnx-exporter", choices=("auto", "torchscript", "dynamo"),
                   help="torch.onnx exporter for .onnx output (default auto: the fast TorchScript "
                   "one, else torch.export)")
    p.set_defaults(func=_cmd_export)
    p = sub.add_parser("import", help="trace a PyTorch nn.Module into a graph file",
                       description="Trace an nn.Module class with torch.fx into a graph when every "
                       "operation maps to a block. WARNING: this runs the Python file you name "
                       "(importing a module executes its code); only import files you trust.")
    p.add_argument("spec", help="path/to/model.py:ClassName (the class is built with no arguments)")
    p.add_argument("-o", "--output", required=True, help="graph file to write (.json)")
    p.add_argument("--input", default="3x32x32", help="input shape CxHxW (default 3x32x32)")
    p.add_argument("--name", help="graph name (default: the one in a file Skipwire exported, else the "
                   "class name in lower case)")
    p.set_defaults(func=_cmd_import)


def _cmd_export(args: argparse.Namespace) -> int:
    out, fmt = _target(args)
    graph = load_graph(args.file)
    try:
        if args.weights is not None:  # a run's weights go with the graph it trained (its graph.json)
            from builder.export.weights import graph_for_weights

            graph = graph_for_weights(graph, args.weights)
        if fmt == "py":
            _write_code(graph, out, args.weights)
        elif fmt == "onnx":
            from builder.export.onnx_export import export_onnx

            export_onnx(graph, out, args.weights, exporter=args.onnx_exporter or "auto")
            say(f"wrote {out}: ONNX model of {graph.name}{_untrained(args.weights)}")
        else:
            from builder.export.weights import compiled_with_weights, save_state_dict

            save_state_dict(compiled_with_weights(graph, args.weights), out)
            say(f"wrote {out}: state_dict of {graph.name}{_untrained(args.weights)}")
    except (ValueError, OSError) as exc:
        raise CliError(_one_line(exc)) from None
    return EXIT_OK


def _target(args: argparse.Namespace) -> tuple[Path, str]:
    """The output file and format, checked before anything is built; CliError names the flag."""
    from builder.cli_paths import output_file

    out = output_file(args.output, "-o")
    implied = FORMATS.get(out.suffix.lower())
    fmt = args.format or implied
    if fmt is None:
        raise CliError(f"-o {args.output}: the suffix does not say what to write; end the name in "
                       ".py, .onnx or .pt, or give --format")
    if implied is not None and implied != fmt:
        raise CliError(f"--format {fmt} writes {WHAT[fmt]}, but -o {args.output} names "
                       f"{WHAT[implied]}; change the suffix or --format")
    if args.onnx_exporter is not None and fmt != "onnx":
        raise CliError(f"--onnx-exporter applies to ONNX output only; this writes {WHAT[fmt]}")
    if fmt == "py" and args.weights is not None:
        output_file(out.with_suffix(".pt"), "-o (the weights beside the code)")
    return out, fmt


def _untrained(weights: str | None) -> str:
    return f", {UNTRAINED}" if weights is None else ""


def _write_code(graph: Graph, out: Path, weights: str | None) -> None:
    from builder.export.codegen import export_code
    from builder.fileformat import atomic_write

    code = export_code(graph)
    if weights is not None:  # check the weights fit before writing anything
        from builder.export.weights import compiled_with_weights, save_state_dict

        module = compiled_with_weights(graph, weights)
    atomic_write(out, code.source)
    say(f"wrote {out}: class {code.class_name}, {code.parameter_count:,} parameters")
    if weights is not None:
        target = out.with_suffix(".pt")
        save_state_dict(module, target)
        say(f"wrote {target}: load with {code.class_name}().load_state_dict("
            f"torch.load({target.name!r}, weights_only=True))")


def _cmd_import(args: argparse.Namespace) -> int:
    from builder import fileformat
    from builder.cli_paths import output_file
    from builder.clitools import parse_shape
    from builder.export.fx_import import ImportFailure, exported_name, load_class, trace_module

    output_file(args.output, "-o", (".json",))
    shape = parse_shape(args.input)
    try:
        cls = load_class(args.spec)
        known = exported_name(cls)  # a file Skipwire wrote: keep its graph name and description
        graph = trace_module(cls(), shape, name=args.name or (known[0] if known else cls.__name__.lower()))
    except ImportFailure as exc:
        raise CliError(str(exc)) from None
    if known:
        graph.description = known[1]
    fileformat.save(graph, args.output)
    say(f"wrote {args.output}: {graph.name}, {len(graph)} blocks")
    return EXIT_OK


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.replace("\n", " ") if text else type(exc).__name__
