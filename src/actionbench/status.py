"""Where every run of the grid stands, and what bringing the study up to date would cost.

Snakemake re-runs a job when what it reads changes (``fingerprints``), but on purpose not when the
code under ``src/`` changes: a 288-model study must not restart because a docstring changed. This
module makes that visible instead. For each run of the enabled grid it compares what is on disk
(the identities recorded in ``train_metrics.json`` and ``eval/metrics.json``, their ``code``,
``failure.json``) with the identity params.yaml, the lists and the initial weights give the run
now (:mod:`actionbench.identity`, the one Snakemake's ``params:`` and the trainer's resume check
use), and classifies the run as

* ``failed``: its last job left ``failure.json``;
* ``missing``: not trained or not evaluated yet (or its evaluation scored an earlier model);
* ``stale-by-params``: params.yaml now trains (or evaluates) it differently;
* ``stale-by-data``: the data it trains on (or is evaluated on) changed: re-extracted frames, an
  edited or re-drawn list, or settings that decide its lists (frames' size, the synthetic or mini
  set's seed...) changed since the lists were built, so the data stage will rebuild them;
* ``stale-by-init``: its initial weights changed: a replaced ImageNet file, a re-trained source
  run, or a source run that will be re-trained;
* ``stale-by-code``: the package source changed since the commit it was trained/evaluated with
  (or that run was made from uncommitted changes);
* ``done``: none of the above.

Snakemake re-runs exactly the runs that are not ``done`` or ``stale-by-code``.

The cost of re-running is estimated from recorded times: the run's own ``train_seconds`` /
``eval_seconds`` (scaled by the new number of epochs), else Snakemake's benchmark TSV, else the
per-epoch-and-frame time of the other recorded runs of the same model, else of any run.
"""

from __future__ import annotations

import csv
import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from actionbench.code_version import source_changed_since
from actionbench.config import expand_grid, run_protocol
from actionbench.identity import change_kind, eval_identity, identity_changes, train_identity
from actionbench.planning import list_settings_changes
from actionbench.spec import RunSpec, init_source_run

STATES = (
    "done",
    "missing",
    "stale-by-params",
    "stale-by-data",
    "stale-by-init",
    "stale-by-code",
    "failed",
)


# States Snakemake leaves as they are (a code change is reported, not re-run).
UP_TO_DATE = ("done", "stale-by-code")


@dataclass
class RunStatus:
    run_id: str
    state: str
    detail: str = ""
    train_job: bool = False  # re-running needs a train job
    eval_job: bool = False  # ... and/or an evaluate job
    seconds: float | None = None  # estimated cost of those jobs; None: no estimate
    recorded: dict[str, Any] = field(default_factory=dict)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _benchmark_seconds(path: Path) -> float | None:
    """Wall time of a Snakemake ``benchmark:`` TSV (column ``s``)."""
    try:
        with path.open() as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        return float(rows[-1]["s"]) if rows else None
    except (OSError, KeyError, ValueError):
        return None


def _epochs_of(cfg: dict | None) -> int | None:
    try:
        return int(cfg["schedule"]["epochs"])  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        return None


class _Disk:
    """What one run left on disk (read once)."""

    def __init__(self, runs_dir: Path, bench_dir: Path, rid: str):
        d = runs_dir / rid
        self.final = d / "final.pt"
        self.config = _read_json(d / "config.json")
        self.train_metrics = _read_json(d / "train_metrics.json")
        self.eval_metrics = _read_json(d / "eval" / "metrics.json")
        self.failure = _read_json(d / "failure.json")
        self.train_bench = _benchmark_seconds(bench_dir / "train" / f"{rid}.tsv")
        self.eval_bench = _benchmark_seconds(bench_dir / "evaluate" / f"{rid}.tsv")

    @property
    def train_seconds(self) -> float | None:
        value = (self.train_metrics or {}).get("train_seconds")
        return float(value) if isinstance(value, (int, float)) else self.train_bench

    @property
    def eval_seconds(self) -> float | None:
        value = (self.eval_metrics or {}).get("eval_seconds")
        return float(value) if isinstance(value, (int, float)) else self.eval_bench


def _code_state(record: dict | None, package_dir: Path | None) -> str | None:
    """Why a run is stale by code, or None when it is not (or nothing was recorded)."""
    code = (record or {}).get("code")
    if not isinstance(code, dict):
        return None
    commit = code.get("git_commit")
    if code.get("git_dirty"):
        return f"uncommitted changes on {str(commit)[:10]}"
    if source_changed_since(commit, package_dir):
        return f"src changed since {str(commit)[:10]}"
    return None


def grid_status(
    params: dict,
    bench_dir: str | Path = "logs/benchmarks",
    package_dir: str | Path | None = None,
) -> list[RunStatus]:
    """The status of every run of the enabled grid, in grid order."""
    return list(run_states(params, expand_grid(params), bench_dir, package_dir).values())


def run_states(
    params: dict,
    runs: dict[str, RunSpec],
    bench_dir: str | Path = "logs/benchmarks",
    package_dir: str | Path | None = None,
) -> dict[str, RunStatus]:
    """The status of each of ``runs`` (a grid, or the report's selection of one), by run id."""
    runs_dir = Path(params["project"]["runs_dir"])
    bench = Path(bench_dir)
    current = {rid: run_protocol(params, rid, runs) for rid in runs}
    disk = {rid: _Disk(runs_dir, bench, rid) for rid in runs}

    # once per dataset, not per run: settings that changed since its lists were built
    datasets = {cfg["dataset"] for cfg in current.values() if cfg.get("dataset")}
    lists_changed = {name: list_settings_changes(params, name) for name in datasets}

    pkg = Path(package_dir) if package_dir else None
    out = {
        rid: _run_status(
            rid,
            disk[rid],
            current[rid],
            lists_changed.get(current[rid].get("dataset"), []),
            runs_dir,
            pkg,
        )
        for rid in runs
    }
    _propagate_from_sources(out, current)
    _estimate(list(out.values()), disk, current)
    return out


def _run_status(
    rid: str, on_disk: _Disk, cfg: dict, lists_changed: list[str], runs_dir: Path, pkg: Path | None
) -> RunStatus:
    status = RunStatus(rid, "done")
    status.recorded = {
        "train_seconds": on_disk.train_seconds,
        "eval_seconds": on_disk.eval_seconds,
        "code": (on_disk.train_metrics or {}).get("code"),
        "identity": (on_disk.train_metrics or {}).get("identity"),
    }
    trained = on_disk.final.is_file() and on_disk.train_metrics is not None
    evaluated = on_disk.eval_metrics is not None
    if on_disk.failure and not (trained and evaluated and _newer(on_disk, runs_dir, rid)):
        status.state = "failed"
        status.detail = f"{on_disk.failure.get('stage', '?')}: {on_disk.failure.get('reason', '')}"
        status.train_job = on_disk.failure.get("stage") != "evaluate" or not trained
        status.eval_job = True
        return status
    if not trained:
        status.state, status.detail = "missing", "not trained"
        status.train_job = status.eval_job = True
        return status
    changes = identity_changes(status.recorded["identity"], train_identity(cfg))
    if not changes and lists_changed:  # the data stage re-runs first: new lists, new identity
        changes = [f"data settings changed ({'; '.join(lists_changed)}): the lists are rebuilt"]
    if changes:
        status.state, status.detail = change_kind(changes), "; ".join(changes)
        status.train_job = status.eval_job = True
        return status
    if not evaluated:
        status.state, status.detail = "missing", "not evaluated"
        status.eval_job = True
        return status
    why_eval = _eval_changes((on_disk.eval_metrics or {}).get("identity"), eval_identity(cfg))
    if why_eval:
        status.state, status.detail = why_eval
        status.eval_job = True
        return status
    why = _code_state(on_disk.train_metrics, pkg)
    why_eval_code = _code_state(on_disk.eval_metrics, pkg)
    if why or why_eval_code:
        status.state = "stale-by-code"
        status.detail = f"trained with {why}" if why else f"evaluated with {why_eval_code}"
        status.train_job = bool(why)
        status.eval_job = True
    return status


def _eval_changes(old: dict | None, new: dict) -> tuple[str, str] | None:
    """(state, detail) when a recorded evaluation is not the one params.yaml asks for now."""
    if not old or old.get("version") != new.get("version"):
        return "stale-by-params", "no evaluation identity recorded (made before identities)"
    if old.get("fingerprint") == new.get("fingerprint"):
        return None
    if old.get("model") != new.get("model"):
        return "missing", "not evaluated (its evaluation scored an earlier final.pt)"
    if old.get("settings") != new.get("settings"):
        return "stale-by-params", "evaluation settings changed"
    return "stale-by-data", "validation data changed (val list or its videos)"


def _propagate_from_sources(out: dict[str, RunStatus], current: dict[str, dict]) -> None:
    """A run whose init source will be re-trained will be re-trained too (Snakemake re-runs
    the jobs downstream of a re-run job): mark it, through whole chains (f8 -> f16 -> f32)."""
    changed = True
    while changed:
        changed = False
        for rid, status in out.items():
            source = init_source_run(current[rid].get("init"))
            upstream = out.get(source) if source else None
            if upstream is None or upstream.state in UP_TO_DATE or not upstream.train_job:
                continue
            if status.train_job and status.state not in UP_TO_DATE:
                continue
            if status.state != "failed":
                status.state = "stale-by-init"
                status.detail = f"its init source {source} will be re-trained"
            status.train_job = status.eval_job = True
            changed = True


def _newer(on_disk: _Disk, runs_dir: Path, rid: str) -> bool:
    """Whether the outputs were written after the failure record (a later success)."""
    record = runs_dir / rid / "failure.json"
    metrics = runs_dir / rid / "eval" / "metrics.json"
    return metrics.is_file() and metrics.stat().st_mtime >= record.stat().st_mtime


def _estimate(statuses: list[RunStatus], disk: dict[str, _Disk], current: dict[str, dict]) -> None:
    """Seconds per job from the run's own record, else from comparable recorded runs."""
    per_unit: dict[str, list[float]] = {}  # model name -> train seconds per (epoch x frame)
    eval_per_frame: dict[str, list[float]] = {}
    for rid, on_disk in disk.items():
        model, frames = rid.split("/")[1], current[rid]["frames"]
        epochs = _epochs_of(on_disk.config)
        if on_disk.train_seconds and epochs:
            per_unit.setdefault(model, []).append(on_disk.train_seconds / (epochs * frames))
        if on_disk.eval_seconds:
            eval_per_frame.setdefault(model, []).append(on_disk.eval_seconds / frames)
    every = [v for values in per_unit.values() for v in values]
    every_eval = [v for values in eval_per_frame.values() for v in values]
    for status in statuses:
        if status.state == "done":
            continue
        on_disk, cfg = disk[status.run_id], current[status.run_id]
        model, frames, epochs = status.run_id.split("/")[1], cfg["frames"], _epochs_of(cfg) or 0
        total = 0.0
        if status.train_job:
            old_epochs = _epochs_of(on_disk.config)
            if on_disk.train_seconds and old_epochs:
                total += on_disk.train_seconds * epochs / old_epochs
            elif per_unit.get(model) or every:
                total += statistics.median(per_unit.get(model) or every) * epochs * frames
            else:
                status.seconds = None
                continue
        if status.eval_job:
            if on_disk.eval_seconds:
                total += on_disk.eval_seconds
            elif eval_per_frame.get(model) or every_eval:
                total += statistics.median(eval_per_frame.get(model) or every_eval) * frames
            elif not status.train_job:
                status.seconds = None
                continue
        status.seconds = total


def summary(statuses: list[RunStatus]) -> dict[str, Any]:
    counts = {state: sum(s.state == state for s in statuses) for state in STATES}
    todo = [s for s in statuses if s.state != "done"]
    known = [s.seconds for s in todo if s.seconds is not None]
    return {
        "runs": len(statuses),
        "counts": {k: v for k, v in counts.items() if v},
        "train_jobs": sum(s.train_job for s in todo),
        "eval_jobs": sum(s.eval_job for s in todo),
        "hours": sum(known) / 3600.0,
        "without_estimate": len(todo) - len(known),
    }


def as_json(statuses: list[RunStatus]) -> dict[str, Any]:
    return {"runs": [asdict(s) for s in statuses], "summary": summary(statuses)}
