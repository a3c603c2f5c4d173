"""A short, all-numeric metrics file for DVC, so ``dvc exp show`` opens on the results.

``reports/metrics.json`` is the report's full record (strings, nested contribution tables, every
accuracy of every run): as DVC metrics it makes ``dvc exp show`` hundreds of columns wide. DVC
reads this file instead: per run its clip- and video-level top-1, and per dataset and
architecture the Φ (spatial share) / Ψ (temporal contribution) summary over all classes.
Everything else stays in metrics.json, the report and MLflow.

The file is keyed metric first (``clip.<run id>``, ``phi.<dataset>/<arch>``, ...): DVC puts the
metrics columns leftmost in file order, so the first screen of ``dvc exp show`` holds every run's
clip top-1, then Φ/Ψ, with the shortest headers the run ids allow.
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
    """``{"clip": {run: top1}, "phi": {dataset/arch: phi}, "psi": {...}, "video": {...}}``,
    numbers only; a value the report does not have (NaN, missing) is left out, not zeroed."""
    out: dict[str, dict[str, float]] = {"clip": {}, "phi": {}, "psi": {}, "video": {}}
    for key, value in report_metrics.items():
        if key.startswith("contributions") or not isinstance(value, dict):
            continue
        for level in ("clip", "video"):
            number = _number(value.get(f"{level}_top1"))
            if number is not None:
                out[level][key] = number
    for value in (report_metrics.get("contributions") or {}).values():
        if not isinstance(value, dict) or value.get("classes") != "all classes":
            continue
        # the default layout and sampling stay out of the name (one row each otherwise)
        variant = [
            str(value[k])
            for k, default in (("layout", "reference"), ("sampling", "uniform"))
            if value.get(k) not in (None, default)
        ]
        model = "/".join([str(value.get("dataset")), *variant, str(value.get("arch"))])
        for name, field in (("phi", "phi"), ("psi", "psi_ta")):
            number = _number(value.get(field))
            if number is not None:
                out[name][model] = number
    return {name: values for name, values in out.items() if values}


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
