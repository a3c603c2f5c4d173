"""Findings: which comparisons are stated (selection, pure) and how (prose), on the demo's
shape and on a generated grid of 60 runs, where the first screen must stay short."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest

from actionbench.analysis import comparisons, findings, prose
from actionbench.analysis.render import Bullets, Section, render_html


def _run(rid, arch, backbone="resnet18", tp=False, frames=8, **acc):
    return {
        "run_id": rid, "dataset": "d", "arch": arch, "backbone": backbone, "tp": tp,
        "frames": frames, "sampling": "uniform", "tam_locations": "all", "status": "ok", **acc,
    }  # fmt: skip


def _pair(a, b, diff, p, holm, factor="module", lo=None, hi=None, level="clip"):
    return {
        "dataset": "d", "factor": factor, "run_a": a, "run_b": b, "level": level,
        "n_videos": 64, "diff": diff, "ci_low": diff - 5 if lo is None else lo,
        "ci_high": diff + 5 if hi is None else hi, "p_value": p, "p_holm": holm,
        "protocol_differences": "",
    }  # fmt: skip


RESULTS = pd.DataFrame(
    [
        _run("d/tsn-resnet18/f8", "tsn", clip_top1_temporal=50.0, clip_top1_spatial=100.0),
        _run("d/tam-resnet18/f8", "tam", clip_top1_temporal=93.75, clip_top1_spatial=100.0),
        _run("d/tsm-resnet18/f8", "tsm", clip_top1_temporal=90.0, clip_top1_spatial=98.0),
        _run("d/tam-resnet18/f16", "tam", frames=16),
    ]
)


def test_significant_after_holm_stated_biggest_gap_first():
    pairs = pd.DataFrame(
        [
            _pair("d/tam-resnet18/f8", "d/tsn-resnet18/f8", 21.9, 5e-4, 2e-3),
            _pair("d/tsm-resnet18/f8", "d/tsn-resnet18/f8", 19.0, 1e-3, 3e-3),
            _pair("d/tam-resnet18/f8", "d/tsm-resnet18/f8", 2.0, 0.04, 0.08),  # raw p only
            _pair("d/tam-resnet18/f16", "d/tam-resnet18/f8", 3.1, 0.5, 1.0, "frames"),
            _pair("d/tam-resnet18/f8", "d/tsn-resnet18/f8", 25.0, 1e-5, 1e-5, level="video"),
        ]
    )
    pairs.loc[len(pairs)] = {**_pair("d/x", "d/y", np.nan, np.nan, np.nan), "n_videos": np.nan}
    found = findings.select_findings(pairs, RESULTS, alpha=0.05, level="clip")
    assert [(f.run_a, f.run_b) for f in found.stated] == [
        ("d/tam-resnet18/f8", "d/tsn-resnet18/f8"),
        ("d/tsm-resnet18/f8", "d/tsn-resnet18/f8"),
    ]
    assert [f.diff for f in found.not_significant] == [3.1, 2.0]
    assert found.untested == 1 and found.tested == 4 and found.more_significant == 0
    top = found.stated[0]
    assert top.by_group == {"temporal": pytest.approx(43.75), "spatial": 0.0}
    assert top.label_a == "TAM-ResNet18 f8"


def test_sentences_say_who_wins_by_how_much_where_with_ci_and_p():
    pairs = pd.DataFrame(
        [
            _pair("d/tam-resnet18/f8", "d/tsn-resnet18/f8", 21.9, 5.2e-4, 1.6e-3, lo=12.5, hi=32.8),
            # A worse than B: the sentence names B as the winner, CI mirrored
            _pair("d/tsn-resnet18/f8", "d/tsm-resnet18/f8", -19.0, 1e-3, 2e-3, lo=-28.0, hi=-9.0),
            _pair("d/tam-resnet18/f16", "d/tam-resnet18/f8", 3.1, 0.5, 1.0, "frames"),
        ]
    )
    lines = prose.findings_lines(findings.select_findings(pairs, RESULTS))
    assert lines[0] == (
        "On d, TAM-ResNet18 f8 beats TSN-ResNet18 f8 by 21.9 points (+43.8 on temporal classes, "
        "+0.0 on spatial classes): 95% CI [+12.5, +32.8], p < 0.001 (Holm-adjusted "
        "p = 0.002, 64 videos)."
    )
    assert lines[1].startswith("On d, TSM-ResNet18 f8 beats TSN-ResNet18 f8 by 19.0 points")
    assert "95% CI [+9.0, +28.0]" in lines[1] and "+40.0 on temporal classes" in lines[1]
    assert lines[2].startswith("Not significant (Holm-adjusted p ≥ 0.05): 1 comparison(s)")
    assert "TAM-ResNet18 f16 vs TAM-ResNet18 f8 on d (+3.1, p = 0.500)" in lines[2]
    assert len(lines) == 4


def test_one_p_value_format_in_tables_and_sentences():
    from actionbench.analysis.tables import fmt_p

    shown = [fmt_p(p) for p in (6.98e-10, 0.0, 0.000999, 0.001, 0.0123, 0.5, 1.0, float("nan"))]
    assert shown == ["< 0.001", "< 0.001", "< 0.001", "0.001", "0.012", "0.500", "1.000", "–"]
    pairs = pd.DataFrame(
        [
            _pair("d/tam-resnet18/f8", "d/tsn-resnet18/f8", 21.9, 6.98e-10, 1e-9, lo=12.5, hi=32.8),
            _pair("d/tam-resnet18/f16", "d/tam-resnet18/f8", 3.1, 0.5, 1.0, "frames"),
        ]
    )
    shown_pairs = pairs.assign(
        significant=pairs["p_value"] < 0.05, significant_holm=pairs["p_holm"] < 0.05, note=""
    )
    table = comparisons.as_table(shown_pairs).frame
    assert set(table[("clip", "p")]) == {"< 0.001", "0.500"}
    text = " ".join(prose.findings_lines(findings.select_findings(pairs, RESULTS)))
    assert re.findall(r"p = [\d.]+|p < 0\.001", text) == ["p < 0.001", "p < 0.001", "p = 0.500"]


def test_nothing_tested_says_so():
    empty = pd.DataFrame(columns=comparisons.COLUMNS)
    lines = prose.findings_lines(findings.select_findings(empty, RESULTS))
    assert lines == [
        "No two evaluated runs differ in exactly one factor with predictions on both sides: "
        "nothing to test yet."
    ]


def _grid(n_videos=96, seed=0):
    """60 runs: 5 modules x 3 backbones x 2 tp x 2 frames, predictions of varied accuracy."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n_videos) % 4
    groups = np.where(labels < 2, "temporal", "spatial")
    rows, preds = [], {}
    archs = {"tsn": 0.5, "tam": 0.9, "tsm": 0.88, "i3d": 0.8, "tconv": 0.7}
    for arch, backbone, tp, frames in itertools.product(
        archs, ("resnet18", "resnet50", "resnet101"), (False, True), (8, 16)
    ):
        rid = f"d/{arch}-{backbone}{'-tp' if tp else ''}/f{frames}"
        p_temporal = min(0.99, archs[arch] + 0.02 * (frames == 16))
        right = np.where(groups == "temporal", rng.random(n_videos) < p_temporal,
                         rng.random(n_videos) < 0.97)  # fmt: skip
        pred = np.where(right, labels, (labels + 1) % 4)
        preds[rid] = pd.DataFrame(
            {"video_id": [f"v{i}" for i in range(n_videos)], "label": labels,
             "clip_pred": pred, "video_pred": pred}
        )  # fmt: skip
        rows.append(
            _run(rid, arch, backbone, tp, frames,
                 clip_top1=100 * right.mean(),
                 clip_top1_temporal=100 * right[groups == "temporal"].mean(),
                 clip_top1_spatial=100 * right[groups == "spatial"].mean())
        )  # fmt: skip
    return pd.DataFrame(rows), preds


def test_findings_stay_short_on_a_grid_of_60_runs():
    results, preds = _grid()
    assert len(results) == 60
    pairs = comparisons.pairwise(results, preds, {}, resamples=50, seed=0)
    tested = pairs[(pairs["level"] == "clip") & pairs["p_value"].notna()]
    assert len(tested) > 100  # many comparisons...
    found = findings.select_findings(pairs, results)
    lines = prose.findings_lines(found)
    # ...but the findings state at most MAX_STATED of them, then count the rest
    assert len(found.stated) == findings.MAX_STATED and found.more_significant > 0
    assert len(lines) <= findings.MAX_STATED + 3
    assert f"{found.more_significant} more significant comparison(s)" in lines[findings.MAX_STATED]
    diffs = [abs(f.diff) for f in found.stated]
    assert diffs == sorted(diffs, reverse=True)
    assert all(f.p_holm < 0.05 for f in found.stated)
    assert sum(len(line) for line in lines) < 2500  # a screen, not a table
    html = render_html("t", [Section("Findings", [Bullets(lines, "findings")])])
    assert html.split('class="findings"')[1].count("<li>") == len(lines)
