"""The protocol of each run: the factors fairness is judged on, one row per run."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from actionbench.analysis import fairness
from actionbench.analysis.collect import INIT_COUNTS
from actionbench.analysis.tables.base import DASH, Table

INIT_COLUMN = "initial tensors (loaded / inflated / new)"


def init_counts(result: Mapping) -> str:
    """``loaded / inflated / new`` of a results row, or a dash when not recorded."""
    values = [result.get(f"init_{k}") for k in INIT_COUNTS]
    if any(v is None or pd.isna(v) for v in values):
        return DASH
    return " / ".join(str(int(v)) for v in values)


def protocol_table(results: pd.DataFrame, protocols: Mapping[str, dict]) -> Table:
    """The factors fairness is judged on, one row per run, and where its initial tensors
    came from (``init_*`` columns of the results, from train_metrics.json)."""
    rows = []
    for _, result in results.iterrows():
        rec = protocols.get(result["run_id"])
        if rec:
            row = {"run": result["run_id"]}
            for k, v in rec.items():
                if k not in ("backbone", "frames"):
                    row[fairness.FACTORS[k]] = v
                if k == "weights":
                    row[INIT_COLUMN] = init_counts(result)
            rows.append(row)
    frame = pd.DataFrame(rows).set_index("run") if rows else None
    return Table(
        "protocol",
        "Protocol of each run",
        frame,
        frame.reset_index() if frame is not None else None,
        [
            "From each run's saved config.json (params.yaml for runs not trained yet). "
            "Pretraining reads left to right: the initial weights, then each run "
            "whose final checkpoint was loaded.",
            "Initial tensors (loaded / inflated / new): how many tensors of the model were "
            "copied from the initial weights, inflated from 2D kernels, and left at their "
            "initialisation (what the architecture adds to the backbone, a replaced classifier; "
            f"all of them from scratch), from train_metrics.json; {DASH} when not trained yet "
            "or trained before the counts were recorded.",
        ],
    )
