"""``main.py train`` and ``main.py compare`` (registered by :mod:`builder.cli`).

Settings come from the defaults, then ``--config cfg.json``, then explicit flags. The flags are
generated from the settings' single description (:data:`builder.training.config.SETTINGS`): each
shows its range, unit and default, switches are negatable (``--augment/--no-augment``), and a bad
value is reported under the flag the person typed (``--mixup: must be 0 to 100; got -1``). A
graph made for another input (the shipped CIFAR nets on 8×8 digits) is fitted to the dataset by
:func:`~builder.training.adapt.adapt_graph` unless ``--no-adapt`` is given. ``--print-config``
(``--dry-run``) shows the effective settings, the adapted graph and the output paths, and stops.
Paths, the device and every setting are checked before any data is loaded: an existing run
folder is never replaced (:mod:`builder.training.run_paths`), and ``compare -o`` is checked
before the first net trains.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from builder.cli_paths import PLOT_SUFFIXES, output_file
from builder.clitools import EXIT_DIAGNOSTICS, EXIT_OK, CliError, load_graph
from builder.training.config import SETTINGS, ConfigError, TrainConfig
from builder.training.run_paths import resume_paths, run_folder
from builder.training.settings import FORM_SECTIONS, Spec, describe, format_value, parse_text

ADAPT_NOTE = ("The data set defaults to digits (scikit-learn's 8×8 hand-written digits, built in). "
              "A graph made for other images, like the shipped CIFAR nets (3×32×32, 10 classes), "
              "is adapted to the data set: its Input block takes the data's image shape and the "
              "Linear block before the Output the data's class count (--no-adapt refuses instead). "
              "Use --print-config to see the settings, the adaptation and the output paths "
              "without training.")


class SettingsHelp(argparse.HelpFormatter):
    """Writes each setting's help when --help is asked for, with the command's defaults."""

    def defaults(self) -> Mapping[str, Any]:
        return {}

    def _get_help_string(self, action: argparse.Action) -> str | None:
        spec = SETTINGS.get(action.dest)
        if spec is None or action.help is None:
            return super()._get_help_string(action)
        return flag_help(spec, self.defaults().get(spec.name, spec.default))


class CompareHelp(SettingsHelp):
    """``compare --help``: the experiment's defaults (imported only when help is shown)."""

    def defaults(self) -> Mapping[str, Any]:
        return compare_defaults()


def compare_defaults() -> dict[str, Any]:
    """``compare.COMPARE_DEFAULTS``, read from its source: importing the module imports torch."""
    spec = importlib.util.find_spec("builder.training.compare")
    source = Path(spec.origin).read_text(encoding="utf-8") if spec and spec.origin else ""
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "COMPARE_DEFAULTS":
            return dict(ast.literal_eval(node.value)) if node.value else {}
    return {}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "train", help="train a graph headless (progress bar, run folder)", formatter_class=SettingsHelp,
        description="Train a graph file; torchrun runs it on several GPUs or CPU processes "
        "(--batch-size is per process; the learning rate is not scaled). " + ADAPT_NOTE)
    p.add_argument("file", help="graph file (.json)")
    p.add_argument("--run-dir", metavar="DIR",
                   help="run folder to create; it must be new or empty: an existing run is never "
                   "replaced (default runs/NAME-DATE-TIME, with -2, -3, … added if that is taken)")
    p.add_argument("--resume", metavar="RUN_OR_CHECKPOINT",
                   help="run folder (or its checkpoint.pt) to continue: the run's config.json is "
                   "reused and its folder written on; flags such as --epochs override")
    _common(p)
    p.set_defaults(func=cmd_train)
    p = subparsers.add_parser(
        "compare", help="train several graphs alike and plot them", formatter_class=CompareHelp,
        description="He et al.'s experiment: the same data, seed and settings for every graph; "
        "writes a PNG (loss, error, gradient by depth) and prints a table. The defaults below are "
        "the experiment's (2 epochs of warm-up, one validation pass at the end). " + ADAPT_NOTE)
    p.add_argument("files", nargs="+", help="graph files (.json)")
    p.add_argument("-o", "--output", default="compare.png",
                   help="plot to write: .png, .svg or .pdf (default compare.png); checked before "
                   "training")
    _common(p)
    p.set_defaults(func=cmd_compare)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="JSON config file (the flags below override it)")
    p.add_argument("--no-adapt", action="store_true",
                   help="do not fit the Input block and classifier to the data set; refuse a graph "
                   "that does not fit")
    p.add_argument("--print-config", "--dry-run", action="store_true",
                   help="print the effective settings, the adapted graph and the output paths, "
                   "then exit without training")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    groups = {name: p.add_argument_group(f"{name.lower()} settings") for name in FORM_SECTIONS}
    for spec in SETTINGS.values():
        group, text = groups[spec.setting.section], spec.setting.help  # full text: SettingsHelp
        if spec.kind == "bool":
            group.add_argument(spec.flag, dest=spec.name, action=argparse.BooleanOptionalAction,
                               default=None, help=text)
        else:
            group.add_argument(spec.flag, dest=spec.name, default=None, help=text,
                               metavar=spec.setting.metavar or spec.name.upper())


def flag_help(spec: Spec, default: Any) -> str:
    """``Learning rate: step size … (greater than 0, at most 10; default 0.05)`` (%-escaped)."""
    allowed = describe(spec)
    shown = format_value(spec, default) or "none"
    if spec.name == "cpu_threads":
        shown += " here: the cores less one"
    text = f"{spec.setting.label} — {spec.setting.help} ({allowed + '; ' if allowed else ''}default {shown})"
    return text.replace("%", "%%")


def make_config(args: argparse.Namespace, base: Mapping[str, Any] | None = None) -> TrainConfig:
    """Defaults (or ``base``), then ``--config``, then the flags; bad values name their flag."""
    try:
        config = TrainConfig.load(args.config) if args.config else TrainConfig(**(base or {}))
    except ConfigError as exc:
        raise CliError(str(exc) if args.config else explain(exc, args)) from None
    changes, problems = {}, []
    for name in given(args):
        spec, raw = SETTINGS[name], getattr(args, name)
        try:
            changes[name] = raw if spec.kind == "bool" else parse_text(spec, raw)
        except ValueError as exc:
            problems.append(f"{spec.flag}: {exc}")
    if problems:
        raise CliError("; ".join(problems))
    try:
        return config.replace(**changes)
    except ConfigError as exc:
        raise CliError(explain(exc, args)) from None


def given(args: argparse.Namespace) -> list[str]:
    """The settings the person set by a flag."""
    return [name for name in SETTINGS if getattr(args, name, None) is not None]


def explain(exc: ConfigError, args: argparse.Namespace) -> str:
    """One line naming, for each problem, the flag typed or the config file it came from."""
    flags, parts = set(given(args)), []
    for name, message in exc.fields:
        if name and (name in flags or not args.config):
            parts.append(f"{SETTINGS[name].flag}: {message}")
        elif args.config:
            parts.append(f"{args.config}: {name + ': ' if name else ''}{message}")
        else:
            parts.append(message)
    return "; ".join(parts)


def _prepare(args: argparse.Namespace, base: Mapping[str, Any] | None = None) -> tuple[Any, Any]:
    config = make_config(args, base)
    import torch

    from builder.training.datasets import DatasetError, load_dataset
    from builder.training.optim import resolve_device

    try:
        resolve_device(config.device)  # a device that is not there: before loading any data
    except ConfigError as exc:
        raise CliError(explain(exc, args)) from None
    torch.set_num_threads(config.cpu_threads)
    try:
        data = load_dataset(config)
    except DatasetError as exc:
        raise CliError(str(exc)) from None
    return config, data


def _fit(graph: Any, data: Any, args: argparse.Namespace, out: TextIO) -> Any:
    if args.no_adapt:
        from builder.training.adapt import fit_problem

        problem = fit_problem(graph, data.input_shape, data.num_classes)
        if problem:
            raise CliError(problem)
        return graph
    from builder.training.adapt import adapt_graph

    try:
        graph, notes = adapt_graph(graph, data.input_shape, data.num_classes)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    for note in notes:
        print(f"adapted {graph.name}: {note}", file=out)
    if args.print_config and not notes:
        print(f"{graph.name} fits the data as it is (nothing adapted)", file=out)
    return graph


def print_config(config: TrainConfig, args: argparse.Namespace, out: TextIO) -> None:
    """The effective settings, one per line, with the flag that sets each."""
    origin = "defaults" + (f", then {args.config}" if args.config else "") + ", then the flags"
    print(f"settings ({origin}):", file=out)
    width = max(len(name) for name in SETTINGS)
    for name, spec in SETTINGS.items():
        value = format_value(spec, getattr(config, name)) or '""'
        print(f"  {name:<{width}}  {value:<12}  {spec.flag}", file=out)


def cmd_train(args: argparse.Namespace) -> int:
    from builder.training import distributed
    from builder.training.progress import Progress
    from builder.training.trainer import Trainer

    graph = load_graph(args.file)
    resume, resume_dir = resume_paths(args.resume)
    if resume_dir and not args.config and (resume_dir / "config.json").is_file():
        args.config = str(resume_dir / "config.json")  # the run's own settings, then flags
    run_dir = run_folder(args.run_dir, graph.name, resume_dir)
    config, data = _prepare(args)
    if args.print_config:
        print_config(config, args, sys.stdout)
        print(f"data: {data.describe()}")
    ctx = distributed.from_env(config.device)
    out = sys.stdout if ctx.is_main else open(os.devnull, "w")  # noqa: SIM115
    original, graph = graph, _fit(graph, data, args, out)
    if args.print_config:
        print(f"run folder: {run_dir} (not written: --print-config)")
        distributed.shutdown(ctx)
        return EXIT_OK
    print(data.describe(), file=out)
    bar = Progress(config.epochs, enabled=ctx.is_main and not args.quiet)
    trainer = Trainer(graph, config, data, on_step=bar.step, on_epoch=bar.epoch,
                      run_dir=str(run_dir), resume_from=str(resume) if resume else None, dist=ctx)
    try:
        result = trainer.run()
    except ConfigError as exc:
        raise CliError(explain(exc, args)) from None
    except ValueError as exc:
        raise CliError(str(exc)) from None
    finally:
        distributed.shutdown(ctx)
    bar.close()
    if ctx.is_main:
        _keep_original(original, graph, run_dir)
        print(summary_text(result), file=out)
    return EXIT_OK if result.status == "completed" else EXIT_DIAGNOSTICS


def _keep_original(original: Any, trained: Any, run_dir: Path) -> None:
    """Beside the fitted ``graph.json``, the graph as given, when the run fitted it to the data
    (as the window does): the run folder then says both what was asked and what was trained."""
    if run_dir.is_dir() and original.signature() != trained.signature():
        from builder import fileformat
        from builder.training.run_paths import ORIGINAL_GRAPH

        fileformat.save(original, run_dir / ORIGINAL_GRAPH)


def compare_title(config: TrainConfig, runs: list[Any]) -> str:
    """``digits, seed 0, bf16``: the plot says what it computed in (a bf16 and an fp32 comparison
    look alike otherwise)."""
    computed = sorted({r.setup.resolved for r in runs if r.setup is not None})
    return ", ".join([config.dataset, f"seed {config.seed}", *computed])


def summary_text(result: Any) -> str:
    lines = [f"status: {result.status}" + (f" — {result.error}" if result.error else "")]
    if result.history:
        f = result.history[-1]
        best = max((m.val_acc for m in result.history if m.val_acc == m.val_acc), default=f.val_acc)
        lines.append(f"epochs {result.epochs_done}/{f.epochs}, steps {result.steps}, "
                     f"{result.seconds:.1f} s; final train loss {f.train_loss:.4g}, "
                     f"train acc {100 * f.train_acc:.2f}%, val acc {100 * f.val_acc:.2f}% "
                     f"(best {100 * best:.2f}%)")
    if result.run_dir:
        lines.append(f"run folder: {result.run_dir}")
    return "\n".join(lines)


def cmd_compare(args: argparse.Namespace) -> int:
    from builder.training import compare
    from builder.training.progress import CompareProgress

    output_file(args.output, "-o", PLOT_SUFFIXES)  # before any training
    if args.checkpoint_every is not None:
        raise CliError("--checkpoint-every: compare keeps no run folders or checkpoints (it writes "
                       "the plot and prints the table); train each graph to keep its checkpoints")
    graphs = [(os.path.splitext(os.path.basename(f))[0], load_graph(f)) for f in args.files]
    config, data = _prepare(args, compare.COMPARE_DEFAULTS)
    if args.print_config:
        print_config(config, args, sys.stdout)
    print(data.describe())
    graphs = [(name, _fit(g, data, args, sys.stdout)) for name, g in graphs]
    if args.print_config:
        print(f"plot: {args.output} (not written: --print-config)")
        return EXIT_OK
    try:
        progress = CompareProgress(len(graphs), config.epochs, enabled=not args.quiet)
        runs = compare.compare(graphs, config, data, progress=progress)
    except ConfigError as exc:
        raise CliError(explain(exc, args)) from None
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(compare.table(runs))
    compare.plot(runs, args.output, title=compare_title(config, runs))
    print(f"wrote {args.output} and {compare.write_csv(runs, args.output)}")
    return EXIT_OK if all(r.result.status == "completed" for r in runs) else EXIT_DIAGNOSTICS
