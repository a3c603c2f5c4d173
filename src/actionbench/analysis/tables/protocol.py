"""The protocol of each run: the factors fairness is judged on, one row per run."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from actionbench.analysis import fairness
from actionbench.analysis.tables.base import Table


def protocol_table(results: pd.DataFrame, protocols: Mapping[str, dict]) -> Table:
    """The factors fairness is judged on, one row per run."""
    rows = []
    for rid in results["run_id"]:
        rec = protocols.get(rid)
        if rec:
            rows.append(
                {
                    "run": rid,
                    **{
                        fairness.FACTORS[k]: v
                        for k, v in rec.items()
                        if k not in ("backbone", "frames")
                    },
                }
            )
    frame = pd.DataFrame(rows).set_index("run") if rows else None
    return Table(
        "protocol",
        "Protocol of each run",
        frame,
        frame.reset_index() if frame is not None else None,
        [
            "From each run's saved config.json (params.yaml for runs not trained yet). "
            "Pretraining reads left to right: the initial weights, then each run "
            "whose final checkpoint was loaded."
        ],
    )
