"""The trainer: learning, callbacks, flags, non-finite detection, probes, records, resume."""

from __future__ import annotations

import csv
import math
import threading
from pathlib import Path

import pytest
import torch

from builder.training import Trainer, datasets
from builder.training.loader import Batches, augment, epoch_generator, random_crop
from builder.training.optim import lr_at
from builder.training.records import load_checkpoint
from builder.validate import parameterised
from tests.training.conftest import quick_config, tiny_net


def test_loss_falls_on_synthetic_data(net, data) -> None:
    steps, epochs = [], []
    result = Trainer(net, quick_config(epochs=4), data, on_step=steps.append,
                     on_epoch=epochs.append).run()
    assert result.status == "completed" and result.epochs_done == 4
    assert len(steps) == 4 * 4 and [m.step for m in steps] == list(range(16))
    assert epochs[-1].train_loss < 0.5 * epochs[0].train_loss
    assert epochs[-1].val_acc > 0.6
    m = steps[0]
    assert m.batch == 1 and m.batches == 4 and m.lr == 0.05 and m.images_per_s > 0
    assert 0 <= m.accuracy <= 1 and m.grad_norm > 0 and math.isfinite(m.loss)


def test_a_fixed_seed_repeats_on_cpu(net, data) -> None:
    a = Trainer(net, quick_config(augment=True, mixup_alpha=1.0), data).run()
    b = Trainer(net, quick_config(augment=True, mixup_alpha=1.0), data).run()
    assert [h.train_loss for h in a.history] == [h.train_loss for h in b.history]
    for (k, v), w in zip(a.module.state_dict().items(), b.module.state_dict().values(), strict=True):
        assert torch.equal(v, w), k


def test_gradients_have_one_entry_per_parameterised_block(net, data) -> None:
    samples = []
    Trainer(net, quick_config(epochs=1, probe_every=2, probe_outputs=True), data,
            on_gradients=samples.append).run()
    assert [s.step for s in samples] == [0, 2]
    expected = parameterised(net)
    for s in samples:
        assert s.block_ids == expected and len(s.weight_norms) == len(expected)
        assert all(v > 0 and math.isfinite(v) for v in s.weight_norms)
        assert s.output_norms is not None and len(s.output_norms) == len(expected)
        assert all(v > 0 for v in s.output_norms)


def test_weight_norms_match_the_gradients(net, data) -> None:
    """The probe's numbers are the L2 norms of each block's weight gradient."""
    samples: list = []
    trainer = Trainer(net, quick_config(epochs=1, lr=1e-9, momentum=0.0, weight_decay=0.0), data,
                      on_gradients=samples.append)
    norms_seen: list[dict[str, float]] = []

    def grab(_m) -> None:
        paths = trainer.module.block_paths
        norms_seen.append({b: float(trainer.module.get_submodule(paths[b]).weight.grad.norm())
                           for b in parameterised(net)})
    trainer.on_step = grab
    trainer.run()
    first = samples[0]
    for block_id, value in zip(first.block_ids, first.weight_norms, strict=True):
        assert value == pytest.approx(norms_seen[0][block_id], rel=1e-5)


def test_stop_is_honoured_within_a_step(net, data) -> None:
    trainer = Trainer(net, quick_config(epochs=5), data)
    seen = []

    def on_step(m) -> None:
        seen.append(m.step)
        if m.step == 2:
            trainer.stop()
    trainer.on_step = on_step
    result = trainer.run()
    assert result.status == "stopped" and seen == [0, 1, 2] and result.steps == 3


def test_pause_blocks_until_resume(net, data) -> None:
    trainer = Trainer(net, quick_config(epochs=1), data)
    seen: list[int] = []
    paused_at = threading.Event()

    def on_step(m) -> None:
        seen.append(m.step)
        if m.step == 1:
            trainer.pause()
            paused_at.set()
    trainer.on_step = on_step
    worker = threading.Thread(target=lambda: setattr(trainer, "out", trainer.run()))
    worker.start()
    assert paused_at.wait(30)
    worker.join(0.3)
    assert worker.is_alive() and seen == [0, 1] and trainer.paused
    trainer.resume()
    worker.join(30)
    assert not worker.is_alive() and seen == [0, 1, 2, 3] and trainer.out.status == "completed"


def test_stop_while_paused_ends_the_run(net, data) -> None:
    trainer = Trainer(net, quick_config(epochs=1), data)
    trainer.on_step = lambda m: trainer.pause()
    worker = threading.Thread(target=lambda: setattr(trainer, "out", trainer.run()))
    worker.start()
    worker.join(0.5)
    trainer.stop()
    worker.join(30)
    assert trainer.out.status == "stopped" and trainer.out.steps == 1


def test_non_finite_gradient_names_the_block(net, data) -> None:
    trainer = Trainer(net, quick_config(epochs=2), data)

    def poison(m) -> None:
        if m.step == 0:  # from step 1 on, one block's weight gradient is NaN; the loss stays finite
            weight = trainer.module.get_submodule(trainer.module.block_paths["layer2_0_conv2"]).weight
            weight.register_hook(lambda g: g * float("nan"))
    trainer.on_step = poison
    result = trainer.run()
    assert result.status == "non_finite" and result.bad_block == "layer2_0_conv2"
    assert "gradient became non-finite at step 1" in result.error and "layer2_0_conv2" in result.error


def test_non_finite_loss_names_the_first_block(net, data) -> None:
    bad = datasets.Dataset("bad", data.x_train.clone(), data.y_train, data.x_val, data.y_val,
                           data.classes)
    bad.x_train[:, 0, 0, 0] = float("inf")
    result = Trainer(net, quick_config(), bad).run()
    assert result.status == "non_finite" and result.steps == 0
    assert result.bad_block == "conv1" and result.error.startswith("loss became non-finite at step 0")


def test_clipping_by_norm_and_value_run(net, data) -> None:
    for clip in ("norm", "value"):
        steps: list = []
        result = Trainer(net, quick_config(epochs=1, clip=clip, clip_value=0.01), data,
                         on_step=steps.append).run()
        assert result.status == "completed" and steps[0].grad_norm > 0.01  # reported before clipping


def test_other_optimizers_and_schedules(net, data) -> None:
    for changes in ({"optimizer": "adam", "lr": 0.01, "schedule": "cosine"},
                    {"optimizer": "adamw", "lr": 0.01, "schedule": "constant", "label_smoothing": 0.1},
                    {"nesterov": True, "warmup_epochs": 1.0}):
        assert Trainer(net, quick_config(**changes), data).run().status == "completed"


def test_lr_schedule() -> None:
    cfg = quick_config(epochs=10, lr=0.1, milestones=[0.5, 0.75])
    lrs = [round(lr_at(cfg, s * 10, 10), 6) for s in (0, 4, 5, 7, 8, 9)]
    assert lrs == [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]
    warm = quick_config(epochs=10, lr=0.1, warmup_epochs=2.0, warmup_start=0.1, schedule="constant")
    assert lr_at(warm, 0, 10) == pytest.approx(0.01) and lr_at(warm, 10, 10) == pytest.approx(0.055)
    assert lr_at(warm, 20, 10) == 0.1
    cos = quick_config(epochs=10, lr=0.1, schedule="cosine")
    assert lr_at(cos, 50, 10) == pytest.approx(0.05) and lr_at(cos, 100, 10) == pytest.approx(0.0)


def test_run_folder_and_resume_continue_identically(net, data, tmp_path: Path) -> None:
    cfg = quick_config(epochs=4, augment=True, mixup_alpha=0.5)
    full = Trainer(net, cfg, data, run_dir=str(tmp_path / "full")).run()
    part = Trainer(net, cfg, data, run_dir=str(tmp_path / "part"))
    part.on_epoch = lambda m: part.stop() if m.epoch == 2 else None
    assert part.run().status == "stopped"
    state = load_checkpoint(tmp_path / "part" / "checkpoint.pt")
    assert state["epoch"] == 2 and state["step"] == 8
    resumed = Trainer(net, cfg, data, run_dir=str(tmp_path / "part"),
                      resume_from=str(tmp_path / "part" / "checkpoint.pt")).run()
    assert resumed.status == "completed" and resumed.epochs_done == 4 and len(resumed.history) == 4
    for (k, v), w in zip(full.module.state_dict().items(), resumed.module.state_dict().values(),
                         strict=True):
        assert torch.equal(v, w), k
    rows = {name: list(csv.DictReader(open(tmp_path / d / "metrics.csv")))
            for name, d in (("full", "full"), ("part", "part"))}
    assert [r["epoch"] for r in rows["part"]] == ["1", "2", "3", "4"]
    assert [r["train_loss"] for r in rows["part"]] == [r["train_loss"] for r in rows["full"]]
    steps = list(csv.DictReader(open(tmp_path / "part" / "steps.csv")))
    assert [int(r["step"]) for r in steps] == list(range(16))
    grads = list(csv.DictReader(open(tmp_path / "part" / "gradients.csv")))
    assert len(grads) == 16 * len(parameterised(net))
    assert sorted(p for p in (tmp_path / "full").iterdir() if "tfevents" not in p.name) == sorted(
        tmp_path / "full" / n for n in ("checkpoint.pt", "config.json", "gradients.csv", "graph.json",
                                        "metrics.csv", "setup.json", "steps.csv"))


def test_bad_checkpoint_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"checkpoint\.pt: not a readable Skipwire checkpoint"):
        load_checkpoint(path)
    torch.save({"model": {}}, path)
    with pytest.raises(ValueError, match="checkpoint lacks epoch, optimizer, step"):
        load_checkpoint(path)


def test_batches_shard_and_augment() -> None:
    x = torch.arange(10.0).reshape(10, 1, 1, 1).expand(10, 1, 2, 2).contiguous()
    y = torch.arange(10)
    shards = [torch.cat([yb for _, yb in Batches(x, y, 3, shuffle=True, gen=epoch_generator(0, 1),
                                                   rank=r, world=2)]) for r in (0, 1)]
    assert len(shards[0]) == len(shards[1]) == 5
    assert set(shards[0].tolist()).isdisjoint(shards[1].tolist())
    img = torch.arange(16.0).reshape(1, 1, 4, 4)
    crops = random_crop(img.expand(50, 1, 4, 4), 1, torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(img, (1, 1, 1, 1))[0, 0]
    windows = {tuple(padded[i:i + 4, j:j + 4].flatten().tolist()) for i in range(3) for j in range(3)}
    assert {tuple(c.flatten().tolist()) for c in crops} <= windows
    assert len({tuple(c.flatten().tolist()) for c in crops}) > 3
    out = augment(img.expand(40, 1, 4, 4), torch.Generator().manual_seed(1), padding=0)
    assert {tuple(o.flatten().tolist()) for o in out} == {tuple(img.flatten().tolist()),
                                                          tuple(img.flip(3).flatten().tolist())}


def test_plain_and_residual_graphs_compile_for_digits() -> None:
    from builder import templates
    from builder.training import adapt_graph

    graph, notes = adapt_graph(templates.cifar_resnet(20), (1, 8, 8), 10)
    assert notes == ["input 3×32×32 → 1×8×8", "conv1 in_channels 3 → 1"]
    graph, notes = adapt_graph(tiny_net(), (1, 8, 8), 7)
    assert notes[-1] == "fc out_features 4 → 7"
    with pytest.raises(ValueError, match="does not fit 3×1×1 images"):
        adapt_graph(templates.lenet(), (3, 1, 1), 10)


def test_a_graph_that_does_not_fit_the_data_is_one_clear_error(data) -> None:
    with pytest.raises(ValueError, match="resnet8: the output gives 4 values but the data have 7 classes"):
        Trainer(tiny_net(), quick_config(), datasets.synthetic(n=20, num_classes=7)).run()


def test_resuming_another_graph_is_one_clear_error(net, data, tmp_path: Path) -> None:
    Trainer(net, quick_config(epochs=1), data, run_dir=str(tmp_path / "a")).run()
    other = tiny_net(residual=False)
    other.set_param("layer1_0_conv1", "out_channels", 6)
    other.set_param("layer1_0_conv2", "out_channels", 4)
    with pytest.raises(ValueError, match=r"checkpoint\.pt: the checkpoint does not fit this graph"):
        Trainer(other, quick_config(epochs=2), data,
                resume_from=str(tmp_path / "a" / "checkpoint.pt")).run()


def test_validation_every_k_epochs(net, data) -> None:
    result = Trainer(net, quick_config(epochs=3, val_every=2), data).run()
    assert [math.isnan(h.val_loss) for h in result.history] == [True, False, False]
