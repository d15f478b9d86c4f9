"""``main.py train`` and ``main.py compare`` (registered by :mod:`builder.cli`).

Settings come from the defaults, then ``--config cfg.json``, then explicit flags. A graph made
for another input (the shipped CIFAR nets on 8×8 digits) is fitted to the dataset by
:func:`~builder.training.adapt.adapt_graph` unless ``--no-adapt`` is given.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from builder.cli import EXIT_DIAGNOSTICS, EXIT_OK, CliError, load_graph

# flag → (config field, type, help)
FLAGS: dict[str, tuple[str, Any, str]] = {
    "--dataset": ("dataset", str, "digits, synthetic, mnist, fashion_mnist, cifar10, cifar100, folder"),
    "--data-dir": ("data_dir", str, "folder with the dataset's files"),
    "--image-size": ("image_size", int, "resize images to N×N (digits: upsample 8 → 16 or 32)"),
    "--epochs": ("epochs", int, "number of epochs"),
    "--batch-size": ("batch_size", int, "mini-batch size"),
    "--optimizer": ("optimizer", str, "sgd, adam or adamw"),
    "--lr": ("lr", float, "learning rate"),
    "--momentum": ("momentum", float, "SGD momentum"),
    "--weight-decay": ("weight_decay", float, "weight decay"),
    "--schedule": ("schedule", str, "constant, multistep or cosine"),
    "--warmup": ("warmup_epochs", float, "epochs of linear warm-up from 0.1×lr"),
    "--clip": ("clip", str, "gradient clipping: none, norm or value"),
    "--clip-value": ("clip_value", float, "clipping threshold"),
    "--mixup": ("mixup_alpha", float, "MixUp alpha (0 = off)"),
    "--label-smoothing": ("label_smoothing", float, "label smoothing"),
    "--seed": ("seed", int, "random seed"),
    "--device": ("device", str, "auto, cpu, cuda, cuda:N or mps"),
    "--precision": ("precision", str, "fp32, bf16 or fp16 (CUDA)"),
    "--probe-every": ("probe_every", int, "per-layer gradient norms every k steps (0 = off)"),
    "--val-every": ("val_every", int, "epochs between validation passes (0 = only at the end)"),
}
SWITCHES = {"--augment": "augment", "--nesterov": "nesterov", "--channels-last": "channels_last",
            "--compile": "compile", "--probe-outputs": "probe_outputs"}


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("train", help="train a graph headless (progress bar, run folder)",
                              description="Train a graph file; torchrun runs it on several GPUs.")
    p.add_argument("file", help="graph file (.json)")
    p.add_argument("--run-dir", help="run folder (default runs/NAME-TIME)")
    p.add_argument("--resume", help="checkpoint.pt to continue from (its run folder and config.json "
                   "are reused; flags such as --epochs override)")
    _common(p)
    p.set_defaults(func=cmd_train)
    p = subparsers.add_parser("compare", help="train several graphs alike and plot them",
                              description="He et al.'s experiment: same data, seed and settings; "
                              "writes a PNG (loss, error, gradient by depth) and prints a table. "
                              "Defaults: digits, SGD lr 0.05 momentum 0.9, wd 1e-4, batch 128, "
                              "30 epochs, 2 epochs of linear warm-up from 0.1×lr, lr ×0.1 at 50%% and 75%%, "
                              "validation at the end only.")
    p.add_argument("files", nargs="+", help="graph files (.json)")
    p.add_argument("-o", "--output", default="compare.png", help="PNG to write (default compare.png)")
    _common(p)
    p.set_defaults(func=cmd_compare)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="JSON config file (flags override it)")
    for flag, (_, kind, text) in FLAGS.items():
        p.add_argument(flag, type=kind, help=text)
    for flag, name in SWITCHES.items():
        p.add_argument(flag, action="store_true", default=None, help=name.replace("_", " "))
    p.add_argument("--no-adapt", action="store_true", help="do not fit the Input/classifier to the data")
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def make_config(args: argparse.Namespace, base: dict[str, Any] | None = None) -> Any:
    from builder.training.config import ConfigError, TrainConfig

    try:
        config = TrainConfig.load(args.config) if args.config else TrainConfig(**(base or {}))
        changes = {name: getattr(args, flag[2:].replace("-", "_"))
                   for flag, (name, _, _) in FLAGS.items()}
        changes.update({name: getattr(args, flag[2:].replace("-", "_")) for flag, name in SWITCHES.items()})
        changes = {k: v for k, v in changes.items() if v is not None}
        return config.replace(**changes)
    except ConfigError as exc:
        raise CliError(str(exc)) from None


def _prepare(args: argparse.Namespace, base: dict[str, Any] | None = None) -> tuple[Any, Any]:
    import torch

    from builder.training.datasets import DatasetError, load_dataset

    if args.threads:
        torch.set_num_threads(args.threads)
    config = make_config(args, base)
    try:
        data = load_dataset(config)
    except DatasetError as exc:
        raise CliError(str(exc)) from None
    return config, data


def _fit(graph: Any, data: Any, args: argparse.Namespace, out: Any) -> Any:
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
    return graph


def cmd_train(args: argparse.Namespace) -> int:
    from builder.training import distributed
    from builder.training.config import ConfigError
    from builder.training.progress import Progress
    from builder.training.trainer import Trainer

    graph = load_graph(args.file)
    resume_dir = os.path.dirname(os.path.abspath(args.resume)) if args.resume else None
    if resume_dir and not args.config and os.path.isfile(os.path.join(resume_dir, "config.json")):
        args.config = os.path.join(resume_dir, "config.json")  # the run's own settings, then flags
    config, data = _prepare(args)
    ctx = distributed.from_env(config.device)
    out = sys.stdout if ctx.is_main else open(os.devnull, "w")  # noqa: SIM115
    graph = _fit(graph, data, args, out)
    run_dir = args.run_dir or resume_dir or os.path.join(
        "runs", f"{graph.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    print(data.describe(), file=out)
    bar = Progress(config.epochs, enabled=ctx.is_main and not args.quiet)
    trainer = Trainer(graph, config, data, on_step=bar.step, on_epoch=bar.epoch,
                      run_dir=run_dir, resume_from=args.resume, dist=ctx)
    try:
        result = trainer.run()
    except (ConfigError, ValueError) as exc:
        raise CliError(str(exc)) from None
    finally:
        distributed.shutdown(ctx)
    bar.close()
    if ctx.is_main:
        print(summary_text(result), file=out)
    return EXIT_OK if result.status == "completed" else EXIT_DIAGNOSTICS


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

    graphs = [(os.path.splitext(os.path.basename(f))[0], load_graph(f)) for f in args.files]
    config, data = _prepare(args, compare.COMPARE_DEFAULTS)
    print(data.describe())
    graphs = [(name, _fit(g, data, args, sys.stdout)) for name, g in graphs]
    quiet = args.quiet

    def on_epoch(name: str, m: Any) -> None:
        if not quiet:
            val = "" if m.val_acc != m.val_acc else f"  val err {100 * (1 - m.val_acc):5.2f}%"
            print(f"{name:<12} epoch {m.epoch:>3}/{m.epochs}  loss {m.train_loss:.4f}  "
                  f"train err {100 * (1 - m.train_acc):5.2f}%{val}  {m.seconds:.2f} s", flush=True)

    try:
        runs = compare.compare(graphs, config, data, on_epoch)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(compare.table(runs))
    compare.plot(runs, args.output, title=f"{config.dataset}, seed {config.seed}")
    print(f"wrote {args.output}")
    return EXIT_OK if all(r.result.status == "completed" for r in runs) else EXIT_DIAGNOSTICS
