"""Pairwise comparisons: every two models that differ in exactly one factor of interest.

Factors: the module (arch, at the same backbone/frames/dataset/sampling), temporal pooling,
the backbone, the input frames, the sampling, and TAM's locations. For each pair: the accuracy
difference A - B on the videos both were evaluated on, its paired-bootstrap 95% CI, McNemar's
p, whether p < alpha, and the protocol differences other than the studied factor (fairness.py).

Direction: A is the "change" and B the reference — B is TSN for module pairs, the model without
temporal pooling, fewer frames, the earlier backbone in spec.BACKBONES, uniform sampling,
TAM in all blocks; so a positive difference reads "the change helps".
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from actionbench.analysis import fairness, significance
from actionbench.analysis.tables import arch_key, backbone_key
from actionbench.defaults import REPORT
from actionbench.spec import TAM_LOCATIONS

log = logging.getLogger(__name__)

IDENTITY = ("arch", "backbone", "tp", "frames", "sampling", "tam_locations")
# run identity -> the protocol factor it is (pairs studying it do not flag it)
STUDIED_FACTOR = {"backbone": "backbone", "frames": "frames", "sampling": "sampling"}
FACTOR_LABELS = {
    "arch": "module",
    "tp": "temporal pooling",
    "backbone": "backbone",
    "frames": "frames",
    "sampling": "sampling",
    "tam_locations": "TAM locations",
}
LOCATIONS = TAM_LOCATIONS


def _reference_first(factor: str, a, b) -> bool:
    """True when ``a`` is the reference (B) side of the pair."""
    if factor == "arch":
        return arch_key(a) < arch_key(b)
    if factor == "backbone":
        return backbone_key(a) < backbone_key(b)
    if factor == "tp":
        return not bool(a)
    if factor == "frames":
        return int(a) < int(b)
    if factor == "sampling":
        return a == "uniform"
    if factor == "tam_locations":
        return (LOCATIONS.index(a) if a in LOCATIONS else 9) < (
            LOCATIONS.index(b) if b in LOCATIONS else 9
        )
    return str(a) < str(b)


def candidate_pairs(results: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(factor, run A, run B) for evaluated runs of one dataset differing in one factor only."""
    ok = results[results["status"] == "ok"]
    pairs = []
    for _, grp in ok.groupby("dataset", sort=True):
        recs = grp.to_dict("records")
        for r1, r2 in itertools.combinations(recs, 2):
            diff = [f for f in IDENTITY if _norm(r1[f]) != _norm(r2[f])]
            if len(diff) != 1:
                continue
            factor = diff[0]
            a, b = (r2, r1) if _reference_first(factor, r1[factor], r2[factor]) else (r1, r2)
            pairs.append((factor, a["run_id"], b["run_id"]))
    order = list(FACTOR_LABELS)
    pairs.sort(key=lambda p: (order.index(p[0]), p[1], p[2]))
    return pairs


def _norm(value):
    return bool(value) if isinstance(value, (bool, np.bool_)) else value


COLUMNS = [
    "dataset",
    "factor",
    "run_a",
    "run_b",
    "level",
    "n_videos",
    "acc_a",
    "acc_b",
    "diff",
    "ci_low",
    "ci_high",
    "p_value",
    "test",
    "discordant_a",
    "discordant_b",
    "significant",
    "p_holm",
    "significant_holm",
    "protocol_differences",
    "note",
]


def pairwise(
    results: pd.DataFrame,
    predictions: Mapping[str, pd.DataFrame | None],
    protocols: Mapping[str, Mapping[str, str]],
    resamples: int = REPORT["significance"]["resamples"],
    seed: int = REPORT["significance"]["seed"],
    alpha: float = REPORT["significance"]["alpha"],
) -> pd.DataFrame:
    """One row per (pair, level) with the difference, CI, McNemar p and protocol flags."""
    dataset_of = dict(zip(results["run_id"], results["dataset"], strict=True))
    rows = []
    for factor, ra, rb in candidate_pairs(results):
        studied = [STUDIED_FACTOR[factor]] if factor in STUDIED_FACTOR else []
        pa, pb = protocols.get(ra), protocols.get(rb)
        diffs = fairness.differences(pa, pb, studied) if pa and pb else []
        flagged = "; ".join(str(d) for d in diffs)
        base = {
            "dataset": dataset_of[ra],
            "factor": FACTOR_LABELS[factor],
            "run_a": ra,
            "run_b": rb,
            "protocol_differences": flagged,
        }
        pred_a, pred_b = predictions.get(ra), predictions.get(rb)
        if pred_a is None or pred_b is None:
            missing = [r for r, p in ((ra, pred_a), (rb, pred_b)) if p is None]
            for level in ("clip", "video"):
                rows.append(
                    {
                        **base,
                        "level": level,
                        "note": "no eval/predictions.csv for " + ", ".join(missing),
                    }
                )
            continue
        merged, problems = significance.align_predictions(pred_a, pred_b)
        notes = []
        if problems["only_a"] or problems["only_b"]:
            notes.append(
                f"validation videos differ ({problems['only_a']} only in A, "
                f"{problems['only_b']} only in B): compared on the {len(merged)} shared"
            )
        if problems["label_mismatch"]:
            notes.append(
                f"{problems['label_mismatch']} shared videos have different labels (left out)"
            )
        for level in ("clip", "video"):
            res = significance.compare_level(merged, level, resamples, seed)
            if res is None:
                rows.append(
                    {
                        **base,
                        "level": level,
                        "note": "; ".join(notes + [f"no {level}_pred in predictions"]),
                    }
                )
                continue
            rows.append(
                {
                    **base,
                    "level": level,
                    "n_videos": res.n_videos,
                    "acc_a": res.acc_a,
                    "acc_b": res.acc_b,
                    "diff": res.ci.diff,
                    "ci_low": res.ci.low,
                    "ci_high": res.ci.high,
                    "p_value": res.test.p_value,
                    "test": res.test.method,
                    "discordant_a": res.test.b,
                    "discordant_b": res.test.c,
                    "significant": bool(res.test.p_value < alpha),
                    "note": "; ".join(notes),
                }
            )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for level in ("clip", "video"):
        mask = frame["level"] == level
        frame.loc[mask, "p_holm"] = significance.holm(frame.loc[mask, "p_value"].astype(float))
    frame["significant_holm"] = [bool(p < alpha) if pd.notna(p) else None for p in frame["p_holm"]]
    return frame


def as_table(
    frame: pd.DataFrame,
    alpha: float = REPORT["significance"]["alpha"],
    resamples: int = REPORT["significance"]["resamples"],
    seed: int = REPORT["significance"]["seed"],
):
    """The pairwise frame in display form: clip and video level side by side."""
    from actionbench.analysis.tables import DASH, Table, fmt_p

    title = "Pairwise comparisons (models differing in one factor)"
    notes = [
        f"Δ = top-1(A) − top-1(B) in points on the videos both were evaluated on; 95% CI: "
        f"paired bootstrap over videos ({resamples} resamples, seed {seed}); p: McNemar's test "
        f"on the videos exactly one model gets right (exact binomial below {25} such videos, "
        f"continuity-corrected chi-square otherwise); 'sig.': p < {alpha}. With many pairs "
        f"some p < {alpha} arise by chance: 'Holm' applies the Holm–Bonferroni correction "
        "over all pairs of that level. "
        "Both accuracies on the shared videos: pairwise.csv (acc_a, acc_b).",
        "B is the reference: TSN for module pairs, no temporal pooling, fewer frames, the "
        "earlier backbone, uniform sampling, TAM in all blocks.",
    ]
    if frame.empty:
        return Table(
            "pairwise",
            title,
            missing="no two evaluated runs of one dataset differ in "
            "exactly one of module, temporal pooling, backbone, frames, sampling or TAM "
            "locations",
        )

    def yes_no(v) -> str:
        return (
            DASH if v is None or (isinstance(v, float) and pd.isna(v)) else ("yes" if v else "no")
        )

    rows = {}
    for _, r in frame.iterrows():
        short_a = r["run_a"].split("/", 1)[-1]  # the dataset is its own column
        short_b = r["run_b"].split("/", 1)[-1]
        key = (r["dataset"], r["factor"], short_a, short_b)
        row = rows.setdefault(
            key,
            {
                ("", "protocol differences"): r["protocol_differences"] or "none",
                ("", "note"): r["note"] or "",
            },
        )
        lvl = r["level"]
        has = pd.notna(r["diff"])
        row[(lvl, "Δ")] = f"{r['diff']:+.1f}" if has else DASH
        row[(lvl, "95% CI")] = f"[{r['ci_low']:+.1f}, {r['ci_high']:+.1f}]" if has else DASH
        row[(lvl, "p")] = fmt_p(r["p_value"]) if has else DASH
        row[(lvl, "sig.")] = yes_no(r["significant"]) if has else DASH
        row[(lvl, "Holm")] = yes_no(r["significant_holm"]) if has else DASH
        row[("", "videos")] = str(int(r["n_videos"])) if has else row.get(("", "videos"), DASH)
    order = [(lvl, m) for lvl in ("clip", "video") for m in ("Δ", "95% CI", "p", "sig.", "Holm")]
    order += [("", "videos"), ("", "protocol differences"), ("", "note")]
    display = pd.DataFrame.from_dict(rows, orient="index")
    display = display.reindex(columns=pd.MultiIndex.from_tuples(order)).fillna(DASH)
    display.index = pd.MultiIndex.from_tuples(list(rows), names=["dataset", "factor", "A", "B"])
    if (display[("", "note")] == "").all():
        display = display.drop(columns=[("", "note")])
    n_flagged = frame.drop_duplicates(["run_a", "run_b"])["protocol_differences"].astype(bool).sum()
    if n_flagged:
        notes.append(
            f"⚠ {n_flagged} pair(s) also differ in protocol (column 'protocol "
            "differences'): their gap is not the studied factor's alone."
        )
    return Table("pairwise", title, display, frame, notes)
