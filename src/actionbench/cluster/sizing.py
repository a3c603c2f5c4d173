"""``auto`` resources: GPUs, nodes, memory, CPUs and time of a train or evaluate job.

The rules (docs/slurm.md, "Automatic sizing" has the same text with an example):

* **Memory per clip** of the model at the run's input size: from the benchmark record of the
  cluster's GPU type (:mod:`.records`, measured at two batch sizes: a fixed part plus a part per
  clip). Where the model has no record, an estimate from its profile (:mod:`.profiles`): per clip
  ``saved_bytes x AMP_FACTOR (bf16/fp16 on GPUs) x OVERHEAD``, fixed
  ``params x 4 bytes x PARAM_COPIES + CUDA_CONTEXT_MB``.
* **GPUs and nodes**: every (nodes, GPUs per node) the cluster offers for which the global batch
  splits evenly (``batch_size % (GPUs x accum_steps) == 0``, the engine's rule) and one GPU's
  micro-batch fits in ``GPU_MEM_USABLE`` of ``gpu_mem_mb``; of those, the fewest GPUs (then
  nodes) whose runtime is within ``target_runtime`` (default: the partition's ``max_runtime``),
  else within ``max_runtime``. If none is, the fastest one,
  and the run takes several allocations (it resumes from ``last.pt``: the profile's retries).
* **Runtime**: ``epochs x train videos x GMACs per clip / throughput`` plus the per-epoch
  validation, divided by the GPUs (``MULTI_NODE_EFFICIENCY`` when nodes > 1), times
  ``cluster.safety``, plus ``cluster.startup_min`` (default 5); capped at ``max_runtime``. Throughput (GMACs of forward
  passes per second and GPU): the model's own record, else the recorded rate of the most similar
  model (:meth:`.records.RecordBook.rate`), else ``cluster.assumed_gmacs_per_s``. Inference runs
  ``INFERENCE_SPEEDUP`` times a training step's rate where it is not recorded.
* **CPUs and host memory**: the node's share for the GPUs used (``cpus_per_node x GPUs /
  gpus_per_node``); without those figures, ``workers + 1`` CPUs and ``HOST_MB_PER_PROCESS +
  workers x HOST_MB_PER_WORKER`` per process. On a CPU-only cluster (``gpus_per_node: 0``) the
  host memory is the model's memory (as above, float32) plus the loader's.

An evaluate job uses one GPU (``actionbench evaluate`` is one process): its runtime is the test
views (videos x clips x crops) x GMACs / inference throughput.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from actionbench import defaults
from actionbench.cluster.datasets import dataset_size
from actionbench.cluster.profiles import TABLE_NAME, ModelKey, Profile, ProfileBook
from actionbench.cluster.records import RecordBook
from actionbench.errors import ConfigError
from actionbench.job_resources import AUTO

MB = 2**20
AMP_FACTOR = 0.5  # bf16/fp16 autocast stores most activations in 2 bytes instead of 4
# Backward temporaries and allocator slack over the saved activations: measured on CPU for
# TSN-ResNet18 f8 224 px, peak memory per clip / saved bytes = 1.78 (batch 2 -> 4), 1.13 (4 -> 8).
OVERHEAD = 1.5
INFERENCE_SHARE = 0.5  # inference keeps no activations for backward (CPU measured 0.66)
PARAM_COPIES = 4  # float32 weights, gradients, SGD momentum, DDP's gradient buckets
CUDA_CONTEXT_MB = 1500  # CUDA context, cuDNN workspaces
GPU_MEM_USABLE = 0.9  # leave room for fragmentation
INFERENCE_SPEEDUP = 3.0  # a forward pass is about a third of a training step's arithmetic
MULTI_NODE_EFFICIENCY = 0.9  # per-GPU throughput kept when gradients cross nodes
HOST_MB_PER_PROCESS = 8000
HOST_MB_PER_WORKER = 1500


@dataclass(frozen=True)
class Cluster:
    """``resources.cluster``: what ``auto`` sizes for (the keys params.yaml leaves out: their
    defaults, :data:`actionbench.defaults.CLUSTER`)."""

    gpu_type: str
    gpus_per_node: int
    max_runtime: int
    gpu_mem_mb: int | None
    cpus_per_node: int | None
    mem_mb_per_node: int | None
    nodes: int
    safety: float
    assumed_gmacs_per_s: float | None
    records: str
    startup_min: float  # start-up, loader warm-up and checkpoints of a job, minutes
    target_runtime: int | None  # minutes a run should take (None: max_runtime)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Cluster:
        raw = (params.get("resources") or {}).get("cluster")
        if not raw:
            raise ConfigError("resources.cluster: required to size `auto` resources")
        missing = [k for k in ("gpu_type", "gpus_per_node", "max_runtime") if k not in raw]
        if missing:
            raise ConfigError(f"resources.cluster: {', '.join(missing)} required")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in defaults.cluster(raw).items() if k in known})

    @property
    def on_cpu(self) -> bool:
        return self.gpus_per_node == 0


@dataclass(frozen=True)
class Memory:
    per_clip: float  # bytes
    fixed: float  # bytes
    source: str

    def need(self, clips: int) -> float:
        return self.fixed + clips * self.per_clip


class Sizer:
    """Sizes the jobs of one params.yaml (records and profiles are read once)."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params
        self.cluster = Cluster.from_params(params)
        self.records = RecordBook(self.cluster.records, self.cluster.gpu_type)
        self.profiles = ProfileBook(Path(self.cluster.records) / TABLE_NAME)

    # -- what the model costs ---------------------------------------------------------------
    def memory(self, key: ModelKey, profile: Profile, amp: str, mode: str) -> Memory:
        measured = self.records.measured(key, mode)
        if measured is not None:
            return Memory(measured.mem_per_clip, measured.mem_fixed, "record")
        factor = AMP_FACTOR if amp != "none" and not self.cluster.on_cpu else 1.0
        share = OVERHEAD if mode == "train" else INFERENCE_SHARE
        copies = PARAM_COPIES if mode == "train" else 1
        context = 0 if self.cluster.on_cpu else CUDA_CONTEXT_MB * MB
        return Memory(
            profile.saved_bytes * factor * share,
            profile.params * 4 * copies + context,
            "estimate from profile",
        )

    def rate(self, key: ModelKey, profile: Profile, mode: str) -> tuple[float, str]:
        """Throughput of one GPU (one node on a CPU cluster) in GMACs of forward per second."""
        measured = self.records.measured(key, mode)
        if measured is not None:
            return measured.clips_per_s * profile.gmacs, "record"
        similar = self.records.rate(key, mode)
        if similar is not None:
            return similar
        if mode == "inference":
            rate, source = self.rate(key, profile, "train")
            return rate * INFERENCE_SPEEDUP, f"{INFERENCE_SPEEDUP:g} x training ({source})"
        if self.cluster.assumed_gmacs_per_s:
            return self.cluster.assumed_gmacs_per_s, "assumed (resources.cluster)"
        raise ConfigError(
            f"no throughput for {self.cluster.gpu_type!r}: {self.records.path} has no records; "
            "make them with `actionbench benchmark --grid` on one GPU of the cluster "
            "(docs/slurm.md) or set resources.cluster.assumed_gmacs_per_s"
        )

    # -- jobs -------------------------------------------------------------------------------
    def size(self, kind: str, entry: Mapping[str, Any], cfg: Mapping[str, Any]) -> dict:
        """``entry`` with every ``auto`` replaced, plus ``estimate``: what the numbers rest on."""
        key = ModelKey.of_run(cfg)
        profile = self.profiles.get(key)
        if kind == "train":
            return self._train(entry, cfg, key, profile)
        return self._evaluate(entry, cfg, key, profile)

    def _train(self, entry, cfg, key: ModelKey, profile: Profile) -> dict:
        cl = self.cluster
        ds = dataset_size(self.params, cfg["dataset"])
        batch = int(cfg["optim"]["batch_size"])
        accum = int(cfg["optim"]["accum_steps"])
        epochs = int(cfg["schedule"]["epochs"])
        validations = math.ceil(epochs / int(cfg["eval"]["val_every"]))
        amp = defaults.run_value(cfg, "runtime.amp")
        memory = self.memory(key, profile, amp, "train")
        train_rate, rate_source = self.rate(key, profile, "train")
        inference_rate, _ = self.rate(key, profile, "inference")
        work_s = (
            epochs * ds.train * profile.gmacs / train_rate
            + validations * ds.val * profile.gmacs / inference_rate
        )
        tasks = int(_given(entry, "tasks_per_node"))
        options = []
        for nodes, per_node in self._layouts(entry, tasks):
            devices = nodes * per_node if per_node else nodes  # a CPU record is a whole node's
            world = nodes * (per_node if per_node else tasks)
            if batch % (world * accum):
                continue
            micro = batch // (world * accum)
            efficiency = MULTI_NODE_EFFICIENCY if nodes > 1 else 1.0
            minutes = work_s / (devices * efficiency) / 60 * cl.safety + cl.startup_min
            need = memory.need(micro)
            fits = cl.on_cpu or not cl.gpu_mem_mb or need <= GPU_MEM_USABLE * cl.gpu_mem_mb * MB
            options.append((nodes, per_node, micro, minutes, need, fits))
        if not options:
            raise ConfigError(
                f"run {cfg['run_id']}: optim.batch_size {batch} does not split over the GPUs "
                f"resources allow (batch_size % (GPUs x accum_steps {accum}) must be 0)"
            )
        fitting = [o for o in options if o[5]] or (options if not _is_auto(entry, "gpus") else [])
        if not fitting:
            smallest = min(o[4] for o in options)
            raise ConfigError(
                f"run {cfg['run_id']}: {smallest / 2**30:.1f} GiB per GPU at the smallest "
                f"micro-batch ({memory.source}) does not fit in {cl.gpu_type} "
                f"({cl.gpu_mem_mb} MB) on up to {cl.nodes} x {cl.gpus_per_node} GPUs: raise "
                "optim.accum_steps, or give gpus/nodes explicitly"
            )
        in_time = [o for o in fitting if o[3] <= (cl.target_runtime or cl.max_runtime)]
        in_time = in_time or [o for o in fitting if o[3] <= cl.max_runtime]
        nodes, per_node, micro, minutes, need, _ = (
            in_time[0] if in_time else min(fitting, key=lambda o: o[3])
        )
        out = {
            **entry,
            "gpus": per_node,
            "nodes": nodes,
            "tasks_per_node": tasks,
            "runtime": min(math.ceil(minutes), cl.max_runtime),
        }
        host_model_mb = memory.need(micro) / MB if cl.on_cpu else 0
        workers = int(cfg["data"]["workers"])
        self._host(out, entry, per_node or tasks, tasks, workers, host_model_mb)
        out["estimate"] = {
            "model": key.name,
            "gmacs_per_clip": round(profile.gmacs, 2),
            "memory": memory.source,
            "gib_per_clip": round(memory.per_clip / 2**30, 3),
            "gib_per_device": round(need / 2**30, 2),
            "micro_batch": micro,
            "throughput": rate_source,
            "gmacs_per_s": round(train_rate),
            "videos": f"{ds.train} train / {ds.val} val ({ds.source})",
            **self._minutes(minutes),
        }
        return out

    def _minutes(self, minutes: float) -> dict:
        """Planned minutes (with the safety margin, not capped: a run longer than max_runtime
        continues in further allocations), expected ones (without) and allocations."""
        cl = self.cluster
        return {
            "minutes": math.ceil(minutes),
            "expected_minutes": round((minutes - cl.startup_min) / cl.safety + cl.startup_min, 1),
            "allocations": max(1, math.ceil(minutes / cl.max_runtime)),
        }

    def _evaluate(self, entry, cfg, key: ModelKey, profile: Profile) -> dict:
        cl = self.cluster
        ds = dataset_size(self.params, cfg["dataset"])
        views = ds.val * int(cfg["eval"]["num_clips"]) * int(cfg["eval"]["num_crops"])
        amp = defaults.run_value(cfg, "runtime.amp")
        memory = self.memory(key, profile, amp, "inference")
        rate, rate_source = self.rate(key, profile, "inference")
        minutes = views * profile.gmacs / rate / 60 * cl.safety + cl.startup_min
        gpus = 0 if cl.on_cpu else 1
        if not _is_auto(entry, "gpus"):
            gpus = int(entry["gpus"])
        nodes = 1 if _is_auto(entry, "nodes") else int(entry["nodes"])
        batch = int(cfg["eval"]["batch_size"])
        out = {
            **entry,
            "gpus": gpus,
            "nodes": nodes,
            "runtime": min(math.ceil(minutes), cl.max_runtime),
        }
        workers = int(cfg["data"]["workers"])
        self._host(out, entry, max(gpus, 1), 1, workers, memory.need(batch) / MB)
        out["estimate"] = {
            "model": key.name,
            "gmacs_per_clip": round(profile.gmacs, 2),
            "views": views,
            "memory": memory.source,
            "gib_per_device": round(memory.need(batch) / 2**30, 2),
            "throughput": rate_source,
            "gmacs_per_s": round(rate),
            **self._minutes(minutes),
        }
        return out

    def _layouts(self, entry: Mapping[str, Any], tasks: int) -> list[tuple[int, int]]:
        """(nodes, GPUs per node) to consider, fewest GPUs first, then fewest nodes."""
        cl = self.cluster
        if cl.on_cpu or entry.get("gpus") == 0:
            per_node = [0]
        elif _is_auto(entry, "gpus"):
            per_node = [g for g in range(1, cl.gpus_per_node + 1) if g % tasks == 0]
        else:
            per_node = [int(_given(entry, "gpus"))]
        if not _is_auto(entry, "nodes"):
            node_counts = [int(entry["nodes"])]
        elif _is_auto(entry, "gpus") and not cl.on_cpu:
            node_counts = list(range(1, cl.nodes + 1))
        else:
            node_counts = [1]
        layouts = [(n, g) for n in node_counts for g in per_node]
        return sorted(layouts, key=lambda ng: (ng[0] * max(ng[1], 1), ng[0]))

    def _host(self, out: dict, entry, procs: int, tasks: int, workers: int, model_mb: float):
        """CPUs per task and host memory per node: the node's share for the GPUs a job uses,
        else what its processes need (``procs`` per node, ``tasks`` agents per node)."""
        cl = self.cluster
        share = procs / cl.gpus_per_node if not cl.on_cpu else 1.0
        if _is_auto(entry, "cpus"):
            if cl.cpus_per_node:
                cpus = math.floor(cl.cpus_per_node * share / tasks)
            else:
                cpus = procs * (workers + 1) // tasks
            out["cpus"] = max(1, cpus)
        if _is_auto(entry, "mem_mb"):
            if cl.on_cpu:
                need = model_mb * cl.safety + (workers + 1) * HOST_MB_PER_WORKER
            elif cl.mem_mb_per_node:
                need = cl.mem_mb_per_node * share
            else:
                need = procs * (HOST_MB_PER_PROCESS + workers * HOST_MB_PER_WORKER)
            if cl.mem_mb_per_node:
                need = min(need, cl.mem_mb_per_node)
            out["mem_mb"] = int(math.ceil(need / 100.0) * 100)


def _is_auto(entry: Mapping[str, Any], key: str) -> bool:
    """Whether ``auto`` sizes ``key``; a train job's node count is sized unless it is given."""
    return entry.get(key, AUTO if key == "nodes" else None) == AUTO


def _given(entry: Mapping[str, Any], key: str) -> Any:
    """An entry's value, else what every job gets (:data:`actionbench.defaults.RESOURCES`)."""
    return entry.get(key, defaults.RESOURCES["default"][key])
