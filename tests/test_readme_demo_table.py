"""The README's demo table is the shipped seed's result (issue 13.5: claims match measurements).

tests/expected/demo_metrics.json is what the demo produces (the slow test
tests/test_demo_metrics.py, run by .ci/run, re-runs the demo and compares every number with it);
this test keeps the README's table equal to that file, so the table cannot drift from the code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROW = re.compile(
    r"^\| (?P<arch>[A-Z]+)-ResNet18 f8 / f16 \| (?P<t8>[\d.]+) / (?P<t16>[\d.]+) \| "
    r"(?P<s8>[\d.]+) / (?P<s16>[\d.]+) \|$"
)


def _readme_rows() -> dict[str, dict[str, str]]:
    rows = {}
    text = (REPO / "README.md").read_text()
    frames_mode = text.split("**Train straight from videos.**")[0]  # the demo as shipped
    for line in frames_mode.splitlines():
        m = ROW.match(line.strip())
        if m:
            rows[m["arch"].lower()] = m.groupdict()
    return rows


def test_readme_demo_table_equals_the_expected_demo_metrics():
    expected = json.loads((REPO / "tests" / "expected" / "demo_metrics.json").read_text())
    rows = _readme_rows()
    assert set(rows) == {"tsn", "tam"}, "README lost its demo table rows"
    for arch, row in rows.items():
        for frames in (8, 16):
            ev = expected["runs"][f"mini-synthetic/{arch}-resnet18/f{frames}"]["eval"]
            assert row[f"t{frames}"] == f"{ev['clip_top1_temporal']:.1f}", (arch, frames)
            assert row[f"s{frames}"] == f"{ev['clip_top1_spatial']:.1f}", (arch, frames)
