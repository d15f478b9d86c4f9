"""Gradient split at every residual Add: how much gradient reaches a unit's input by each path.

At a residual unit ``y = F(x) + S(x)`` the gradient reaching the fork ``x`` is the sum of two
parts: the one through the skip path ``S`` (identity, option-A pad, option-B projection) and the
one through the residual branch ``F`` (the gradient at the branch's first block's input).
:class:`SplitProbe` measures the L2 norm of each part on armed steps.

How: :meth:`SplitProbe.attach` inserts a *tap* on each of the two wires out of the fork in the
compiled module's fx graph (a ``call_function`` node calling the probe; no submodule, so the
state dict is unchanged). Unarmed, a tap returns its input (one Python call per tap and step).
Armed, it returns ``x.view_as(x)`` with a ``Tensor.register_hook`` that keeps the norm of the
gradient passing through that wire only (DESIGN.md: tensor hooks ≈ +2.6 % of a step; full
backward hooks cost 8–15 %). :meth:`SplitProbe.detach` restores the original graph.

The trainer takes the probe as ``Trainer(..., split_probe=SplitProbe())``: it calls
:meth:`~SplitProbe.attach` after compiling, :meth:`~SplitProbe.arm` with the weight-gradient
probe (measured steps), :meth:`~SplitProbe.collect` after the step and
:meth:`~SplitProbe.detach` at the end. Under fp16 loss scaling the norms include the scale;
the skip/branch ratio does not.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import fx, nn

from builder.graph import Graph
from builder.xray.fxmap import block_nodes, consumer_nodes
from builder.xray.structure import ResidualUnit, residual_units

SKIP, BRANCH = 0, 1
TAP_PREFIX = "_xray_tap"


@dataclass
class SplitSample:
    """The split at every residual unit on one measured step."""

    step: int
    epoch: int
    labels: list[str]  # one per unit, input side first
    skip: list[float]  # ‖gradient at the unit's input through the skip path‖₂
    branch: list[float]  # ‖… through the residual branch‖₂

    @property
    def ratio(self) -> list[float]:
        """Skip norm over branch norm per unit (inf when the branch gets none)."""
        return [s / b if b > 0 else float("inf") for s, b in zip(self.skip, self.branch, strict=True)]


class SplitProbe:
    """Skip vs branch gradient norms at every residual Add (see the module docstring).

    ``on_sample`` is called on the training thread with each :class:`SplitSample`; all samples
    are also kept in :attr:`samples`. ``keep_grads`` keeps the gradient tensors of the last
    armed step in :attr:`grads` (``{(unit, SKIP|BRANCH): tensor}``) for tests.
    """

    def __init__(self, on_sample: Callable[[SplitSample], None] | None = None,
                 keep_grads: bool = False) -> None:
        self.on_sample, self.keep_grads = on_sample, keep_grads
        self.units: list[ResidualUnit] = []
        self.samples: list[SplitSample] = []
        self.grads: dict[tuple[int, int], torch.Tensor] = {}
        self._module: fx.GraphModule | None = None
        self._taps: list[fx.Node] = []
        self._wires: dict[int, int] = {}  # key → number of wires summed into it
        self._norms: list[torch.Tensor | None] = []
        self._sums: dict[int, torch.Tensor] = {}
        self._hooks: list[Callable[[torch.Tensor], None]] = []
        self._armed = False

    # ---- set-up ----
    def attach(self, module: nn.Module, graph: Graph) -> None:
        """Insert the taps into ``module`` (compiled from ``graph``); untappable units are left out."""
        if not isinstance(module, fx.GraphModule):
            raise TypeError("the split probe needs the fx.GraphModule made by compile_graph")
        self._module = module
        nodes = block_nodes(graph, module)
        for unit in residual_units(graph):
            fork = nodes.get(unit.fork, [None])[-1]
            if fork is None:
                continue
            skip = consumer_nodes(fork, nodes.get(unit.skip_first, []))
            branch = [n for b in unit.branch_first for n in consumer_nodes(fork, nodes.get(b, []))]
            if skip and branch:
                key = 2 * len(self.units)
                self._insert(module, fork, skip, key + SKIP)
                self._insert(module, fork, branch, key + BRANCH)
                self.units.append(unit)
        module.recompile()
        self._norms = [None] * (2 * len(self.units))
        self._hooks = [self._hook(k) for k in range(2 * len(self.units))]

    def _insert(self, module: fx.GraphModule, source: fx.Node, users: list[fx.Node], key: int) -> None:
        with module.graph.inserting_after(source):
            tap = module.graph.call_function(self._tap, (source, key), name=f"{TAP_PREFIX}{len(self._taps)}")
        for user in users:
            user.replace_input_with(source, tap)
        self._taps.append(tap)
        self._wires[key] = self._wires.get(key, 0) + len(users)

    def detach(self) -> None:
        """Remove the taps: the module computes exactly what it did before :meth:`attach`."""
        module = self._module
        if module is None:
            return
        for tap in self._taps:
            tap.replace_all_uses_with(tap.args[0])  # type: ignore[arg-type]
            module.graph.erase_node(tap)
        module.recompile()
        self._taps, self._module, self._armed = [], None, False

    # ---- per step ----
    def arm(self, on: bool) -> None:
        """Measure on the next forward/backward (the trainer arms it on measured steps)."""
        self._armed = on and bool(self.units)
        if self._armed:
            self._norms = [None] * (2 * len(self.units))
            self._sums.clear()

    @property
    def armed(self) -> bool:
        return self._armed

    def _tap(self, x: torch.Tensor, key: int) -> torch.Tensor:
        """The graph calls this on each tapped wire (a plain function call: cheap when unarmed)."""
        if not self._armed or not x.requires_grad:
            return x
        y = x.view_as(x)
        y.register_hook(self._hooks[key])  # type: ignore[no-untyped-call]
        return y

    def _hook(self, key: int) -> Callable[[torch.Tensor], None]:
        if self._wires[key] == 1 and not self.keep_grads:
            def norm(grad: torch.Tensor) -> None:
                self._norms[key] = torch.linalg.vector_norm(grad, dtype=torch.float32)
            return norm

        def add(grad: torch.Tensor) -> None:  # parts of one path are summed first
            total = self._sums[key] + grad if key in self._sums else grad
            self._sums[key] = total
            self._norms[key] = torch.linalg.vector_norm(total, dtype=torch.float32)
        return add

    def vector(self) -> torch.Tensor | None:
        """Skip and branch norms of the armed step as one device vector (unit-major)."""
        if not self._armed or not self._norms:
            return None
        ref = next((n for n in self._norms if n is not None), None)
        if ref is None:
            return None
        return torch.stack([n if n is not None else ref.new_zeros(()) for n in self._norms])

    def collect(self, step: int, epoch: int) -> SplitSample | None:
        """After the backward pass: the armed step's sample (one host copy), then disarm."""
        vector = self.vector()
        self._armed = False
        if vector is None:
            return None
        values = vector.cpu().tolist()
        if self.keep_grads:
            self.grads = {(k // 2, k % 2): g for k, g in self._sums.items()}
        self._sums.clear()
        sample = SplitSample(step, epoch, [u.label for u in self.units], values[0::2], values[1::2])
        self.samples.append(sample)
        if self.on_sample is not None:
            self.on_sample(sample)
        return sample


SPLIT_COLUMNS = ("step", "epoch", "unit", "add", "skip_grad_norm", "branch_grad_norm", "skip_over_branch")


def write_csv(samples: list[SplitSample], units: list[ResidualUnit], path: str | os.PathLike[str]) -> None:
    """One row per unit per sample."""
    adds = {u.label: u.add_id for u in units}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(SPLIT_COLUMNS)
        for s in samples:
            for label, skip, branch, ratio in zip(s.labels, s.skip, s.branch, s.ratio, strict=True):
                writer.writerow([s.step, s.epoch, label, adds.get(label, ""), f"{skip:.6g}",
                                 f"{branch:.6g}", f"{ratio:.6g}"])


def read_csv(path: str | os.PathLike[str]) -> list[SplitSample]:
    """Samples written by :func:`write_csv` (a damaged row ends the reading, keeping the rest)."""
    samples: dict[int, SplitSample] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            try:
                step, epoch = int(row["step"]), int(row["epoch"])
                skip, branch = float(row["skip_grad_norm"]), float(row["branch_grad_norm"])
            except (TypeError, ValueError, KeyError):
                break
            sample = samples.setdefault(step, SplitSample(step, epoch, [], [], []))
            sample.labels.append(row["unit"])
            sample.skip.append(skip)
            sample.branch.append(branch)
    return list(samples.values())
