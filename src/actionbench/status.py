"""Where every run of the grid stands, and what bringing the study up to date would cost.

Snakemake re-runs a job when what it reads changes (``fingerprints``), but on purpose not when the
code under ``src/`` changes: a 288-model study must not restart because a docstring changed. This
module makes that visible instead. For each run of the enabled grid it compares what is on disk
(``runs/<id>/config.json``, ``eval/config.json``, ``train_metrics.json``'s ``code``, ``failure.json``)
with params.yaml and the checkout, and classifies the run as

* ``failed``: its last job left ``failure.json``;
* ``missing``: not trained or not evaluated yet;
* ``stale-by-params``: params.yaml now trains (or evaluates) it differently, or the run it
  initialises from was re-trained after it;
* ``stale-by-code``: the package source changed since the commit it was trained/evaluated with
  (or that run was made from uncommitted changes);
* ``done``: none of the above.

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
from actionbench.fingerprints import eval_fingerprint, train_fingerprint

STATES = ("done", "missing", "stale-by-params", "stale-by-code", "failed")


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
        self.eval_config = _read_json(d / "eval" / "config.json")
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
    runs = expand_grid(params)
    runs_dir = Path(params["project"]["runs_dir"])
    bench = Path(bench_dir)
    current = {rid: run_protocol(params, rid, runs) for rid in runs}
    disk = {rid: _Disk(runs_dir, bench, rid) for rid in runs}

    def saved(rid: str) -> dict | None:
        if rid in disk:
            return disk[rid].config
        return _read_json(runs_dir / rid / "config.json")

    pkg = Path(package_dir) if package_dir else None
    out = []
    for rid in runs:
        on_disk, cfg = disk[rid], current[rid]
        status = RunStatus(rid, "done")
        status.recorded = {
            "train_seconds": on_disk.train_seconds,
            "eval_seconds": on_disk.eval_seconds,
            "code": (on_disk.train_metrics or {}).get("code"),
        }
        trained = on_disk.final.is_file() and on_disk.train_metrics is not None
        evaluated = on_disk.eval_metrics is not None
        if on_disk.failure and not (trained and evaluated and _newer(on_disk, runs_dir, rid)):
            status.state = "failed"
            status.detail = (
                f"{on_disk.failure.get('stage', '?')}: {on_disk.failure.get('reason', '')}"
            )
            status.train_job = on_disk.failure.get("stage") != "evaluate" or not trained
            status.eval_job = True
        elif not trained:
            status.state, status.detail = "missing", "not trained"
            status.train_job = status.eval_job = True
        else:
            now_fp = train_fingerprint(rid, lambda r: current.get(r) or saved(r))
            then_fp = train_fingerprint(rid, saved)
            source = _source_final(cfg)
            if then_fp is None:
                status.state, status.detail = "stale-by-params", "no saved config.json"
                status.train_job = status.eval_job = True
            elif now_fp != then_fp:
                status.state, status.detail = "stale-by-params", "training settings changed"
                status.train_job = status.eval_job = True
            elif (
                source
                and source.is_file()
                and source.stat().st_mtime > on_disk.final.stat().st_mtime
            ):
                status.state, status.detail = "stale-by-params", "init checkpoint re-trained since"
                status.train_job = status.eval_job = True
            elif not evaluated:
                status.state, status.detail = "missing", "not evaluated"
                status.eval_job = True
            elif on_disk.eval_config is None or eval_fingerprint(
                on_disk.eval_config
            ) != eval_fingerprint(cfg):
                status.state, status.detail = "stale-by-params", "evaluation settings changed"
                status.eval_job = True
            else:
                why = _code_state(on_disk.train_metrics, pkg)
                why_eval = _code_state(on_disk.eval_metrics, pkg)
                if why or why_eval:
                    status.state = "stale-by-code"
                    status.detail = f"trained with {why}" if why else f"evaluated with {why_eval}"
                    status.train_job = bool(why)
                    status.eval_job = True
        out.append(status)
    _estimate(out, disk, current)
    return out


def _newer(on_disk: _Disk, runs_dir: Path, rid: str) -> bool:
    """Whether the outputs were written after the failure record (a later success)."""
    record = runs_dir / rid / "failure.json"
    metrics = runs_dir / rid / "eval" / "metrics.json"
    return metrics.is_file() and metrics.stat().st_mtime >= record.stat().st_mtime


def _source_final(cfg: dict) -> Path | None:
    init = cfg.get("init") or {}
    return Path(init["path"]) if init.get("kind") == "checkpoint" and init.get("path") else None


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
