"""``actionbench plan``: what the enabled grid will cost before anything is submitted.

Every number comes from the same :class:`~.jobs.JobRequest` the rules hand to SLURM, so the plan
and ``snakemake --profile slurm -n`` agree: per run its GPUs, nodes and planned minutes (the
estimate with the safety margin, not capped at the partition limit: a longer run continues in
further allocations), GPU-hours (minutes x GPUs), then totals per job kind, the longest chain
of dependent jobs (data -> f8 -> f16 -> f32 -> f64 -> evaluation -> report) and the wall time of
the whole grid when at most ``jobs`` (the Snakemake profile's limit) run at once on the
cluster's ``nodes x gpus_per_node`` GPUs (simulated, longest remaining chain first, no queue
waits), and the disk for prepared frames (or re-encoded videos) and checkpoints.

Checkpoints per run: ``final.pt`` (float32 weights) and ``checkpoints/last.pt`` (weights and SGD
momentum), plus ``project.keep_set_aside`` copies of ``last.pt`` set aside when a run's identity
changes (default 1).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actionbench import defaults
from actionbench.cluster.datasets import prepared_bytes
from actionbench.cluster.jobs import JobRequest, Requests, kind_request
from actionbench.cluster.profiles import TABLE_NAME, ModelKey, ProfileBook
from actionbench.config import dataset_refs, expand_grid, run_protocol


@dataclass
class Job:
    name: str
    kind: str
    minutes: float  # planned, all allocations together
    gpus: int  # GPUs held while it runs (all nodes)
    deps: list[str] = field(default_factory=list)
    sbatch: int = 1  # SLURM submissions it takes
    request: JobRequest | None = None


@dataclass
class Plan:
    cluster: Mapping[str, Any] | None
    jobs_limit: int
    group_size: int
    jobs: dict[str, Job]
    runs: list[dict[str, Any]]
    disk: dict[str, float]
    chain: list[str]
    chain_minutes: float
    wall_minutes: float
    retries: int | None = None  # the profile's: a run gets at most retries + 1 allocations

    def short_of_retries(self) -> list[str]:
        """Runs that need more allocations than the profile's retries give them."""
        if self.retries is None:
            return []
        return [
            r["run"]
            for r in self.runs
            if (r["train"].get("estimate") or {}).get("allocations", 1) > self.retries + 1
        ]

    def kinds(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for job in self.jobs.values():
            row = out.setdefault(job.kind, {"jobs": 0, "sbatch": 0, "gpu_hours": 0.0})
            row["jobs"] += 1
            row["gpu_hours"] += job.minutes / 60 * job.gpus
        for kind, row in out.items():
            if kind == "evaluate":
                row["sbatch"] = math.ceil(row["jobs"] / self.group_size)
            else:
                row["sbatch"] = sum(j.sbatch for j in self.jobs.values() if j.kind == kind)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "cluster": dict(self.cluster) if self.cluster else None,
            "jobs_limit": self.jobs_limit,
            "evaluations_per_sbatch": self.group_size,
            "kinds": self.kinds(),
            "runs": self.runs,
            "gpu_hours": sum(r["gpu_hours"] for r in self.kinds().values()),
            "longest_chain": {"jobs": self.chain, "hours": self.chain_minutes / 60},
            "wall_hours": self.wall_minutes / 60,
            "disk_bytes": self.disk,
            "more_allocations_than_retries": self.short_of_retries(),
        }


def build_plan(
    params: Mapping[str, Any], jobs_limit: int, group_size: int = 1, retries: int | None = None
) -> Plan:
    runs = expand_grid(params)
    protocols: dict[str, dict] = {}

    def protocol(rid: str) -> dict:
        if rid not in protocols:
            protocols[rid] = run_protocol(params, rid, runs)
        return protocols[rid]

    requests = Requests(params, runs, protocol)
    cluster = (params.get("resources") or {}).get("cluster")
    cluster = defaults.cluster(cluster) if cluster else None
    profiles = ProfileBook(Path(defaults.cluster(cluster or {})["records"]) / TABLE_NAME)
    jobs: dict[str, Job] = {}
    data_done = _data_jobs(params, {spec.dataset for spec in runs.values()}, jobs)
    keep = int(defaults.project(params["project"])["keep_set_aside"])
    rows, checkpoint_bytes = [], 0.0
    for rid in runs:
        cfg = protocol(rid)
        row: dict[str, Any] = {"run": rid}
        for kind in ("train", "evaluate"):
            req = requests.get(rid, kind)
            minutes = (req.estimate or {}).get("minutes", req.runtime)
            allocations = (req.estimate or {}).get("allocations", 1)
            deps = [data_done[cfg["dataset"]]]
            if kind == "train" and cfg["init"].get("source_run") in runs:
                deps.append(f"train {cfg['init']['source_run']}")
            if kind == "evaluate":
                deps = [f"train {rid}"]
            jobs[f"{kind} {rid}"] = Job(
                f"{kind} {rid}", kind, minutes, req.total_gpus, deps, allocations, req
            )
            row[kind] = {
                **req.as_dict(),
                "minutes": minutes,
                "gpu_hours": minutes / 60 * req.total_gpus,
            }
        row["gpu_hours"] = row["train"]["gpu_hours"] + row["evaluate"]["gpu_hours"]
        params_count = profiles.get(ModelKey.of_run(cfg)).params
        row["checkpoint_bytes"] = 4 * params_count * (1 + 2 * (1 + keep))
        checkpoint_bytes += row["checkpoint_bytes"]
        rows.append(row)
    report = kind_request(params, "report")
    jobs["report"] = Job(
        "report", "report", report.runtime, 0, [f"evaluate {rid}" for rid in runs], 1, report
    )
    chain, chain_minutes = _longest_chain(jobs)
    capacity = None
    if cluster:
        capacity = max(cluster["nodes"] * cluster["gpus_per_node"], 1)
    disk = {f"prepared {base}": prepared_bytes(params, base) for base in _bases(params, runs)}
    disk["checkpoints"] = checkpoint_bytes
    return Plan(
        cluster,
        jobs_limit,
        group_size,
        jobs,
        rows,
        disk,
        chain,
        chain_minutes,
        simulate(jobs, jobs_limit, capacity),
        retries,
    )


def _bases(params: Mapping[str, Any], runs: Mapping) -> list[str]:
    refs = dataset_refs(params)
    return sorted({refs[spec.dataset].base for spec in runs.values()})


def _data_jobs(params: Mapping[str, Any], datasets: set[str], jobs: dict[str, Job]) -> dict:
    """The data stage of each dataset as jobs; returns dataset -> the job its runs wait for."""
    refs = dataset_refs(params)
    extract = kind_request(params, "extract")
    default = kind_request(params, "default")
    done: dict[str, str] = {}
    for base in sorted({refs[d].base for d in datasets}):
        cfg = defaults.dataset(params["datasets"][base])
        previous: list[str] = []
        if cfg["format"] == "synthetic":
            jobs[f"synth {base}"] = Job(f"synth {base}", "data", extract.runtime, 0, [], 1, extract)
            previous = [f"synth {base}"]
        jobs[f"index {base}"] = Job(
            f"index {base}", "data", default.runtime, 0, previous, 1, default
        )
        shards = []
        for shard in range(cfg["extract"]["shards"]):
            name = f"extract {base} shard {shard}"
            jobs[name] = Job(name, "data", extract.runtime, 0, [f"index {base}"], 1, extract)
            shards.append(name)
        jobs[f"lists {base}"] = Job(f"lists {base}", "data", default.runtime, 0, shards, 1, default)
        done[base] = f"lists {base}"
    for name in sorted(datasets):
        ref = refs[name]
        if ref.is_mini:
            deps = [f"lists {ref.base}"]
            jobs[f"mini {name}"] = Job(f"mini {name}", "data", default.runtime, 0, deps, 1, default)
            done[name] = f"mini {name}"
        else:
            done[name] = f"lists {name}"
    return done


def _longest_chain(jobs: Mapping[str, Job]) -> tuple[list[str], float]:
    finish: dict[str, tuple[float, list[str]]] = {}

    def visit(name: str) -> tuple[float, list[str]]:
        if name not in finish:
            job = jobs[name]
            before = max((visit(d) for d in job.deps), default=(0.0, []), key=lambda x: x[0])
            finish[name] = (before[0] + job.minutes, [*before[1], name])
        return finish[name]

    minutes, chain = max((visit(n) for n in jobs), key=lambda x: x[0])
    return chain, minutes


def simulate(jobs: Mapping[str, Job], limit: int, gpu_capacity: int | None) -> float:
    """Minutes until every job is done, at most ``limit`` jobs (and the cluster's GPUs) at once;
    ready jobs start longest-remaining-chain first; no queue waits, no failures."""
    tail: dict[str, float] = {}
    children: dict[str, list[str]] = {n: [] for n in jobs}
    for name, job in jobs.items():
        for dep in job.deps:
            children[dep].append(name)

    def remaining(name: str) -> float:
        if name not in tail:
            tail[name] = jobs[name].minutes + max((remaining(c) for c in children[name]), default=0)
        return tail[name]

    waiting = {n: len(j.deps) for n, j in jobs.items()}
    ready = [(-remaining(n), n) for n, w in waiting.items() if w == 0]
    heapq.heapify(ready)
    running: list[tuple[float, str]] = []
    now, gpus_busy = 0.0, 0
    capacity = gpu_capacity if gpu_capacity is not None else math.inf
    while ready or running:
        blocked = []
        while ready and len(running) < limit:
            item = heapq.heappop(ready)
            need = min(jobs[item[1]].gpus, capacity)
            if gpus_busy + need > capacity:
                blocked.append(item)
                continue
            gpus_busy += need
            heapq.heappush(running, (now + jobs[item[1]].minutes, item[1]))
        for item in blocked:
            heapq.heappush(ready, item)
        now, done = heapq.heappop(running)
        gpus_busy -= min(jobs[done].gpus, capacity)
        for child in children[done]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (-remaining(child), child))
    return now


def render(plan: Plan, per_run: bool = True) -> str:
    """The plan as text: per run, per kind, totals, chain, wall time, disk."""
    lines = []
    cl = plan.cluster
    if cl:
        devices = f"{cl['gpus_per_node']} {cl['gpu_type']}" if cl["gpus_per_node"] else "no GPU"
        lines.append(
            f"cluster: {cl['nodes']} node(s) x {devices}, "
            f"time limit {cl['max_runtime']} min, safety x{cl['safety']}"
        )
    lines.append(
        f"{len(plan.runs)} runs; at most {plan.jobs_limit} jobs at once; "
        f"{plan.group_size} evaluation(s) per sbatch"
    )
    if per_run:
        lines += ["", _per_run_table(plan.runs)]
    lines += ["", f"{'kind':<10} {'jobs':>6} {'sbatch':>7} {'GPU-hours':>10}"]
    total = 0.0
    for kind, row in plan.kinds().items():
        lines.append(f"{kind:<10} {row['jobs']:>6} {row['sbatch']:>7} {row['gpu_hours']:>10.1f}")
        total += row["gpu_hours"]
    lines.append(f"{'total':<10} {len(plan.jobs):>6} {'':>7} {total:>10.1f}")
    lines += [
        "",
        f"longest chain: {plan.chain_minutes / 60:.1f} h "
        f"({plan.chain_minutes / 1440:.1f} days): {' -> '.join(_short(plan.chain))}",
        f"whole grid: {plan.wall_minutes / 60:.1f} h ({plan.wall_minutes / 1440:.1f} days) with "
        f"at most {plan.jobs_limit} jobs"
        + (f" on {cl['nodes'] * cl['gpus_per_node']} GPUs" if cl and cl["gpus_per_node"] else "")
        + " (simulated, no queue waits)",
        "",
        "disk:",
    ]
    for what, size in plan.disk.items():
        lines.append(f"  {what:<28} {_bytes(size):>10}")
    lines.append(f"  {'total':<28} {_bytes(sum(plan.disk.values())):>10}")
    short = plan.short_of_retries()
    if short:
        lines += [
            "",
            f"warning: {len(short)} run(s) need more allocations than the profile's "
            f"retries ({plan.retries}) allow: raise `retries` in the profile, or their GPUs: "
            + ", ".join(short),
        ]
    return "\n".join(lines)


def _per_run_table(rows: list[dict[str, Any]]) -> str:
    width = max(len(r["run"]) for r in rows)
    out = [
        f"{'run':<{width}}  {'train nodes x GPUs':>18} {'cpus':>5} {'mem GB':>7} {'h':>7} "
        f"{'alloc':>5} {'eval GPUs':>9} {'h':>6}  {'GPU-h':>8}  basis"
    ]
    for r in rows:
        t, e = r["train"], r["evaluate"]
        est = t.get("estimate") or {}
        basis = "given"
        if est:
            memory, speed = _short_source(est["memory"]), _short_source(est["throughput"])
            basis = f"memory {memory}, speed {speed}"
        out.append(
            f"{r['run']:<{width}}  {t['nodes']:>9} x {t['gpus']:<6} {t['cpus']:>5} "
            f"{t['mem_mb'] / 1000:>7.0f} {t['minutes'] / 60:>7.2f} "
            f"{(t.get('estimate') or {}).get('allocations', 1):>5} {e['gpus']:>9} "
            f"{e['minutes'] / 60:>6.2f}  {r['gpu_hours']:>8.1f}  {basis}"
        )
    return "\n".join(out)


def _short_source(source: str) -> str:
    """``record``, ``estimate``, ``similar`` (another model's recorded rate) or ``assumed``."""
    for word, short in (("record of", "similar"), ("recorded", "similar"), ("assumed", "assumed")):
        if word in source:
            return short
    return source.split()[0]


def _short(chain: list[str]) -> list[str]:
    return [c if len(c) < 60 else c[:57] + "..." for c in chain]


def _bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n:.0f} B"
        n /= 1000
    raise AssertionError("unreachable")
