"""Two torchrun agents rendezvousing as two nodes (c10d, gloo, CPU), as `actionbench launch`
starts them inside a multi-node SLURM job: one agent per srun task, the rendezvous on the first
node of the job's node list, the job id as rendezvous id and port.

Here both "nodes" are this machine (SLURM_JOB_NODELIST=localhost): each agent is started the way
srun starts a task, with the job's SLURM variables, and runs the real CLI. The model is the
demo's (TSN-ResNet18 at 32 px) on real JPEG frame folders.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
from pathlib import Path

import torch
from engine_tiny import subprocess_env
from test_integration import make_split

from actionbench.engine import checkpoint as ckpt
from actionbench.engine.launch import PORT_BASE, PORT_SPAN, agent_argv
from actionbench.engine.train import train

# The global batch of 2 clips is 1 clip x 2 processes x 1 accumulation step on the two "nodes",
# 1 clip x 1 process x 2 accumulation steps in the single process: batch norm sees the same
# clip in both (each rank's share equals one accumulation micro-batch), so only the order of
# float sums may differ (all-reduce vs accumulation) over the 16 steps. Measured on this machine:
# identical weights (max |diff| 0.0); the tolerance allows another summation order.
RTOL, ATOL = 1e-5, 1e-6


def free_job_id() -> str:
    """A job id whose rendezvous port (PORT_BASE + id % PORT_SPAN) is free here."""
    for _ in range(100):
        job = random.randrange(PORT_SPAN)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", PORT_BASE + job))
            except OSError:
                continue
        return str(job)
    raise RuntimeError("no free port")


def demo_cfg(tmp: Path, name: str) -> dict:
    import engine_tiny as tiny

    root = tmp / name
    cfg = tiny.make_cfg(
        root,
        arch="tsn",
        backbone="resnet18",
        data={"input_size": 32, "scale_size": 36, "flip": True, "workers": 0},
        optim={"batch_size": 2, "base_batch_size": 2, "lr": 0.01},
        model={"dropout": 0.0},
        schedule={"epochs": 2},
        eval={"num_clips": 1, "num_crops": 1, "batch_size": 4},
        tracking={"experiment": "multinode", "enabled": False},
    )
    cfg["data"]["train_list"] = make_split(root, "train", 16)
    cfg["data"]["val_list"] = make_split(root, "val", 6)
    cfg["data"]["root"] = str(root)
    return cfg


def test_agent_command_joins_the_jobs_rendezvous():
    command = ["actionbench", "train", "--run", "r"]
    argv = agent_argv(2, 4, {"SLURM_JOB_ID": "1234", "SLURM_JOB_NODELIST": "gpu[007-008]"}, command)
    assert argv == [
        "torchrun",
        "--nnodes=2",
        "--nproc-per-node=4",
        "--rdzv-backend=c10d",
        f"--rdzv-endpoint=gpu007:{PORT_BASE + 1234}",
        "--rdzv-id=1234",
        "--no-python",
        "--",
        *command,
    ]


def test_two_agents_as_two_nodes_match_one_process(tmp_path):
    cfg = demo_cfg(tmp_path, "two")
    config = tmp_path / "two.json"
    config.write_text(json.dumps(cfg))
    job = free_job_id()
    bin_dir = str(Path(sys.executable).parent)
    command = ["actionbench", "train", "--config", str(config)]
    agents = [
        subprocess.Popen(
            [
                "actionbench",
                "launch",
                "--agent",
                "--agents=2",
                "--procs-per-agent=1",
                "--",
                *command,
            ],
            env=subprocess_env(
                PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                SLURM_JOB_ID=job,
                SLURM_JOB_NODELIST="localhost",
                SLURM_PROCID=str(task),
                SLURM_NTASKS="2",
                SLURM_NODEID=str(task),
            ),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for task in range(2)
    ]
    outputs = [a.communicate(timeout=300)[0] for a in agents]
    assert [a.returncode for a in agents] == [0, 0], "\n".join(o[-3000:] for o in outputs)
    assert "rank 1/2 joined (gloo on cpu)" in "".join(outputs)
    metrics = json.loads((tmp_path / "two" / "run" / "train_metrics.json").read_text())
    assert metrics["world_size"] == 2

    single = demo_cfg(tmp_path, "one")
    single["optim"]["accum_steps"] = 2  # the global-batch rule: 1 x 1 x 2 == 1 x 2 x 1
    train(single)
    two = torch.load(ckpt.final_path(cfg["output_dir"]), weights_only=True)
    one = torch.load(ckpt.final_path(single["output_dir"]), weights_only=True)
    assert two.keys() == one.keys()
    for key, value in one.items():
        if value.is_floating_point() and "running" not in key:  # BN running stats: rank 0's
            torch.testing.assert_close(two[key], value, rtol=RTOL, atol=ATOL)
    # the same curve: every epoch's training loss and accuracy
    rows = [
        (tmp_path / name / "run" / "history.csv").read_text().splitlines()[1:]
        for name in ("two", "one")
    ]
    for a, b in zip(*rows, strict=True):
        assert [round(float(x), 4) for x in a.split(",")[:4]] == [
            round(float(x), 4) for x in b.split(",")[:4]
        ]
