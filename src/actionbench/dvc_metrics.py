"""A short, all-numeric metrics file for DVC, so ``dvc exp show`` fits a terminal.

``reports/metrics.json`` is the report's full record (strings, nested contribution tables, every
accuracy of every run): as DVC metrics it makes ``dvc exp show`` hundreds of columns wide. DVC
reads this file instead: per run its clip- and video-level top-1, and per dataset and
architecture the Φ (spatial share) / Ψ (temporal contribution) summary over all classes.
Everything else stays in metrics.json, the report and MLflow.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from actionbench.errors import DataError


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return round(float(value), 4)


def short_metrics(report_metrics: dict) -> dict:
    """``{"top1": {run: {clip, video}}, "phi_psi": {dataset/arch: {phi, psi}}}``, numbers only."""
    top1: dict[str, dict[str, float]] = {}
    for key, value in report_metrics.items():
        if key.startswith("contributions") or not isinstance(value, dict):
            continue
        row = {
            "clip": _number(value.get("clip_top1")),
            "video": _number(value.get("video_top1")),
        }
        row = {k: v for k, v in row.items() if v is not None}
        if row:
            top1[key] = row
    phi_psi: dict[str, dict[str, float]] = {}
    for value in (report_metrics.get("contributions") or {}).values():
        if not isinstance(value, dict) or value.get("classes") != "all classes":
            continue
        row = {"phi": _number(value.get("phi")), "psi": _number(value.get("psi_ta"))}
        row = {k: v for k, v in row.items() if v is not None}
        if row:
            phi_psi[f"{value.get('dataset')}/{value.get('arch')}"] = row
    return {"top1": top1, "phi_psi": phi_psi}


def write_short_metrics(report_metrics_path: str | Path, out: str | Path) -> dict:
    path = Path(report_metrics_path)
    try:
        metrics = json.loads(path.read_text())
    except FileNotFoundError as err:
        raise DataError(f"{path} does not exist: run `actionbench report` first") from err
    except ValueError as err:
        raise DataError(f"{path} is not valid JSON: {err}") from err
    short = short_metrics(metrics)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(json.dumps(short, indent=2, sort_keys=True) + "\n")
    tmp.replace(out)
    return short
