"""Several processes through ``torchrun``: DistributedDataParallel, NCCL on GPUs, gloo on CPU.

``torchrun --nproc_per_node=N main.py train …`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``
and the rendezvous address; :func:`from_env` joins the process group. Each rank trains on its
shard of every epoch's permutation (:class:`~builder.training.loader.Batches`) in batches of
``batch_size`` (per process: the global batch is ``batch_size × WORLD_SIZE``; the learning rate
is used as given, not scaled). Epoch metrics are summed across ranks; only rank 0 writes
records, checkpoints and the progress bar.

Leaving the group (:func:`shutdown`) ends its threads before the interpreter does. gloo runs
two worker threads and a TCP loop thread per group; they end only when the last reference to
the group goes. ``torch.distributed.nn.functional`` binds ``group=group.WORLD`` as a default
argument of ten functions when it is first imported, and DistributedDataParallel imports it
(through ``torch._dynamo``) after the group exists: those defaults kept the world group, and
its three threads, alive after ``destroy_process_group`` until the interpreter tore itself
down. :func:`from_env` therefore imports that module before joining (its defaults then hold
``None``), and :func:`shutdown` waits for every rank, frees DDP's reference cycle, destroys the
group: its threads end there, in the main thread, with everything still alive.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
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
        _join("nccl" if use_cuda else "gloo")
    return DistContext(rank, world, local)


def init(rank: int, world: int, backend: str = "gloo") -> DistContext:
    """Join a group whose ``MASTER_ADDR``/``MASTER_PORT`` are already set (tests, spawn)."""
    if not dist.is_initialized():
        _join(backend, rank, world)
    return DistContext(rank, world, rank)


def _join(backend: str, rank: int = -1, world: int = -1) -> None:
    """``init_process_group`` after the import that would otherwise pin the group (above)."""
    import torch.distributed.nn.functional  # noqa: F401  (binds group=None, not the group)

    dist.init_process_group(backend, rank=rank, world_size=world)
    atexit.register(_leave, False)  # a command that fails after joining still leaves cleanly


def all_sum(values: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum a tensor over the ranks (a no-op for one process)."""
    if ctx.active:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def shutdown(ctx: DistContext) -> None:
    """Leave the group: wait for the other ranks (unless an exception is on its way), destroy it.

    Safe to call twice and from a ``finally`` block.
    """
    if ctx.active:
        _leave(sys.exc_info()[0] is None)


def _leave(wait_for_peers: bool) -> None:
    if not dist.is_initialized():
        return
    if wait_for_peers:
        dist.barrier()  # no rank closes its connections while another still reads from them
    gc.collect()  # a DDP wrapper sits in a reference cycle and holds the group
    dist.destroy_process_group()
    gc.collect()

