"""The SLURM profiles, and the resources the rules declare, against what the executor plugin reads.

Fast, no cluster needed: the profiles go through Snakemake's own command-line parser (which knows
the installed plugin's options and rejects unknown keys), and a real dry run of the workflow with
the `slurm` profile shows, per job, the resources Snakemake would hand to
snakemake-executor-plugin-slurm. The names below are the ones the plugin (2.8) turns into sbatch
flags; see docs/slurm.md for the table. The end-to-end run on a real cluster is tests/test_slurm.py.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from study_params import sized_study
from test_workflow import REPO, make_project

PROFILES = REPO / "workflow" / "profiles"

# resource name (as the rules must declare it) -> the sbatch flag snakemake-executor-plugin-slurm
# 2.8 builds from it (submit_string.py / utils.set_gres_string / __init__.get_*_arg)
PLUGIN_RESOURCES = {
    "mem_mb": "--mem",
    "runtime": "-t",
    "gpu": "--gpus",
    "slurm_partition": "-p",
    "slurm_account": "-A",
    "constraint": "-C",
    "nodes": "--nodes",
}
# names a reader might expect but the plugin's sbatch call ignores
# (Snakemake itself adds mem/mem_mib/disk as display forms of mem_mb/disk_mb: harmless)
NOT_READ_BY_PLUGIN = {"gpus", "partition", "account", "time", "cpus", "walltime"}


def parse_profile(name: str):
    """The profile as Snakemake's CLI parser reads it (exits on keys no option or plugin knows)."""
    from snakemake.cli import get_argument_parser

    return get_argument_parser(profiles=[str(PROFILES / name)]).parse_args([])


@pytest.mark.parametrize("name", ["slurm", "slurm-ci"])
def test_profile_parses_and_names_the_slurm_executor(name):
    raw = yaml.safe_load((PROFILES / name / "config.yaml").read_text())
    assert raw["executor"] == "slurm"
    args = parse_profile(name)
    assert args.executor == "slurm"
    assert args.jobs >= 1 and args.keep_going and args.rerun_incomplete
    assert args.latency_wait >= 5
    # squeue: works without slurmdbd (the plugin's default picks sacct whenever the binary exists)
    assert args.slurm_status_command == "squeue"
    assert args.slurm_requeue is True and args.slurm_no_requeue is not True
    assert args.slurm_keep_successful_logs
    assert args.retries >= 1  # a training job stopped by SIGTERM is resubmitted and resumes
    # the pre-emption warning: SIGTERM (not USR1, which kills the job step's Snakemake) to train
    extra = str(args.set_resources["train"]["slurm_extra"].raw).strip("'\"")
    assert re.fullmatch(r"--signal=TERM@\d+", extra), extra


def test_params_yaml_stays_the_single_source_of_resources():
    """No profile sets a job's size: those numbers live in params.yaml `resources:`."""
    for name in ("slurm", "slurm-ci"):
        raw = yaml.safe_load((PROFILES / name / "config.yaml").read_text())
        assert "default-resources" not in raw, name
        for entry in raw.get("set-resources", []):
            assert re.fullmatch(r"\w+:slurm_extra=.*", entry), f"{name}: {entry}"


def test_ci_profile_polls_fast_and_cluster_profile_does_not():
    ci, cluster = parse_profile("slurm-ci"), parse_profile("slurm")
    # each CI job lasts seconds: a 40 s first check would cost most of a minute per job
    assert ci.slurm_init_seconds_before_status_checks <= 5
    assert ci.seconds_between_status_checks <= 5
    assert cluster.slurm_init_seconds_before_status_checks >= 20
    assert cluster.seconds_between_status_checks >= 10
    assert cluster.max_status_checks_per_second <= 1


def test_slurm_profile_resolves_from_the_repo_root(monkeypatch):
    from snakemake.cli import get_profile_dir

    monkeypatch.chdir(REPO)
    found = get_profile_dir("slurm")
    assert found is not None, "`--profile slurm` does not resolve from the repository root"
    profile_dir, config_file = found
    assert Path(profile_dir).resolve() == (PROFILES / "slurm").resolve()
    assert config_file.name == "config.yaml"


def dry_run_jobs(text: str) -> list[dict]:
    """Per job of `snakemake -n --printshellcmds` output: rule, threads, resources, shell (the
    jobs of a group job are printed indented under it)."""
    jobs = []
    for block in re.split(r"\n(?=[ ]*(?:local)?rule \w+:\n)", text):
        head = re.match(r"[ ]*(?:local)?rule (\w+):\n", block)
        if not head:
            continue
        job = {"rule": head.group(1), "threads": 1, "resources": {}, "shell": ""}
        if m := re.search(r"^\s+threads: (\d+)$", block, re.M):
            job["threads"] = int(m.group(1))
        if m := re.search(r"^\s+resources: (.*)$", block, re.M):
            job["resources"] = dict(kv.split("=", 1) for kv in m.group(1).split(", "))
        if m := re.search(r"^Shell command: (.*)$", block, re.M):
            job["shell"] = m.group(1)
        jobs.append(job)
    return jobs


def slurm_dry_run(proj: Path, cores: int) -> subprocess.CompletedProcess:
    """`snakemake --profile slurm -n -p all` with Snakemake's full job blocks (resources, shell;
    ACTIONBENCH_VERBOSE) instead of one line per job. A dry run caps each job's threads at its
    own --cores (1 unless given); the cluster does not."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "ACTIONBENCH_VERBOSE": "1",
    }
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", "slurm", "-n", "-p", "--cores", str(cores)]
        + ["all"],
        cwd=proj,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def cluster_dry_run(tmp_path_factory) -> list[dict]:
    """`snakemake --profile slurm -n -p all` on the tiny grid with distinctive cluster resources."""
    tmp = tmp_path_factory.mktemp("slurm-dry")
    proj = make_project(tmp)
    os.symlink("workflow/profiles/slurm", proj / "slurm")
    params = yaml.safe_load((proj / "params.yaml").read_text())
    params["resources"] = {
        "default": {"cpus": 1, "mem_mb": 3000, "runtime": 45, "gpus": 0, "partition": "cpu-short"},
        "extract": {"cpus": 4, "mem_mb": 5000, "runtime": 90},
        "train": {
            "cpus": 6,
            "gpus": 2,
            "mem_mb": 12345,
            "runtime": 97,
            "partition": "gpu-a100",
            "account": "lab42",
            "constraint": "a100",
            "nodes": 1,
        },
        "evaluate": {"cpus": 3, "gpus": 1, "mem_mb": 7000, "runtime": 33, "partition": "gpu-a100"},
        "report": {"mem_mb": 2000, "runtime": 10},
    }
    (proj / "params.yaml").write_text(yaml.safe_dump(params))
    out = slurm_dry_run(proj, cores=64)
    jobs = dry_run_jobs(out.stdout + out.stderr)
    assert {j["rule"] for j in jobs} >= {"train", "evaluate", "extract", "report"}, jobs
    return jobs


def test_every_submitted_job_has_memory_and_time(cluster_dry_run):
    """Without mem_mb SLURM hands a job the whole node's memory; without runtime, the partition max."""
    for job in cluster_dry_run:
        if job["rule"] == "all":  # no shell command: runs in the Snakemake process, never submitted
            continue
        res = job["resources"]
        assert res.get("mem_mb", "").isdigit() and res.get("runtime", "").isdigit(), job
        assert not NOT_READ_BY_PLUGIN & set(res), (
            f"{job['rule']}: {sorted(NOT_READ_BY_PLUGIN & set(res))}"
        )


def test_train_resources_map_onto_what_the_plugin_reads(cluster_dry_run):
    trains = [j for j in cluster_dry_run if j["rule"] == "train"]
    assert len(trains) == 4
    for job in trains:
        res = job["resources"]
        assert set(PLUGIN_RESOURCES) <= set(res), sorted(res)
        assert res["gpu"] == "2"
        assert res["slurm_account"] == "lab42"
        assert res["slurm_partition"] == "gpu-a100"
        assert res["constraint"] == "a100"
        assert res["nodes"] == "1"
        assert res["mem_mb"] == "12345" and res["runtime"] == "97"
        assert job["threads"] == 6  # --cpus-per-task
        assert_slurm_extra_allowed(res.get("slurm_extra", ""))
        # two GPUs, one node: one agent starting a process per GPU (torchrun --standalone)
        assert "mpi" not in res and (res["agents"], res["procs_per_agent"]) == ("1", "2")
        assert job["shell"].startswith(
            "actionbench launch --agents 1 --nodes 1 --procs-per-agent 2 --gpus-per-agent 2 "
            "--cpus-per-agent 6 -- actionbench train "
        ), job["shell"]


def test_other_rules_read_their_own_resource_entries(cluster_dry_run):
    by_rule = {j["rule"]: j for j in cluster_dry_run}
    evaluate = by_rule["evaluate"]["resources"]
    assert (evaluate["gpu"], evaluate["mem_mb"], evaluate["runtime"]) == ("1", "7000", "33")
    assert evaluate["slurm_partition"] == "gpu-a100"
    assert by_rule["evaluate"]["threads"] == 3
    extract = by_rule["extract"]
    assert (extract["resources"]["mem_mb"], extract["resources"]["runtime"]) == ("5000", "90")
    assert extract["threads"] == 4
    assert extract["resources"]["slurm_partition"] == "cpu-short"  # falls back to default:
    report = by_rule["report"]["resources"]
    assert (report["mem_mb"], report["runtime"]) == ("2000", "10")
    for job in cluster_dry_run:
        assert_slurm_extra_allowed(job["resources"].get("slurm_extra", ""))


def assert_slurm_extra_allowed(extra: str) -> None:
    """The plugin refuses a job whose slurm_extra repeats a flag it sets itself."""
    from snakemake_executor_plugin_slurm.validation import get_forbidden_slurm_options

    for pattern, what in get_forbidden_slurm_options().items():
        assert not re.search(pattern, extra), f"slurm_extra {extra!r} sets the {what}"


def paper_project(tmp: Path) -> tuple[Path, dict]:
    """The workflow with a slice of the paper's study sized by `auto` (study_params.sized_study),
    placeholder raw data and ImageNet weights, and the repository's model profiles."""
    proj = make_project(tmp)
    os.symlink("workflow/profiles/slurm", proj / "slurm")
    shutil.copytree(REPO / SIZING, proj / SIZING)
    params = sized_study(str(SIZING))
    for path in params["train"]["pretrained"].values():
        (proj / path).parent.mkdir(exist_ok=True)
        (proj / path).write_bytes(b"placeholder")
    for ds in params["datasets"].values():
        if ds["format"] != "synthetic":
            (proj / ds["raw_dir"]).mkdir(parents=True, exist_ok=True)
            (proj / ds["raw_dir"] / "placeholder.txt").write_text("raw data goes here\n")
    (proj / "params.yaml").write_text(yaml.safe_dump(params))
    return proj, params


SIZING = Path("reports") / "benchmarks" / "sizing"


def test_paper_grid_dry_run_asks_each_model_for_what_it_needs(tmp_path, monkeypatch):
    """`snakemake --profile slurm -n` on paper groups with `auto` resources: TSN-R18 f8 and
    I3D-R50 f64 ask for what actionbench.cluster sizes for them, under the names the plugin reads."""
    from actionbench.cluster.jobs import Requests
    from actionbench.config import expand_grid, run_protocol

    proj, params = paper_project(tmp_path)
    out = slurm_dry_run(proj, cores=256)
    text = out.stdout + out.stderr
    jobs = {}
    for block in re.split(r"\n(?=[ ]*rule \w+:\n)", text):
        wildcards = re.search(r"wildcards: dataset=(\S+), model=(\S+), frames=(\d+)", block)
        if wildcards and re.match(r"[ ]*rule train:", block):
            jobs[f"{wildcards[1]}/{wildcards[2]}/f{wildcards[3]}"] = dry_run_jobs(block)[0]
    assert len(jobs) == 24, len(jobs)  # demo 4, Mini-SSV2 16, Table 6 3, Kinetics 1

    monkeypatch.chdir(proj)
    runs = expand_grid(params)
    requests = Requests(params, runs, lambda rid: run_protocol(params, rid, runs))
    sizes = {}
    for rid in ("mini-ssv2/tsn-resnet18/f8", "mini-ssv2/i3d-resnet50/f64"):
        job, req = jobs[rid], requests.get(rid, "train")
        res = job["resources"]
        assert (res["gpu"], res["nodes"], res["mem_mb"], res["runtime"]) == (
            str(req.gpus),
            "1",
            str(req.mem_mb),
            str(req.runtime),
        ), rid
        assert job["threads"] == req.cpus
        assert "mpi" not in res and not NOT_READ_BY_PLUGIN & set(res)
        assert f"--procs-per-agent {req.gpus} " in job["shell"]
        sizes[rid] = (int(res["gpu"]), int(res["runtime"]), job["threads"])
    # the rules: the big 3D model gets the paper's 6 GPUs, TSN-R18 f8 one GPU and less time
    assert sizes["mini-ssv2/i3d-resnet50/f64"][0] == 6
    assert sizes["mini-ssv2/tsn-resnet18/f8"][0] == 1
    assert sizes["mini-ssv2/tsn-resnet18/f8"][1] < sizes["mini-ssv2/i3d-resnet50/f64"][1]
    assert sizes["mini-ssv2/tsn-resnet18/f8"][2] < sizes["mini-ssv2/i3d-resnet50/f64"][2]
    # not one allocation for all
    sized = [j for rid, j in jobs.items() if not rid.startswith("mini-synthetic/")]
    assert len({(j["resources"]["runtime"], j["resources"].get("gpu")) for j in sized}) > 15
    # a multi-node run: one SLURM job of N nodes, the rule's own srun (the plugin's mpi resource)
    sota = jobs["kinetics400/i3d-resnet50-dense/f32"]
    nodes = int(sota["resources"]["nodes"])
    assert nodes > 1 and sota["resources"]["mpi"] == "srun"
    assert sota["resources"]["tasks"] == str(nodes) and "gpu" not in sota["resources"]
    assert sota["resources"]["gres"] == "gpu:8" and sota["resources"]["tasks_per_gpu"] == "0"
    assert f"--agents {nodes} --nodes {nodes} --procs-per-agent 8 " in sota["shell"]
    # evaluations go to SLURM in groups of 8
    assert text.count("Group job evaluate") == math.ceil(24 / 8)
