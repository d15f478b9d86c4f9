"""The training step, eager and captured: the capture logic runs on the CPU through a stand-in
for CUDA graphs (the same code path as on a GPU, with replay calling the captured function);
the real CUDA-graph run needs a GPU."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from builder.training import Trainer, step
from tests.training.conftest import quick_config, tiny_net


class CpuGraphs:
    """Stands in for :class:`step.CudaGraphs`: ``capture`` runs the function once (what a CUDA
    capture followed by its first replay amounts to); later replays run it again and write the
    results into the captured output tensors, as a replayed graph does."""

    instances: list[CpuGraphs] = []

    def __init__(self, device: torch.device, fail: bool = False) -> None:
        self.warmups = self.captures = self.replays = 0
        self.fail = fail
        CpuGraphs.instances.append(self)

    def warm(self, fn: Callable[[], step.StepOutput]) -> step.StepOutput:
        self.warmups += 1
        return fn()

    def capture(self, fn: Callable[[], step.StepOutput]) -> tuple[Callable[[], None], step.StepOutput]:
        if self.fail:
            raise RuntimeError("operation not permitted when stream is capturing\nmore")
        self.captures += 1
        out = fn()
        fresh = [True]

        def replay() -> None:
            self.replays += 1
            if fresh[0]:
                fresh[0] = False
                return
            new = fn()
            out.head.copy_(new.head)
            out.norms.copy_(new.norms)
        return replay, out


def _run(data, monkeypatch, backend: type | None, **changes):  # type: ignore[no-untyped-def]
    if backend is not None:
        monkeypatch.setattr(step, "capture_blockers", lambda *a, **k: [])
        monkeypatch.setattr(step, "CudaGraphs", backend)
    losses: list[float] = []
    trainer = Trainer(tiny_net(), quick_config(**changes), data, on_step=lambda m: losses.append(m.loss))
    result = trainer.run()
    monkeypatch.undo()
    return trainer, result, losses


@pytest.mark.parametrize("changes", [
    {"epochs": 3, "batch_size": 48},  # 128 images: batches of 48, 48 and 32 — two shapes
    {"epochs": 3, "batch_size": 48, "mixup_alpha": 0.5, "clip": "norm", "clip_value": 0.5,
     "precision": "fp32", "channels_last": False},
])
def test_captured_steps_equal_eager_steps(data, monkeypatch, changes) -> None:  # type: ignore[no-untyped-def]
    CpuGraphs.instances.clear()
    eager, eager_result, eager_losses = _run(data, monkeypatch, None, **changes)
    graphs, graph_result, graph_losses = _run(data, monkeypatch, CpuGraphs, **changes)
    (backend,) = CpuGraphs.instances
    assert backend.captures == 2  # one graph per batch shape, none captured twice
    assert backend.warmups == 2 * step.WARMUP
    assert backend.replays == 3 * 3 - 2 * step.WARMUP  # every later step replays
    assert graph_result.status == eager_result.status == "completed"
    assert graph_losses == eager_losses
    for (name, a), b in zip(eager.module.state_dict().items(), graphs.module.state_dict().values(),
                            strict=True):
        assert torch.equal(a, b), name
    assert graphs.setup is not None and graphs.setup.cuda_graph and "CUDA graph" in graphs.setup.describe()


def test_a_capture_that_fails_goes_on_eagerly(data, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    eager, _, eager_losses = _run(data, monkeypatch, None, epochs=2)
    failing = lambda device: CpuGraphs(device, fail=True)  # noqa: E731
    trainer, result, losses = _run(data, monkeypatch, failing, epochs=2)
    assert result.status == "completed" and losses == eager_losses
    assert trainer.setup is not None and not trainer.setup.cuda_graph
    assert trainer.setup.cuda_graph_note == "CUDA graph off: operation not permitted when stream is capturing"


def test_what_keeps_a_step_from_being_captured() -> None:
    cuda = torch.device("cuda", 0)
    assert step.capture_blockers(quick_config(), cuda, False) == []
    assert step.capture_blockers(quick_config(), torch.device("cpu"), False) == [
        "cpu (CUDA graphs are a CUDA feature)"]
    reasons = step.capture_blockers(quick_config(compile=True, precision="fp16", device="cuda",
                                                 probe_outputs=True), cuda, True)
    assert reasons == ["torch.compile", "several processes",
                       "fp16 loss scaling checks for overflow on the host",
                       "output-gradient probes (Python hooks)"]


def test_the_environment_can_turn_capture_off(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(step.ENV, "0")
    assert step.capture_blockers(quick_config(), torch.device("cuda", 0), False) == [f"{step.ENV}=0"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device: this machine has none")
def test_cuda_graph_run_matches_the_eager_run(data, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    cfg = quick_config(device="cuda", epochs=3, batch_size=48, augment=True)
    runs = {}
    for capture in ("1", "0"):
        monkeypatch.setenv(step.ENV, capture)
        losses: list[float] = []
        trainer = Trainer(tiny_net(), cfg, data, on_step=lambda m, out=losses: out.append(m.loss))
        result = trainer.run()
        assert result.status == "completed"
        runs[capture] = (trainer, losses)
    captured, eager = runs["1"], runs["0"]
    assert captured[0].setup.cuda_graph and not eager[0].setup.cuda_graph
    assert captured[1] == pytest.approx(eager[1], rel=2e-2)
    assert captured[1][-1] < captured[1][0]
