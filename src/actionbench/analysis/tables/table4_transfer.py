"""Table 4: transferability, runs fine-tuned from a run on another dataset."""

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
    frames_label,
    order_rows,
    tidy_top1,
    waiting_for,
)
from actionbench.spec import init_source_run, parse_run_id
from actionbench.spec import label as model_label


def transfer_rows(results: pd.DataFrame, configs: Mapping[str, dict | None]) -> pd.DataFrame:
    """Runs initialised from a checkpoint of a run on another dataset (the transfer study)."""
    rows = []
    for _, r in results.iterrows():
        cfg = configs.get(r["run_id"]) or {}
        init = cfg.get("init") or {}
        if init.get("kind") != "checkpoint":
            continue
        src = init_source_run(init)
        if src is None:
            continue
        source = parse_run_id(src)
        if source["dataset"] == r["dataset"]:
            continue
        rows.append(
            {
                **r.to_dict(),
                "source_run": src,
                "source_dataset": source["dataset"],
                "new_head": bool(init.get("new_head")),
            }
        )
    return pd.DataFrame(rows)


def table4_runs(rows: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Selection for Table 4 (pure): of the transfer runs (``transfer_rows``: initialised from a
    run on another dataset), the evaluated ones in table order, and the groups compared (target
    dataset -> run ids). Kept apart from ``table4`` so the numbers can be checked without
    formatting. Empty when no transfer run is evaluated."""
    ok = evaluated(rows) if not rows.empty else rows
    if ok.empty:
        return ok, {}
    ok = order_rows(
        ok,
        [
            ("source_dataset", None),
            ("backbone", backbone_key),
            ("arch", arch_key),
            ("frames", None),
            ("dataset", None),
        ],
    )
    groups = {f"target {d}": list(g["run_id"]) for d, g in ok.groupby("dataset", sort=False)}
    return ok, groups


def table4(
    results: pd.DataFrame, configs: Mapping[str, dict | None], protocols: Mapping[str, dict]
) -> Table:
    """Transfer: top-1 on each target dataset of models fine-tuned from another dataset."""
    title = "Table 4 — transferability (top-1 %)"
    rows = transfer_rows(results, configs)
    if rows.empty:
        return Table(
            "table4",
            title,
            missing=(
                "no run of the grid starts from another dataset's run; enable e.g. "
                "experiments.paper_transfer_* (init: run, from_run: kinetics400/{model}/f32)"
            ),
        )
    ok, groups = table4_runs(rows)
    if ok.empty:
        return Table(
            "table4",
            title,
            missing=waiting_for(results, results["run_id"].isin(rows["run_id"]), ""),
        )
    tidy = tidy_top1(
        ok,
        ["dataset", "source_dataset", "source_run", "arch", "backbone", "tp", "sampling", "frames"],
    )
    shown = tidy.assign(
        Model=[model_label(r.arch, r.backbone, r.tp, r.sampling) for r in tidy.itertuples()],
        f=tidy["frames"].map(frames_label),
    )
    shown["Pretrained on"] = (
        tidy["source_dataset"]
        + " (f"
        + tidy["source_run"].map(lambda s: str(parse_run_id(s)["frames"]))
        + ")"
    )
    frame = display_frame(shown, ["Model", "Pretrained on", "f"], ["dataset", "level"])
    frame.index.names = ["Model", "Pretrained on", "Frames"]
    frame.columns.names = ["Target dataset", "level"]
    notes = [
        "Runs whose init is the final checkpoint of a run on another dataset "
        "(run_protocol: init kind checkpoint), fine-tuned on the target dataset."
    ]
    return Table("table4", title, frame, tidy, notes, fairness_flags(protocols, groups))
