"""The lr schedules reproduce Table 12 / supplementary D exactly."""

from __future__ import annotations

import math

import pytest

from actionbench.engine.schedules import Schedule, peak_lr
from actionbench.errors import ConfigError


def cfg(name: str, epochs: int, **schedule) -> dict:
    return {
        "optim": {"lr": 0.01, "batch_size": 72, "base_batch_size": 72, "lr_scaling": False},
        "schedule": {"name": name, "epochs": epochs, "min_lr": 0.0, **schedule},
    }


def test_cosine_is_per_epoch_and_matches_cosine_annealing():
    s = Schedule.from_config(cfg("cosine", 75))
    assert s.lr_at(0) == pytest.approx(0.01)
    assert s.lr_at(0, 50, 100) == s.lr_at(0)  # constant within an epoch, like the reference
    assert s.lr_at(37) == pytest.approx(0.01 * 0.5 * (1 + math.cos(math.pi * 37 / 75)))
    assert s.lr_at(74) == pytest.approx(0.01 * 0.5 * (1 + math.cos(math.pi * 74 / 75)))
    assert s.lr_at(74) > 0


def test_cosine_matches_torch_cosine_annealing_lr():
    import torch

    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.01)
    ref = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0)
    s = Schedule.from_config(cfg("cosine", 10))
    for epoch in range(10):
        assert s.lr_at(epoch) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9)
        opt.step()
        ref.step()


@pytest.mark.parametrize(("epochs", "milestones"), [(35, [10, 20, 30]), (45, [15, 30, 40])])
def test_multistep_divides_by_ten_at_milestones(epochs, milestones):
    s = Schedule.from_config(cfg("multistep", epochs, milestones=milestones, gamma=0.1))
    first, second, third = milestones
    expected = {
        0: 0.01,
        first - 1: 0.01,
        first: 1e-3,
        second - 1: 1e-3,
        second: 1e-4,
        third - 1: 1e-4,
        third: 1e-5,
        epochs - 1: 1e-5,
    }
    for epoch, lr in expected.items():
        assert s.lr_at(epoch) == pytest.approx(lr), epoch


def test_warmup_cosine_follows_d2():
    # D.2: 196 epochs, linear warm-up 0.01 -> 1.6 over 34 epochs, then half-period cosine.
    s = Schedule.from_config(
        {
            "optim": {"lr": 1.6, "batch_size": 1024, "base_batch_size": 1024, "lr_scaling": False},
            "schedule": {
                "name": "warmup_cosine",
                "epochs": 196,
                "warmup_epochs": 34,
                "warmup_start_lr": 0.01,
                "min_lr": 0.0,
            },
        }
    )
    assert s.per_iteration
    assert s.lr_at(0, 0, 100) == pytest.approx(0.01)
    assert s.lr_at(17, 0, 100) == pytest.approx(0.01 + (1.6 - 0.01) * 0.5)
    assert s.lr_at(16, 50, 100) == pytest.approx(0.01 + (1.6 - 0.01) * 16.5 / 34)  # per iteration
    assert s.lr_at(34, 0, 100) == pytest.approx(1.6)
    assert s.lr_at(115, 0, 100) == pytest.approx(0.8)  # middle of the remaining 162 epochs
    assert s.lr_at(195, 99, 100) == pytest.approx(
        0.5 * 1.6 * (1 + math.cos(math.pi * (195.99 - 34) / 162))
    )


def test_linear_scaling_only_when_enabled():
    base = {"optim": {"lr": 0.01, "batch_size": 36, "base_batch_size": 72, "lr_scaling": False}}
    assert peak_lr(base) == pytest.approx(0.01)
    base["optim"]["lr_scaling"] = True
    assert peak_lr(base) == pytest.approx(0.005)


@pytest.mark.parametrize(
    "schedule",
    [
        {"name": "multistep", "epochs": 35, "milestones": []},
        {"name": "multistep", "epochs": 35, "milestones": [20, 10]},
        {"name": "multistep", "epochs": 35, "milestones": [10, 40]},
        {"name": "warmup_cosine", "epochs": 10, "warmup_epochs": 10},
        {"name": "step", "epochs": 10},
    ],
)
def test_bad_schedules_name_the_key(schedule):
    with pytest.raises(ConfigError, match=r"schedule\."):
        Schedule.from_config({"optim": {"lr": 0.01, "lr_scaling": False}, "schedule": schedule})


def test_missing_protocol_key_is_named():
    with pytest.raises(ConfigError, match="lacks required key 'schedule.gamma'"):
        Schedule.from_config(
            {
                "optim": {"lr": 0.01, "lr_scaling": False},
                "schedule": {"name": "multistep", "epochs": 35, "milestones": [10, 20, 30]},
            }
        )
