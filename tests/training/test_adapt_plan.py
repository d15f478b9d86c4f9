"""What fitting a graph to a data set changes, known before the run (no torch, no loading)."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder import templates
from builder.training.adapt import expected_data, plan_adaptation
from builder.validate import validate


def test_resnet20_on_digits_lists_the_input_and_the_first_convolution() -> None:
    graph = templates.cifar_resnet(20)
    plan = plan_adaptation(graph, (1, 8, 8), 10)
    assert plan.notes == ["input 3×32×32 → 1×8×8", "conv1 in_channels 3 → 1"]
    assert validate(plan.graph).shapes["input"] == (1, 8, 8)
    assert validate(graph).shapes["input"] == (3, 32, 32)  # the document's graph is untouched


def test_a_new_input_size_and_class_count_change_the_classifier() -> None:
    plan = plan_adaptation(templates.lenet(), (1, 28, 28), 100)
    assert plan.notes == ["input 3×32×32 → 1×28×28", "conv1 in_channels 3 → 1",
                          "fc1 in_features 400 → 256", "fc3 out_features 10 → 100"]


def test_a_graph_that_already_fits_changes_nothing() -> None:
    graph = templates.cifar_resnet(8, input_shape=(3, 8, 8))
    assert plan_adaptation(graph, (3, 8, 8), 10).changes == []


def test_a_graph_that_cannot_fit_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="lenet does not fit 3×1×1 images"):
        plan_adaptation(templates.lenet(), (3, 1, 1), 10)


@pytest.mark.parametrize(("values", "shape", "classes"), [
    ({"dataset": "digits"}, (1, 8, 8), 10),
    ({"dataset": "digits", "image_size": 32}, (1, 32, 32), 10),
    ({"dataset": "synthetic"}, (3, 8, 8), 10),
    ({"dataset": "mnist", "data_dir": "/nowhere"}, (1, 28, 28), 10),
    ({"dataset": "fashion_mnist", "image_size": 16}, (1, 16, 16), 10),
    ({"dataset": "cifar10"}, (3, 32, 32), 10),
    ({"dataset": "cifar100"}, (3, 32, 32), 100),
])
def test_the_data_shape_is_known_from_the_settings(values, shape, classes) -> None:  # type: ignore[no-untyped-def]
    data = expected_data(values)
    assert data is not None and (data.input_shape, data.num_classes) == (shape, classes)


def test_an_image_folder_counts_its_class_folders(tmp_path: Path) -> None:
    assert expected_data({"dataset": "folder", "data_dir": str(tmp_path / "missing")}) is None
    for name in ("cat", "dog", ".hidden"):
        (tmp_path / name).mkdir()
    (tmp_path / "readme.txt").write_text("x")
    data = expected_data({"dataset": "folder", "data_dir": str(tmp_path), "image_size": 0})
    assert data is not None and data.input_shape == (3, 32, 32) and data.num_classes == 2
    assert data.describe() == "folder (3×32×32, 2 classes)"
