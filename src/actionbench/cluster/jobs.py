"""One job's request, as numbers, and as the resource names snakemake-executor-plugin-slurm reads.

Everyone who needs a job's size asks here: the rules (``workflow/rules/common.smk``), ``actionbench
grid --show`` and ``actionbench plan``, so the dry run, the shown run and the cost plan agree.

Plugin names (snakemake-executor-plugin-slurm 2.8, ``submit_string.py`` and ``utils.py``; the
job step plugin's ``__init__.py``), docs/slurm.md has the table:

* one process, or one node: ``gpu`` -> ``--gpus=<n>``; the job step runs the rule inside
  ``srun -n1 --gpus=<n> --cpus-per-task=<cpus>``, and torchrun starts one process per GPU;
* several torchrun agents (``nodes x tasks_per_node > 1``): ``mpi`` (its presence makes the job
  step plugin run the rule directly, without its srun, so the rule calls ``srun`` itself),
  ``tasks`` -> ``--ntasks``, ``gres: gpu:<n>`` -> ``--gres`` (GPUs per node: ``--gpus`` would
  count the job's total, which SLURM may split unevenly between nodes), ``tasks_per_gpu: 0``
  (else the plugin adds ``--ntasks-per-gpu=<tasks>`` to GPU jobs);
* always ``mem_mb`` -> ``--mem`` (per node), ``runtime`` -> ``-t``, ``nodes`` -> ``--nodes``,
  ``slurm_partition`` -> ``-p``, ``slurm_account`` -> ``-A``, ``constraint`` -> ``-C``; CPUs are
  the rule's ``threads`` -> ``--cpus-per-task``.
* ``agents``, ``procs_per_agent``, ``gpus_per_agent``: read by the train rule's launcher
  (``actionbench launch``), ignored by the plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from actionbench import defaults
from actionbench.errors import ConfigError
from actionbench.job_resources import RUN_KINDS, kind_entry, run_entry, uses_auto
from actionbench.spec import RunSpec

# Every name plugin_resources() may set (a rule declares them all; absent ones are None).
PLUGIN_RESOURCE_NAMES = (
    "mem_mb",
    "runtime",
    "nodes",
    "slurm_partition",
    "slurm_account",
    "constraint",
    "gpu",
    "mpi",
    "tasks",
    "tasks_per_gpu",
    "gres",
    "agents",
    "procs_per_agent",
    "gpus_per_agent",
)


@dataclass(frozen=True)
class JobRequest:
    """What one SLURM job asks for; ``cpus`` per task (= per torchrun agent), ``gpus`` and
    ``mem_mb`` per node."""

    cpus: int
    gpus: int
    nodes: int
    mem_mb: int
    runtime: int
    tasks_per_node: int = 1
    partition: str | None = None
    account: str | None = None
    constraint: str | None = None
    estimate: Mapping[str, Any] | None = None  # set when `auto` sized it: what it rests on

    @property
    def agents(self) -> int:
        """torchrun agents (SLURM tasks) of the job: one per node on a cluster."""
        return self.nodes * self.tasks_per_node

    @property
    def procs_per_agent(self) -> int:
        """Training processes each agent starts: one per GPU, or one on CPU."""
        return max(1, self.gpus // self.tasks_per_node)

    @property
    def world_size(self) -> int:
        return self.agents * self.procs_per_agent

    @property
    def total_gpus(self) -> int:
        return self.nodes * self.gpus

    def plugin_resources(self, launcher: bool = True) -> dict[str, Any]:
        """The rule's ``resources:`` (see the module docstring for what each becomes);
        ``launcher``: with the numbers ``actionbench launch`` reads (train jobs)."""
        out: dict[str, Any] = {
            "mem_mb": self.mem_mb,
            "runtime": self.runtime,
            "nodes": self.nodes,
            "slurm_partition": self.partition or "",
            "slurm_account": self.account or "",
        }
        if launcher:
            out.update(
                agents=self.agents,
                procs_per_agent=self.procs_per_agent,
                gpus_per_agent=self.gpus // self.tasks_per_node,
            )
        if self.constraint:
            out["constraint"] = self.constraint
        if self.agents > 1:
            out.update(mpi="srun", tasks=self.agents, tasks_per_gpu=0)
            if self.gpus:
                out["gres"] = f"gpu:{self.gpus}"
        else:
            out["gpu"] = self.gpus
        return out

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v is not None}
        out.update(agents=self.agents, world_size=self.world_size)
        return out


def _request(entry: Mapping[str, Any], kind: str, estimate: Mapping | None = None) -> JobRequest:
    """The request of a merged entry; what it leaves out, the rule kind's default
    (:func:`actionbench.defaults.job`)."""
    entry = defaults.fill(defaults.job(kind), entry)
    return JobRequest(
        cpus=int(entry["cpus"]),
        gpus=int(entry["gpus"]),
        nodes=int(entry["nodes"]),
        mem_mb=int(entry["mem_mb"]),
        runtime=int(entry["runtime"]),
        tasks_per_node=int(entry["tasks_per_node"]),
        partition=entry.get("partition") or None,
        account=entry.get("account") or None,
        constraint=entry.get("constraint") or None,
        estimate=estimate,
    )


def kind_request(params: Mapping[str, Any], kind: str) -> JobRequest:
    """A job of a rule kind that is not per run (extract, report, the data steps)."""
    return _request(kind_entry(params, kind), kind)


class Requests:
    """Per-run requests of one params.yaml, each computed once (Snakemake asks many times).

    ``protocol(run_id)`` gives a run's resolved config (``config.run_protocol``); the Snakefile
    passes its own cached one.
    """

    def __init__(
        self,
        params: Mapping[str, Any],
        runs: Mapping[str, RunSpec],
        protocol: Callable[[str], Mapping[str, Any]],
    ) -> None:
        self.params, self.runs, self.protocol = params, runs, protocol
        self._sizer: Any = None
        self._done: dict[tuple[str, str], JobRequest] = {}

    def entry(self, run_id: str, kind: str) -> dict[str, Any]:
        return run_entry(self.params, self.runs[run_id], kind)

    def get(self, run_id: str, kind: str) -> JobRequest:
        if kind not in RUN_KINDS:
            return kind_request(self.params, kind)
        if (run_id, kind) not in self._done:
            self._done[run_id, kind] = self._size(run_id, kind)
        return self._done[run_id, kind]

    def _size(self, run_id: str, kind: str) -> JobRequest:
        entry = self.entry(run_id, kind)
        cfg = self.protocol(run_id)
        estimate = None
        if uses_auto(entry):
            if self._sizer is None:
                from actionbench.cluster.sizing import Sizer

                self._sizer = Sizer(self.params)
            entry = self._sizer.size(kind, entry, cfg)
            estimate = entry.pop("estimate")
        request = _request(entry, kind, estimate)
        if kind == "train":
            check_world(request, cfg)
        return request


def check_world(request: JobRequest, cfg: Mapping[str, Any]) -> None:
    """The engine's global-batch rule, checked before submitting instead of on the nodes."""
    batch = int(cfg["optim"]["batch_size"])
    accum = int(cfg["optim"]["accum_steps"])
    if request.gpus and request.gpus % request.tasks_per_node:
        raise ConfigError(
            f"run {cfg['run_id']}: gpus ({request.gpus}) must be a multiple of tasks_per_node "
            f"({request.tasks_per_node})"
        )
    if batch % (request.world_size * accum):
        raise ConfigError(
            f"run {cfg['run_id']}: optim.batch_size ({batch}) must be divisible by the "
            f"processes ({request.world_size} = {request.agents} agents x "
            f"{request.procs_per_agent}) x optim.accum_steps ({accum}); change the resources "
            "or accum_steps"
        )
