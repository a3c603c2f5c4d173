"""Table 6: numbers and locations of TAMs in the backbone (without temporal pooling)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from actionbench.analysis.tables.base import (
    DASH,
    Table,
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
from actionbench.spec import LOCATION_LABELS, RESNET_BLOCKS


def table6_runs(results: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Selection for Table 6 (pure): evaluated TAM runs without temporal pooling at the
    (backbone, frames, sampling) where a location variant exists, in table order, and the
    groups compared (dataset, backbone, frames -> run ids). Empty without variants."""
    base = (results["arch"] == "tam") & (~results["tp"].astype(bool))
    ok = evaluated(results[base])
    keys = ["backbone", "frames", "sampling"]
    with_variants = ok[ok["tam_locations"] != "all"][keys].drop_duplicates()
    if with_variants.empty:
        return ok.iloc[0:0], {}
    ok = ok.merge(with_variants, on=keys)
    ok = order_rows(
        ok,
        [
            ("backbone", backbone_key),
            ("frames", None),
            ("sampling", None),
            (
                "tam_locations",
                lambda loc: list(LOCATION_LABELS).index(loc) if loc in LOCATION_LABELS else 99,
            ),
            ("dataset", None),
        ],
    )
    groups = {
        group_name(*keys): list(g["run_id"])
        for keys, g in ok.groupby(["dataset", "backbone", "frames"], sort=False)
    }
    return ok, groups


def table6(results: pd.DataFrame, protocols: Mapping[str, dict]) -> Table:
    """Numbers and locations of TAMs (w/o temporal pooling)."""
    title = "Table 6 — numbers and locations of TAMs, without temporal pooling (top-1 %)"
    base = (results["arch"] == "tam") & (~results["tp"].astype(bool))
    variant = base & (results["tam_locations"] != "all")
    ok, groups = table6_runs(results)
    if ok.empty:
        return Table(
            "table6",
            title,
            missing=waiting_for(
                results,
                variant,
                "enable the Table 6 groups (experiments.paper_table6_*: "
                "tam_locations top_half/bottom_half/uniform_half)",
            ),
        )

    def count(r) -> str:
        n = RESNET_BLOCKS.get(r["backbone"])
        if n is None:
            return DASH
        return str(n if r["tam_locations"] == "all" else n // 2)

    tidy = tidy_top1(ok, ["dataset", "backbone", "frames", "sampling", "tam_locations"])
    tidy["# of TAMs"] = tidy.apply(count, axis=1)
    shown = tidy.assign(
        Backbone=tidy["backbone"].map(backbone_label),
        f=tidy["frames"].map(frames_label),
        Locations=tidy["tam_locations"].map(lambda loc: LOCATION_LABELS.get(loc, loc)),
    )
    index = (
        ["Backbone", "f"]
        + (["sampling"] if ok["sampling"].nunique() > 1 else [])
        + ["# of TAMs", "Locations"]
    )
    frame = display_frame(shown, index, ["dataset", "level"])
    frame.index.names = [
        {"f": "Frames", "sampling": "Sampling"}.get(n, n) for n in frame.index.names
    ]
    notes = [
        "Top = the residual blocks closest to the output, bottom = closest to the input, "
        "uniform = every other block; a half holds ⌊n/2⌋ of the n blocks."
    ]
    return Table("table6", title, frame, tidy, notes, fairness_flags(protocols, groups))
