""".gitignore covers every file the report writes and every output dvc.yaml declares.

A git repository holding only the project's .gitignore receives a real report (``build_report``,
as the demo's report rule and DVC's report stage run it) and the outputs, metrics and plots
dvc.yaml declares, plus `dvc plots show`'s default folder: `git status` must list nothing. The
whole demo is checked the same way in tests/test_demo_metrics.py (slow), the DVC commands in
tests/test_dvc.py (slow).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from actionbench.analysis.report import build_report

REPO = Path(__file__).resolve().parents[2]


def _declared(dvc_yaml: Path) -> list[str]:
    """Every path dvc.yaml declares as an output, metric or plot."""
    paths = []
    for stage in yaml.safe_load(dvc_yaml.read_text())["stages"].values():
        for kind in ("outs", "metrics", "plots"):
            for entry in stage.get(kind, []):
                paths.append(next(iter(entry)) if isinstance(entry, dict) else entry)
    return paths


def test_git_ignores_what_the_report_and_the_dvc_stages_write(demo_runs, tmp_path):
    params, params_path = demo_runs
    repo = tmp_path / "checkout"
    repo.mkdir()
    shutil.copy(REPO / ".gitignore", repo / ".gitignore")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", ".gitignore"], cwd=repo, check=True)
    build_report(params, repo / "reports", params_path=params_path, resamples=50)
    written = {p.name for p in (repo / "reports").iterdir()}
    assert {"metrics.json", "results.csv", "plots", "figures", "tables"} <= written
    for rel in _declared(REPO / "dvc.yaml") + ["dvc_plots/index.html"]:
        path = repo / rel
        if not path.exists():  # what the report did not write: a file, or a folder with one
            target = path if path.suffix else path / "output.txt"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("output")
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert status.splitlines() == ["A  .gitignore"], status
