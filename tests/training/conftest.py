"""Fixtures for the training tests: tiny nets and data so each run takes well under a second."""

from __future__ import annotations

import pytest
import torch

from builder import templates
from builder.graph import Graph
from builder.training import TrainConfig, datasets

torch.set_num_threads(1)  # the suite shares two cores; tiny nets gain nothing from more


def tiny_net(residual: bool = True, input_shape: tuple[int, int, int] = (3, 8, 8)) -> Graph:
    """A CIFAR-style ResNet-8 with narrow stages (a few thousand parameters)."""
    return templates.cifar_resnet(8, residual=residual, input_shape=input_shape,
                                  widths=(4, 8, 8), num_classes=4)


@pytest.fixture
def net() -> Graph:
    return tiny_net()


@pytest.fixture(scope="session")
def data() -> datasets.Dataset:
    return datasets.synthetic(n=160, shape=(3, 8, 8), num_classes=4, seed=3, noise=0.5)


def quick_config(**changes: object) -> TrainConfig:
    base: dict[str, object] = {"dataset": "synthetic", "epochs": 2, "batch_size": 32, "lr": 0.05,
                               "device": "cpu", "seed": 1}
    base.update(changes)
    return TrainConfig(**base)  # type: ignore[arg-type]
