"""DVC over the real pipeline: repro, no-op repro, an f16 variant that re-trains only f16, a bad
`-S` value that deletes nothing, a `dvc exp show` that opens on the results, offline plots, a remote."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from study_params import demo_params
from test_workflow import tiny_params

REPO = Path(__file__).resolve().parents[1]
# who commits in the test projects (CI has no git identity configured)
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "ci",
    "GIT_AUTHOR_EMAIL": "ci@example.invalid",
    "GIT_COMMITTER_NAME": "ci",
    "GIT_COMMITTER_EMAIL": "ci@example.invalid",
}
F16 = ["mini-synthetic/tam-resnet18/f16", "mini-synthetic/tsn-resnet18/f16"]
RUNS = F16 + ["mini-synthetic/tam-resnet18/f8", "mini-synthetic/tsn-resnet18/f8"]


def _run(args, cwd, env, timeout=1800, check=True):
    out = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check:
        assert out.returncode == 0, (
            f"{' '.join(args)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
        )
        return out.stdout + out.stderr
    return out


@pytest.fixture
def dvc_project(tmp_path):
    """A git clone-like copy of the repository (tracked files only) with a tiny params.yaml of its
    own (the demo's, shrunk: never the user's settings)."""
    proj = tmp_path / "proj"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
    for rel in files.stdout.decode().split("\0"):
        if not rel:
            continue
        src, dst = REPO / rel, proj / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        elif src.is_file():
            shutil.copy2(src, dst)
    (proj / "params.yaml").write_text(yaml.safe_dump(tiny_params(demo_params()), sort_keys=False))
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "PYTHONPATH": str(proj / "src"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db",
        **GIT_IDENTITY,
    }
    _run(["git", "init", "-q"], proj, env)
    _run(["git", "add", "-A"], proj, env)
    _run(["git", "commit", "-qm", "tiny project"], proj, env)
    return proj, env


def _mtimes(proj: Path) -> dict[str, int]:
    return {
        str(p.relative_to(proj)): p.stat().st_mtime_ns for p in (proj / "runs").rglob("final.pt")
    }


def _trained(console: str) -> list[str]:
    return sorted(re.findall(r"Job \d+: train (\S+)", console))


@pytest.mark.slow
@pytest.mark.integration
def test_dvc_repro_experiment_metrics_plots_and_remote(dvc_project, tmp_path):
    proj, env = dvc_project
    first = _run(["dvc", "repro"], proj, env)
    for stage in ("check", "data", "experiments", "report"):
        assert f"Running stage '{stage}'" in first
    assert len(_trained(first)) == 4
    lock = yaml.safe_load((proj / "dvc.lock").read_text())
    outs = {o["path"] for stage in lock["stages"].values() for o in stage.get("outs", [])}
    assert {"data/frames", "data/lists", "runs"} <= outs

    second = _run(["dvc", "repro"], proj, env)
    # `check` always runs (a second: it reads the ImageNet files' digests, outside DVC's view);
    # nothing it feeds changed, so no other stage runs
    assert re.findall(r"Running stage '(\w+)'", second) == ["check"], second
    # the README's commands leave nothing for git but dvc.lock (every output is git-ignored,
    # `dvc plots show`'s dvc_plots/ too)
    _run(["dvc", "plots", "show"], proj, env)
    status = _run(["git", "status", "--porcelain", "--untracked-files=all"], proj, env)
    assert [line[3:] for line in status.splitlines()] == ["dvc.lock"], status

    # a short, all-numeric metrics file: per-run top-1 and the Phi/Psi summary
    shown = json.loads(_run(["dvc", "metrics", "show", "--json"], proj, env))
    metrics = next(iter(shown.values()))["data"]["reports/dvc_metrics.json"]["data"]
    assert list(metrics) == ["clip", "phi", "psi", "video"] and set(F16) <= set(metrics["clip"])
    leaves = [v for values in metrics.values() for v in values.values()]
    assert leaves and all(isinstance(v, (int, float)) for v in leaves)

    # plots render without the network: image plots of the report's figures, each with data
    out_dir = tmp_path / "plots"
    _run(["dvc", "plots", "show", "-o", str(out_dir)], proj, env)
    page = (out_dir / "index.html").read_text()
    assert "<img" in page and "cdn.jsdelivr" not in page and "https://" not in page
    images = sorted((out_dir / "static").glob("*.png"))
    assert images and all(p.stat().st_size > 5000 for p in images)

    # the README flow: commit dvc.lock, then try a variant of f16's epochs
    _run(["git", "add", "dvc.lock"], proj, env)
    _run(["git", "commit", "-qm", "baseline results"], proj, env)
    before = _mtimes(proj)
    variant = _run(
        ["dvc", "exp", "run", "-S", "experiments.demo.train.stages.f16.epochs=3"], proj, env
    )
    assert _trained(variant) == F16  # exactly the two f16 runs
    after = _mtimes(proj)
    assert all(after[k] == v for k, v in before.items() if "/f8/" in k)  # f8 kept, not re-made
    history = (
        proj / "runs" / "mini-synthetic" / "tam-resnet18" / "f16" / "history.csv"
    ).read_text()
    assert len(history.strip().splitlines()) == 1 + 3  # header + 3 epochs: the variant really ran

    # plain `dvc exp show`: DVC lays the table out for its pager (`less -S` in a terminal, printed
    # as is when piped) with params and dependency columns collapsed to one `…` each; the first
    # screen of a 200-column terminal holds every experiment and each run's clip top-1
    table = _run(["dvc", "exp", "show"], proj, env)
    lines = [line.rstrip() for line in table.splitlines() if line.strip(" ─")]
    screen = [line[:200] for line in lines]
    header, rows = screen[0], screen[1:]
    assert header.split()[:2] == ["Experiment", "Created"], header
    clips = [f"clip.{run}" for run in sorted(RUNS)]
    assert header.split()[2:6] == clips, header
    assert len(rows) == 3 and any("[" in row for row in rows)  # workspace, baseline, experiment
    values = {}  # a number under each header (right-aligned to its end)
    for name in clips:
        end = header.index(name) + len(name)
        values[name] = [float(row[header.index(name) : end]) for row in rows]
        assert all(0 <= v <= 100 for v in values[name]), (name, rows)
    assert "…" not in "\n".join(screen)
    assert "experiments.demo.train.stages.f16.epochs" not in table  # collapsed: see --only-changed
    assert max(len(line) for line in lines) <= 1024  # DVC's pager layout width

    # --only-changed keeps what differs (the edited key and the metrics) and, without the
    # dependency hashes, fits a wide terminal whole even without the pager
    table = _run(
        [
            "dvc",
            "exp",
            "show",
            "--no-pager",
            "--only-changed",
            "--drop",
            "Created|runs|data/|src/|workflow|Snakefile|reports/grid.txt",
        ],
        proj,
        {**env, "COLUMNS": "250"},
    )
    assert "experiments.demo.train.stages.f16.epochs" in table
    # the metrics that moved between the rows, and only those (at toy size some may not move)
    moved = {name for name, got in values.items() if len(set(got)) > 1}
    assert {name for name in clips if name in table} == moved, (moved, table)
    assert "…" not in table

    # a -S value that fails validation names the key and deletes nothing
    _run(["git", "checkout", "--", "params.yaml"], proj, env)
    kept = _mtimes(proj)
    bad = _run(
        ["dvc", "exp", "run", "-S", "experiments.demo.train.stages.f16.epochs=0"],
        proj,
        env,
        check=False,
    )
    assert bad.returncode != 0
    assert "experiments.demo.train.stages.f16.epochs" in bad.stdout + bad.stderr
    assert _mtimes(proj) == kept and (proj / "data" / "frames" / "synthetic").is_dir()
    _run(["git", "checkout", "--", "params.yaml"], proj, env)

    remote = tmp_path / "remote"
    _run(["dvc", "remote", "add", "-d", "local", str(remote)], proj, env)
    _run(["dvc", "push"], proj, env)
    assert any(remote.rglob("*")), "nothing was pushed to the local remote"


def _planned(console: str) -> list[str]:
    """The jobs a dry run plans ("Nothing to be done" plans none)."""
    stats = console.split("Job stats:", 1)
    if len(stats) == 1:
        return []
    table = stats[1].split("Reasons:", 1)[0]
    return [rule for rule in re.findall(r"^(\w+)\s+\d+$", table, re.MULTILINE) if rule != "total"]


@pytest.mark.slow
@pytest.mark.integration
def test_relinked_outputs_rerun_nothing(dvc_project):
    """`dvc checkout --relink` (the README's way to stop holding two copies) replaces every output
    by a link to DVC's cache: each file takes its cache object's mtime, so a checkpoint can end up
    newer than the runs trained and evaluated from it. Snakemake compares mtimes whatever
    `rerun-triggers` says; the profiles' `max-checksum-file-size` lets it see that such an input's
    content is the one it recorded, so nothing is re-run (before: 2 train + 4 evaluate + report)."""
    proj, env = dvc_project
    _run(["dvc", "repro"], proj, env)
    run = proj / "runs" / "mini-synthetic"
    assert all(p.stat().st_nlink == 1 for p in run.rglob("final.pt"))  # copies, as DVC leaves them
    _run(["dvc", "checkout", "--relink"], proj, env)
    finals = {p.relative_to(run).parent: p.stat() for p in run.rglob("final.pt")}
    assert len(finals) == 4 and all(s.st_nlink > 1 for s in finals.values())  # links now
    consumers = [  # (input, an output of a job that reads it)
        (run / f"{model}/f8/final.pt", run / f"{model}/{out}")
        for model in ("tsn-resnet18", "tam-resnet18")
        for out in ("f16/final.pt", "f16/history.csv", "f8/eval/metrics.json")
    ]
    newer = [i for i, o in consumers if i.stat().st_mtime_ns > o.stat().st_mtime_ns]
    assert newer, "no checkpoint came out newer than its consumers: the case is not exercised"

    dry = _run(["snakemake", "--profile", "local", "--dry-run", "all"], proj, env)
    assert _planned(dry) == [] and "Nothing to be done" in dry, dry[-3000:]
    # nothing changed but the stage DVC runs every time (dvc.yaml: `check`, always_changed)
    assert _run(["dvc", "status"], proj, env).split() == ["check:", "always", "changed"]
