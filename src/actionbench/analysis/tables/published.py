"""Published beside measured: each run that matches a published configuration, its top-1 and
the published one, the difference and whether it lies within the tolerance."""

from __future__ import annotations

import math

import pandas as pd

from actionbench.analysis.tables.base import DASH, Table, fmt

NONE_MATCHES = (
    "Published numbers: no run matches a published configuration (the paper's Tables 5, 6, 8 "
    "and the reference code's benchmark of 288 mini-dataset models)."
)


def signed(value) -> str:
    """A difference in points with its sign (one decimal)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    return f"{value:+.1f}".replace("-", "−")


def published_table(beside: pd.DataFrame, tol: float) -> Table:
    """One row per run and published source (``published.beside``)."""
    title = "Published beside measured (top-1 %)"
    if beside.empty:
        return Table("published", title, missing=NONE_MATCHES)
    frame = pd.DataFrame(
        {
            "run": beside["run_id"],
            "source": beside["source"],
            "level": beside["level"],
            "ours": beside["measured"].map(fmt),
            "published": beside["published"].map(lambda v: fmt(v, 2)),
            "Δ": beside["diff"].map(signed),
            f"within ±{tol:g}": beside["outside"].map(lambda o: "⚠ no" if o else "yes"),
        }
    ).set_index(["run", "source"])
    n_out = int(beside["outside"].sum())
    notes = [
        "Every published number of each run's configuration (dataset, module, backbone, "
        "temporal pooling, frames, sampling, TAM locations, layout): the paper's Tables 5, 6 "
        "and 8 and the reference code's benchmark (IBM/action-recognition-pytorch, "
        "benchmark_mini.md); sources and name mapping: actionbench/resources/published/README.md. "
        f"Δ = ours − published, in points; the tolerance is {tol:g} points "
        "(report.published.tolerance)."
    ]
    flags = (
        [f"{n_out} of {len(beside)} comparison(s) are more than {tol:g} points apart"]
        if n_out
        else []
    )
    return Table("published", title, frame, beside, notes, flags)
