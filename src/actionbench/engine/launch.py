"""How the train rule starts ``actionbench train``: directly, under torchrun, or on N nodes.

The rule runs ``actionbench launch --agents A --nodes N --procs-per-agent P ... -- actionbench
train ...`` with the numbers of its :class:`actionbench.cluster.jobs.JobRequest`:

* ``A == 1``, ``P == 1``: the command itself (one process);
* ``A == 1``, ``P > 1``: ``torchrun --standalone --nnodes=1 --nproc-per-node=P`` (one node);
* ``A > 1``: the job holds N nodes (the plugin's ``mpi`` resource ran the rule on the first one,
  without a job step around it), so this calls ``srun`` for A tasks, one per node (or
  ``tasks_per_node`` per node, the one-machine stand-in), each running ``actionbench launch
  --agent``, which execs one torchrun agent: ``--nnodes=A --nproc-per-node=P``, a c10d
  rendezvous on the allocation's first node at a port derived from the job id, and the job id as
  rendezvous id (a requeued or resubmitted job gets a fresh rendezvous).

Every process then resumes from the same ``checkpoints/last.pt`` and only rank 0 writes
(engine/train.py); SIGTERM from SLURM reaches every task of the step (srun forwards it, and
torchrun passes it to its workers).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

from actionbench.errors import ConfigError

PORT_BASE, PORT_SPAN = 20000, 20000  # MASTER_PORT / rendezvous port: 20000 + job id % 20000


def job_port(job_id: str | int | None) -> int:
    """A port for the job's rendezvous: two jobs sharing a node rarely collide."""
    try:
        return PORT_BASE + int(job_id or 0) % PORT_SPAN
    except ValueError as err:
        raise ConfigError(f"SLURM job id {job_id!r} is not a number") from err


def first_host(nodelist: str) -> str:
    """First host name of a SLURM node list: ``gpu[007-009,012],cpu1`` -> ``gpu007``."""
    nodelist = nodelist.strip()
    match = re.match(r"([^,\[]+)(?:\[([^\]]+)\])?", nodelist)
    if not match:
        raise ConfigError(f"cannot parse SLURM node list {nodelist!r}")
    prefix, ranges = match.group(1), match.group(2)
    if not ranges:
        return prefix
    return prefix + ranges.split(",")[0].split("-")[0]


def local_argv(procs: int, command: Sequence[str]) -> list[str]:
    """One agent on this machine: the command itself, or torchrun --standalone."""
    if procs <= 1:
        return list(command)
    return [
        "torchrun",
        "--standalone",
        "--nnodes=1",
        f"--nproc-per-node={procs}",
        "--no-python",
        "--",  # else torchrun's parser reads the command's `--run` as its `--run-path`
        *command,
    ]


def srun_argv(
    agents: int, nodes: int, procs: int, gpus_per_agent: int, cpus: int, command: Sequence[str]
) -> list[str]:
    """The job step: one task per agent, each ``actionbench launch --agent`` on its node."""
    if agents % nodes:
        raise ConfigError(f"{agents} agents do not spread evenly over {nodes} nodes")
    argv = [
        "srun",
        f"--nodes={nodes}",
        f"--ntasks={agents}",
        f"--ntasks-per-node={agents // nodes}",
        f"--cpus-per-task={cpus}",
        "--kill-on-bad-exit=1",
    ]
    if gpus_per_agent:
        argv.append(f"--gres=gpu:{gpus_per_agent * (agents // nodes)}")
    return argv + [
        "actionbench",
        "launch",
        "--agent",
        f"--agents={agents}",
        f"--procs-per-agent={procs}",
        "--",
        *command,
    ]


def agent_argv(agents: int, procs: int, environ: Mapping[str, str], command: Sequence[str]):
    """One task of the step: a torchrun agent joining the c10d rendezvous of the job."""
    job = environ.get("SLURM_JOB_ID")
    nodelist = environ.get("SLURM_STEP_NODELIST") or environ.get("SLURM_JOB_NODELIST")
    if not job or not nodelist:
        raise ConfigError(
            "actionbench launch --agent runs inside `srun` (SLURM_JOB_ID and "
            "SLURM_JOB_NODELIST must be set); use it through the train rule"
        )
    host = first_host(nodelist)
    return [
        "torchrun",
        f"--nnodes={agents}",
        f"--nproc-per-node={procs}",
        "--rdzv-backend=c10d",
        f"--rdzv-endpoint={host}:{job_port(job)}",
        f"--rdzv-id={job}",
        "--no-python",
        "--",
        *command,
    ]


def launch_argv(
    command: Sequence[str],
    agents: int = 1,
    nodes: int = 1,
    procs: int = 1,
    gpus_per_agent: int = 0,
    cpus: int = 1,
    agent: bool = False,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """What to exec for a train job of this shape (see the module docstring)."""
    if not command:
        raise ConfigError("actionbench launch needs a command after --")
    if agent:
        return agent_argv(agents, procs, os.environ if environ is None else environ, command)
    if agents <= 1:
        return local_argv(procs, command)
    return srun_argv(agents, nodes, procs, gpus_per_agent, cpus, command)
