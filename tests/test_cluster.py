"""Resources per run: merging, `auto` sizing, records, the plugin's names, launch commands, plan.

No cluster needed: sizing is arithmetic over the model profiles and benchmark records kept in
reports/benchmarks/sizing/, and the plugin's own job-to-sbatch translation is called directly
(tests/test_slurm_profile.py does the same through a Snakemake dry run, tests/test_slurm.py on a
real SLURM cluster).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from actionbench.cluster.jobs import JobRequest, Requests
from actionbench.cluster.plan import Job, build_plan, render, simulate
from actionbench.cluster.profiles import ModelKey, measure
from actionbench.cluster.records import RecordBook, device_slug, split_memory, write_records
from actionbench.cluster.sizing import GPU_MEM_USABLE
from actionbench.config import expand_grid, run_protocol, validate_params
from actionbench.engine.launch import launch_argv, srun_argv
from actionbench.errors import ConfigError
from actionbench.job_resources import resource_problems, run_entry
from study_params import demo_params, sized_study

TSN = "mini-ssv2/tsn-resnet18/f8"
I3D = "mini-ssv2/i3d-resnet50/f64"


@pytest.fixture
def paper(repo_root, tmp_path, monkeypatch) -> dict:
    """A slice of the paper's study with `auto` resources for an 8 x A100 cluster
    (study_params.sized_study), sized from a copy of the repository's model profiles."""
    shutil.copytree(repo_root / "reports" / "benchmarks" / "sizing", tmp_path / "sizing")
    monkeypatch.chdir(tmp_path)  # the profile cache (.snakemake/actionbench) goes here
    return sized_study(str(tmp_path / "sizing"))


def requests(params: dict) -> Requests:
    runs = expand_grid(params)
    return Requests(params, runs, lambda rid: run_protocol(params, rid, runs))


def schema(repo_root) -> dict:
    return yaml.safe_load((repo_root / "workflow" / "schemas" / "params.schema.yaml").read_text())


# --------------------------------------------------------------------------- merging


def test_entries_merge_kind_group_and_overrides_key_by_key():
    p = demo_params()
    p["resources"]["train"] = {"cpus": 4, "gpus": 1, "mem_mb": 9000, "partition": "gpu"}
    p["resources"]["overrides"] = [{"match": {"frames": [16]}, "train": {"runtime": 99}}]
    p["experiments"]["demo"]["resources"] = {
        "train": {"gpus": 2, "cpus": 8},
        "overrides": [
            {"match": {"arch": ["tam"], "frames": [16]}, "train": {"nodes": 2, "gpus": 4}},
            {"match": {"backbone": ["resnet50"]}, "train": {"gpus": 8}},  # matches nothing
        ],
    }
    runs = expand_grid(p)
    tsn8 = run_entry(p, runs["mini-synthetic/tsn-resnet18/f8"], "train")
    tam16 = run_entry(p, runs["mini-synthetic/tam-resnet18/f16"], "train")
    tsn16 = run_entry(p, runs["mini-synthetic/tsn-resnet18/f16"], "train")
    # default -> kind -> top-level overrides -> group -> group overrides
    assert tsn8 == {"cpus": 8, "gpus": 2, "mem_mb": 9000, "runtime": 60, "partition": "gpu"}
    assert tsn16["runtime"] == 99 and tsn16["gpus"] == 2
    assert tam16 == {**tsn16, "nodes": 2, "gpus": 4}
    assert run_entry(p, runs["mini-synthetic/tsn-resnet18/f8"], "evaluate")["mem_mb"] == 8000


def test_resources_change_neither_a_run_nor_the_report():
    from actionbench.identity import train_identity
    from actionbench.planning import report_fingerprint

    p = demo_params()
    runs = list(expand_grid(p))

    def fingerprints():
        return report_fingerprint(p, runs), train_identity(run_protocol(p, runs[0]))["fingerprint"]

    before = fingerprints()
    p["experiments"]["demo"]["resources"] = {"train": {"gpus": 2, "runtime": "auto"}}
    p["resources"]["train"]["mem_mb"] = 123
    assert fingerprints() == before


def test_schema_and_checks_name_the_bad_key(repo_root):
    p = demo_params()
    p["resources"]["extract"]["cpus"] = "auto"
    p["experiments"]["demo"]["resources"] = {
        "train": {"gpus": 6, "tasks_per_node": 4},
        "overrides": [{"match": {"group": ["nope"]}, "train": {"runtime": 5}}],
    }
    with pytest.raises(ConfigError) as err:
        validate_params(p, schema(repo_root))
    text = str(err.value)
    assert "resources.extract.cpus: auto sizes train and evaluate jobs only" in text
    assert "experiments.demo.resources.overrides[0].match.group: no experiment group nope" in text
    assert "gpus (6) must be a multiple of tasks_per_node (4)" in text

    p = demo_params()
    p["experiments"]["demo"]["resources"] = {"train": {"gpus": "many"}}
    with pytest.raises(ConfigError, match=r"experiments\.demo\.resources\.train\.gpus"):
        validate_params(p, schema(repo_root))

    p = demo_params()
    assert "cluster" not in p["resources"]
    p["experiments"]["demo"]["resources"] = {"train": {"runtime": "auto"}}
    assert any("resources.cluster: required" in x for x in resource_problems(p))


# --------------------------------------------------------------------------- sizing


def test_tsn_r18_f8_and_i3d_r50_f64_are_sized_as_the_rules_say(paper):
    reqs = requests(paper)
    cluster = paper["resources"]["cluster"]
    tsn, i3d = reqs.get(TSN, "train"), reqs.get(I3D, "train")
    gpu_bytes = GPU_MEM_USABLE * cluster["gpu_mem_mb"] * 2**20
    for req in (tsn, i3d):
        # the global batch (72) splits evenly, one GPU's share fits, within the time limit
        assert 72 % (req.world_size * 1) == 0
        assert req.estimate["gib_per_device"] * 2**30 <= gpu_bytes
        assert req.runtime <= cluster["max_runtime"] and req.estimate["allocations"] == 1
    # the big 3D model needs the paper's 6 GPUs (72 clips of 64 frames do not fit on fewer);
    # TSN-R18 f8 fits on one, and still finishes sooner
    assert (i3d.nodes, i3d.gpus) == (1, 6)
    assert (tsn.nodes, tsn.gpus) == (1, 1)
    assert tsn.runtime < i3d.runtime
    # the fewest GPUs within the rules: on 4 (the next count that splits 72) training would
    # outlast the partition's limit; on 3, 24 clips per GPU would not fit in its memory
    startup = 5
    assert (i3d.runtime - startup) * 6 / 4 + startup > cluster["max_runtime"]
    per_clip = i3d.estimate["gib_per_clip"] * 2**30
    assert i3d.estimate["gib_per_device"] * 2**30 + 12 * per_clip > gpu_bytes
    # host share: the node's CPUs and memory in proportion to its GPUs
    assert i3d.cpus == cluster["cpus_per_node"] * 6 // 8
    assert tsn.mem_mb == pytest.approx(cluster["mem_mb_per_node"] / 8, abs=100)
    # evaluation: one GPU, a runtime from the test views
    assert reqs.get(I3D, "evaluate").gpus == 1
    assert reqs.get(TSN, "evaluate").runtime < reqs.get(I3D, "evaluate").runtime


def test_records_replace_the_estimate_and_a_run_that_cannot_fit_is_an_error(paper, tmp_path):
    """A record of the model on the cluster's GPU type gives its memory and throughput."""
    key = ModelKey("tsn", "resnet18", 8, 224)
    row = {
        "model": key.name,
        "arch": "tsn",
        "backbone": "resnet18",
        "frames": 8,
        "size": 224,
        "gmacs": 14.5,
        "train": {"batch_sizes": [8, 16], "peak_mem_bytes": [10 * 2**30, 18 * 2**30]},
        "inference": {"batch_sizes": [8, 16], "peak_mem_bytes": [2 * 2**30, 3 * 2**30]},
    }
    row["train"]["clips_per_s"], row["inference"]["clips_per_s"] = 100.0, 400.0
    folder = tmp_path / "sizing"
    write_records(folder / f"{device_slug('Test GPU 40GB')}.json", "Test GPU 40GB", [row], {})
    paper["resources"]["cluster"].update(gpu_type="Test GPU 40GB", gpu_mem_mb=40960)
    tsn = requests(paper).get(TSN, "train")
    # 1 GiB per clip + 2 GiB fixed: 72 clips need 74 GiB; 2 GPUs: 38 GiB > 36 GiB usable; 3 fit
    assert split_memory([8, 16], [10 * 2**30, 18 * 2**30]) == (2**30, 2 * 2**30)
    assert (tsn.gpus, tsn.estimate["memory"], tsn.estimate["throughput"]) == (3, "record", "record")
    assert tsn.estimate["gmacs_per_s"] == pytest.approx(100 * tsn.estimate["gmacs_per_clip"], abs=1)
    # other models on that GPU: the recorded rate of the most similar one (same arch first)
    tsn50 = requests(paper).get("mini-ssv2/tsn-resnet50/f8", "train")
    assert tsn50.estimate["throughput"].startswith("recorded rate of tsn-resnet18/f8/224px")
    # records of another GPU type in the file are refused
    with pytest.raises(ConfigError, match="records of 'Test GPU 40GB'"):
        RecordBook(folder, "test gpu-40gb ")  # same slug, different name
    # a 4 GB GPU cannot hold even one I3D-R50 f64 clip (the batch spread over 72 of 128 GPUs)
    with pytest.raises(
        ConfigError, match=r"mini-ssv2/i3d-resnet50/f64: .* raise optim.accum_steps"
    ):
        paper["resources"]["cluster"]["gpu_mem_mb"] = 4000
        requests(paper).get(I3D, "train")


def test_profile_counts_saved_activations_not_parameters():
    tsn = measure(ModelKey("tsn", "resnet18", 8, 32))
    tsn16 = measure(ModelKey("tsn", "resnet18", 16, 32))
    # a 2D model's activations and FLOPs grow with the frames; its parameters do not
    assert tsn16.saved_bytes == pytest.approx(2 * tsn.saved_bytes, rel=0.02)
    assert tsn16.gmacs == pytest.approx(2 * tsn.gmacs, rel=0.01)
    assert tsn16.params == tsn.params
    # and the float32 activations of a 32 px clip are far less than its 45 MB of weights
    assert 0 < tsn.saved_bytes < tsn.params * 4


# --------------------------------------------------------------------------- plugin names


def plugin_sbatch(request: JobRequest) -> str:
    """The sbatch call snakemake-executor-plugin-slurm builds for a job with these resources."""
    from snakemake.iocontainers import ResourceList
    from snakemake_executor_plugin_slurm.submit_string import get_submit_command
    from snakemake_executor_plugin_slurm.utils import set_gres_string

    resources = {k: v for k, v in request.plugin_resources().items() if v is not None}
    job = SimpleNamespace(resources=ResourceList(fromdict=resources), threads=request.cpus)
    params = {
        "run_uuid": "u",
        "slurm_logfile": "log",
        "comment_str": "c",
        "account": "",
        "partition": "",
        "workdir": "/w",
    }
    return get_submit_command(job, params) + set_gres_string(job)


def test_requests_reach_the_plugin_under_the_names_it_reads(paper):
    reqs = requests(paper)
    tsn = plugin_sbatch(reqs.get(TSN, "train"))
    i3d = plugin_sbatch(reqs.get(I3D, "train"))
    assert "--gpus=1" in tsn and "--cpus-per-task=8" in tsn and "--nodes=1" in tsn
    assert "--gpus=6" in i3d and "--cpus-per-task=48" in i3d
    t_tsn, t_i3d = reqs.get(TSN, "train").runtime, reqs.get(I3D, "train").runtime
    assert f"-t {t_tsn}" in tsn and f"-t {t_i3d}" in i3d
    # a 4-node job: one task (torchrun agent) per node, GPUs per node as GRES, no --gpus total
    sota = reqs.get("kinetics400/i3d-resnet50-dense/f32", "train")
    assert sota.nodes > 1 and sota.agents == sota.nodes
    text = plugin_sbatch(sota)
    assert f"--nodes={sota.nodes}" in text and f"--ntasks={sota.nodes}" in text
    assert f"--gres=gpu:{sota.gpus}" in text and "--gpus=" not in text
    assert "--ntasks-per-gpu" not in text
    assert sota.plugin_resources()["mpi"] == "srun"  # the job step plugin runs no srun itself
    assert "mpi" not in reqs.get(TSN, "train").plugin_resources()


# --------------------------------------------------------------------------- launch


def test_launch_commands_for_each_shape():
    cmd = ["actionbench", "train", "--run", "r"]
    assert launch_argv(cmd) == cmd
    # `--` before the command: torchrun's parser would take `--run` for its `--run-path`
    assert launch_argv(cmd, procs=4) == [
        "torchrun",
        "--standalone",
        "--nnodes=1",
        "--nproc-per-node=4",
        "--no-python",
        "--",
        *cmd,
    ]
    assert launch_argv(cmd, agents=4, nodes=4, procs=8, gpus_per_agent=8, cpus=64) == [
        "srun",
        "--nodes=4",
        "--ntasks=4",
        "--ntasks-per-node=1",
        "--cpus-per-task=64",
        "--kill-on-bad-exit=1",
        "--gres=gpu:8",
        "actionbench",
        "launch",
        "--agent",
        "--agents=4",
        "--procs-per-agent=8",
        "--",
        *cmd,
    ]
    # two agents on one node (the CI stand-in for two nodes): no GPUs, two tasks on the node
    assert srun_argv(2, 1, 1, 0, 1, cmd)[:6] == [
        "srun",
        "--nodes=1",
        "--ntasks=2",
        "--ntasks-per-node=2",
        "--cpus-per-task=1",
        "--kill-on-bad-exit=1",
    ]
    with pytest.raises(ConfigError, match="inside `srun`"):
        launch_argv(cmd, agents=2, agent=True, environ={})


def test_world_size_must_split_the_global_batch():
    p = demo_params()
    p["experiments"]["demo"]["resources"] = {"train": {"gpus": 3}}  # batch 8 over 3 processes
    with pytest.raises(ConfigError, match=r"batch_size \(8\) must be divisible by the processes"):
        requests(p).get("mini-synthetic/tsn-resnet18/f8", "train")


# --------------------------------------------------------------------------- plan


def test_plan_counts_jobs_chains_and_disk_from_the_same_requests(paper):
    for name, group in paper["experiments"].items():
        group["enabled"] = name in ("mini_ssv2", "demo")
    plan = build_plan(paper, jobs_limit=100, group_size=8)
    reqs = requests(paper)
    kinds = plan.kinds()
    assert kinds["train"]["jobs"] == kinds["evaluate"]["jobs"] == len(plan.runs) == 20
    assert kinds["evaluate"]["sbatch"] == 3  # 20 evaluations, 8 per sbatch
    row = next(r for r in plan.runs if r["run"] == I3D)
    req = reqs.get(I3D, "train")
    assert row["train"]["gpus"] == req.gpus and row["train"]["runtime"] == req.runtime
    assert row["train"]["gpu_hours"] == pytest.approx(req.estimate["minutes"] / 60 * 6)
    total = sum(r["gpu_hours"] for r in plan.runs)
    assert plan.as_dict()["gpu_hours"] == pytest.approx(total)
    # the longest chain runs data -> f8 -> f16 -> f32 -> f64 -> evaluation -> report
    stages = [j.split()[-1].rsplit("/", 1)[-1] for j in plan.chain if j.startswith("train")]
    assert stages == ["f8", "f16", "f32", "f64"] and plan.chain[-1] == "report"
    assert plan.wall_minutes >= plan.chain_minutes
    # checkpoints: final (4 B/param) + last.pt (8 B/param) + one set-aside last.pt
    table = Path(paper["resources"]["cluster"]["records"]) / "profiles.json"
    params = json.loads(table.read_text())["models"]["i3d-resnet50/f64/224px"]["params"]
    assert row["checkpoint_bytes"] == 4 * params * (1 + 2 * 2)
    assert plan.disk["prepared ssv2"] > 100e9  # 192k videos x 48 frames x 57 kB


def test_simulated_wall_time_respects_the_jobs_limit_and_gpus():
    jobs = {
        "a": Job("a", "train", 60, 8),
        "b": Job("b", "train", 60, 8),
        "c": Job("c", "train", 30, 0, ["a"]),
    }
    assert simulate(jobs, limit=2, gpu_capacity=16) == 90  # a, b together, then c
    assert simulate(jobs, limit=1, gpu_capacity=16) == 150
    assert simulate(jobs, limit=2, gpu_capacity=8) == 120  # a and b cannot share 8 GPUs


def test_benchmark_grid_writes_the_records_auto_sizing_reads(params_file, tmp_path, monkeypatch):
    """`actionbench benchmark --grid` on this CPU: one model, both modes, two batch sizes."""
    from actionbench.cli import main

    monkeypatch.chdir(tmp_path)  # the profile cache (.snakemake/actionbench) goes here
    p = demo_params()
    p["experiments"]["demo"].update(archs=["tsn"], frames=[8])
    p["resources"]["cluster"] = {
        "gpu_type": "cpu",
        "gpus_per_node": 0,
        "cpus_per_node": 2,
        "max_runtime": 60,
        "records": str(tmp_path / "records"),
    }
    p["experiments"]["demo"]["resources"] = {"train": {"runtime": "auto", "mem_mb": "auto"}}
    path = params_file(p)
    args = ["benchmark", "--grid", "--params", str(path), "--device", "cpu", "--batch-size", "2"]
    assert main([*args, "--iters", "1", "--threads", "1"]) == 0
    doc = json.loads((tmp_path / "records" / "cpu.json").read_text())
    assert doc["device_type"] == "cpu"
    (row,) = doc["records"]
    assert row["model"] == "tsn-resnet18/f8/32px" and row["gmacs"] > 0
    for mode in ("train", "inference"):
        assert row[mode]["batch_sizes"] == [1, 2] and row[mode]["clips_per_s"] > 0
    train = requests(p).get("mini-synthetic/tsn-resnet18/f8", "train")
    assert (train.estimate["memory"], train.estimate["throughput"]) == ("record", "record")
    clips = 12 * 192 + 12 * 128 * row["train"]["clips_per_s"] / row["inference"]["clips_per_s"]
    expected = clips / row["train"]["clips_per_s"] / 60  # 12 epochs of 192 videos, validations
    assert train.estimate["expected_minutes"] == pytest.approx(expected + 5, abs=0.1)


def test_plan_warns_of_runs_longer_than_the_retries_allow(paper):
    for name, group in paper["experiments"].items():
        group["enabled"] = name == "table6"  # 3 TAM-R18 f8 runs
    paper["resources"]["cluster"].update(max_runtime=120, nodes=1, gpus_per_node=1)
    plan = build_plan(paper, jobs_limit=10, group_size=8, retries=1)
    allocations = {r["run"]: r["train"]["estimate"]["allocations"] for r in plan.runs}
    assert min(allocations.values()) > 2  # each needs 3+ allocations of 2 h on one GPU
    assert set(plan.short_of_retries()) == set(allocations)
    assert build_plan(paper, 10, 8, retries=99).short_of_retries() == []
    assert "need more allocations than the profile's retries (1)" in render(plan)
