"""Table 5: temporal aggregation modules without temporal pooling, by backbone and frames."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from actionbench.analysis.tables.base import (
    Table,
    arch_key,
    backbone_key,
    display_frame,
    evaluated,
    fairness_flags,
    order_rows,
    tidy_top1,
    waiting_for,
)
from actionbench.spec import ARCH_LABELS, BACKBONE_LABELS


def table5_runs(results: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Selection for Table 5 (pure): the evaluated runs without temporal pooling in all blocks,
    in table order, and the groups compared (dataset, sampling, backbone, frames -> run ids).
    Empty when fewer than two modules exist."""
    base = (~results["tp"].astype(bool)) & (results["tam_locations"] == "all")
    ok = evaluated(results[base])
    if ok.empty or ok["arch"].nunique() < 2:
        return ok.iloc[0:0], {}
    ok = order_rows(
        ok,
        [
            ("dataset", None),
            ("sampling", None),
            ("frames", None),
            ("backbone", backbone_key),
            ("arch", arch_key),
        ],
    )
    groups: dict[str, list[str]] = {}
    for keys, grp in ok.groupby(["dataset", "sampling", "backbone", "frames"], sort=False):
        groups[f"{keys[0]}, {BACKBONE_LABELS.get(keys[2], keys[2])}, f={keys[3]}"] = list(
            grp["run_id"]
        )
    return ok, groups


def table5(results: pd.DataFrame, protocols: Mapping[str, dict]) -> Table:
    """Temporal aggregation strategies without temporal pooling, by backbone and frames."""
    title = "Table 5 — temporal aggregation without temporal pooling (top-1 %)"
    base = (~results["tp"].astype(bool)) & (results["tam_locations"] == "all")
    ok, groups = table5_runs(results)
    if ok.empty:
        return Table(
            "table5",
            title,
            missing=waiting_for(
                results,
                base,
                "it needs at least two modules (e.g. TSN and TAM) without temporal "
                "pooling at the same backbone and frame count",
            ),
        )
    tidy = tidy_top1(ok, ["dataset", "sampling", "frames", "backbone", "arch"])
    tidy["f"] = tidy["frames"].map(lambda f: f"f={f}")
    tidy["Backbone"] = tidy["backbone"].map(lambda b: BACKBONE_LABELS.get(b, b))
    tidy["Module"] = tidy["arch"].map(lambda a: ARCH_LABELS.get(a, a))
    index = ["dataset"] + (["sampling"] if ok["sampling"].nunique() > 1 else []) + ["f"]
    frame = display_frame(tidy, index, ["Backbone", "Module", "level"])
    frame.index.names = ["Dataset"] + (["Sampling"] if len(index) == 3 else []) + ["Frames"]
    notes = [
        "Rows: dataset and input frames; columns: backbone, module (None = TSN, no "
        "temporal modelling), then clip- and video-level top-1. Modules are compared "
        "within a backbone and frame count."
    ]
    if ok["sampling"].nunique() == 1:
        notes.append(f"All runs use {ok['sampling'].iloc[0]} sampling.")
    return Table(
        "table5",
        title,
        frame,
        tidy.drop(columns=["f", "Backbone", "Module"]),
        notes,
        fairness_flags(protocols, groups),
    )
