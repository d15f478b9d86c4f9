"""Several processes through ``torchrun``: DistributedDataParallel, NCCL on GPUs, gloo on CPU.

``torchrun --nproc_per_node=N main.py train …`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``
and the rendezvous address; :func:`from_env` joins the process group. Each rank trains on its
shard of every epoch's permutation (:class:`~builder.training.loader.Batches`); epoch metrics
are summed across ranks; only rank 0 writes records, checkpoints and the progress bar.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    """This process's place in the job (rank 0 of 1 when not distributed)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


SINGLE = DistContext()


def from_env(device: str = "auto") -> DistContext:
    """Join the process group that ``torchrun`` describes; a single process otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return SINGLE
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device not in ("cpu", "mps")
    if not dist.is_initialized():
        if use_cuda:
            torch.cuda.set_device(local)
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return DistContext(rank, world, local)


def init(rank: int, world: int, backend: str = "gloo") -> DistContext:
    """Join a group whose ``MASTER_ADDR``/``MASTER_PORT`` are already set (tests, spawn)."""
    if not dist.is_initialized():
        dist.init_process_group(backend, rank=rank, world_size=world)
    return DistContext(rank, world, rank)


def all_sum(values: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum a tensor over the ranks (a no-op for one process)."""
    if ctx.active:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def shutdown(ctx: DistContext) -> None:
    if ctx.active and dist.is_initialized():
        dist.destroy_process_group()
