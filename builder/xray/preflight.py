"""Pre-flight signal check: one forward and backward pass on one batch, before training.

The module is initialised exactly as the trainer does it (``torch.manual_seed(seed)`` then
compile) and fed the trainer's first batch (epoch 0's shuffle, no augmentation), in training
mode, so the weight-gradient profile is the one step 0 of that run will show. It computes in
fp32 NCHW: a run at precision ``auto`` (bf16 on a CPU that computes it natively) shows the
same profile up to bf16 rounding. Per block:
activation mean, std and fraction of zeros, the norm of the gradient w.r.t. the block's output,
and for Conv2d/BatchNorm2d/Linear the norm of the weight gradient. One host copy at the end.

Verdicts, with these thresholds (the *layers* are the Conv2d and Linear blocks, input side
first; "first/last" leaves out the classifier, as ``main.py compare`` does; the *trunk* is the
blocks every Input → Output path passes through — a plain net's every block, a ResNet's
residual stream between units — taking the last such block at each depth):

======================  ==========================================================  =======
code                    when                                                         level
======================  ==========================================================  =======
``non_finite``          a non-finite activation, loss or gradient                    error
``exploding_gradient``  first conv's weight gradient ≥ 100× the last conv's          warning
``vanishing_gradient``  first conv's weight gradient ≤ 1/100 of the last conv's      warning
``vanishing_signal``    the trunk's std falls to ≤ 1/1000 of its first value         warning
``exploding_signal``    the trunk's std grows to ≥ 1000× its first value             warning
``dead_relu``           ≥ 99 % of a ReLU's outputs are zero                          warning
``high_initial_loss``   initial loss > 3 × ln(classes) (chance level)                warning
``gradient_ratio``      otherwise: the first/last ratio, for the record              ok
======================  ==========================================================  =======
"""

from __future__ import annotations

import csv
import math
import os
import time
from dataclasses import dataclass, field

import networkx as nx
import torch
import torch.nn.functional as F
from torch import fx

from builder.catalog import fmt_shape
from builder.compile import compile_graph
from builder.graph import Graph
from builder.validate import validate
from builder.xray.fxmap import block_nodes
from builder.xray.runs import XrayError

GRAD_EXPLODE = 100.0
GRAD_VANISH = 0.01
SIGNAL_CHANGE = 1000.0
DEAD_RELU = 0.99
LOSS_FACTOR = 3.0
LAYER_TYPES = ("conv2d", "linear")
STATS = 4  # mean, std, fraction of zeros, all finite


@dataclass
class BlockProfile:
    """One block's numbers (``layer`` is its 1-based index among Conv2d/Linear blocks, else 0)."""

    block_id: str
    type: str
    shape: str
    layer: int
    act_mean: float
    act_std: float
    zero_frac: float
    finite: bool
    out_grad_norm: float  # ‖∂L/∂output‖₂ (nan when no gradient reaches it)
    weight_grad_norm: float  # ‖∂L/∂W‖₂ (nan for blocks without weights)
    depth: int = 0  # Conv2d/Linear layers up to and including this block
    trunk: bool = False  # every path from the Input to the Output passes through this block


@dataclass
class Verdict:
    level: str  # ok | warning | error
    code: str
    message: str
    block_id: str = ""

    def __str__(self) -> str:
        return f"{self.level}: {self.message}"


@dataclass
class Preflight:
    """The profile of one forward/backward pass and what it means."""

    graph_name: str
    batch_size: int
    num_classes: int
    loss: float
    rows: list[BlockProfile]
    verdicts: list[Verdict] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def layers(self) -> list[BlockProfile]:
        return [r for r in self.rows if r.layer]

    @property
    def trunk(self) -> list[BlockProfile]:
        """The signal's path, one point per depth: of the blocks every Input → Output path passes
        through (a ResNet's residual stream between units), the last one at each depth."""
        last: dict[int, BlockProfile] = {}
        for r in self.rows:
            if r.trunk and r.depth and r.type != "output":
                last[r.depth] = r
        return list(last.values())

    def grad_ratio(self) -> float:
        """First conv's weight-gradient norm over the last conv's (nan with fewer than two)."""
        convs = [r for r in self.layers if r.type == "conv2d"]
        if len(convs) < 2 or not convs[-1].weight_grad_norm > 0:
            return float("nan")
        return convs[0].weight_grad_norm / convs[-1].weight_grad_norm

    def write_csv(self, path: str | os.PathLike[str]) -> None:
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["block", "type", "shape", "layer", "act_mean", "act_std", "zero_frac",
                             "out_grad_norm", "weight_grad_norm"])
            for r in self.rows:
                writer.writerow([r.block_id, r.type, r.shape, r.layer or "", f"{r.act_mean:.6g}",
                                 f"{r.act_std:.6g}", f"{r.zero_frac:.4g}", f"{r.out_grad_norm:.6g}",
                                 "" if math.isnan(r.weight_grad_norm) else f"{r.weight_grad_norm:.6g}"])

    def text(self) -> str:
        head = (f"{self.graph_name}: pre-flight on one batch of {self.batch_size} "
                f"(loss {self.loss:.4g}, {self.seconds:.2f} s)")
        return "\n".join([head, *(f"  {v}" for v in self.verdicts)])


class _Recorder(fx.Interpreter):
    """Runs the module node by node, keeping each block's output statistics and gradient norm."""

    def __init__(self, module: fx.GraphModule, blocks: dict[fx.Node, int]) -> None:
        super().__init__(module)
        self.blocks = blocks
        self.stats: list[torch.Tensor | None] = [None] * len(blocks)
        self.grads: list[torch.Tensor | None] = [None] * len(blocks)

    def run_node(self, n: fx.Node) -> object:
        result = super().run_node(n)
        i = self.blocks.get(n)
        if i is not None and isinstance(result, torch.Tensor):
            t = result.detach().float()
            std = t.std() if t.numel() > 1 else t.new_zeros(())
            self.stats[i] = torch.stack([t.mean(), std, (t == 0).float().mean(),
                                         torch.isfinite(t).all().float()])
            if result.requires_grad:
                result.register_hook(lambda g, i=i: self._grad(i, g))  # type: ignore[no-untyped-call]
        return result

    def _grad(self, i: int, grad: torch.Tensor) -> None:
        self.grads[i] = torch.linalg.vector_norm(grad.detach().float())


def first_batch(data: object, batch_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The trainer's first batch for ``seed`` (epoch 0's shuffle, no augmentation)."""
    from builder.training.loader import Batches, epoch_generator

    x, y = data.x_train, data.y_train  # type: ignore[attr-defined]
    return next(iter(Batches(x, y, batch_size, shuffle=True, gen=epoch_generator(seed, 0))))


def preflight(graph: Graph, data: object, batch_size: int = 128, seed: int = 0,
              device: str | torch.device = "cpu") -> Preflight:
    """Initialise ``graph`` as the trainer would and profile one step on ``data``'s first batch.

    torch's global random state is restored afterwards (a run training meanwhile keeps its own).
    """
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = compile_graph(graph).to(device)
    xb, yb = first_batch(data, batch_size, seed)
    result = profile(graph, module, xb.to(device), yb.to(device))
    result.seconds = time.perf_counter() - start
    return result


def profile(graph: Graph, module: fx.GraphModule, xb: torch.Tensor, yb: torch.Tensor) -> Preflight:
    """One forward and backward of ``module`` (compiled ``graph``) in training mode on ``(xb, yb)``."""
    report = validate(graph)
    nodes = block_nodes(graph, module)
    ids = [b for b in report.order if b in nodes]
    recorder = _Recorder(module, {nodes[b][-1]: i for i, b in enumerate(ids)})
    module.train()
    module.zero_grad(set_to_none=True)
    out = recorder.run(xb)
    if out.dim() != 2:
        raise XrayError(f"the graph's output is {fmt_shape(tuple(out.shape[1:]))} per image, not one score "
                        "per class: pre-flight needs a classifier (end with a pool, Flatten and Linear)")
    loss = F.cross_entropy(out.float(), yb)
    loss.backward()  # type: ignore[no-untyped-call]
    weights = _weight_grads(graph, module, ids)
    nan = torch.full((STATS,), float("nan"), device=loss.device)
    grads = torch.stack([g if g is not None else nan[0] for g in recorder.grads])
    stats = torch.cat([s if s is not None else nan for s in recorder.stats])
    packed = torch.cat([loss.detach().reshape(1), weights, grads, stats]).cpu().tolist()
    n = len(ids)
    wnorm, gnorm, values = packed[1:1 + n], packed[1 + n:1 + 2 * n], packed[1 + 2 * n:]
    rows, layer, trunk = [], 0, trunk_blocks(graph)
    for i, block_id in enumerate(ids):
        block = graph.block(block_id)
        layer += block.type in LAYER_TYPES
        mean, std, zeros, finite = values[STATS * i:STATS * (i + 1)]
        rows.append(BlockProfile(block_id, block.type, fmt_shape(report.shapes.get(block_id)),
                                 layer if block.type in LAYER_TYPES else 0, mean, std, zeros,
                                 finite == 1.0, gnorm[i], wnorm[i], layer, block_id in trunk))
    classes = int(out.shape[-1]) if out.dim() > 1 else 1
    result = Preflight(graph.name, len(yb), classes, packed[0], rows)
    result.verdicts = verdicts(result)
    return result


def trunk_blocks(graph: Graph) -> set[str]:
    """Blocks that every Input → Output path passes through (the dominators of the Output)."""
    inp = next((b.id for b in graph.blocks() if b.type == "input"), None)
    out = next((b.id for b in graph.blocks() if b.type == "output"), None)
    if inp is None or out is None:
        return set()
    idom = nx.immediate_dominators(graph.nx, inp)
    found, cur = {out}, out
    while cur in idom and idom[cur] != cur:
        cur = idom[cur]
        found.add(cur)
    return found


def _weight_grads(graph: Graph, module: fx.GraphModule, ids: list[str]) -> torch.Tensor:
    """‖∂L/∂W‖₂ per block in ``ids`` (nan where a block has no weight or no gradient)."""
    paths: dict[str, str] = getattr(module, "block_paths", {})
    grads: list[torch.Tensor | None] = []
    for block_id in ids:
        weight = getattr(module.get_submodule(paths[block_id]), "weight", None) if block_id in paths else None
        grads.append(weight.grad if isinstance(weight, torch.Tensor) else None)
    present = [g for g in grads if g is not None]
    norms = iter(torch._foreach_norm(present)) if present else iter(())
    device = next((p.device for p in module.parameters()), torch.device("cpu"))
    nan = torch.tensor(float("nan"), device=device)
    return torch.stack([next(norms).float() if g is not None else nan for g in grads]) if grads else nan[:0]


def _times(value: float) -> str:
    """``244×``, ``0.003×``, or ``10⁴×`` from 1,000 on."""
    if value >= 1000:
        power = str(int(math.floor(math.log10(value))))
        return "10" + power.translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")) + "×"
    return f"{value:.3g}×"


def verdicts(p: Preflight) -> list[Verdict]:
    """Every finding of the thresholds in the module docstring, errors first."""
    found = _finite(p)
    if found:
        return found
    found += _gradient(p) + _signal(p) + _dead(p)
    chance = math.log(max(p.num_classes, 2))
    if p.loss > LOSS_FACTOR * chance:
        found.append(Verdict("warning", "high_initial_loss",
                             f"initial loss {p.loss:.3g} is far above chance level ln({p.num_classes}) = "
                             f"{chance:.3g}: the logits start too large"))
    order = {"error": 0, "warning": 1, "ok": 2}
    return sorted(found, key=lambda v: order[v.level])


def _finite(p: Preflight) -> list[Verdict]:
    bad = next((r for r in p.rows if not r.finite), None)
    if bad is not None:
        return [Verdict("error", "non_finite", f"activations become non-finite at {bad.block_id}",
                        bad.block_id)]
    if not math.isfinite(p.loss):
        return [Verdict("error", "non_finite", f"the loss is {p.loss}")]
    bad = next((r for r in p.layers if not math.isfinite(r.weight_grad_norm)), None)
    if bad is not None:
        return [Verdict("error", "non_finite", f"the weight gradient of {bad.block_id} is non-finite",
                        bad.block_id)]
    return []


def _gradient(p: Preflight) -> list[Verdict]:
    convs = [r for r in p.layers if r.type == "conv2d"]
    ratio = p.grad_ratio()
    if math.isnan(ratio):
        return []
    first, last = convs[0], convs[-1]
    what = f"gradient at {first.block_id} is {_times(ratio)} the last layer's ({last.block_id})"
    if ratio >= GRAD_EXPLODE:
        return [Verdict("warning", "exploding_gradient", f"{what}: expect unstable early training",
                        first.block_id)]
    if ratio <= GRAD_VANISH:
        return [Verdict("warning", "vanishing_gradient",
                        f"{what}: the first layers will barely learn (vanishing gradient)", first.block_id)]
    return [Verdict("ok", "gradient_ratio", f"{what}: balanced", first.block_id)]


def _signal(p: Preflight) -> list[Verdict]:
    stream = [r for r in p.trunk if not math.isnan(r.act_std)]
    if len(stream) < 2 or not stream[0].act_std > 0:
        return []
    ref = stream[0].act_std
    low = min(stream[1:], key=lambda r: r.act_std)
    high = max(stream[1:], key=lambda r: r.act_std)
    found = []
    if low.act_std * SIGNAL_CHANGE <= ref:
        factor = ref / low.act_std if low.act_std > 0 else float("inf")
        text = "to zero" if math.isinf(factor) else _times(factor)
        found.append(Verdict("warning", "vanishing_signal", f"activations shrink {text} by layer "
                             f"{low.depth} ({low.block_id}): vanishing signal", low.block_id))
    if high.act_std >= SIGNAL_CHANGE * ref:
        found.append(Verdict("warning", "exploding_signal", f"activations grow {_times(high.act_std / ref)} "
                             f"by layer {high.depth} ({high.block_id}): exploding signal", high.block_id))
    return found


def _dead(p: Preflight) -> list[Verdict]:
    dead = [r for r in p.rows if r.type == "relu" and r.zero_frac >= DEAD_RELU]
    if not dead:
        return []
    names = ", ".join(r.block_id for r in dead[:3]) + (f" and {len(dead) - 3} more" if len(dead) > 3 else "")
    worst = max(dead, key=lambda r: r.zero_frac)
    return [Verdict("warning", "dead_relu", f"{100 * worst.zero_frac:.0f}% of the outputs of {names} "
                    "are zero: dead units pass no gradient", worst.block_id)]
