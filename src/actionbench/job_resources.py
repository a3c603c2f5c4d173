"""params.yaml ``resources:`` for one job: the rule kind's entry, the group's, the overrides.

Merge order, key by key, later wins (docs/slurm.md, "What a job asks for"):

1. ``resources.default``, then ``resources.<kind>`` (``extract``, ``train``, ``evaluate``,
   ``report``): every job of that rule kind;
2. ``resources.overrides``: entries whose ``match`` selects the run (group, arch, backbone,
   frames, temporal_pooling, sampling), in order;
3. ``experiments.<group>.resources.<kind>``, then that group's ``overrides`` in order.

Steps 2 and 3 exist for per-run kinds only (``train``, ``evaluate``). A value may be ``auto``
there (cpus, gpus, mem_mb, runtime, nodes): :mod:`.sizing` replaces it with a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actionbench import defaults
from actionbench.config import enabled_groups
from actionbench.spec import RunSpec

AUTO = "auto"
RULE_KINDS = ("default", "extract", "train", "evaluate", "report")
RUN_KINDS = ("train", "evaluate")  # one job per run: these may be sized per run and `auto`
AUTO_KEYS = ("cpus", "gpus", "mem_mb", "runtime", "nodes")
MATCH_KEYS = ("group", "arch", "backbone", "frames", "temporal_pooling", "sampling")


def kind_entry(params: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """A rule kind's own entry over ``default`` (what every job of that kind starts from)."""
    table = params.get("resources") or {}
    return {**(table.get("default") or {}), **(table.get(kind) or {})}


def matches(match: Mapping[str, list], spec: RunSpec) -> bool:
    """Whether an override's ``match`` selects this run (every key must; a list: any of)."""
    return all(getattr(spec, key) in values for key, values in match.items())


def run_entry(params: Mapping[str, Any], spec: RunSpec, kind: str) -> dict[str, Any]:
    """The merged entry of one run's ``kind`` job (values may still be ``auto``)."""
    if kind not in RUN_KINDS:
        raise ValueError(f"per-run resources exist for {RUN_KINDS}, not {kind!r}")
    table = params.get("resources") or {}
    group = (params["experiments"].get(spec.group) or {}).get("resources") or {}
    out = kind_entry(params, kind)
    for layer in (table, group):
        if layer is group:
            out.update(group.get(kind) or {})
        for override in layer.get("overrides") or []:
            if kind in override and matches(override["match"], spec):
                out.update(override[kind])
    return out


def uses_auto(entry: Mapping[str, Any]) -> bool:
    return any(entry.get(key) == AUTO for key in AUTO_KEYS)


def resource_problems(params: Mapping[str, Any]) -> list[str]:
    """What the schema cannot say about ``resources:``; one line per problem, naming the key."""
    table = params.get("resources") or {}
    problems = []
    for kind in ("default", "extract", "report"):
        for key, value in (table.get(kind) or {}).items():
            if value == AUTO:
                problems.append(
                    f"resources.{kind}.{key}: auto sizes train and evaluate jobs only; give a number"
                )
    places: list[tuple[str, Mapping[str, Any]]] = [("resources", table)]
    for name, group in enabled_groups(dict(params)).items():  # as the other checks
        if group.get("resources"):
            places.append((f"experiments.{name}.resources", group["resources"]))
    groups = set(params["experiments"])
    any_auto = False
    for where, layer in places:
        entries = [(f"{where}.{k}", layer.get(k) or {}) for k in RUN_KINDS]
        for i, override in enumerate(layer.get("overrides") or []):
            unknown = sorted(set(override["match"].get("group", [])) - groups)
            if unknown:
                problems.append(
                    f"{where}.overrides[{i}].match.group: no experiment group {', '.join(unknown)}"
                )
            entries += [(f"{where}.overrides[{i}].{k}", override.get(k) or {}) for k in RUN_KINDS]
        for name, entry in entries:
            any_auto = any_auto or uses_auto(entry)
            tasks = entry.get("tasks_per_node", defaults.RESOURCES["default"]["tasks_per_node"])
            gpus = entry.get("gpus")
            if tasks > 1 and isinstance(gpus, int) and gpus and gpus % tasks:
                problems.append(
                    f"{name}: gpus ({gpus}) must be a multiple of tasks_per_node ({tasks}): "
                    "each torchrun agent drives the same number of GPUs"
                )
    if any_auto and not table.get("cluster"):
        problems.append(
            "resources.cluster: required when a resource is `auto` (the GPU type, GPUs per node "
            "and time limit that auto sizes for; docs/slurm.md)"
        )
    return problems
