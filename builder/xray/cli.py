"""``main.py check | split | lesion | landscape | diff | xray`` (registered by :mod:`builder.cli`).

Every command writes a PNG (``-o``) and a CSV beside it (the same name, ``.csv``; one per net,
``NAME-net.csv``, when several nets are drawn) and prints what it found. ``diff`` prints and
writes files only with ``-o``. A bad input is one line and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from builder.clitools import EXIT_OK, CliError, load_graph
from builder.graph import Graph

DATA_SETTINGS = ("dataset", "data_dir", "image_size", "seed", "batch_size", "device")  # check's flags


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("check", help="pre-flight signal check: one forward/backward before training",
                       description="Profile one training step of freshly initialised graphs (the "
                       "trainer's seed and first batch): activation std and gradient norms by depth, "
                       "verdicts in words.")
    p.add_argument("files", nargs="+", help="graph files (.json)")
    _data(p)
    _out(p, "check.png")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("split", help="gradient through skip vs branch at every Add, over training",
                       description="Train a residual graph with the gradient-split probe (compare's "
                       "recipe) into a run folder, or re-plot a run folder trained so.")
    p.add_argument("source", help="graph file (.json) to train, or a run folder with xray_split.csv")
    p.add_argument("--run-dir", help="run folder to train into (default runs/NAME-split-TIME)")
    _training(p)
    _out(p, "split.png")
    p.set_defaults(func=cmd_split)
    for name, text, func in (("lesion", "delete one block at a time from trained nets (Veit et al.)",
                              cmd_lesion),
                             ("landscape", "loss along filter-normalised random directions (Li et al.)",
                              cmd_landscape)):
        p = sub.add_parser(name, help=text, description=f"{text[0].upper()}{text[1:]}; "
                           "each RUN is a run folder or its checkpoint.pt.")
        p.add_argument("runs", nargs="+", metavar="RUN", help="run folders (side by side)")
        p.add_argument("--graph", action="append", default=[],
                       help="graph file the checkpoint must belong to (once per RUN, in order)")
        if name == "landscape":
            _landscape_flags(p)
        _common(p)
        _out(p, f"{name}.png")
        p.set_defaults(func=func)
    p = sub.add_parser("diff", help="blocks and wires added, removed or changed between two graphs",
                       description="Print the differences; with -o also a PNG of both graphs and a CSV.")
    p.add_argument("a", help="graph file A (.json)")
    p.add_argument("b", help="graph file B (.json)")
    p.add_argument("-o", "--output", help="PNG to write (CSV beside it)")
    p.set_defaults(func=cmd_diff)
    p = sub.add_parser("xray", help="the seed lab: train or reuse a plain net and its ResNet, one figure",
                       description="Each source is a graph file (trained here with compare's recipe "
                       "and the split probe) or a run folder (reused). Writes pre-flight profiles, "
                       "gradient split, lesion curves and 2-D landscapes into one PNG.")
    p.add_argument("sources", nargs="+", help="graph files or run folders (plain first)")
    p.add_argument("--runs-dir", default="runs", help="where new run folders go (default runs)")
    _training(p)
    _landscape_flags(p)
    _out(p, "xray.png")
    p.set_defaults(func=cmd_xray)


def _out(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("-o", "--output", default=default, help=f"PNG to write (default {default}; CSV beside it)")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def _data(p: argparse.ArgumentParser) -> None:
    """The data settings' flags, described as ``main.py train`` describes them."""
    from builder.training.cli import flag_help
    from builder.training.config import SETTINGS, TrainConfig

    defaults = TrainConfig()
    for name in DATA_SETTINGS:
        spec = SETTINGS[name]
        p.add_argument(spec.flag, dest=name, default=None, metavar=spec.setting.metavar or name.upper(),
                       help=flag_help(spec, getattr(defaults, name)))
    p.set_defaults(config=None, print_config=False)
    p.add_argument("--no-adapt", action="store_true", help="do not fit the Input/classifier to the data")
    _common(p)


def _training(p: argparse.ArgumentParser) -> None:
    """``main.py train``'s flags (config file, every setting, --no-adapt, --threads, --quiet)."""
    from builder.training.cli import _common as training_flags

    training_flags(p)


def _landscape_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--points", type=int, default=21, help="grid points per axis (default 21)")
    p.add_argument("--samples", type=int, default=512, help="training images for the loss (default 512)")
    p.add_argument("--span", type=float, default=1.0, help="grid half-width in direction units (default 1)")
    p.add_argument("--direction-seed", type=int, default=0, help="seed of the random directions")


# ---------------------------------------------------------------------------- helpers
def _threads(args: argparse.Namespace) -> None:
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)


def _config(args: argparse.Namespace) -> Any:
    """The data settings of ``check`` (``main.py train``'s defaults otherwise)."""
    from builder.training.cli import make_config

    return make_config(args)  # bad values are one line naming the flag


def _training_setup(args: argparse.Namespace) -> tuple[Any, Any]:
    """``(config, data)`` for the commands that train: compare's recipe, then --config, then flags."""
    from builder.training.cli import _prepare
    from builder.training.compare import COMPARE_DEFAULTS

    return _prepare(args, dict(COMPARE_DEFAULTS))


def _device(config: Any) -> Any:
    from builder.training.config import ConfigError
    from builder.training.optim import resolve_device

    try:
        return resolve_device(config.device)
    except ConfigError as exc:
        raise CliError(str(exc)) from None


def _dataset(config: Any) -> Any:
    from builder.training.datasets import DatasetError, load_dataset

    try:
        return load_dataset(config)
    except DatasetError as exc:
        raise CliError(str(exc)) from None


def _fit(graph: Any, data: Any, args: argparse.Namespace) -> Any:
    """``graph`` fitted to the data (unless --no-adapt), as ``main.py train`` does it."""
    from builder.training.cli import _fit as fit

    return fit(graph, data, args, open(os.devnull, "w") if args.quiet else sys.stdout)  # noqa: SIM115


def _csv_paths(output: str, names: list[str]) -> list[Path]:
    stem = Path(output).with_suffix("")
    if len(names) == 1:
        return [stem.with_suffix(".csv")]
    return [stem.parent / f"{stem.name}-{name}.csv" for name in names]


def _progress(quiet: bool) -> Any:
    if quiet:
        return None
    last = [0.0]

    def show(what: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if done == total or now - last[0] > 0.5:
            last[0] = now
            end = "\n" if done == total else ""
            print(f"\r{what}: {done}/{total}", end=end, file=sys.stderr, flush=True)
    return show


def _say(quiet: bool) -> Any:
    return (lambda _text: None) if quiet else (lambda text: print(text, flush=True))


def _runs(args: argparse.Namespace) -> list[Any]:
    from builder.xray.runs import XrayError, load_run

    if args.graph and len(args.graph) != len(args.runs):
        raise CliError(f"--graph was given {len(args.graph)} time(s) for {len(args.runs)} run(s); "
                       "give it once per run, in order")
    graphs: list[Graph | None] = [load_graph(g) for g in args.graph] or [None] * len(args.runs)
    try:
        return [load_run(r, g) for r, g in zip(args.runs, graphs, strict=True)]
    except XrayError as exc:
        raise CliError(str(exc)) from None


def _run_data(run: Any, cache: dict[str, Any]) -> Any:
    c = run.config
    key = repr((c.dataset, c.data_dir, c.image_size, c.val_fraction, c.seed))
    if key not in cache:
        cache[key] = _dataset(c)
    return cache[key]


def _written(paths: list[Any]) -> None:
    print("wrote " + ", ".join(str(p) for p in paths))


# ---------------------------------------------------------------------------- commands
def cmd_check(args: argparse.Namespace) -> int:
    from builder.xray.plots import figure_preflight
    from builder.xray.preflight import preflight

    graphs = [load_graph(f) for f in args.files]
    _threads(args)
    config = _config(args)
    data = _dataset(config)
    device = _device(config)
    results = [preflight(_fit(g, data, args), data, batch_size=config.batch_size, seed=config.seed,
                         device=device) for g in graphs]
    csvs = _csv_paths(args.output, [r.graph_name for r in results])
    for result, path in zip(results, csvs, strict=True):
        print(result.text())
        result.write_csv(path)
    figure_preflight(results, args.output, f"{data.name}, batch {config.batch_size}, seed {config.seed}")
    _written([args.output, *csvs])
    return EXIT_OK


def cmd_split(args: argparse.Namespace) -> int:
    from builder.xray import lab
    from builder.xray.plots import figure_split
    from builder.xray.runs import SPLIT_CSV
    from builder.xray.split import read_csv
    from builder.xray.structure import residual_units

    source = Path(args.source)
    if source.is_dir():
        if not (source / SPLIT_CSV).is_file():
            raise CliError(f"{source}: no {SPLIT_CSV} in this run folder (train it with "
                           "`main.py split GRAPH` or `main.py xray`)")
        samples, name, run_dir = read_csv(source / SPLIT_CSV), source.name, source
    else:
        graph = load_graph(args.source)
        if not residual_units(graph):
            raise CliError(f"{args.source}: {graph.name} has no residual Add blocks (an Add with a "
                           "skip input): there is no gradient split to measure")
        config, data = _training_setup(args)
        graph = _fit(graph, data, args)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run_dir = Path(args.run_dir or os.path.join("runs", f"{graph.name}-split-{stamp}"))
        lab.train(graph, config, data, run_dir, _say(args.quiet))
        samples, name = read_csv(run_dir / SPLIT_CSV), graph.name
    print(lab.split_text(samples))
    csv_path = _csv_paths(args.output, [name])[0]
    if (run_dir / SPLIT_CSV).resolve() != csv_path.resolve():
        csv_path.write_bytes((run_dir / SPLIT_CSV).read_bytes())
    figure_split(samples, args.output, name)
    _written([args.output, csv_path])
    return EXIT_OK


def _each_run(args: argparse.Namespace, runs: list[Any], what: str, compute: Any, figure: Any) -> int:
    """Run ``compute(run, data, tick)`` for each run; print, write CSVs and the figure."""
    cache: dict[str, Any] = {}
    show = _progress(args.quiet)
    results = []
    for run in runs:
        tick = (lambda d, t, n=run.name: show(f"{n} {what}", d, t)) if show else None
        results.append(compute(run, _run_data(run, cache), tick))
    csvs = _csv_paths(args.output, [r.graph_name for r in results])
    for result, path in zip(results, csvs, strict=True):
        print(result.text())
        result.write_csv(path)
    figure(results, args.output)
    _written([args.output, *csvs])
    return EXIT_OK


def cmd_lesion(args: argparse.Namespace) -> int:
    from builder.validate import validate
    from builder.xray.lesion import lesion
    from builder.xray.plots import figure_lesion
    from builder.xray.structure import lesion_units

    _threads(args)
    runs = _runs(args)
    for run in runs:
        if not any(u.ok for u in lesion_units(run.graph, validate(run.graph))):
            raise CliError(f"{run.folder}: {run.name} has no residual Add blocks and no group or layer "
                           "that keeps its shape: nothing can be deleted")
    compute = lambda run, data, tick: lesion(run.graph, run.module, data.x_val, data.y_val, on_progress=tick)
    return _each_run(args, runs, "lesion", compute, figure_lesion)


def cmd_landscape(args: argparse.Namespace) -> int:
    from builder.xray.landscape import landscape, subset
    from builder.xray.plots import figure_landscape

    if args.points < 3 or args.samples < 1 or not args.span > 0:
        raise CliError("--points must be at least 3, --samples at least 1 and --span above 0")
    _threads(args)

    def compute(run: Any, data: Any, tick: Any) -> Any:
        x, y = subset(data.x_train, data.y_train, args.samples, args.direction_seed)
        return landscape(run.module, x, y, points=args.points, span=args.span,
                         seed=args.direction_seed, name=run.name, on_progress=tick)
    return _each_run(args, _runs(args), "landscape", compute, figure_landscape)


def cmd_diff(args: argparse.Namespace) -> int:
    from builder.xray.diff import diff

    a, b = load_graph(args.a), load_graph(args.b)
    changes = diff(a, b)
    print(changes.text())
    if args.output:
        from builder.xray.plots import figure_diff

        csv_path = _csv_paths(args.output, ["diff"])[0]
        changes.write_csv(csv_path)
        figure_diff(a, b, changes, args.output)
        _written([args.output, csv_path])
    return EXIT_OK


def cmd_xray(args: argparse.Namespace) -> int:
    from builder.xray import lab

    _threads(args)
    say, show = _say(args.quiet), _progress(args.quiet)
    runs = _xray_runs(args, say)
    cache: dict[str, Any] = {}
    nets = [lab.examine(run, _run_data(run, cache), points=args.points, samples=args.samples,
                        seed=args.direction_seed, say=say, on_progress=show) for run in runs]
    print(lab.table(nets))
    written: list[Path] = [Path(args.output)]
    for net, path in zip(nets, _csv_paths(args.output, [n.name for n in nets]), strict=True):
        for part in ("preflight", "lesion", "landscape"):
            written.append(path.with_name(f"{path.stem}-{part}.csv"))
            getattr(net, part).write_csv(written[-1])
    first = runs[0].config
    lab.figure(nets, args.output, f"Residual X-ray — {first.dataset}, seed {first.seed}, "
               f"{first.epochs} epochs")
    _written(written)
    return EXIT_OK


def _xray_runs(args: argparse.Namespace, say: Any) -> list[Any]:
    from builder.xray import lab
    from builder.xray.runs import XrayError

    sources = [Path(s) for s in args.sources]
    graphs = {s: load_graph(str(s)) for s in sources if not s.is_dir()}
    folders: dict[Path, Path] = {s: s for s in sources if s.is_dir()}
    if graphs:
        config, data = _training_setup(args)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for source, graph in graphs.items():
            fitted = _fit(graph, data, args)
            run_dir = Path(args.runs_dir) / f"xray-{fitted.name}-seed{config.seed}-{stamp}"
            folders[source] = lab.train(fitted, config, data, run_dir, say)
    try:
        return [lab.open_run(folders[s], say) for s in sources]
    except XrayError as exc:
        raise CliError(str(exc)) from None
