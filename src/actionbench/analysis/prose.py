"""The findings in words: one sentence per significant comparison, one line for the rest.

Rendering only: findings.py decides what is said, this module how. Numbers keep the report's
precision (one decimal for points, three significant digits for p).
"""

from __future__ import annotations

from actionbench.analysis.findings import MAX_LISTED_NULL, Finding, Findings


def _p(p: float) -> str:
    return "p < 1e-300" if p == 0 else f"p = {p:.2g}"


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
