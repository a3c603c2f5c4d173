"""End to end: the real Snakemake DAG on a tiny synthetic set (ffmpeg, training, eval, report)."""

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

from study_params import demo_params, paper_dataset

REPO = Path(__file__).resolve().parents[1]
ARCHITECTURE = REPO / "docs" / "architecture.md"


def tiny_params(base: dict) -> dict:
    p = json.loads(json.dumps(base))
    p["datasets"]["synthetic"]["synth"].update(
        size=32,
        num_frames=12,
        train_per_class=2,
        val_per_class=2,
        temporal_pairs=2,
        spatial_classes=0,
    )
    p["datasets"]["synthetic"]["extract"].update(short_side=36, workers=2)
    demo = p["experiments"]["demo"]
    demo["train"]["optim"].update(batch_size=2)
    demo["train"]["stages"] = {
        "f8": {"init": "scratch", "epochs": 1, "schedule": "cosine"},
        "f16": {"init": "previous", "epochs": 2, "schedule": "multistep", "milestones": [1]},
    }
    demo["evaluate"] = {"num_clips": 2, "batch_size": 4}
    return p


def make_project(tmp_path: Path) -> Path:
    """The repository's workflow files with the tiny demo's params (never the user's params.yaml:
    what it enables is theirs, not the test's)."""
    proj = tmp_path / "proj"
    proj.mkdir()
    shutil.copy(REPO / "Snakefile", proj)
    shutil.copytree(REPO / "workflow", proj / "workflow")
    os.symlink("workflow/profiles/local", proj / "local")
    (proj / "params.yaml").write_text(yaml.safe_dump(tiny_params(demo_params())))
    return proj


def snakemake(proj: Path, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", "local", "--cores", "2", *args],
        cwd=proj,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def tool_env(tmp_path: Path) -> dict:
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db",
    }


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """The tiny DAG run once, for real (ffmpeg, training, evaluation, report); tests copy it."""
    tmp_path = tmp_path_factory.mktemp("finished")
    proj = make_project(tmp_path)
    env = tool_env(tmp_path)
    first = snakemake(proj, "all", env=env)
    logs = (
        "\n".join(p.read_text() for p in (proj / "logs").rglob("*.log")) if first.returncode else ""
    )
    assert first.returncode == 0, first.stderr[-4000:] + logs[-4000:]
    return proj, env, first.stdout + first.stderr


def copy_of(finished, tmp_path: Path) -> Path:
    """A copy with mtimes and Snakemake's metadata (.snakemake), as if the study had just run."""
    proj = tmp_path / "copy"
    shutil.copytree(finished[0], proj, symlinks=True)
    return proj


def edit_params(proj: Path, change) -> None:
    params = yaml.safe_load((proj / "params.yaml").read_text())
    change(params)
    (proj / "params.yaml").write_text(yaml.safe_dump(params))


JOB_LINE = re.compile(r"^Job \d+: (?P<rule>[a-z_]+)(?: (?P<run>\S+/f\d+))?", re.M)


def planned(proj: Path, env: dict, *args: str) -> list[str]:
    """The jobs `snakemake -n all` plans, as "rule run-id" (one console line per job)."""
    out = snakemake(proj, "all", "--dry-run", *args, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    jobs = [
        f"{m['rule']} {m['run'] or ''}".strip() for m in JOB_LINE.finditer(out.stdout + out.stderr)
    ]
    return sorted(j for j in jobs if j != "all")


@pytest.mark.integration
def test_tiny_dag_end_to_end_then_nothing_to_do(finished):
    proj, env, console = finished

    # every stage really ran: frames from ffmpeg, a 2-class mini set, 4 trained + evaluated runs
    frames = sorted((proj / "data" / "frames" / "synthetic").glob("*/img_00001.jpg"))
    assert len(frames) == 4 * 4  # 4 classes x (2 train + 2 val)
    classes = (proj / "data" / "lists" / "mini-synthetic" / "classes.csv").read_text().splitlines()
    assert len(classes) == 1 + 2
    for run in ("tsn-resnet18/f8", "tsn-resnet18/f16", "tam-resnet18/f8", "tam-resnet18/f16"):
        metrics = json.loads(
            (proj / "runs" / "mini-synthetic" / run / "eval" / "metrics.json").read_text()
        )
        assert 0.0 <= metrics["clip_top1"] <= 100.0
        # the code that trained and evaluated the run is recorded
        trained = json.loads(
            (proj / "runs" / "mini-synthetic" / run / "train_metrics.json").read_text()
        )
        for record in (trained["code"], metrics["code"]):
            assert set(record) == {"package_version", "git_commit", "git_dirty"}
            assert record["package_version"]
    report = (proj / "reports" / "index.html").read_text()
    assert "<table>" in report and "data:image/png;base64," in report
    assert "mini-synthetic/tam-resnet18/f16" in (proj / "reports" / "report.md").read_text()

    # the console: one line per job naming rule, run id and log; no shell wrapper, no config dump
    assert (
        "Job" in console and "train mini-synthetic/tam-resnet18/f16  (log: logs/train/" in console
    )
    assert "torchrun" not in console and '"optim"' not in console

    second = snakemake(proj, "all", "--dry-run", env=env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Nothing to be done" in second.stdout + second.stderr


EVAL_JOBS = [
    f"evaluate mini-synthetic/{m}/f{f}" for m in ("tam-resnet18", "tsn-resnet18") for f in (16, 8)
]


@pytest.mark.integration
def test_params_edits_plan_exactly_the_jobs_they_affect(finished, tmp_path):
    proj = copy_of(finished, tmp_path)
    env = finished[1]
    assert planned(proj, env) == []

    edit_params(proj, lambda p: p["project"].update(mlflow_experiment="renamed"))
    assert planned(proj, env) == []

    edit_params(proj, lambda p: p["experiments"]["demo"]["evaluate"].update(num_clips=3))
    assert planned(proj, env) == sorted(EVAL_JOBS + ["report"])

    edit_params(proj, lambda p: p["experiments"]["demo"]["evaluate"].update(num_clips=2))
    edit_params(proj, lambda p: p["experiments"]["demo"]["train"]["stages"]["f16"].update(epochs=3))
    assert planned(proj, env) == sorted(
        ["report"]
        + [f"evaluate mini-synthetic/{m}/f16" for m in ("tam-resnet18", "tsn-resnet18")]
        + [f"train mini-synthetic/{m}/f16" for m in ("tam-resnet18", "tsn-resnet18")]
    )

    # actionbench status agrees, and prices the work from the recorded step times
    out = subprocess.run(
        ["actionbench", "status", "--params", "params.yaml", "--json"],
        cwd=proj,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    status = json.loads(out.stdout)
    states = {r["run_id"]: r["state"] for r in status["runs"]}
    assert states["mini-synthetic/tam-resnet18/f16"] == "stale-by-params"
    assert states["mini-synthetic/tsn-resnet18/f16"] == "stale-by-params"
    # f8 is untouched by the edit (stale by code only while the checkout has uncommitted changes)
    assert states["mini-synthetic/tam-resnet18/f8"] in ("done", "stale-by-code")
    assert status["summary"]["hours"] > 0


@pytest.mark.integration
def test_config_overrides_reach_the_jobs(finished, tmp_path):
    proj = copy_of(finished, tmp_path)
    env = {**finished[1], "ACTIONBENCH_VERBOSE": "1"}
    out = snakemake(
        proj,
        "all",
        "--dry-run",
        "--config",
        "experiments={demo: {evaluate: {num_clips: 3}}}",
        env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    console = out.stdout + out.stderr
    assert (
        console.count("actionbench evaluate --params .snakemake/actionbench/params.resolved.yaml")
        == 4
    )
    assert "reason:" in console  # verbose: Snakemake's full job block
    written = yaml.safe_load((proj / ".snakemake/actionbench/params.resolved.yaml").read_text())
    assert written["experiments"]["demo"]["evaluate"]["num_clips"] == 3
    assert written["experiments"]["demo"]["train"]["stages"]["f16"]["epochs"] == 2

    bad = snakemake(proj, "all", "--dry-run", "--config", "evaluate={num_clips: [ten]}", env=env)
    assert bad.returncode != 0 and "evaluate.num_clips" in bad.stdout + bad.stderr


@pytest.mark.integration
def test_rules_are_described_and_the_snakemake_report_holds_the_results(finished, tmp_path):
    proj = copy_of(finished, tmp_path)
    env = finished[1]
    rules = snakemake(proj, "--list-rules", env=env)
    assert rules.returncode == 0, rules.stderr[-2000:]
    for rule in ("train", "evaluate", "report", "extract", "data_all"):
        line = next(ln for ln in rules.stdout.splitlines() if ln.strip().startswith(rule))
        assert len(line.split(None, 1)) == 2, f"rule {rule} has no description"
    out = snakemake(proj, "--report", "study.zip", env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    import zipfile

    names = zipfile.ZipFile(proj / "study.zip").namelist()
    assert any(n.endswith("results.csv") for n in names)
    assert any(n.endswith("training_curves.png") for n in names)


@pytest.mark.integration
def test_bad_params_stop_snakemake_before_any_job(tmp_path):
    proj = make_project(tmp_path)
    params = yaml.safe_load((proj / "params.yaml").read_text())
    params["train"]["optim"]["learning_rate"] = 0.1
    (proj / "params.yaml").write_text(yaml.safe_dump(params))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    out = snakemake(proj, "all", env=env)
    assert out.returncode != 0
    assert "learning_rate" in out.stdout + out.stderr
    assert not (proj / "data").exists() and not (proj / "logs").exists()
    # the same two lines as `actionbench grid`, not a dump of the schema
    message = [ln for ln in out.stderr.splitlines() if ln.strip() and "profile" not in ln]
    assert message == [
        "actionbench: params.yaml is invalid:",
        "  train.optim: unknown key: Additional properties are not allowed "
        "('learning_rate' was unexpected)",
    ], out.stderr


@pytest.mark.integration
def test_yaml_errors_and_missing_raw_data_are_reported_at_plan_time(tmp_path):
    proj = make_project(tmp_path)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    good = (proj / "params.yaml").read_text()
    bad = good.replace("project:\n", "project:\n\tname: x\n", 1)
    line = bad.splitlines().index("\tname: x") + 1
    (proj / "params.yaml").write_text(bad)
    out = snakemake(proj, "all", "--dry-run", env=env)
    assert out.returncode != 0 and f"params.yaml:{line}:1: not valid YAML" in out.stderr, out.stderr

    params = yaml.safe_load(good)
    params["datasets"]["ssv2"] = paper_dataset("ssv2")
    params["experiments"]["paper_table6_ssv2"] = {
        "dataset": "mini-ssv2",
        "archs": ["tam"],
        "backbones": ["resnet18"],
        "frames": [8],
        "tam_locations": ["top_half"],
        "train": {"stages": {"f8": {"init": "scratch", "epochs": 1, "schedule": "cosine"}}},
    }
    (proj / "params.yaml").write_text(yaml.safe_dump(params))
    out = snakemake(proj, "all", "--dry-run", env=env)
    assert out.returncode != 0
    assert "experiments.paper_table6_ssv2: dataset 'mini-ssv2' has no raw files" in out.stderr
    assert not (proj / "logs").exists()


@pytest.mark.integration
def test_a_failing_run_neither_stops_the_others_nor_vanishes_from_the_report(tmp_path):
    proj = make_project(tmp_path)
    params = yaml.safe_load((proj / "params.yaml").read_text())
    demo = params["experiments"]["demo"]
    demo.update(archs=["tsn"], frames=[8])
    broken = json.loads(json.dumps(demo))
    broken.update(archs=["tsm"], description="diverges: the loss becomes NaN")
    broken["train"]["optim"]["lr"] = 1.0e12
    broken["train"]["optim"]["clip_grad_norm"] = None
    params["experiments"]["broken"] = broken
    (proj / "params.yaml").write_text(yaml.safe_dump(params))
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db",
    }
    out = snakemake(proj, "all", env=env)
    assert out.returncode != 0  # the failure is not hidden either
    runs = proj / "runs" / "mini-synthetic"
    assert (runs / "tsn-resnet18" / "f8" / "eval" / "metrics.json").is_file()
    failure = json.loads((runs / "tsm-resnet18" / "f8" / "failure.json").read_text())
    assert failure["stage"] == "train" and "loss" in failure["reason"].lower()
    report = (proj / "reports" / "report.md").read_text()
    assert "mini-synthetic/tsm-resnet18/f8" in report and "failed" in report
    assert "mini-synthetic/tsn-resnet18/f8" in report


def documented_lints() -> set[tuple[str, str]]:
    """(rule, lint title) of every row of architecture.md's lint table."""
    found: set[tuple[str, str]] = set()
    rows = False
    for line in ARCHITECTURE.read_text().splitlines():
        if line.startswith("| lint | rules |"):
            rows = True
            continue
        if rows and not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        if rows and not set(cells[0]) <= {"-"}:
            found |= {(rule, cells[0]) for rule in re.findall(r"`(\w+)`", cells[1])}
    return found


def test_snakemake_lint_reports_only_the_documented_lints(tmp_path):
    """`snakemake --lint` has no lint that docs/architecture.md does not explain, and each one it
    explains is still there (a fixed one is taken out of the doc)."""
    proj = make_project(tmp_path)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint"],
        cwd=proj,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    found: set[tuple[str, str]] = set()
    item = None
    for line in (out.stdout + out.stderr).splitlines():
        if m := re.match(r"Lints for rule (\w+) ", line):
            item = m.group(1)
        elif m := re.match(r"Lints for snakefile (.+):$", line):
            item = f"snakefile {Path(m.group(1)).name}"
        elif m := re.match(r"    \* (.*):$", line):
            found.add((item, m.group(1)))
    documented = documented_lints()
    assert len(documented) == 16, documented
    assert found == documented, (sorted(found - documented), sorted(documented - found))
