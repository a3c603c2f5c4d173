"""Table 5: temporal aggregation modules without temporal pooling, by backbone and frames."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from actionbench.analysis.tables.base import (
    Table,
    arch_key,
    backbone_key,
    backbone_label,
    display_frame,
    evaluated,
    fairness_flags,
    frames_label,
    group_name,
    order_rows,
    tidy_top1,
    waiting_for,
)
from actionbench.spec import ARCH_LABELS


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
    for (dataset, _, backbone, frames), grp in ok.groupby(
        ["dataset", "sampling", "backbone", "frames"], sort=False
    ):
        groups[group_name(dataset, backbone, frames)] = list(grp["run_id"])
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
    shown = tidy.assign(
        f=tidy["frames"].map(frames_label),
        Backbone=tidy["backbone"].map(backbone_label),
        Module=tidy["arch"].map(lambda a: ARCH_LABELS.get(a, a)),
    )
    index = ["dataset"] + (["sampling"] if ok["sampling"].nunique() > 1 else []) + ["f"]
    frame = display_frame(shown, index, ["Backbone", "Module", "level"])
    frame.index.names = ["Dataset"] + (["Sampling"] if len(index) == 3 else []) + ["Frames"]
    notes = [
        "Rows: dataset and input frames; columns: backbone, module (None = TSN, no "
        "temporal modelling), then clip- and video-level top-1. Modules are compared "
        "within a backbone and frame count."
    ]
    if ok["sampling"].nunique() == 1:
        notes.append(f"All runs use {ok['sampling'].iloc[0]} sampling.")
    return Table("table5", title, frame, tidy, notes, fairness_flags(protocols, groups))
