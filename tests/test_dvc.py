"""DVC over the real pipeline: repro, no-op repro, an experiment variant, metrics/plots, a remote."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from test_workflow import tiny_params

REPO = Path(__file__).resolve().parents[1]


def _run(args, cwd, env, timeout=900):
    out = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{' '.join(args)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout + out.stderr


@pytest.fixture
def dvc_project(tmp_path):
    """A git clone-like copy of the repository (tracked files only) with a tiny params.yaml."""
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
    params = yaml.safe_load((proj / "params.yaml").read_text())
    (proj / "params.yaml").write_text(yaml.safe_dump(tiny_params(params), sort_keys=False))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db",
           "GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.invalid",
           "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.invalid"}
    _run(["git", "init", "-q"], proj, env)
    _run(["git", "add", "-A"], proj, env)
    _run(["git", "commit", "-qm", "tiny project"], proj, env)
    return proj, env


@pytest.mark.integration
def test_dvc_repro_noop_experiment_metrics_and_remote(dvc_project, tmp_path):
    proj, env = dvc_project
    first = _run(["dvc", "repro"], proj, env)
    for stage in ("synth", "index", "extract", "lists", "mini", "experiments", "report"):
        assert f"Running stage '{stage}'" in first
    metrics = json.loads((proj / "reports" / "metrics.json").read_text())
    assert "mini-synthetic/tam-resnet18/f16" in metrics
    assert (proj / "reports" / "index.html").is_file()
    # frames and checkpoints are DVC outputs, cached by link rather than copied
    lock = yaml.safe_load((proj / "dvc.lock").read_text())
    outs = {o["path"] for stage in lock["stages"].values() for o in stage.get("outs", [])}
    assert {"data/frames/synthetic", "runs"} <= outs

    second = _run(["dvc", "repro"], proj, env)
    assert "Running stage" not in second

    shown = _run(["dvc", "metrics", "show", "--json"], proj, env)
    assert "clip_top1" in shown
    _run(["dvc", "plots", "show", "--json"], proj, env)

    _run(["git", "add", "-A"], proj, env)
    _run(["git", "commit", "-qm", "baseline results"], proj, env)
    _run(["dvc", "exp", "run", "-S", "experiments.demo.train.stages.f16.epochs=3"], proj, env)
    exps = json.loads(_run(["dvc", "exp", "show", "--json"], proj, env))

    def f16_epochs(node):
        params = node["data"]["params"]["params.yaml"]["data"]
        return params["experiments"]["demo"]["train"]["stages"]["f16"]["epochs"]

    variants = [e for rev in exps for exp in (rev.get("experiments") or [])
                for e in exp.get("revs", [])]
    baseline = next(e for e in exps if e["rev"] != "workspace")
    assert f16_epochs(baseline) == 2 and any(f16_epochs(v) == 3 for v in variants)
    history = (proj / "runs" / "mini-synthetic" / "tam-resnet18" / "f16" / "history.csv").read_text()
    assert len(history.strip().splitlines()) == 1 + 3  # header + 3 epochs: the variant really ran

    remote = tmp_path / "remote"
    _run(["dvc", "remote", "add", "-d", "local", str(remote)], proj, env)
    _run(["dvc", "push"], proj, env)
    assert any(remote.rglob("*")), "nothing was pushed to the local remote"
