"""The tiny grid through a real SLURM cluster with the `slurm-ci` profile (docs/slurm.md).

Needs SLURM's client tools and an idle node in partition `gpu` -- in CI the one-node cluster of
`.ci/slurm-up.sh` (run as root before the tests); skipped, saying why, otherwise — except
under ACTIONBENCH_REQUIRE_SERVICES=1 (set by .ci/run), where a missing cluster fails.

One run of the DAG checks four things:
* every job went through `sbatch` and finished there (SLURM job ids from Snakemake's log, looked
  up with `scontrol show job`, which keeps finished jobs for MinJobAge = 1 h on the CI cluster);
* the resources params.yaml asks for (partition, account, constraint, time, memory, CPUs, tasks)
  are the ones SLURM allocated;
* multi-node training through the rule: the f8 job has two tasks (`tasks_per_node: 2`, the
  one-node stand-in for two nodes), so the plugin's `mpi` resource lets the rule call `srun`
  itself, one torchrun agent per task, rendezvousing (c10d) on the job's first node;
* pre-emption: that job gets SIGTERM from SLURM mid-run (`scancel --signal=TERM`, the signal
  `--signal=TERM@<s>` sends before a time limit), saves checkpoints/last.pt and fails; the
  profile's `retries` resubmits it, the new job resumes from last.pt (both ranks) and the DAG
  completes;
* the two evaluations go to SLURM as one group job (`group-components`): fewer sbatch calls than
  jobs, one evaluation's memory, the sum of their runtimes.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from study_params import demo_params
from test_workflow import make_project, tiny_params

pytestmark = pytest.mark.integration

PARTITION = "gpu"  # .ci/slurm-up.sh's default partition
ACCOUNT = "actionbench-ci"  # any name is accepted without an accounting database
FEATURE = "ci"  # node feature set by .ci/slurm-up.sh
F8_EPOCHS = 12  # long enough (~15 s) to signal the f8 job while it trains
SIGNALLED_RUN = "mini-synthetic/tam-resnet18/f8"
SUBMITTED = re.compile(
    r"Job (\S+) has been submitted with SLURM jobid (\d+) \(log: (\S+?)\)\.?$", re.M
)


def cluster_unavailable() -> str | None:
    """Why the SLURM test cannot run here, or None."""
    for tool in ("sinfo", "sbatch", "squeue", "scontrol", "scancel"):
        if shutil.which(tool) is None:
            return f"`{tool}` not on PATH: no SLURM here (CI: run `bash .ci/slurm-up.sh` as root first)"
    try:
        out = subprocess.run(
            ["sinfo", "-h", "-p", PARTITION, "-o", "%T"], capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        return "`sinfo` timed out: slurmctld does not answer"
    if out.returncode != 0:
        return f"`sinfo` failed: {out.stderr.strip()}"
    states = out.stdout.split()
    if not any(s in ("idle", "mixed") for s in states):
        return (
            f"no idle node in SLURM partition {PARTITION!r} (sinfo states: {states or 'none'}); "
            "run `bash .ci/slurm-up.sh`"
        )
    return None


@pytest.fixture
def slurm_cluster() -> None:
    reason = cluster_unavailable()
    if reason:
        # .ci/run starts the cluster and sets this flag: there a missing cluster is a failure,
        # so a green CI means the test ran
        if os.environ.get("ACTIONBENCH_REQUIRE_SERVICES") == "1":
            pytest.fail(f"ACTIONBENCH_REQUIRE_SERVICES=1 but no SLURM cluster: {reason}")
        pytest.skip(reason)


def slurm_params(base: dict) -> dict:
    """tiny_params with one model (f8 -> f16 keeps the progressive edge) and SLURM resources."""
    p = tiny_params(base)
    demo = p["experiments"]["demo"]
    demo["archs"] = ["tam"]
    demo["train"]["stages"]["f8"]["epochs"] = F8_EPOCHS
    p["resources"] = {
        "default": {"cpus": 1, "mem_mb": 1500, "runtime": 30, "gpus": 0, "partition": PARTITION},
        "extract": {"cpus": 2, "mem_mb": 1500, "runtime": 30},
        "train": {
            "cpus": 1,
            "mem_mb": 3000,
            "runtime": 25,
            "gpus": 0,
            "partition": PARTITION,
            "account": ACCOUNT,
            "constraint": FEATURE,
        },
        "evaluate": {"cpus": 1, "mem_mb": 2500, "runtime": 20},
        "report": {"cpus": 1, "mem_mb": 2000, "runtime": 15},
    }
    # f8 trains as two torchrun agents (two SLURM tasks on the one node: two "nodes")
    demo["resources"] = {"overrides": [{"match": {"frames": [8]}, "train": {"tasks_per_node": 2}}]}
    return p


def scontrol_job(job_id: str) -> dict[str, str]:
    out = subprocess.run(
        ["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, f"scontrol show job {job_id}: {out.stderr.strip()}"
    return dict(re.findall(r"(\w[\w/:]*)=(\S*)", out.stdout))


def submissions(text: str, proj: Path) -> list[tuple[str, str, Path]]:
    """(rule, SLURM job id, SLURM log) for every job Snakemake submitted."""
    logs_root = proj / ".snakemake" / "slurm_logs"
    found = []
    for _, job_id, log in SUBMITTED.findall(text):
        rule_dir = Path(log).relative_to(logs_root).parts[0]  # rule_<rule>, group_<group>_<rules>
        name = "group_evaluate" if rule_dir.startswith("group_evaluate") else rule_dir
        found.append((name.removeprefix("rule_"), job_id, Path(log)))
    return found


def signal_f8_while_training(proj: Path, log_path: Path, proc: subprocess.Popen) -> str:
    """Wait for the f8 job's first checkpoint, then SIGTERM its processes through SLURM."""
    last = proj / "runs" / SIGNALLED_RUN / "checkpoints" / "last.pt"
    # the plugin's log folder for the job: its wildcard values joined by "_"
    wildcards = "mini-synthetic_tam-resnet18_8"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert proc.poll() is None, "snakemake ended before the f8 training job was signalled"
        if last.is_file():
            ids = [
                j
                for rule, j, log in submissions(log_path.read_text(), proj)
                if rule == "train" and log.parent.name == wildcards
            ]
            assert ids, f"{last} exists but no train job for {SIGNALLED_RUN} in the snakemake log"
            state = scontrol_job(ids[-1]).get("JobState")
            assert state == "RUNNING", (
                f"the f8 training job {ids[-1]} is {state} before it could be signalled; "
                "raise F8_EPOCHS"
            )
            out = subprocess.run(
                ["scancel", "--signal=TERM", ids[-1]], capture_output=True, text=True
            )
            assert out.returncode == 0, out.stderr
            return ids[-1]
        time.sleep(0.5)
    pytest.fail(f"no {last} after 300 s")


def test_tiny_grid_through_slurm(tmp_path, slurm_cluster):
    proj = make_project(tmp_path)
    (proj / "params.yaml").write_text(yaml.safe_dump(slurm_params(demo_params())))
    os.symlink("workflow/profiles/slurm-ci", proj / "slurm-ci")
    # jobs inherit this environment (sbatch --export=ALL): the venv, and conftest's MLflow store
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    log_path = tmp_path / "snakemake.out"

    started = time.monotonic()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "snakemake", "--profile", "slurm-ci", "all"],
            cwd=proj,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            signalled = signal_f8_while_training(proj, log_path, proc)
            rc = proc.wait(timeout=540)
        finally:
            if proc.poll() is None:  # Ctrl-C: snakemake scancels its jobs
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
            run_id = re.search(r"SLURM run ID: (\S+)", log_path.read_text())
            if run_id:  # all jobs of this run share the run id as job name
                subprocess.run(["scancel", "--name", run_id.group(1)], capture_output=True)
    elapsed = time.monotonic() - started
    text = log_path.read_text()
    if rc != 0:
        rule_logs = "\n".join(
            f"== {p}\n{p.read_text()[-1500:]}" for p in sorted((proj / "logs").rglob("*.log"))
        )
        pytest.fail(f"snakemake exited {rc}\n{text[-5000:]}\n{rule_logs[-6000:]}")

    # the grid's outputs
    assert (proj / "reports" / "index.html").is_file()
    for run in ("mini-synthetic/tam-resnet18/f8", "mini-synthetic/tam-resnet18/f16"):
        assert (proj / "runs" / run / "eval" / "metrics.json").is_file(), run

    # every job was an sbatch job: 2 trainings + 1 resubmission, the data stage, report, and
    # the 2 evaluations as ONE group job (one sbatch)
    jobs = submissions(text, proj)
    rules = sorted(rule for rule, _, _ in jobs)
    assert rules == sorted(
        [
            "synth",
            "index",
            "extract",
            "lists",
            "mini",
            "train",
            "train",
            "train",
            "group_evaluate",
            "report",
        ]
    ), rules
    assert len(re.findall(r"^\s*Job \d+: evaluate ", text, re.M)) == 2  # two jobs, one sbatch
    node = subprocess.run(
        ["sinfo", "-h", "-p", PARTITION, "-o", "%N"], capture_output=True, text=True
    ).stdout.strip()
    wanted = {  # rule -> what params.yaml asked for, as scontrol shows it
        "train": {
            "TimeLimit": "00:25:00",
            "MinMemoryNode": "3000M",
            "CPUs/Task": "1",
            "Account": ACCOUNT,
            "Features": FEATURE,
        },
        # the group: one evaluation's memory and CPUs, the two runtimes one after the other
        "group_evaluate": {"TimeLimit": "00:40:00", "MinMemoryNode": "2500M", "CPUs/Task": "1"},
        "report": {"TimeLimit": "00:15:00", "MinMemoryNode": "2000M"},
        "extract": {"TimeLimit": "00:30:00", "MinMemoryNode": "1500M", "CPUs/Task": "2"},
        "index": {"TimeLimit": "00:30:00", "MinMemoryNode": "1500M", "CPUs/Task": "1"},
    }
    for rule, job_id, slurm_log in jobs:
        info = scontrol_job(job_id)
        expected_state = "FAILED" if job_id == signalled else "COMPLETED"
        assert info["JobState"] == expected_state, (rule, job_id, info["JobState"])
        assert info["Partition"] == PARTITION, (rule, info["Partition"])
        assert info["WorkDir"] == str(proj), (rule, info["WorkDir"])
        assert info["BatchHost"] == node, (rule, info["BatchHost"])
        assert info["Comment"].startswith(f"rule_{rule.removeprefix('group_')}"), info["Comment"]
        for key, value in wanted.get(rule, {}).items():
            assert info.get(key) == value, (
                f"{rule} job {job_id}: {key}={info.get(key)}, want {value}"
            )
        assert slurm_log.is_file(), f"no SLURM log {slurm_log}"  # slurm-keep-successful-logs

    # f8: one SLURM job of two tasks, each a torchrun agent of the rule's srun; f16: one task
    tasks = {j: scontrol_job(j)["NumTasks"] for rule, j, _ in jobs if rule == "train"}
    assert tasks[signalled] == "2" and sorted(tasks.values()) == ["1", "2", "2"], tasks
    train_log = (proj / "logs" / "train" / f"{SIGNALLED_RUN}.log").read_text()  # the retry's
    assert "rank 1/2 joined (gloo on cpu)" in train_log, train_log[-3000:]
    assert "--rdzv-backend=c10d" in train_log and "srun --nodes=1 --ntasks=2" in train_log
    metrics = (proj / "runs" / SIGNALLED_RUN / "train_metrics.json").read_text()
    assert '"world_size": 2' in metrics

    # pre-emption: the signalled job saved mid-epoch and stopped (torchrun reports its workers'
    # exit 75 as a failure), its resubmission resumed from last.pt on both ranks
    stopped = jobs_log(jobs, signalled)
    assert "returned non-zero exit status" in stopped, stopped[-3000:]
    resumed = re.findall(r"resuming from \S+/checkpoints/last\.pt at epoch \d+", train_log)
    assert len(resumed) == 2, train_log[-3000:]  # both ranks, the same checkpoint
    history = (proj / "runs" / SIGNALLED_RUN / "history.csv").read_text().splitlines()
    epochs = [int(row.split(",")[0]) for row in history[1:]]
    assert epochs == list(range(1, F8_EPOCHS + 1)), epochs

    assert elapsed < 500, f"SLURM grid took {elapsed:.0f} s"  # 380-410 s on the loaded CI VM


def jobs_log(jobs: list[tuple[str, str, Path]], job_id: str) -> str:
    """The SLURM log of one job (its job step's stdout/stderr)."""
    return next(log.read_text() for _, j, log in jobs if j == job_id)
