"""The whole report on a grid of 60 runs: the findings stay a short first section, every model
keeps one colour, warning boxes are not repeated, and (with Chromium) the findings fit in the
first 900 px. Slow: 60 runs of figures."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from actionbench.analysis.findings import MAX_STATED
from actionbench.analysis.report import build_report

CHROMIUM = Path(os.environ.get("ACTIONBENCH_CHROMIUM", "/usr/bin/chromium"))
SKILL = {"tsn": 50.0, "tam": 93.75, "tsm": 87.5, "i3d": 81.25, "tconv": 68.75}


@pytest.mark.slow
def test_report_on_a_grid_of_60_runs(tmp_path, params_file, base_params, labels, run_files):
    from actionbench.config import expand_grid, load_params, run_protocol

    write_run, predictions_with_accuracy = run_files

    base_params["project"]["runs_dir"] = str(tmp_path / "runs")
    base_params["experiments"]["demo"].update(
        archs=list(SKILL),
        backbones=["resnet18", "resnet50", "resnet101"],
        temporal_pooling=[False, True],
    )
    path = params_file(base_params)
    params = load_params(path)
    grid = expand_grid(params)
    assert len(grid) == 60
    for i, (rid, spec) in enumerate(grid.items()):
        temporal = SKILL[spec.arch] if spec.frames == 8 else min(100.0, SKILL[spec.arch] + 6.25)
        pred = predictions_with_accuracy(labels, (temporal + 100) / 2, temporal, seed=i)
        cfg = run_protocol(params, rid)
        write_run(tmp_path / "runs" / rid, labels, pred, pred, cfg, epochs=2)

    paths = build_report(params, tmp_path / "reports", params_path=path, resamples=100)
    md = paths["markdown"].read_text()
    page = paths["html"].read_text()
    findings = md.split("## Findings")[1].split("\n## ")[0]
    lines = [line for line in findings.splitlines() if line.startswith("- ")]
    assert MAX_STATED < len(lines) <= MAX_STATED + 3
    assert "more significant comparison(s)" in findings
    assert len(findings.split("![")[0]) < 3000  # the words before the headline figure

    # one colour per model across all figures
    drawn = [
        json.loads(m.replace("&quot;", '"').replace("&amp;", "&"))
        for m in re.findall(r'<figure[^>]*data-models="([^"]*)"', page)
    ]
    styles: dict[str, str] = {}
    for models in drawn:
        for label, style in models.items():
            assert styles.setdefault(label, style["color"]) == style["color"], label
    assert len(styles) == 30 and len(set(styles.values())) == 30
    boxes = re.findall(r'<div[^>]*class="flags">(.*?)</div>', page)
    assert len(boxes) == len(set(boxes))

    if not CHROMIUM.is_file():
        return
    probe = tmp_path / "probe.html"
    probe.write_text(
        page.replace(
            "</body>",
            "<script>const f=document.querySelector('#findings .findings')"
            ".getBoundingClientRect();document.body.setAttribute('data-findings', f.bottom);"
            "</script></body>",
        )
    )
    res = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,900",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    bottom = re.search(r'data-findings="([\d.]+)"', res.stdout)
    assert bottom, res.stderr[-2000:]
    assert float(bottom.group(1)) <= 900
    assert np.isfinite(float(bottom.group(1)))
