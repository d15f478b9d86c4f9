"""Training inputs are data: fuzzed configs, hostile checkpoints, image bombs, missing devices and data.

* 330 mutated config files load or fail with ``ConfigError`` (one line per field) — nothing else.
* Truncated and bit-flipped checkpoints, and a checkpoint holding a pickled object that would
  run code when unpickled, are refused with a message; the code never runs (weights_only).
* An image folder with a PNG whose header claims 100,000×100,000 pixels is refused before decoding.
* A device that is not there and a data folder that is gone end the run with a message;
  a data folder deleted mid-run does not disturb the run (the data is in memory).
"""

from __future__ import annotations

import json
import pickle
import random
import shutil
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from builder.graph import Graph
from builder.training import records
from builder.training.config import ConfigError, TrainConfig
from builder.training.datasets import DatasetError, load_dataset, synthetic
from builder.training.readers import image_folder
from builder.training.trainer import Trainer

from .test_file_fuzz import (
    m_deep_nesting,
    m_duplicate,
    m_flip_bytes,
    m_huge_number,
    m_not_utf8,
    m_random_bytes,
    m_remove_field,
    m_swap_values,
    m_truncate,
    m_unknown_key,
    m_wrong_type,
)

CONFIG_MUTATORS = (m_truncate, m_flip_bytes, m_random_bytes, m_remove_field, m_wrong_type, m_huge_number,
                   m_swap_values, m_unknown_key, m_not_utf8, m_deep_nesting, m_duplicate)
SENTINEL = Path("/tmp/skipwire_checkpoint_pwned")


# ----------------------------------------------------------------------------- configs


def _config_texts() -> list[bytes]:
    base = TrainConfig(dataset="synthetic", epochs=3, batch_size=16, milestones=[0.3, 0.6])
    other = TrainConfig(dataset="folder", data_dir="/data/x", optimizer="adam", schedule="cosine",
                        clip="norm", mixup_alpha=1.0, device="cpu")
    return [base.to_json().encode(), other.to_json().encode()]


@pytest.mark.parametrize("index", [0, 1])
def test_mutated_config_files_load_or_fail_cleanly(tmp_path: Path, index: int) -> None:
    raw = _config_texts()[index]
    rng = random.Random(f"config-{index}")
    loaded = refused = 0
    for i in range(165):  # 2 × 165 = 330 files
        mutator = rng.choice(CONFIG_MUTATORS)
        try:
            data = mutator(raw, json.loads(raw), rng)
        except (KeyError, IndexError, TypeError):  # a mutation that does not apply to a flat object
            data = raw[: rng.randrange(len(raw))]
        path = tmp_path / f"config_{i}.json"
        path.write_bytes(data)
        start = time.process_time()
        try:
            config = TrainConfig.load(path)
        except ConfigError as exc:
            refused += 1
            message = str(exc)
            assert message.startswith(str(path)) and "\n" not in message, message
            assert exc.problems and all(isinstance(p, str) for p in exc.problems)
        else:
            loaded += 1
            assert config.problems() == []
            assert TrainConfig.from_json(config.to_json()) == config
        assert time.process_time() - start < 2.0
    print(f"config {index}: 165 files, {loaded} loaded, {refused} refused")
    assert refused > 80


@pytest.mark.parametrize("text", [
    '{"lr": 1' + "0" * 400 + "}", '{"milestones": [1' + "0" * 400 + "]}", '{"lr": 1e999}',
    '{"epochs": 1' + "0" * 5000 + "}", "[" * 100_000, '{"lr": NaN}', '{"seed": -Infinity}',
    '{"lr": "0.1"}', '{"dataset": "\\ud800"}', '{"\\n": 1}', '{"' + "k" * 5000 + '": 1}',
    '{"lr\\nx": 0.1}',
])
def test_hostile_config_values(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        TrainConfig.load(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)
    assert len(str(info.value)) < 1000


def test_config_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(b'{"lr": 0.1, "dataset": "\xff\xfe"}')
    with pytest.raises(ConfigError):
        TrainConfig.load(path)


# ----------------------------------------------------------------------------- checkpoints


def _tiny_graph(classes: int = 10) -> Graph:
    graph = Graph("tiny")
    ids = [graph.add_block("input", {"channels": 3, "height": 8, "width": 8})]
    for kind, params in (("conv2d", {"out_channels": 4}), ("batchnorm2d", None), ("relu", None),
                         ("global_avgpool", None), ("flatten", None), ("linear", {"out_features": classes}),
                         ("output", None)):
        ids.append(graph.add_block(kind, params))
        graph.connect(ids[-2], ids[-1], 0)
    return graph


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("run")
    config = TrainConfig(dataset="synthetic", epochs=1, batch_size=64, device="cpu")
    Trainer(_tiny_graph(), config, synthetic(n=128), run_dir=str(run_dir)).run()
    return run_dir / records.CHECKPOINT


class _Boom:
    """Unpickling this runs code (it would create SENTINEL)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (SENTINEL,))


def _refuses(path: Path) -> str:
    with pytest.raises(ValueError) as info:
        records.load_checkpoint(path)
    return str(info.value)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_checkpoint_with_a_code_running_pickle_is_refused(tmp_path: Path, checkpoint: Path) -> None:
    SENTINEL.unlink(missing_ok=True)
    state = torch.load(checkpoint, weights_only=True)
    state["history"] = _Boom()
    evil = tmp_path / "evil.pt"
    torch.save(state, evil)
    plain = tmp_path / "plain_pickle.pt"
    plain.write_bytes(pickle.dumps({"model": _Boom(), "optimizer": {}, "epoch": 1, "step": 1}))
    for path in (evil, plain):
        message = _refuses(path)
        assert str(path) in message and "\n" not in message
    assert not SENTINEL.exists(), "loading a checkpoint ran code from it"


def test_resuming_from_an_evil_checkpoint_runs_nothing(tmp_path: Path, checkpoint: Path) -> None:
    SENTINEL.unlink(missing_ok=True)
    state = torch.load(checkpoint, weights_only=True)
    state["rng"] = _Boom()
    evil = tmp_path / "evil.pt"
    torch.save(state, evil)
    config = TrainConfig(dataset="synthetic", epochs=2, batch_size=64, device="cpu")
    with pytest.raises(ValueError, match="not a readable Skipwire checkpoint"):
        Trainer(_tiny_graph(), config, synthetic(n=128), resume_from=str(evil)).run()
    assert not SENTINEL.exists()


def test_damaged_checkpoints_are_refused_with_a_message(tmp_path: Path, checkpoint: Path) -> None:
    raw = checkpoint.read_bytes()
    rng = random.Random(7)
    loaded = refused = 0
    for i in range(60):
        data = bytearray(raw)
        if i % 3 == 0:
            data = data[: rng.randrange(len(data))]
        else:
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        path = tmp_path / f"ck{i}.pt"
        path.write_bytes(bytes(data))
        try:
            state = records.load_checkpoint(path)
        except ValueError as exc:
            refused += 1
            assert str(path) in str(exc) and "\n" not in str(exc)
        else:
            loaded += 1  # a flip inside tensor data still loads: the values are just different
            assert {"model", "optimizer", "epoch", "step"} <= set(state)
    print(f"checkpoints: 60 damaged, {loaded} loaded, {refused} refused")
    assert refused >= 20


# ----------------------------------------------------------------------------- images


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) \
        + chunk(b"IEND", b"")


def _image_folder(tmp_path: Path, bomb: bytes) -> Path:
    from PIL import Image

    root = tmp_path / "images"
    for c in ("cats", "dogs"):
        (root / c).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (10, 10), (i * 50, 0, 0)).save(root / c / f"{i}.png")
    (root / "dogs" / "bomb.png").write_bytes(bomb)
    return root


@pytest.mark.parametrize("size", [(100_000, 100_000), (4097, 4097), (65_535, 1)])
def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path, size: tuple[int, int]) -> None:
    import tracemalloc

    root = _image_folder(tmp_path, _png_header(*size))
    tracemalloc.start()
    start = time.process_time()  # CPU time: the machine may be busy
    try:
        with pytest.raises(DatasetError) as info:
            image_folder(str(root), 8)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "bomb.png" in str(info.value) and "\n" not in str(info.value)
    assert time.process_time() - start < 2.0 and peak < 50 * 2**20


def test_a_truncated_image_is_refused_with_its_name(tmp_path: Path) -> None:
    root = _image_folder(tmp_path, _png_header(10, 10)[:30])
    with pytest.raises(DatasetError, match="bomb.png"):
        image_folder(str(root), 8)


# ----------------------------------------------------------------------------- devices and data


@pytest.mark.parametrize("device", ["cuda", "cuda:7", "mps", "cuda:99999999999999999999999"])
def test_a_device_that_is_not_there_ends_the_run_with_a_message(device: str) -> None:
    if device in ("cuda", "cuda:7") and torch.cuda.is_available():  # on a GPU machine: an index past its GPUs
        device = f"cuda:{torch.cuda.device_count() + 7}"
    if device == "mps" and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        device = "cuda:99"
    config = TrainConfig(dataset="synthetic", epochs=1, device=device)
    graph = _tiny_graph()
    before = graph.signature()
    with pytest.raises(ConfigError, match="device"):
        Trainer(graph, config, synthetic(n=64)).run()
    assert graph.signature() == before


def test_a_data_folder_that_is_gone_is_a_message(tmp_path: Path) -> None:
    root = _image_folder(tmp_path, _png_header(10, 10))
    (root / "dogs" / "bomb.png").unlink()
    config = TrainConfig(dataset="folder", data_dir=str(root), image_size=8, epochs=1, device="cpu")
    shutil.rmtree(root)
    with pytest.raises(DatasetError, match="not found"):
        Trainer(_tiny_graph(classes=2), config).run()
    with pytest.raises(DatasetError):
        load_dataset(config)


def test_a_data_folder_deleted_mid_run_does_not_disturb_the_run(tmp_path: Path) -> None:
    root = _image_folder(tmp_path, _png_header(10, 10))
    (root / "dogs" / "bomb.png").unlink()
    config = TrainConfig(dataset="folder", data_dir=str(root), image_size=8, epochs=3, batch_size=2,
                         device="cpu", val_fraction=0.25)
    deleted: list[int] = []

    def on_step(m: Any) -> None:
        if not deleted:
            shutil.rmtree(root)
            deleted.append(m.step)

    result = Trainer(_tiny_graph(classes=2), config, on_step=on_step).run()
    assert deleted and result.status == "completed" and result.epochs_done == 3
    assert np.isfinite(result.final.train_loss)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_weights_files_for_export_refuse_pickled_code_and_damage(tmp_path: Path, checkpoint: Path) -> None:
    weights = pytest.importorskip("builder.export.weights", reason="the exporter is part of the tree")
    SENTINEL.unlink(missing_ok=True)
    state = torch.load(checkpoint, weights_only=True)
    evil = tmp_path / "evil.pt"
    torch.save({"model": {**state["model"], "x": _Boom()}}, evil)
    plain = tmp_path / "plain.pt"
    plain.write_bytes(pickle.dumps(_Boom()))
    cut = tmp_path / "cut.pt"
    cut.write_bytes(checkpoint.read_bytes()[:1000])
    for path in (evil, plain, cut, tmp_path / "missing.pt"):
        with pytest.raises(weights.WeightsError) as info:
            weights.read_state_dict(path)
        assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)
    assert set(weights.read_state_dict(checkpoint)) == set(state["model"])
    assert not SENTINEL.exists()
