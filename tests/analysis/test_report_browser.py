"""The HTML report renders in a real browser: headless Chromium screenshot + DOM.

CI needs Debian's chromium (`apt-get install -y chromium`); without /usr/bin/chromium the test
is skipped, saying so.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from actionbench.analysis.report import build_report

CHROMIUM = Path(os.environ.get("ACTIONBENCH_CHROMIUM", "/usr/bin/chromium"))

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not CHROMIUM.is_file(),
        reason=f"{CHROMIUM} not installed (Debian: apt-get install -y chromium)",
    ),
]


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_html_renders_in_headless_chromium(demo_runs, tmp_path):
    params, params_path = demo_runs
    paths = build_report(params, tmp_path / "reports", params_path=params_path, resamples=200)
    html = paths["html"]
    # self-contained: the page still works when moved away from its figures
    alone = tmp_path / "alone" / "index.html"
    alone.parent.mkdir()
    shutil.copy(html, alone)
    url = alone.resolve().as_uri()

    shot = tmp_path / "shot.png"
    res = _chromium(
        tmp_path / "profile-shot",
        f"--screenshot={shot}",
        "--window-size=1200,2000",
        "--hide-scrollbars",
        url,
    )
    assert shot.is_file(), f"no screenshot; chromium said:\n{res.stderr[-2000:]}"
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (2000, 1200)
    assert pixels.std() > 20, "screenshot is (nearly) blank"
    dark = (pixels < 128).mean()
    assert 0.01 < dark < 0.6, f"implausible share of dark pixels: {dark:.3f}"

    res = _chromium(tmp_path / "profile-dom", "--dump-dom", url)
    dom = res.stdout
    assert "<table>" in dom, f"no DOM from chromium:\n{res.stderr[-2000:]}"
    assert dom.count("<table>") >= 6
    for heading in (
        "Table 5 — temporal aggregation",
        "Spatial and temporal contributions (Table 7)",
        "Pairwise comparisons",
        "Reproducibility",
    ):
        assert heading in dom, heading
    assert dom.count("data:image/png;base64,") >= 5
    # the embedded figures are real PNGs
    first = dom.split("data:image/png;base64,", 1)[1].split('"', 1)[0]
    image = Image.open(io.BytesIO(base64.b64decode(first)))
    assert image.format == "PNG" and min(image.size) > 100
    assert dom.count("<details>") == 4
