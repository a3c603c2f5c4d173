"""The table of every run of the grid: its status and accuracies."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from actionbench.analysis.tables.base import DASH, Table, fmt
from actionbench.analysis.tables.published import NONE_MATCHES, signed

RESULT_COLUMNS = {
    "run_id": "run",
    "status": "status",
    "clip_top1": "clip top-1",
    "clip_top1_temporal": "clip top-1 temporal",
    "clip_top1_spatial": "clip top-1 spatial",
    "video_top1": "video top-1",
    "video_top1_temporal": "video top-1 temporal",
    "video_top1_spatial": "video top-1 spatial",
    "clip_top5": "clip top-5",
    "eval_clips": "clips",
    "eval_crops": "crops",
    "num_videos": "videos scored",
    "num_videos_dropped": "videos dropped",
    "epochs": "epochs",
}
# Counts: whole numbers even where a missing value made the column float.
COUNT_COLUMNS = ("num_videos", "num_videos_dropped")


def results_table(
    results: pd.DataFrame,
    stale: Mapping[str, list[str]] | None = None,
    published: pd.DataFrame | None = None,
    tol: float | None = None,
) -> Table:
    """Every run of the grid: status and accuracies (percent).

    ``published``: ``published.beside`` (runs matching a published configuration, ``tol`` the
    tolerance in points): the first published number of each run and the difference, flagged
    beyond the tolerance; when no run matches, one line says so."""
    cols = [
        c
        for c in RESULT_COLUMNS
        if c in results.columns and (c in ("run_id", "status") or results[c].notna().any())
    ]
    frame = results[cols].copy()

    def cell(column: str, v) -> str:
        if v is None or pd.isna(v):
            return DASH
        if column in COUNT_COLUMNS:
            return str(int(v))
        return fmt(v) if isinstance(v, float) else str(v)

    out = pd.DataFrame({RESULT_COLUMNS[c]: frame[c].map(lambda v, c=c: cell(c, v)) for c in cols})
    notes = [
        "Top-1/top-5 in %. Clip level: one clip, centre crop; video level: the run's "
        "clips x crops, logits averaged."
    ]
    if "num_videos_dropped" in cols:
        notes.append(
            "Videos scored / dropped: the validation videos each run was scored on, and those "
            "left out for having fewer frames than data.eval_min_frames (the reference layout "
            "drops what the reference's test.py -e drops: Kinetics < 30 frames, SSV2 < 3; "
            "eval/dropped.csv names them)."
        )
    if published is not None and published.empty:
        notes.append(NONE_MATCHES)
    elif published is not None:
        first = published.drop_duplicates("run_id").set_index("run_id")
        shown = [first.loc[r] if r in first.index else None for r in frame["run_id"]]
        out["published top-1"] = [DASH if m is None else fmt(m["published"]) for m in shown]
        out["Δ vs published"] = [
            DASH if m is None else signed(m["diff"]) + (" ⚠" if m["outside"] else "") for m in shown
        ]
        notes.append(
            "Published top-1: the number the paper (Tables 5, 6, 8) or the reference code's "
            "benchmark gives for the run's configuration (the paper's first), at its level "
            "(clip, Table 8: video); Δ = ours − published, in points; ⚠: more than "
            f"{tol:g} points apart (report.published.tolerance). Every source: section "
            "'Published beside measured'."
        )
    stale = {k: v for k, v in (stale or {}).items() if v}
    if stale:
        notes.append(
            "Stale runs (their saved config differs from params.yaml now; Snakemake "
            "would retrain them): "
            + "; ".join(
                f"{rid}: {', '.join(d[:3])}{' …' if len(d) > 3 else ''}" for rid, d in stale.items()
            )
        )
    return Table("results", "Accuracy of every run (%)", out.set_index("run"), results[cols], notes)
