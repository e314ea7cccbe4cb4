"""Multi-process data-parallel training with PyTorch's own DistributedDataParallel (DDP): set-up and helpers.

    torchrun --nproc_per_node=N -m mini_man.train --ddp ...

torchrun starts N processes and gives each one its rank and the rendezvous address in the environment (`ENV`).
Every process builds the same model from the same seed, draws the same negatives and the same batch order from
the same seed, and trains on its own share of each domain's batches (`train.epoch_batches(..., parts=N)` and
`shard`). DDP averages the gradients over the processes, so every copy takes the same Adam step: one step of N
processes is one step on a global batch of N x batch size. Only rank 0 evaluates, keeps the best states and
prints; which domains are still training is broadcast from rank 0 (`broadcast`), so all processes run the same
steps and meet at the same collectives. Without `--ddp` nothing here runs.
"""
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

ENV = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")  # set by torchrun


def missing_env() -> list[str]:
    """The torchrun variables absent from the environment (all of them when not started by torchrun)."""
    return [k for k in ENV if k not in os.environ]


def init(device: str) -> str:
    """Join the process group: gloo on CPU, nccl on CUDA (one GPU per process, cuda:LOCAL_RANK).

    Returns this process's device: "cpu" or "cuda:LOCAL_RANK".
    """
    if device == "cuda":
        local_rank = int(os.environ["LOCAL_RANK"])
        torch.cuda.set_device(local_rank)  # nccl and broadcast_object_list use the current device
        dist.init_process_group("nccl")
        return f"cuda:{local_rank}"
    dist.init_process_group("gloo")
    return device


def teardown() -> None:
    """Leave the process group (also after an error), if this process joined one."""
    if dist.is_initialized():
        dist.destroy_process_group()


def rank() -> int:
    """This process's rank; 0 without a process group (a single process is its own rank 0)."""
    return dist.get_rank() if dist.is_initialized() else 0


def world_size() -> int:
    """The number of processes; 1 without a process group."""
    return dist.get_world_size() if dist.is_initialized() else 1


def shard(batches: list) -> list:
    """This process's batches: r, r + N, r + 2N, ... of a list whose length is a multiple of N."""
    assert len(batches) % world_size() == 0, "every process must run the same number of steps"
    return batches[rank()::world_size()]


def wrap(model: torch.nn.Module) -> DistributedDataParallel:
    """`model` in DDP (it broadcasts rank 0's parameters, so all copies start equal).

    find_unused_parameters: a batch of domain A leaves B's own parameters out of the graph. DDP then marks them
    ready without a gradient and leaves their `.grad` untouched (None after `zero_grad(set_to_none=True)`), so
    Adam skips them exactly as in one process (Sec. 3.3.2, independent updating).
    forward_sync_buffers=False: the only buffers are the fixed local -> global id maps, equal on every process,
    so they need no broadcast before every forward.
    """
    device = next(model.parameters()).device
    return DistributedDataParallel(model, device_ids=None if device.type == "cpu" else [device.index],
                                   find_unused_parameters=True, forward_sync_buffers=False)


def sum_over_processes(x: torch.Tensor) -> torch.Tensor:
    """The element-wise sum of `x` over all processes (every process gets it)."""
    dist.all_reduce(x)
    return x


def broadcast(obj):
    """Rank 0's `obj` (small and picklable) on every process."""
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]
