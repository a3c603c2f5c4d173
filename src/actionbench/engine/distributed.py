"""Process-group set-up for DistributedDataParallel under torchrun or plain ``srun``.

Launch modes (see docs/engine.md for recipes):

* ``torchrun`` (also one agent per node, as ``actionbench launch`` starts them in a multi-node
  job: actionbench.engine.launch): RANK/WORLD_SIZE/LOCAL_RANK and MASTER_ADDR/MASTER_PORT are
  set by torchrun and used as they are.
* ``srun`` with one task per GPU and no torchrun: the ranks are derived from
  SLURM_PROCID/SLURM_NTASKS/SLURM_LOCALID, MASTER_ADDR from the first host of the job's node list,
  and MASTER_PORT (unless set) from the job id so two jobs on one node do not collide.
* anything else: a single process, no process group.

Backend: nccl when the process drives a GPU, gloo on CPU.
"""

from __future__ import annotations

import datetime
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from actionbench.engine.launch import first_host, job_port
from actionbench.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistEnv:
    """Where this process sits in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def env_from(environ: Mapping[str, str]) -> DistEnv:
    """Ranks from torchrun variables, else from SLURM's, else a single process."""

    def as_int(name: str) -> int:
        try:
            return int(environ[name])
        except ValueError as err:
            raise ConfigError(
                f"environment variable {name}={environ[name]!r} is not an integer"
            ) from err

    if "RANK" in environ and "WORLD_SIZE" in environ:
        rank, world = as_int("RANK"), as_int("WORLD_SIZE")
        local = as_int("LOCAL_RANK") if "LOCAL_RANK" in environ else rank
        return DistEnv(rank, world, local)
    if "SLURM_PROCID" in environ and "SLURM_NTASKS" in environ and as_int("SLURM_NTASKS") > 1:
        return DistEnv(
            as_int("SLURM_PROCID"),
            as_int("SLURM_NTASKS"),
            as_int("SLURM_LOCALID") if "SLURM_LOCALID" in environ else 0,
        )
    return DistEnv()


def _export_slurm_rendezvous(env: DistEnv) -> None:
    """Fill the variables ``init_process_group(init_method='env://')`` needs under bare srun."""
    os.environ.setdefault("RANK", str(env.rank))
    os.environ.setdefault("WORLD_SIZE", str(env.world_size))
    os.environ.setdefault("LOCAL_RANK", str(env.local_rank))
    if "MASTER_ADDR" not in os.environ:
        nodelist = (
            os.environ.get("SLURM_STEP_NODELIST")
            or os.environ.get("SLURM_JOB_NODELIST")
            or os.environ.get("SLURM_NODELIST")
        )
        if not nodelist:
            raise ConfigError(
                "launched by srun without torchrun but neither MASTER_ADDR nor SLURM_NODELIST is set"
            )
        os.environ["MASTER_ADDR"] = first_host(nodelist)
    if "MASTER_PORT" not in os.environ:
        os.environ["MASTER_PORT"] = str(job_port(os.environ.get("SLURM_JOB_ID")))


def select_device(kind: str, env: DistEnv) -> torch.device:
    """``runtime.device``: auto (the local GPU if any, else CPU), cpu, cuda or cuda:N."""
    if kind == "auto":
        kind = "cuda" if torch.cuda.is_available() else "cpu"
    if kind == "cpu":
        return torch.device("cpu")
    if kind.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"runtime.device is {kind!r} but no CUDA device is available")
        device = torch.device(
            kind if ":" in kind else f"cuda:{env.local_rank % torch.cuda.device_count()}"
        )
        torch.cuda.set_device(device)
        return device
    raise ConfigError(f"runtime.device must be auto, cpu, cuda or cuda:N; got {kind!r}")


def init(device_kind: str = "auto", timeout_s: float = 1800) -> tuple[DistEnv, torch.device]:
    """Join the process group if this is a multi-process job; return (ranks, device)."""
    env = env_from(os.environ)
    device = select_device(device_kind, env)
    if env.distributed and not dist.is_initialized():
        if "RANK" not in os.environ:
            _export_slurm_rendezvous(env)
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(
            backend=backend,
            init_method="env://",
            rank=env.rank,
            world_size=env.world_size,
            timeout=datetime.timedelta(seconds=timeout_s),
            **({"device_id": device} if device.type == "cuda" else {}),
        )
        log.info("rank %d/%d joined (%s on %s)", env.rank, env.world_size, backend, device)
    return env, device


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def barrier() -> None:
    if active():
        dist.barrier()


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """In-place sum across ranks (no-op in a single process); returns the tensor."""
    if active():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def all_gather_objects(obj: Any) -> list[Any]:
    """Every rank's ``obj`` in rank order (``[obj]`` in a single process)."""
    if not active():
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """Rank ``src``'s ``obj`` on every rank."""
    if not active():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]
