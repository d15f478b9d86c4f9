"""``main.py export`` / ``import``: code, weights beside it, ONNX checked with onnxruntime."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
import torch

from builder import fileformat, templates
from builder.cli import main
from builder.compile import compile_graph

from .conftest import GRAPHS, load_source
from .test_import import HAND_WRITTEN


def _small_graph(tmp_path):
    graph = templates.cifar_resnet(8, input_shape=(3, 8, 8))
    path = tmp_path / "r8.json"
    fileformat.save(graph, path)
    return graph, path


def _checkpoint(graph, path, seed=1):
    torch.manual_seed(seed)
    module = compile_graph(graph)
    with torch.no_grad():  # trained-looking BatchNorm statistics, so buffers matter too
        for name, b in module.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn_like(b))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand_like(b))
    state = {"model": module.state_dict(), "optimizer": {}, "epoch": 3, "step": 30}
    torch.save(state, path)
    return module.eval()


def test_export_code_with_weights_from_a_run_folder(tmp_path, capsys):
    graph, path = _small_graph(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    trained = _checkpoint(graph, run / "checkpoint.pt")
    out = tmp_path / "model.py"
    assert main(["export", str(path), "-o", str(out), "--weights", str(run)]) == 0
    assert "wrote" in capsys.readouterr().out
    module = load_source(out.read_text(encoding="utf-8"), out, "cli_model")
    model = module.Resnet8().eval()
    model.load_state_dict(torch.load(tmp_path / "model.pt", weights_only=True), strict=True)
    x = torch.randn(2, 3, 8, 8)
    assert torch.allclose(model(x), trained(x), atol=1e-6)


def test_export_weights_only_accepts_a_plain_state_dict(tmp_path):
    graph, path = _small_graph(tmp_path)
    module = compile_graph(graph)
    torch.save(module.state_dict(), tmp_path / "sd.pt")
    out = tmp_path / "w.pt"
    assert main(["export", str(path), "-o", str(out), "--weights", str(tmp_path / "sd.pt")]) == 0
    saved = torch.load(out, weights_only=True)
    assert all(torch.equal(saved[k], v) for k, v in module.state_dict().items())


def test_weights_of_another_graph_fail_with_one_line(tmp_path, capsys):
    _, path = _small_graph(tmp_path)
    _checkpoint(templates.lenet(), tmp_path / "other.pt")
    assert main(["export", str(path), "-o", str(tmp_path / "m.py"), "--weights",
                 str(tmp_path / "other.pt")]) == 2
    err = capsys.readouterr().err.strip()
    assert "do not fit the graph" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "m.py").exists()
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    assert main(["export", str(path), "-o", str(tmp_path / "m.py"), "--weights",
                 str(tmp_path / "junk.pt")]) == 2
    assert "not a readable weights file" in capsys.readouterr().err


def test_onnx_export_checks_and_matches_compiled_module(tmp_path):
    graph, path = _small_graph(tmp_path)
    trained = _checkpoint(graph, tmp_path / "ck.pt")
    out = tmp_path / "model.onnx"
    assert main(["export", str(path), "-o", str(out), "--weights", str(tmp_path / "ck.pt")]) == 0
    onnx.checker.check_model(onnx.load(str(out)))
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    x = torch.randn(5, 3, 8, 8)  # another batch size than the export sample: the batch axis is dynamic
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    with torch.no_grad():
        want = trained(x).numpy()
    assert np.abs(got - want).max() <= 1e-5


def test_import_command_writes_a_graph(tmp_path, capsys):
    source = tmp_path / "hand.py"
    source.write_text(HAND_WRITTEN, encoding="utf-8")
    out = tmp_path / "tiny.json"
    assert main(["import", f"{source}:TinyResNet", "-o", str(out), "--input", "3x8x8"]) == 0
    graph = fileformat.load(out)
    assert graph.name == "tinyresnet" and "layer1_2_conv2" in graph
    assert main(["import", f"{source}:Unsupported", "-o", str(tmp_path / "u.json")]) == 2
    err = capsys.readouterr().err
    assert "softmax" in err and "hand.py:" in err


def test_cli_round_trip_export_import_export_gives_the_same_file(tmp_path):
    first, second, graph = tmp_path / "a.py", tmp_path / "b.py", tmp_path / "back.json"
    assert main(["export", str(GRAPHS / "googlenet.json"), "-o", str(first)]) == 0
    assert main(["import", f"{first}:Googlenet", "-o", str(graph)]) == 0
    assert fileformat.load(graph).name == "googlenet"  # read back from the docstring
    assert main(["export", str(graph), "-o", str(second)]) == 0
    assert first.read_text(encoding="utf-8") == second.read_text(encoding="utf-8")


def test_export_of_a_graph_with_errors_fails_cleanly(tmp_path, capsys):
    graph = templates.lenet()
    graph.disconnect("fc1", 0)
    path = tmp_path / "bad.json"
    fileformat.save(graph, path)
    assert main(["export", str(path), "-o", str(tmp_path / "bad.py")]) == 2
    assert "fc1" in capsys.readouterr().err


def test_a_runs_weights_export_with_the_graph_it_trained(tmp_path, capsys):
    from .trained_run import make_run, trained_module

    original, run, data = make_run(tmp_path)
    trained = trained_module(run)
    x = data.x_val[:6]
    out = tmp_path / "model.py"
    assert main(["export", str(original), "-o", str(out), "--weights", str(run)]) == 0
    module = load_source(out.read_text(encoding="utf-8"), out, "cli_run_model")
    model = module.Resnet8().eval()
    model.load_state_dict(torch.load(tmp_path / "model.pt", weights_only=True), strict=True)
    with torch.no_grad():
        assert torch.allclose(model(x), trained(x), atol=1e-5)
    onnx_file = tmp_path / "model.onnx"
    assert main(["export", str(original), "-o", str(onnx_file), "--weights", str(run / "checkpoint.pt")]) == 0
    session = onnxruntime.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": x.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(got, trained(x).numpy(), atol=1e-4)
    weights = tmp_path / "w.pt"
    assert main(["export", str(original), "-o", str(weights), "--weights", str(run)]) == 0
    assert torch.load(weights, weights_only=True)["conv1.weight"].shape == (16, 1, 3, 3)
