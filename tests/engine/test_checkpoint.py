"""Checkpoints: atomic replacement, weights_only loading, RNG round trip, weight initialisation."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch import nn

from actionbench.engine import checkpoint as ckpt
from actionbench.engine.seed import capture_rng, restore_rng
from actionbench.errors import ModelError


def test_crash_during_save_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "checkpoints" / "last.pt"
    ckpt.atomic_save({"epoch": 1, "w": torch.ones(3)}, path)

    real_fsync = ckpt.os.fsync

    def crash(fd):  # the new bytes are half on disk when the process "dies"
        raise OSError("simulated power loss")

    monkeypatch.setattr(ckpt.os, "fsync", crash)
    with pytest.raises(OSError, match="simulated"):
        ckpt.atomic_save({"epoch": 2, "w": torch.zeros(3)}, path)
    monkeypatch.setattr(ckpt.os, "fsync", real_fsync)

    state = ckpt.load(path)
    assert state["epoch"] == 1 and torch.equal(state["w"], torch.ones(3))
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]  # no temp file left behind


def test_training_state_loads_with_weights_only(tmp_path):
    model = nn.Linear(4, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(3, 4)).sum().backward()
    opt.step()
    scaler = torch.amp.GradScaler("cpu", enabled=True)
    state = {
        "format": ckpt.CHECKPOINT_FORMAT,
        "model": ckpt.model_state(model),
        "optimizer": opt.state_dict(),
        "scaler": scaler.state_dict(),
        "rng": [capture_rng()],
        "history": [{"epoch": 1, "loss": 1.0, "val_top1": None}],
        "run_config": {"optim": {"lr": 0.1, "milestones": [10, 20]}},
        "mlflow_run_id": "abc",
    }
    path = tmp_path / "last.pt"
    ckpt.atomic_save(state, path)
    loaded = torch.load(path, weights_only=True)  # what ckpt.load does
    assert loaded["history"][0]["val_top1"] is None
    assert torch.equal(loaded["model"]["weight"], model.weight.detach())
    opt.load_state_dict(loaded["optimizer"])


def test_rng_round_trip_restores_every_stream():
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    random.random(), np.random.normal(), torch.rand(1)  # leave numpy with a cached gaussian too
    state = capture_rng()
    expected = (random.random(), np.random.normal(), np.random.rand(), torch.rand(2))
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    restore_rng(state)
    got = (random.random(), np.random.normal(), np.random.rand(), torch.rand(2))
    assert got[:3] == expected[:3] and torch.equal(got[3], expected[3])


def test_corrupt_checkpoint_names_the_file(tmp_path):
    bad = tmp_path / "last.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="last.pt"):
        ckpt.load(bad, error=ModelError)


class Net(nn.Module):
    def __init__(self, classes: int):
        super().__init__()
        self.body = nn.Conv3d(3, 4, 1)
        self.fc = nn.Linear(4, classes)


def test_load_model_weights_progressive_and_new_head(tmp_path):
    source = Net(5)
    path = tmp_path / "final.pt"
    ckpt.atomic_save(ckpt.model_state(source), path)

    same = Net(5)
    ckpt.load_model_weights(same, path)
    assert torch.equal(same.fc.weight, source.fc.weight)

    other = Net(3)
    with pytest.raises(ModelError, match="new_head"):
        ckpt.load_model_weights(other, path)
    fc_before = other.fc.weight.clone()
    ckpt.load_model_weights(other, path, new_head=True)
    assert torch.equal(other.body.weight, source.body.weight)
    assert torch.equal(other.fc.weight, fc_before)  # classifier left freshly initialised
