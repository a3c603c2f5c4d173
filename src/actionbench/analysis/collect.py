"""Gather the saved results of every run into one table — the report's only data source.

Analysis never re-runs training: it reads ``<runs_dir>/<run_id>/eval/metrics.json`` and
``train_metrics.json`` written by the engine. A run of the grid with no evaluation yet (or a
failed one) becomes a row with ``status`` saying so, instead of silently disappearing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from actionbench.spec import RunSpec

log = logging.getLogger(__name__)

ACCURACY_KEYS = (
    "clip_top1",
    "clip_top5",
    "video_top1",
    "video_top5",
    "clip_top1_temporal",
    "clip_top1_spatial",
    "video_top1_temporal",
    "video_top1_spatial",
    "mean_class_acc",
)
# train_metrics.json's ``init_weights`` counts: tensors by origin, columns ``init_<count>``
INIT_COUNTS = ("loaded", "inflated", "new")


def _as_percent(value):
    """Accuracies are reported in percent, as in the paper; accept fractions too."""
    if value is None:
        return None
    value = float(value)
    return value * 100.0 if value <= 1.0 else value


def read_json(path: Path) -> dict | None:
    """A saved JSON result, or None when it is missing or unreadable (logged, never fatal)."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        log.warning("unreadable %s: %s", path, err)
        return None


def imported(evaluation: Mapping[str, Any] | None, run_dir: Path) -> bool:
    """Whether an evaluation scored a checkpoint other than the run's own ``final.pt``."""
    checkpoint = (evaluation or {}).get("checkpoint")
    if not checkpoint:
        return False
    return Path(checkpoint).resolve() != (run_dir / "final.pt").resolve()


def collect_runs(
    runs: dict[str, RunSpec], runs_dir: str | Path, states: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """One row per run of the grid with its identity, status and accuracies (percent).

    ``states`` (``actionbench.status.run_states``: what ``actionbench status`` says of each run)
    decide which evaluations are current: one of a model that is gone or was re-trained since is
    not shown; ``stale`` runs (settings, data or initial weights changed since) keep their
    numbers, flagged. Without ``states`` every saved evaluation counts.
    """
    runs_dir = Path(runs_dir)
    rows = []
    for rid, spec in runs.items():
        out = runs_dir / rid
        evaluation = read_json(out / "eval" / "metrics.json")
        training = read_json(out / "train_metrics.json")
        state = states.get(rid) if states else None
        # no current result: not trained, or it scored an earlier model; an evaluation of an
        # imported checkpoint (`evaluate --checkpoint`, not the run's final.pt) stands alone
        gone = state is not None and state.state in ("failed", "missing")
        if gone and not imported(evaluation, out):
            evaluation = None
        row = {
            "run_id": rid,
            "group": spec.group,
            "dataset": spec.dataset,
            "arch": spec.arch,
            "backbone": spec.backbone,
            "tp": spec.temporal_pooling,
            "frames": spec.frames,
            "sampling": spec.sampling,
            "tam_locations": spec.tam_locations,
            "layout": spec.layout,
            "model": spec.model_name,
        }
        if state is not None:
            row["state"], row["state_detail"] = state.state, state.detail
        if evaluation is None:
            reason = "not trained" if training is None else "not evaluated"
            if state is not None and state.state == "missing":
                reason = state.detail
            failure = read_json(out / "failure.json")
            if failure:
                reason = f"failed: {failure.get('reason', 'unknown')}"
            row["status"] = reason
        else:
            row["status"] = "ok"
            for key in ACCURACY_KEYS:
                row[key] = _as_percent(evaluation.get(key))
            row["num_videos"] = evaluation.get("num_videos")  # scored
            row["num_videos_dropped"] = evaluation.get("num_videos_dropped")  # too short
            row["eval_clips"] = evaluation.get("num_clips")
            row["eval_crops"] = evaluation.get("num_crops")
        if training:
            row["epochs"] = training.get("epochs")
            row["train_seconds"] = training.get("seconds") or training.get("train_seconds")
            init = training.get("init_weights") or {}
            for count in INIT_COUNTS:
                row[f"init_{count}"] = init.get(count)
        rows.append(row)
    frame = pd.DataFrame(rows)
    for key in ACCURACY_KEYS:
        if key not in frame:
            frame[key] = float("nan")
    return frame
