"""Rank discovery under torchrun and plain srun."""

from __future__ import annotations

import pytest

from actionbench.engine.distributed import DistEnv, env_from, first_host
from actionbench.engine.train import micro_batch_size
from actionbench.errors import ConfigError


def test_torchrun_variables_win():
    env = env_from(
        {
            "RANK": "3",
            "WORLD_SIZE": "8",
            "LOCAL_RANK": "1",
            "SLURM_PROCID": "0",
            "SLURM_NTASKS": "2",
        }
    )
    assert env == DistEnv(3, 8, 1)


def test_srun_without_torchrun():
    env = env_from({"SLURM_PROCID": "5", "SLURM_NTASKS": "12", "SLURM_LOCALID": "2"})
    assert env == DistEnv(5, 12, 2) and env.distributed and not env.is_main


def test_single_task_slurm_job_is_not_distributed():
    assert env_from({"SLURM_PROCID": "0", "SLURM_NTASKS": "1"}) == DistEnv()
    assert env_from({}) == DistEnv()


@pytest.mark.parametrize(
    ("nodelist", "host"),
    [
        ("gpu[007-009,012],cpu1", "gpu007"),
        ("node3", "node3"),
        ("a-b[1,3]", "a-b1"),
        ("x12,y3", "x12"),
    ],
)
def test_first_host(nodelist, host):
    assert first_host(nodelist) == host


def test_global_batch_split_and_error_names_keys():
    cfg = {"optim": {"batch_size": 72, "accum_steps": 2}}
    assert micro_batch_size(cfg, 6) == 6
    with pytest.raises(
        ConfigError, match=r"optim.batch_size \(72\).*world_size \(5\).*optim.accum_steps \(2\)"
    ):
        micro_batch_size(cfg, 5)
