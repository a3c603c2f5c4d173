"""`actionbench status`: each run's state from what its jobs left on disk, and the re-run cost."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from actionbench.config import expand_grid, run_protocol
from actionbench.dvc_metrics import short_metrics
from actionbench.engine.code_version import code_version, source_changed_since
from actionbench.status import grid_status, summary

REPO = Path(__file__).resolve().parents[1]
PARAMS = yaml.safe_load((REPO / "params.yaml").read_text())
TSN8, TSN16 = "mini-synthetic/tsn-resnet18/f8", "mini-synthetic/tsn-resnet18/f16"
TAM8, TAM16 = "mini-synthetic/tam-resnet18/f8", "mini-synthetic/tam-resnet18/f16"


def write_run(root: Path, params: dict, rid: str, code: dict, train_seconds=120.0, evaluated=True):
    """The files a finished train + evaluate job leaves (config, metrics with code, final.pt)."""
    cfg = run_protocol(params, rid, expand_grid(params))
    cfg["num_classes"] = 8
    d = root / "runs" / rid
    (d / "eval").mkdir(parents=True, exist_ok=True)
    (d / "final.pt").write_bytes(b"weights")
    (d / "config.json").write_text(json.dumps(cfg))
    (d / "train_metrics.json").write_text(
        json.dumps({"train_seconds": train_seconds, "code": code})
    )
    if evaluated:
        (d / "eval" / "config.json").write_text(json.dumps(cfg))
        (d / "eval" / "metrics.json").write_text(json.dumps({"eval_seconds": 6.0, "code": code}))


@pytest.fixture
def study(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    here = code_version()
    for rid in (TSN8, TSN16, TAM8, TAM16):
        write_run(tmp_path, PARAMS, rid, here)
    return tmp_path, here


def states(params, **kw):
    return {s.run_id: s for s in grid_status(params, **kw)}


def test_all_done_then_each_state(study):
    root, here = study
    if here["git_dirty"] or here["git_commit"] is None:
        pytest.skip("needs a clean git checkout of the package to call runs done by code")
    assert {s.state for s in states(PARAMS).values()} == {"done"}


def test_missing_failed_and_stale_by_params(study):
    root, here = study
    import shutil

    shutil.rmtree(root / "runs" / TAM16)
    (root / "runs" / TSN8 / "failure.json").write_text(
        json.dumps({"stage": "evaluate", "reason": "OOM"})
    )
    (root / "runs" / TSN8 / "eval" / "metrics.json").unlink()
    params = copy.deepcopy(PARAMS)
    params["experiments"]["demo"]["evaluate"]["num_clips"] = 2
    params["experiments"]["demo"]["train"]["stages"]["f16"]["epochs"] = 8
    got = states(params)
    assert got[TAM16].state == "missing" and got[TAM16].train_job
    assert got[TSN8].state == "failed" and "OOM" in got[TSN8].detail
    assert got[TSN8].train_job is False  # it failed in evaluation: the model is kept
    assert (
        got[TSN16].state == "stale-by-params" and got[TSN16].detail == "training settings changed"
    )
    # f16 doubled its epochs: twice the recorded 120 s, plus the recorded evaluation
    assert got[TSN16].seconds == pytest.approx(240.0 + 6.0)
    assert (
        got[TAM8].state == "stale-by-params" and got[TAM8].detail == "evaluation settings changed"
    )
    assert got[TAM8].train_job is False and got[TAM8].seconds == pytest.approx(6.0)
    # a missing run is priced from the same model's recorded time per epoch and frame
    # (train: 120 s / (12 epochs x 8 frames) x 8 epochs x 16 frames; eval: 6 s / 8 frames x 16)
    assert got[TAM16].seconds == pytest.approx(120.0 / (12 * 8) * 8 * 16 + 6.0 / 8 * 16)
    total = summary(list(got.values()))
    assert total["counts"] == {"missing": 1, "stale-by-params": 2, "failed": 1}
    assert total["train_jobs"] == 2 and total["eval_jobs"] == 4 and total["without_estimate"] == 0


def test_mlflow_rename_leaves_every_run_as_it_was(study):
    params = copy.deepcopy(PARAMS)
    params["project"]["mlflow_experiment"] = "renamed"
    assert {s.state for s in states(params).values()} <= {"done", "stale-by-code"}


def test_a_retrained_source_makes_its_descendant_stale(study):
    root, _ = study
    import os

    final8 = root / "runs" / TAM8 / "final.pt"
    later = (root / "runs" / TAM16 / "final.pt").stat().st_mtime + 10
    os.utime(final8, (later, later))
    assert states(PARAMS)[TAM16].detail == "init checkpoint re-trained since"


def test_stale_by_code(study, tmp_path):
    root, here = study
    old = {**here, "git_commit": "0" * 40, "git_dirty": False}
    write_run(root, PARAMS, TSN8, {**here, "git_dirty": True})
    write_run(root, PARAMS, TAM8, old)
    got = states(PARAMS)
    assert got[TSN8].state == "stale-by-code" and "uncommitted" in got[TSN8].detail
    # an unknown commit cannot be compared: not flagged from guesswork
    assert got[TAM8].state in ("done", "stale-by-code")


def test_source_changed_since_compares_the_package_only(tmp_path):
    repo = tmp_path / "repo"
    pkg = repo / "src" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (repo / "README.md").write_text("hello\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@x"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "one"], cwd=repo, check=True)
    first = code_version(pkg)
    assert first["git_dirty"] is False and len(first["git_commit"]) == 40
    (repo / "README.md").write_text("changed\n")
    subprocess.run([*git, "commit", "-qam", "docs"], cwd=repo, check=True)
    assert source_changed_since(first["git_commit"], pkg) is False
    (pkg / "a.py").write_text("x = 2\n")
    assert source_changed_since(first["git_commit"], pkg) is True
    assert source_changed_since("f" * 40, pkg) is None


def test_short_metrics_are_numbers_only():
    report = {
        "mini/tam-resnet18/f8": {
            "clip_top1": 90.0,
            "video_top1": 91.5,
            "epochs": 12,
            "arch": "tam",
        },
        "mini/tsn-resnet18/f8": {"clip_top1": float("nan"), "video_top1": 70.0},
        "contributions": {
            "mini/all classes/tam": {
                "classes": "all classes",
                "dataset": "mini",
                "arch": "tam",
                "phi": 0.74,
                "psi_ta": 0.97,
            },
            "mini/spatial classes/tam": {"classes": "spatial classes", "phi": 0.9, "psi_ta": 0.1},
        },
    }
    short = short_metrics(report)
    assert short == {
        "clip": {"mini/tam-resnet18/f8": 90.0},
        "phi": {"mini/tam": 0.74},
        "psi": {"mini/tam": 0.97},
        "video": {"mini/tam-resnet18/f8": 91.5, "mini/tsn-resnet18/f8": 70.0},
    }
    assert list(short) == ["clip", "phi", "psi", "video"]  # DVC's column order: clip top-1 first


def test_the_display_prices_in_minutes_below_an_hour_and_links_mlflow(study, capsys):
    from actionbench.cli import main
    from actionbench.cli.status import duration
    from actionbench.engine import tracking

    assert [duration(s) for s in (None, 20, 246, 3599, 3600, 5400)] == [
        "?", "<1 min", "4 min", "60 min", "1.0 h", "1.5 h",
    ]  # fmt: skip
    root, _ = study
    import shutil

    shutil.rmtree(root / "runs" / TAM16)
    (root / "params.yaml").write_text(yaml.safe_dump(PARAMS))
    assert main(["status", "--params", "params.yaml"]) == 0
    out = capsys.readouterr().out
    seconds = states(PARAMS)[TAM16].seconds  # priced from TAM f8's recorded 120 s: minutes
    assert 60 < seconds < 3600
    (row,) = [line.split() for line in out.splitlines() if line.startswith(TAM16)]
    assert row[1:4] == ["missing", *duration(seconds).split()]  # "3 min", not "0.06 h"
    assert re.search(r"about \d+ min of recorded step time", out), out
    assert "MLflow" not in out  # no store yet: nothing to link (and none is created)
    # once a job has logged into the store, status says where `mlflow ui` shows the runs table
    cfg = run_protocol(PARAMS, TSN8)
    tracker = tracking.Tracker(cfg, "eval")
    tracker.start()
    tracker.end()
    assert main(["status", "--params", "params.yaml"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("MLflow runs table: run `mlflow ui`, then open http://127.0.0.1:5000/#/")
    assert line.endswith(
        tracking.ui_path(tracker._client.get_run(tracker.run_id).info.experiment_id)
    )
