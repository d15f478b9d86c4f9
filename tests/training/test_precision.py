"""Fast by default: precision auto per CPU capability (mocked), bf16 and channels-last runs,
checkpoints across precisions, probes and BatchNorm statistics under bf16, setup.json."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from builder.training import Trainer, precision, runsetup
from builder.training.config import ConfigError
from tests.training.conftest import quick_config

CPU = torch.device("cpu")


def _no_probe() -> tuple[bool, str]:
    raise AssertionError("the timed probe must not run on x86")


@pytest.mark.parametrize(("caps", "native", "why"), [
    ({"amx_bf16": True, "avx512_bf16": True, "avx512_f": True}, True, "AMX-BF16"),
    ({"amx_bf16": False, "avx512_bf16": True, "avx512_f": True}, True, "AVX512-BF16"),
    ({"avx512_f": True, "avx512_bw": True}, False, "no AVX512-BF16 or AMX"),  # e.g. Skylake-X
    ({"avx2": True}, False, "no AVX512-BF16 or AMX"),
    ({}, False, "no AVX512-BF16 or AMX"),  # torch cannot say: fp32 is the safe side
])
def test_x86_capabilities_decide_without_a_probe(caps, native, why) -> None:  # type: ignore[no-untyped-def]
    found, reason = precision.cpu_bf16(caps, "x86_64", probe=_no_probe)
    assert found is native and why in reason


def test_auto_follows_the_capability_and_forced_choices_win(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(precision.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"avx512_bf16": True})
    auto = precision.resolve("auto", CPU)
    assert (auto.name, auto.dtype) == ("bf16", torch.bfloat16)
    assert auto.describe() == "auto → bf16 (this CPU computes bf16 natively: AVX512-BF16)"
    assert precision.resolve("fp32", CPU).describe() == "fp32 (forced)"
    assert precision.resolve("fp32", CPU).dtype is None
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: {"avx2": True})
    assert precision.resolve("auto", CPU).name == "fp32"
    forced = precision.resolve("bf16", CPU)  # allowed, and said to be slow here
    assert forced.name == "bf16" and "emulates" in forced.describe()
    with pytest.raises(ConfigError, match="fp16 needs a CUDA device"):
        precision.resolve("fp16", CPU)
    assert precision.resolve("auto", torch.device("meta")).name == "fp32"  # neither CPU nor CUDA


def test_other_processors_are_probed_once_and_the_answer_is_cached(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls = []

    def fake_probe() -> tuple[float, float]:
        calls.append(1)
        return 0.010, 0.004  # bf16 takes 40 % of the fp32 time

    monkeypatch.setattr(precision, "timed_probe", fake_probe)
    monkeypatch.setenv(precision.CACHE_ENV, str(tmp_path))
    for _ in range(2):
        native, reason = precision.cpu_bf16({}, "aarch64")
        assert native and "timed probe: 4.0 ms bf16 vs 10.0 ms fp32" in reason
    assert len(calls) == 1
    (tmp_path / precision.PROBE_FILE).write_text("{broken", encoding="utf-8")
    monkeypatch.setattr(precision, "timed_probe", lambda: (0.010, 0.0095))  # no gain
    native, reason = precision.cpu_bf16({}, "aarch64")
    assert not native and "gains nothing" in reason
    assert json.loads((tmp_path / precision.PROBE_FILE).read_text())  # rewritten, readable


def test_the_timed_probe_measures_both(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    torch.set_num_threads(2)  # the probe times on one thread, then gives back what it found
    try:
        fp32, bf16 = precision.timed_probe(repeats=1)
        assert fp32 > 0 and bf16 > 0 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)


def test_the_run_says_what_auto_became(net, data, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(precision.platform, "machine", lambda: "x86_64")
    for caps, expected in (({"amx_bf16": True}, "bf16"), ({"avx2": True}, "fp32")):
        monkeypatch.setattr(torch.cpu, "get_capabilities", lambda c=caps: c)
        run_dir = tmp_path / expected
        trainer = Trainer(net, quick_config(epochs=1), data, run_dir=str(run_dir))
        assert trainer.run().status == "completed"
        assert trainer.setup is not None and trainer.setup.resolved == expected
        saved = runsetup.load(run_dir)
        assert saved == trainer.setup
        text = json.loads((run_dir / runsetup.FILE).read_text())["text"]
        assert f"precision auto → {expected}" in text and "channels-last" in text


@pytest.mark.parametrize(("prec", "channels_last"), [("bf16", True), ("bf16", False), ("fp32", True)])
def test_bf16_and_channels_last_runs_learn(net, data, prec, channels_last) -> None:  # type: ignore[no-untyped-def]
    trainer = Trainer(net, quick_config(epochs=4, precision=prec, channels_last=channels_last), data)
    result = trainer.run()
    assert result.status == "completed"
    assert result.history[-1].train_loss < 0.6 * result.history[0].train_loss
    assert result.history[-1].val_acc > 0.5
    conv = next(m for m in trainer.module.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last) is channels_last
    assert all(p.dtype == torch.float32 for p in trainer.module.parameters())


@pytest.mark.parametrize(("first", "then"), [(("bf16", True), ("fp32", False)),
                                             (("fp32", False), ("bf16", True))])
def test_checkpoints_resume_across_precision_and_layout(net, data, tmp_path: Path, first, then) -> None:  # type: ignore[no-untyped-def]
    cfg = quick_config(epochs=2, precision=first[0], channels_last=first[1])
    Trainer(net, cfg, data, run_dir=str(tmp_path)).run()
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert all(v.dtype in (torch.float32, torch.int64) for v in state["model"].values())
    other = cfg.replace(precision=then[0], channels_last=then[1])
    loaded = Trainer(net, other, data, resume_from=str(tmp_path / "checkpoint.pt"))
    assert loaded.run().epochs_done == 2  # nothing left to train: the weights are the saved ones
    for key, value in loaded.module.state_dict().items():
        assert torch.equal(value, state["model"][key]), key
    resumed = Trainer(net, other.replace(epochs=4), data, run_dir=str(tmp_path),
                      resume_from=str(tmp_path / "checkpoint.pt"))
    result = resumed.run()
    assert result.status == "completed" and result.epochs_done == 4
    assert result.history[3].train_loss < result.history[1].train_loss  # it went on learning
    assert resumed.setup is not None and resumed.setup.resolved == then[0]


def _one_step(net, data, prec: str, channels_last: bool):  # type: ignore[no-untyped-def]
    samples: list = []
    trainer = Trainer(net, quick_config(epochs=1, precision=prec, channels_last=channels_last,
                                        probe_every=1), data, on_gradients=samples.append)
    trainer.on_step = lambda m: trainer.stop()
    trainer.run()
    return samples[0], trainer.module


def test_gradient_probes_agree_between_fp32_and_bf16(net, data) -> None:  # type: ignore[no-untyped-def]
    ref, ref_module = _one_step(net, data, "fp32", False)
    for prec, cl in (("bf16", False), ("bf16", True), ("fp32", True)):
        got, module = _one_step(net, data, prec, cl)
        assert got.block_ids == ref.block_ids
        tolerance = 0.08 if prec == "bf16" else 1e-4  # bf16 keeps 8 bits of mantissa (3.4 % seen)
        for block, a, b in zip(ref.block_ids, ref.weight_norms, got.weight_norms, strict=True):
            assert math.isfinite(b) and b == pytest.approx(a, rel=tolerance), (prec, cl, block)
        # BatchNorm's running statistics stay fp32 and near the fp32 run's after the step
        for (name, buf), ref_buf in zip(module.named_buffers(), ref_module.buffers(), strict=True):
            assert buf.dtype == ref_buf.dtype, name
            if buf.is_floating_point():
                assert torch.allclose(buf, ref_buf, rtol=0.05, atol=0.02), (prec, cl, name)
