"""Every shipped graph: exported code has the compiled module's state-dict keys and outputs."""

from __future__ import annotations

import pytest
import torch

from builder import fileformat, templates
from builder.compile import compile_graph
from builder.export.codegen import export_code

from .conftest import GRAPHS, load_source


@pytest.mark.parametrize("stem", sorted(templates.SHIPPED))
def test_exported_code_matches_compiled_module(stem, tmp_path):
    graph = fileformat.load(GRAPHS / f"{stem}.json")
    code = export_code(graph)
    module = load_source(code.source, tmp_path / f"{stem}.py", f"exported_{stem}")
    torch.manual_seed(0)
    compiled = compile_graph(graph).eval()
    with torch.device("meta"):  # no second weight initialisation: the weights come from compiled
        exported = getattr(module, code.class_name)().eval()
    assert list(exported.state_dict()) == list(compiled.state_dict())
    exported.load_state_dict(compiled.state_dict(), strict=True, assign=True)
    x = torch.randn(1, *code.input_shape)
    with torch.no_grad():
        diff = (compiled(x) - exported(x)).abs().max().item()
    assert diff <= 1e-6
    assert code.parameter_count == sum(p.numel() for p in compiled.parameters())


def test_parity_holds_in_training_mode_with_batch_statistics(tmp_path):
    graph = templates.cifar_resnet(8, input_shape=(3, 8, 8))
    code = export_code(graph)
    module = load_source(code.source, tmp_path / "r8.py", "exported_r8_train")
    compiled = compile_graph(graph).train()
    exported = getattr(module, code.class_name)().train()
    exported.load_state_dict(compiled.state_dict())
    x = torch.randn(4, 3, 8, 8)
    assert torch.allclose(compiled(x), exported(x), atol=1e-6)
    for a, b in zip(compiled.buffers(), exported.buffers(), strict=True):
        assert torch.equal(a, b)  # running statistics updated the same way
