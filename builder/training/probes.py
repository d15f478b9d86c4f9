"""Per-layer gradient magnitudes: one entry per parameterised block (Conv2d, BN, Linear).

:class:`GradientProbe` maps each parameterised block to its weight tensor through the compiled
module's ``block_paths``. ``measure`` computes the L2 norm of every parameter gradient with one
``torch._foreach_norm`` call; the total norm (before clipping) and the per-block weight norms
are then cut from that one vector, so a measured step costs one host sync for all of them.
Optional output-gradient norms use ``Tensor.register_hook`` on each block's output (a forward
hook installs them only on measured steps; ``register_full_backward_hook`` is avoided: it costs
8–15 % of a step even when empty).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle


@dataclass
class GradientSample:
    """Gradient L2 norms of one measured step, one entry per parameterised block."""

    step: int
    epoch: int
    block_ids: list[str]
    weight_norms: list[float]
    output_norms: list[float] | None = None  # gradient w.r.t. each block's output


class GradientProbe:
    """Knows which parameter belongs to which block; measures all gradient norms at once."""

    def __init__(self, module: nn.Module, block_paths: dict[str, str], block_ids: list[str],
                 outputs: bool = False) -> None:
        self.block_ids = [b for b in block_ids if b in block_paths]
        names = dict(module.named_parameters())
        self.params = [p for p in module.parameters() if p.requires_grad]
        position = {id(p): i for i, p in enumerate(self.params)}
        self.weight_index = [position[id(names[f"{block_paths[b]}.weight"])] for b in self.block_ids]
        self.block_of_param = self._owners(module, block_paths, position)
        self._out_norms: list[torch.Tensor | None] = []
        self._armed = False
        self._handles = self._install(module, block_paths) if outputs else []

    @staticmethod
    def _owners(module: nn.Module, paths: dict[str, str], position: dict[int, int]) -> list[str]:
        """The block id owning each parameter (topological order follows ``paths`` insertion)."""
        owners = [""] * len(position)
        for block_id, path in paths.items():
            for p in module.get_submodule(path).parameters():
                if id(p) in position:
                    owners[position[id(p)]] = block_id
        return owners

    def _install(self, module: nn.Module, paths: dict[str, str]) -> list[RemovableHandle]:
        self._out_norms = [None] * len(self.block_ids)
        handles: list[RemovableHandle] = []
        for i, block_id in enumerate(self.block_ids):
            sub = module.get_submodule(paths[block_id])
            handles.append(sub.register_forward_hook(self._forward_hook(i)))
        return handles

    def _forward_hook(self, i: int) -> Callable[[nn.Module, object, torch.Tensor], None]:
        def store(grad: torch.Tensor) -> None:
            self._out_norms[i] = torch.linalg.vector_norm(grad.detach().float())

        def hook(_mod: nn.Module, _inp: object, out: torch.Tensor) -> None:
            if self._armed and out.requires_grad:
                out.register_hook(store)  # type: ignore[no-untyped-call]  # torch leaves it unannotated
        return hook

    def arm(self, on: bool) -> None:
        """Make the next forward install output-gradient hooks (measured steps only)."""
        self._armed = on and bool(self._handles)
        if self._armed:
            self._out_norms = [None] * len(self.block_ids)

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def norms(self) -> torch.Tensor:
        """Per-parameter gradient norms as one device vector (0 for a missing gradient)."""
        grads = [p.grad for p in self.params if p.grad is not None]
        if len(grads) != len(self.params):
            return torch.stack([torch.linalg.vector_norm(p.grad) if p.grad is not None
                                else torch.zeros((), device=p.device) for p in self.params])
        return torch.stack(torch._foreach_norm(grads))

    def pack(self, norms: torch.Tensor) -> torch.Tensor:
        """Per-block weight norms (and output norms when armed) to append to the step's sync."""
        parts = [norms[self.weight_index].float()]
        if self._armed:
            zero = norms.new_zeros((), dtype=torch.float32)
            parts.append(torch.stack([n if n is not None else zero for n in self._out_norms]))
        return torch.cat(parts)

    def sample(self, values: list[float], step: int, epoch: int) -> GradientSample:
        """Turn the host copy of :meth:`pack`'s vector into a :class:`GradientSample`."""
        k = len(self.block_ids)
        outputs = values[k:2 * k] if len(values) >= 2 * k and self._handles else None
        return GradientSample(step, epoch, list(self.block_ids), values[:k], outputs)

    def first_non_finite(self, norms: torch.Tensor) -> str | None:
        """The first block (topological order) with a non-finite parameter gradient."""
        bad = (~torch.isfinite(norms)).cpu().tolist()
        owners = {self.block_of_param[i] for i, flag in enumerate(bad) if flag}
        for block_id in self.block_ids:
            if block_id in owners:
                return block_id
        return next(iter(sorted(owners)), None)
