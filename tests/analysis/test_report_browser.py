"""The HTML report renders in a real browser: headless Chromium screenshot, DOM and network log.

Checks: the page renders (not blank); the findings are on the first screen (within 900 px of a
1200x900 window); in a 1280-px window the page is no wider than the window and every table fits
it (cells wrap; a scroll box inside the table is the fallback for grids too wide to wrap); a model has the same colour in every figure that draws it (the figures'
``data-models`` metadata) and in the legend; the page requests nothing outside itself (the
network log holds only the page's own file and data: URIs — a control page with one external
image shows the log would catch it).

CI needs Debian's chromium (tests/headless_chromium.py: skipped without it, except under
ACTIONBENCH_REQUIRE_SERVICES=1, which .ci/run sets).
"""

from __future__ import annotations

import base64
import html as html_lib
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from actionbench.analysis.report import build_report
from headless_chromium import Page, require_chromium, run_chromium

pytestmark = [pytest.mark.integration]


@pytest.fixture(autouse=True)
def _browser() -> None:
    require_chromium()


def _requested_urls(tmp_path: Path, url: str, name: str) -> set[str]:
    """Every URL the page made Chromium request, from its network log.

    Requests on behalf of a file:// page carry its site in their network isolation key; the
    browser's own background requests (time sync, accounts) carry another or none."""
    log = tmp_path / f"{name}-netlog.json"
    res = run_chromium(
        tmp_path / f"profile-{name}",
        f"--log-net-log={log}",
        "--net-log-capture-mode=Default",
        "--virtual-time-budget=3000",
        "--dump-dom",
        url,
    )
    assert log.is_file(), f"no network log; chromium said:\n{res.stderr[-2000:]}"
    netlog = json.loads(log.read_text())
    start = netlog["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return {
        e["params"]["url"]
        for e in netlog["events"]
        if e["type"] == start
        and str(e.get("params", {}).get("network_isolation_key", "")).startswith("file://")
    }


def _external(urls: set[str]) -> set[str]:
    return {u for u in urls if not u.startswith(("file:", "data:", "about:"))}


def _figure_models(dom: str) -> list[dict[str, dict[str, str]]]:
    return [
        json.loads(html_lib.unescape(m))
        for m in re.findall(r'<figure[^>]*data-models="([^"]*)"', dom)
    ]


def test_html_renders_in_headlessrun_chromium(demo_runs, tmp_path):
    params, params_path = demo_runs
    paths = build_report(params, tmp_path / "reports", params_path=params_path, resamples=200)
    html = paths["html"]
    # self-contained: the page still works when moved away from its figures
    alone = tmp_path / "alone" / "index.html"
    alone.parent.mkdir()
    shutil.copy(html, alone)
    url = alone.resolve().as_uri()

    shot = tmp_path / "shot.png"
    res = run_chromium(
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

    res = run_chromium(tmp_path / "profile-dom", "--dump-dom", url)
    dom = res.stdout
    assert "<table>" in dom, f"no DOM from chromium:\n{res.stderr[-2000:]}"
    assert dom.count("<table>") >= 6
    for heading in (
        "Findings",
        "Table 5 — temporal aggregation",
        "Spatial and temporal contributions (Table 7)",
        "Pairwise comparisons",
        "Protocol differences",
        "Reproducibility",
    ):
        assert heading in dom, heading
    assert dom.count("data:image/png;base64,") >= 5
    # the embedded figures are real PNGs
    first = dom.split("data:image/png;base64,", 1)[1].split('"', 1)[0]
    image = Image.open(io.BytesIO(base64.b64decode(first)))
    assert image.format == "PNG" and min(image.size) > 100
    assert dom.count("<details>") == 4

    # one colour per model: every figure that draws TAM-ResNet18 draws it in the same colour,
    # and the legend swatch says that colour
    drawn = _figure_models(dom)
    with_tam = [m["TAM-ResNet18"] for m in drawn if "TAM-ResNet18" in m]
    assert len(with_tam) >= 2, drawn
    assert len({json.dumps(s, sort_keys=True) for s in with_tam}) == 1
    for label in ("TAM-ResNet18", "TSN-ResNet18"):
        colours = {m[label]["color"] for m in drawn if label in m}
        assert len(colours) == 1, (label, colours)
        assert f'data-color="{colours.pop()}">{label}' in dom
    # protocol warnings: once per comparison group, figures link to them
    for anchor in set(re.findall(r'class="flaglink">[^<]*<a href="#([^"]+)"', dom)):
        assert dom.count(f'id="{anchor}"') == 1


def test_findings_on_the_first_screen_and_nothing_external(demo_runs, tmp_path):
    params, params_path = demo_runs
    paths = build_report(params, tmp_path / "reports", params_path=params_path, resamples=200)
    page = paths["html"].read_text()
    assert "<script" not in page
    # measure the layout in a copy with a probe script (the report itself has none)
    probe = tmp_path / "probe.html"
    probe.write_text(
        page.replace(
            "</body>",
            "<script>const f=document.querySelector('#findings .findings').getBoundingClientRect();"
            "document.body.setAttribute('data-findings', f.top+','+f.bottom);</script></body>",
        )
    )
    res = run_chromium(
        tmp_path / "profile-probe", "--window-size=1200,900", "--dump-dom", probe.as_uri()
    )
    found = re.search(r'data-findings="([\d.]+),([\d.]+)"', res.stdout)
    assert found, f"probe did not run:\n{res.stderr[-2000:]}"
    top, bottom = map(float, found.groups())
    assert 0 < top < bottom <= 900, f"findings span {top}-{bottom} px, not within the first 900"

    urls = _requested_urls(tmp_path, paths["html"].resolve().as_uri(), "report")
    assert not _external(urls), _external(urls)
    # control: the same check sees an external resource when a page has one
    leaky = tmp_path / "leaky.html"
    leaky.write_text(page.replace("</body>", '<img src="http://192.0.2.1/x.png"></body>'))
    leaked = _external(_requested_urls(tmp_path, leaky.as_uri(), "leaky"))
    assert leaked == {"http://192.0.2.1/x.png"}, leaked


def test_no_table_wider_than_a_1280_px_page(demo_runs, tmp_path):
    params, params_path = demo_runs
    paths = build_report(params, tmp_path / "reports", params_path=params_path, resamples=50)
    page = Page(tmp_path / "profile-width", width=1280, height=900)
    try:
        page.goto(paths["html"].resolve().as_uri())
        page.wait_for("document.readyState === 'complete'")
        layout = page.evaluate(
            """({
              window: window.innerWidth,
              page: document.documentElement.scrollWidth,
              tables: [...document.querySelectorAll('table')].map(t => ({
                section: t.closest('section') ? t.closest('section').id : '',
                width: Math.ceil(t.getBoundingClientRect().width),
                room: t.parentElement.clientWidth,
              })),
            })"""
        )
    finally:
        page.close()
    assert layout["window"] == 1280
    assert layout["page"] <= layout["window"], layout["page"]
    assert len(layout["tables"]) >= 6
    too_wide = [t for t in layout["tables"] if t["width"] > t["room"]]
    assert too_wide == [], too_wide  # the protocol and pairwise tables wrap instead
