"""Which comparisons the report states first: the significant ones, biggest gap first.

Pure selection over the pairwise frame (comparisons.py) and the results: no formatting here
(prose.py words them). A comparison counts as significant when its Holm-adjusted McNemar p is
below alpha, so a grid of hundreds of pairs does not fill the findings with chance results; the
number of statements is capped so the first screen stays short on any grid size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from actionbench.analysis.tables import class_groups, model_label
from actionbench.defaults import REPORT

MAX_STATED = 5  # significant comparisons stated one by one; the rest are counted
MAX_LISTED_NULL = 3  # non-significant comparisons named as examples


@dataclass(frozen=True)
class Finding:
    """One tested comparison A vs B at one level (A: the change, B: the reference)."""

    dataset: str
    factor: str
    level: str
    run_a: str
    run_b: str
    label_a: str
    label_b: str
    diff: float  # top-1(A) - top-1(B), points
    ci_low: float
    ci_high: float
    p_value: float
    p_holm: float
    n_videos: int
    by_group: dict[str, float] = field(default_factory=dict)  # class group -> A - B, points
    protocol_differences: str = ""


@dataclass(frozen=True)
class Findings:
    level: str
    alpha: float
    stated: list[Finding]  # significant, largest |gap| first, at most MAX_STATED
    more_significant: int  # significant but not stated one by one
    not_significant: list[Finding]  # largest |gap| first (all of them; prose lists a few)
    untested: int  # pairs without predictions on both sides

    @property
    def tested(self) -> int:
        return len(self.stated) + self.more_significant + len(self.not_significant)


def _label(row: pd.Series) -> str:
    label = model_label(
        row["arch"], row["backbone"], row["tp"], row["sampling"], row["tam_locations"]
    )
    return f"{label} f{int(row['frames'])}"


def select_findings(
    pairs: pd.DataFrame,
    results: pd.DataFrame,
    alpha: float = REPORT["significance"]["alpha"],
    level: str = "clip",
    limit: int = MAX_STATED,
) -> Findings:
    """The comparisons of ``level`` split into significant (stated) and not significant."""
    runs = results.set_index("run_id")
    groups = class_groups(results)
    at_level = pairs[pairs["level"] == level] if not pairs.empty else pairs
    tested = at_level[at_level["p_value"].notna()] if not at_level.empty else at_level
    records: list[Finding] = []
    for r in tested.itertuples():
        a, b = runs.loc[r.run_a], runs.loc[r.run_b]
        by_group = {}
        for g in groups:
            col = f"{level}_top1_{g}"
            if pd.notna(a.get(col)) and pd.notna(b.get(col)):
                by_group[g] = float(a[col]) - float(b[col])
        records.append(
            Finding(
                dataset=r.dataset,
                factor=r.factor,
                level=level,
                run_a=r.run_a,
                run_b=r.run_b,
                label_a=_label(a),
                label_b=_label(b),
                diff=float(r.diff),
                ci_low=float(r.ci_low),
                ci_high=float(r.ci_high),
                p_value=float(r.p_value),
                p_holm=float(r.p_holm),
                n_videos=int(r.n_videos),
                by_group=by_group,
                protocol_differences=r.protocol_differences or "",
            )
        )
    records.sort(key=lambda f: (-abs(f.diff), f.p_value, f.run_a, f.run_b))
    significant = [f for f in records if f.p_holm < alpha]
    null = [f for f in records if not f.p_holm < alpha]
    return Findings(
        level=level,
        alpha=alpha,
        stated=significant[:limit],
        more_significant=max(0, len(significant) - limit),
        not_significant=null,
        untested=int(len(at_level) - len(tested)),
    )
