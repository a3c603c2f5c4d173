"""A result is reused only when everything it is made of is unchanged (docs/reruns.md).

A real tiny study (ffmpeg, Snakemake, training, evaluation, report) is finished once; then each
scenario changes one thing a run is made of (the frames' short side, the synthetic seed, the
mini set's seed, the train list, a source run's weights, the ImageNet file) and runs the study
again, under Snakemake and under ``dvc repro``. Exactly the runs made of the changed thing are
trained again, from scratch (their old ``last.pt`` set aside, never resumed); the others keep
their ``final.pt`` untouched; afterwards Snakemake, ``actionbench status`` and the report agree
that the study is complete.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import yaml

from actionbench.config import expand_grid
from study_params import demo_params

REPO = Path(__file__).resolve().parents[1]
MINI = [f"mini-synthetic/{a}-resnet18/f{f}" for a in ("tsn", "tam") for f in (8, 16)]
BASE = "synthetic/tsn-resnet18/f8"  # trained on the parent set, from an ImageNet file
ALL = sorted(MINI + [BASE])
WEIGHTS = "weights/resnet18-imagenet.pth"
TRAIN_JOB = re.compile(r"^Job \d+: train (\S+/f\d+)", re.M)  # one console line per job


def tiny_study() -> dict:
    """The demo at toy size, plus one run on the parent set that starts from ImageNet weights."""
    p = demo_params()
    p["datasets"]["synthetic"]["synth"].update(
        size=32, num_frames=12, train_per_class=2, val_per_class=2, temporal_pairs=2,
        spatial_classes=0,
    )  # fmt: skip
    p["datasets"]["synthetic"]["extract"].update(short_side=36, workers=2)
    demo = p["experiments"]["demo"]
    demo["train"]["optim"].update(batch_size=2)
    demo["train"]["stages"] = {
        "f8": {"init": "scratch", "epochs": 1, "schedule": "cosine"},
        "f16": {"init": "previous", "epochs": 1, "schedule": "cosine"},
    }
    demo["evaluate"] = {"num_clips": 2, "batch_size": 4}
    p["experiments"]["base"] = {
        "enabled": True,
        "dataset": "synthetic",
        "archs": ["tsn"],
        "backbones": ["resnet18"],
        "frames": [8],
        "train": {
            "optim": {"batch_size": 2},
            "stages": {"f8": {"init": "imagenet", "epochs": 1, "schedule": "cosine"}},
            "pretrained": {"resnet18": WEIGHTS},
            "runtime": {"threads": 1, "workers": 0, "deterministic": True},
        },
        "evaluate": {"num_clips": 2, "batch_size": 4},
    }
    assert sorted(expand_grid(p)) == ALL
    return p


def write_imagenet_file(path: Path, seed: int) -> None:
    """A torchvision ResNet-18 state dict (randomly initialised: no download here)."""
    import torchvision

    torch.manual_seed(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)


def tool_env(tmp: Path) -> dict:
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp}/mlflow.db",
        "GIT_AUTHOR_NAME": "ci",
        "GIT_AUTHOR_EMAIL": "ci@example.invalid",
        "GIT_COMMITTER_NAME": "ci",
        "GIT_COMMITTER_EMAIL": "ci@example.invalid",
    }


def run(args: list[str], proj: Path, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run(args, cwd=proj, env=env, capture_output=True, text=True, timeout=1800)
    if check and out.returncode != 0:
        logs = "\n".join(p.read_text()[-1500:] for p in (proj / "logs").rglob("*.log"))
        raise AssertionError(f"{args} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}\n{logs}")
    return out


def snakemake(proj: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--profile", "local", "--cores", "2", *args]
    return run(cmd, proj, env)


def make_project(root: Path, with_dvc: bool) -> Path:
    """The checkout's tracked files (as a clone has them) with the tiny study's params.yaml."""
    proj = root / "proj"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
    for rel in files.stdout.decode().split("\0"):
        src, dst = REPO / rel, proj / rel
        if not rel or not (src.is_file() or src.is_symlink()):
            continue
        if not with_dvc and not rel.startswith(("Snakefile", "workflow/", "local")):
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)
    (proj / "params.yaml").write_text(yaml.safe_dump(tiny_study(), sort_keys=False))
    write_imagenet_file(proj / WEIGHTS, seed=1)
    return proj


def finals(proj: Path) -> dict[str, int]:
    """run id -> final.pt's mtime (ns); a re-trained run writes a new one."""
    return {rid: (proj / "runs" / rid / "final.pt").stat().st_mtime_ns for rid in ALL}


def edit_params(proj: Path, change: Callable[[dict], None]) -> None:
    params = yaml.safe_load((proj / "params.yaml").read_text())
    change(params)
    (proj / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def other_mini_seed(proj: Path) -> int:
    """A mini-set seed that draws other classes than seed 0 from the built class list."""
    import pandas as pd

    from actionbench.data.mini import choose_classes

    classes = pd.read_csv(proj / "data/lists/synthetic/classes.csv")
    first = choose_classes(classes, "seeded_half", 0, unit_column="family", strata_column="group")
    for seed in range(1, 50):
        drawn = choose_classes(
            classes, "seeded_half", seed, unit_column="family", strata_column="group"
        )
        if drawn != first:
            return seed
    raise AssertionError("no seed draws other classes")


def replace_source_weights(proj: Path) -> None:
    """tsn f8 trained again elsewhere with another result: its final.pt (and the digest its
    training records beside it) change; f16 starts from it."""
    from actionbench.identity import weights_record

    run_dir = proj / "runs" / "mini-synthetic/tsn-resnet18/f8"
    state = torch.load(run_dir / "final.pt", weights_only=True)
    state["fc.weight"] = state["fc.weight"] + 0.01
    torch.save(state, run_dir / "final.pt")
    metrics = json.loads((run_dir / "train_metrics.json").read_text())
    metrics["final"] = weights_record((run_dir / "final.pt").read_bytes())
    (run_dir / "train_metrics.json").write_text(json.dumps(metrics))


def edit_train_list(proj: Path) -> None:
    path = proj / "data/lists/mini-synthetic/train.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")  # one training video fewer


# scenario -> (what it changes, the runs made of it)
SCENARIOS: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "short_side": (
        lambda p: edit_params(
            p, lambda q: q["datasets"]["synthetic"]["extract"].update(short_side=32)
        ),
        ALL,
    ),
    "synthetic_seed": (
        lambda p: edit_params(p, lambda q: q["datasets"]["synthetic"]["synth"].update(seed=7)),
        ALL,
    ),
    "mini_seed": (
        lambda p: edit_params(
            p, lambda q: q["datasets"]["synthetic"]["mini"].update(seed=other_mini_seed(p))
        ),
        MINI,
    ),
    "train_list": (edit_train_list, MINI),
    "retrained_source": (replace_source_weights, ["mini-synthetic/tsn-resnet18/f16"]),
    "imagenet_file": (lambda p: write_imagenet_file(p / WEIGHTS, seed=2), [BASE]),
}


def check_retrained_exactly(proj: Path, before: dict, expected: list[str], env: dict) -> None:
    after = finals(proj)
    retrained = sorted(rid for rid in ALL if after[rid] != before[rid])
    assert retrained == sorted(expected)
    for rid in expected:
        log = (proj / "logs" / "train" / f"{rid}.log").read_text()
        # from scratch: the previous identity's last.pt was set aside, never resumed
        assert "made from another identity" in log and "resuming from" not in log, log[-2000:]
        aside = list((proj / "runs" / rid / "checkpoints").glob("set-aside-*.pt"))
        assert len(aside) == 1  # project.keep_set_aside: 1
    check_agreement(proj, env)


def check_agreement(proj: Path, env: dict) -> None:
    """Snakemake has nothing to do, status calls every run up to date, the report is complete."""
    dry = snakemake(proj, env, "all", "--dry-run")
    assert "Nothing to be done" in dry.stdout + dry.stderr, dry.stdout[-3000:]
    status = json.loads(
        run(["actionbench", "status", "--params", "params.yaml", "--json"], proj, env).stdout
    )
    states = {r["run_id"]: r["state"] for r in status["runs"]}
    # stale-by-code only while the checkout running the tests has uncommitted changes
    assert set(states.values()) <= {"done", "stale-by-code"}, states
    assert (proj / "reports" / "complete.json").is_file()
    assert "partial" not in (proj / "reports" / "report.md").read_text().lower()


@pytest.fixture(scope="module")
def finished_study(tmp_path_factory):
    root = tmp_path_factory.mktemp("identity")
    proj = make_project(root, with_dvc=False)
    env = tool_env(root)
    snakemake(proj, env, "all")
    return proj, env


# The three that re-extract or re-draw every video re-train every run: minutes each, so slow.
RETRAIN_ALL = ("short_side", "synthetic_seed", "mini_seed")


@pytest.mark.integration
@pytest.mark.parametrize(
    "scenario",
    [pytest.param(s, marks=pytest.mark.slow) if s in RETRAIN_ALL else s for s in SCENARIOS],
)
def test_snakemake_retrains_exactly_what_a_change_makes(finished_study, scenario, tmp_path):
    proj = tmp_path / "proj"
    shutil.copytree(finished_study[0], proj, symlinks=True)
    env = finished_study[1]
    change, expected = SCENARIOS[scenario]
    change(proj)
    before = finals(proj)  # after the change: retrained_source replaces a final.pt itself
    dry = snakemake(proj, env, "all", "--dry-run")
    planned = sorted(TRAIN_JOB.findall(dry.stdout + dry.stderr))
    assert planned == sorted(expected)
    # status agrees before anything runs (a data setting is seen before the lists are rebuilt)
    pending = {r: s for r, s in study_status(proj, env).items() if s["train_job"]}
    assert sorted(pending) == sorted(expected), pending
    snakemake(proj, env, "all")
    check_retrained_exactly(proj, before, expected, env)


@pytest.mark.slow
@pytest.mark.integration
def test_dvc_repro_retrains_exactly_what_a_change_makes(tmp_path):
    """The same scenarios one after another in one DVC project (``dvc repro`` each time)."""
    proj = make_project(tmp_path, with_dvc=True)
    env = tool_env(tmp_path)
    run(["git", "init", "-q"], proj, env)
    run(["git", "add", "-A"], proj, env)
    run(["git", "commit", "-qm", "tiny study"], proj, env)
    run(["dvc", "repro"], proj, env)
    for name, (change, expected) in SCENARIOS.items():
        change(proj)
        before = finals(proj)
        run(["dvc", "repro"], proj, env)
        try:
            check_retrained_exactly(proj, before, expected, env)
        except AssertionError as err:
            raise AssertionError(f"scenario {name}: {err}") from err
        shutil.rmtree(proj / "logs" / "train")  # each scenario reads only its own train logs


def demo_metrics_tool():
    spec = importlib.util.spec_from_file_location("demo_metrics", REPO / "scripts/demo_metrics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def study_status(proj: Path, env: dict) -> dict[str, dict]:
    """run id -> its `actionbench status --json` record (state, detail, train_job, ...)."""
    status = json.loads(
        run(["actionbench", "status", "--params", "params.yaml", "--json"], proj, env).stdout
    )
    return {r["run_id"]: r for r in status["runs"]}


@pytest.mark.integration
def test_ctrl_c_mid_grid_then_rerun_completes_identically(finished_study, tmp_path):
    """Ctrl-C (SIGINT to Snakemake's process group, as a terminal sends it) while a run trains:
    the partial report names what is missing and does not pass for the finished study; the same
    command again runs what is missing and ends identical to the uninterrupted study."""
    proj = make_project(tmp_path, with_dvc=False)
    env = tool_env(tmp_path)
    cmd = [sys.executable, "-m", "snakemake", "--profile", "local", "--cores", "2", "all"]
    # A terminal's Ctrl-C reaches processes that handle SIGINT. A test runner started in the
    # background of a non-interactive shell has SIGINT ignored, and children inherit that
    # (Snakemake would run the study to the end): the study gets the default disposition back.
    proc = subprocess.Popen(
        cmd, cwd=proj, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    # Ctrl-C once a training job has opened its MLflow run (its epochs follow): a run trains.
    deadline = time.monotonic() + 900
    while not any(
        "MLflow run " in log.read_text(errors="replace")
        for log in (proj / "logs" / "train").glob("*/*/f8.log")
    ):
        assert proc.poll() is None, proc.stdout.read()[-3000:]
        assert time.monotonic() < deadline, "no training started"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    console = proc.communicate(timeout=600)[0]
    assert proc.returncode != 0, console[-3000:]

    status = study_status(proj, env)
    todo = sorted(r for r, s in status.items() if s["state"] not in ("done", "stale-by-code"))
    assert todo, status  # interrupted mid-grid
    assert not (proj / "reports" / "complete.json").exists()
    report = (proj / "reports" / "report.md").read_text()
    assert "partial" in report.lower() and all(rid in report for rid in todo)
    # Snakemake plans exactly the train jobs status says are owed
    dry = snakemake(proj, env, "all", "--dry-run")
    assert sorted(TRAIN_JOB.findall(dry.stdout + dry.stderr)) == sorted(
        rid for rid in todo if status[rid]["train_job"]
    )

    snakemake(proj, env, "all")
    check_agreement(proj, env)
    tool = demo_metrics_tool()
    assert tool.differences(tool.collect(finished_study[0]), tool.collect(proj)) == []


@pytest.mark.integration
def test_a_job_failing_on_bad_data_then_fixed_reruns_alone(finished_study, tmp_path):
    proj = tmp_path / "proj"
    shutil.copytree(finished_study[0], proj, symlinks=True)
    env = finished_study[1]
    # the base run must train again (one more epoch), and one of its videos is broken
    edit_params(proj, lambda p: p["experiments"]["base"]["train"]["stages"]["f8"].update(epochs=2))
    mini = {
        line.split(",")[0]
        for name in ("train", "val")
        for line in (proj / f"data/lists/mini-synthetic/{name}.csv").read_text().splitlines()[1:]
    }
    base_only = next(
        line.split(",")[0]
        for line in (proj / "data/lists/synthetic/train.csv").read_text().splitlines()[1:]
        if line.split(",")[0] not in mini
    )
    folder = proj / "data/frames/synthetic" / base_only
    saved = {p: p.read_bytes() for p in folder.glob("img_*.jpg")}
    for path in saved:
        path.write_bytes(b"not a jpeg")
    before = finals(proj)
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", "local", "--cores", "2", "all"],
        cwd=proj, env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert out.returncode != 0
    states = {rid: s["state"] for rid, s in study_status(proj, env).items()}
    assert states[BASE] == "failed" and all(states[r] in ("done", "stale-by-code") for r in MINI), (
        states
    )
    assert not (proj / "reports" / "complete.json").exists()
    assert BASE in (proj / "reports" / "report.md").read_text()

    for path, data in saved.items():  # fixed
        path.write_bytes(data)
    dry = snakemake(proj, env, "all", "--dry-run")
    assert TRAIN_JOB.findall(dry.stdout + dry.stderr) == [BASE]
    snakemake(proj, env, "all")
    after = finals(proj)
    assert [rid for rid in ALL if after[rid] != before[rid]] == [BASE]
    check_agreement(proj, env)
