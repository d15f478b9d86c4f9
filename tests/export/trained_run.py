"""A real run folder whose graph was fitted to its data (3×8×8, 10 classes → 1×8×8, 4 classes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builder import fileformat, templates
from builder.graph import Graph


def original_graph() -> Graph:
    return templates.cifar_resnet(8, input_shape=(3, 8, 8))


def make_run(folder: Path) -> tuple[Path, Path, Any]:
    """Train one epoch in ``folder/run``; returns (the original graph's file, the run folder, data)."""
    from builder.training import TrainConfig, Trainer, synthetic
    from builder.training.adapt import plan_adaptation

    data = synthetic(n=96, shape=(1, 8, 8), num_classes=4, seed=0)
    graph = original_graph()
    path = folder / "original.json"
    fileformat.save(graph, path)
    plan = plan_adaptation(graph, data.input_shape, data.num_classes)
    assert plan.notes[:2] == ["input 3×8×8 → 1×8×8", "conv1 in_channels 3 → 1"]
    run = folder / "run"
    config = TrainConfig(dataset="synthetic", epochs=1, batch_size=32, device="cpu")
    result = Trainer(plan.graph, config, data, run_dir=str(run)).run()
    assert result.status == "completed"
    return path, run, data


def trained_module(run: Path) -> Any:
    """The run's module as trained: its graph.json with its checkpoint, in eval mode."""
    from builder.export.weights import compiled_with_weights

    return compiled_with_weights(fileformat.load(run / "graph.json"), run)
