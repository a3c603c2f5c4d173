"""The report's words: the findings (one sentence per significant comparison, one line for the
rest), the summary, the notes under sections and the figure captions.

Rendering only: findings.py decides what is said, report.py where it goes, this module how it
reads. Numbers keep the report's precision (one decimal for points, three significant digits
for p).
"""

from __future__ import annotations

import pandas as pd

from actionbench.analysis.findings import MAX_LISTED_NULL, Finding, Findings
from actionbench.analysis.tables import fmt_p
from actionbench.analysis.tables.published import signed


def _p(p: float) -> str:
    """ "p = 0.012" or "p < 0.001": the tables' format in a sentence."""
    shown = fmt_p(p)
    return f"p {shown}" if shown.startswith("<") else f"p = {shown}"


def _groups(f: Finding) -> str:
    if not f.by_group:
        return ""
    parts = [f"{d:+.1f} on {g} classes" for g, d in f.by_group.items()]
    return " (" + ", ".join(parts) + ")"


def sentence(f: Finding) -> str:
    """'On D, A beats B by X points (groups) — 95% CI [lo, hi], p = …, Holm p = ….'"""
    if f.diff >= 0:
        winner, loser, lo, hi, sign = f.label_a, f.label_b, f.ci_low, f.ci_high, 1
    else:
        winner, loser, lo, hi, sign = f.label_b, f.label_a, -f.ci_high, -f.ci_low, -1
    groups = {g: sign * d for g, d in f.by_group.items()}
    shown = Finding(**{**f.__dict__, "by_group": groups})
    text = (
        f"On {f.dataset}, {winner} beats {loser} by {abs(f.diff):.1f} points{_groups(shown)}: "
        f"95% CI [{lo:+.1f}, {hi:+.1f}], {_p(f.p_value)} (Holm-adjusted {_p(f.p_holm)}, "
        f"{f.n_videos} videos)."
    )
    if f.protocol_differences:
        text += f" ⚠ Protocol also differs: {f.protocol_differences}."
    return text


def findings_lines(findings: Findings) -> list[str]:
    """The Findings section's lines, significant comparisons first."""
    level = f"{findings.level}-level top-1"
    if findings.tested == 0:
        why = (
            f" ({findings.untested} pair(s) lack eval/predictions.csv)" if findings.untested else ""
        )
        return [
            f"No two evaluated runs differ in exactly one factor with predictions on both "
            f"sides{why}: nothing to test yet."
        ]
    lines = [sentence(f) for f in findings.stated]
    if findings.more_significant:
        lines.append(
            f"{findings.more_significant} more significant comparison(s) in the pairwise "
            "comparisons section."
        )
    if findings.not_significant:
        n = len(findings.not_significant)
        examples = "; ".join(
            f"{f.label_a} vs {f.label_b} on {f.dataset} ({f.diff:+.1f}, {_p(f.p_value)})"
            for f in findings.not_significant[:MAX_LISTED_NULL]
        )
        more = f" and {n - MAX_LISTED_NULL} more" if n > MAX_LISTED_NULL else ""
        lines.append(
            f"Not significant (Holm-adjusted p ≥ {findings.alpha:g}): {n} comparison(s), e.g. "
            f"{examples}{more}."
        )
    elif not findings.stated:
        lines.append("No comparison is significant.")
    lines.append(
        f"All at {level}; a comparison counts when its Holm-adjusted McNemar p < "
        f"{findings.alpha:g} over the {findings.tested} tested pair(s)"
        + (f" ({findings.untested} more lack predictions)" if findings.untested else "")
        + "."
    )
    return lines


def summary_lines(n_runs: int, n_evaluated: int) -> list[str]:
    """The Summary section: how many runs there are, and how to read tables and flags."""
    return [
        f"{n_runs} runs in the grid, {n_evaluated} evaluated"
        + (f", {n_runs - n_evaluated} without results" if n_runs > n_evaluated else "")
        + ".",
        "Tables follow the paper's shapes (Tables 4–8, 10); only runs that exist fill them. "
        "Under a table, ⚠ lists protocol factors (backbone, frames, sampling, pretraining, "
        "evaluation clips x crops, epochs, input, optimizer, layout, code version) that differ "
        "between runs it compares; figures link to the protocol differences of the runs they "
        "compare, listed once per kind of comparison.",
    ]


DATA_NOTE = (
    "The datasets the runs train on and, for a mini dataset, the set it is drawn from: classes "
    "and videos per split; for a set built from raw data, its annotation rows, the videos "
    "indexed (rows whose video exists), extracted, and excluded with the reason (annotation "
    "rows − extracted: skipped by the index or lost in extraction; "
    "data/lists/<dataset>/excluded.csv lists every one)."
)


def trained_on(n_runs: int) -> str:
    """A dataset's role in the Data table: the runs train on it."""
    return f"trained on ({n_runs} run{'s' if n_runs != 1 else ''})"


def source_of(mini: str) -> str:
    """A dataset's role in the Data table: a mini set is drawn from it."""
    return f"source of {mini}"


def mini_selection(mini: dict) -> str:
    """How a mini set's classes were chosen (``datasets.<name>.mini`` of params.yaml)."""
    mode = mini.get("mode")
    if mode == "seeded_half":
        kept = " (forward/reversed pairs kept together)" if mini.get("unit_column") else ""
        seed = f", seed {mini['seed']}" if "seed" in mini else ""
        return f"a seeded half of the classes{seed}{kept}"
    if mode == "class_list":
        return f"the published class list {mini.get('class_list')}"
    return "all classes"


PROTOCOL_DIFFERENCES_NOTE = (
    "Factors other than the one studied that differ between runs a figure compares (a gap may "
    "come from them, not from the model); each kind of comparison once."
)

#: caption of each figure report.draw makes, by its key there
FIGURE_CAPTIONS = {
    "headline": "Each run's clip-level top-1 on temporal classes against spatial classes: above "
    "the diagonal, motion helps.",
    "group_bars_clip": "Clip-level top-1 on temporal vs spatial classes.",
    "group_bars_video": "Video-level top-1 on temporal vs spatial classes.",
    "frames_clip": "Fig. 4 style: clip-level top-1 vs input frames per module and backbone.",
    "frames_video": "Video-level top-1 vs input frames.",
    "tp_gain": "Fig. 6 style: clip-level gain from temporal pooling.",
    "table7_bars": "Table 7 as bars (clip level): mean Φ, Ψ^ta, Ψ^ta+tp per module.",
    "clips": "Video-level top-1 when averaging the first k clips (Fig. 8 left).",
    "gflops": "Fig. 1 style: video-level top-1 vs GFLOPs of one clip; bubble area = parameters.",
    "per_class": "Per-class clip-level top-1, temporal vs spatial classes.",
    "training": "Training loss and validation top-1.",
}


def published_line(beside: pd.DataFrame, section: str) -> str:
    """One Findings line: how many runs match a published configuration, how many lie beyond
    the tolerance, and the largest difference (``published.beside``, every source)."""
    runs = beside["run_id"].nunique()
    worst = beside.loc[beside["diff"].abs().idxmax()]
    out = beside[beside["outside"]]
    largest = (
        f"{worst['run_id']}: {worst['measured']:.1f} vs {worst['published']:.1f} in "
        f"{worst['source']} ({signed(worst['diff'])})"
    )
    if out.empty:
        verdict = f"every one within the tolerance (largest difference: {largest})"
    else:
        verdict = (
            f"⚠ {out['run_id'].nunique()} run(s) differ by more than the tolerance "
            f"(largest: {largest})"
        )
    return (
        f"Published numbers: {runs} run(s) match a configuration the paper or the reference "
        f"code published; {verdict}. Details: {section}."
    )
