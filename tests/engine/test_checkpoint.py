"""Checkpoints: atomic replacement, weights_only loading, RNG round trip, weight initialisation."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
import torch
from torch import nn

from actionbench.engine import checkpoint as ckpt
from actionbench.engine.seed import capture_rng, restore_rng
from actionbench.errors import ModelError, TrainingError


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
    report = ckpt.load_model_weights(same, path)
    assert torch.equal(same.fc.weight, source.fc.weight)
    assert report.to_record()["kind"] == "checkpoint" and len(report.loaded) == 4
    assert not report.new and not report.inflated

    other = Net(3)
    with pytest.raises(ModelError, match="set init.new_head: true"):
        ckpt.load_model_weights(other, path)
    fc_before = other.fc.weight.clone()
    report = ckpt.load_model_weights(other, path, new_head=True)
    assert torch.equal(other.body.weight, source.body.weight)
    assert torch.equal(other.fc.weight, fc_before)  # classifier left freshly initialised
    assert report.loaded == ["body.weight", "body.bias"]
    assert sorted(report.new) == ["fc.bias", "fc.weight"]


# one line: the file, what it was expected to fit, then the first keys of each problem
MISFIT = re.compile(
    r"^(pretrained weights|checkpoint) (?P<file>\S+) do(es)? not fit (?P<target>[^:]+): "
    r"(\d+ (tensors? of another shape|unexpected keys?|missing keys?) \([^)]*(\([^)]*\)[^)]*)*\)"
    r"(, )?)+(; .+)?$"
)


def _refusal(model, path, **kwargs) -> str:
    with pytest.raises(ModelError) as info:
        ckpt.load_model_weights(model, path, **kwargs)
    message = str(info.value)
    match = MISFIT.match(message)
    assert match and match["file"] == str(path), message
    return message


def test_a_checkpoint_of_another_architecture_is_refused_in_one_line(tmp_path):
    from actionbench.models import build_model

    path = tmp_path / "final.pt"
    ckpt.atomic_save(ckpt.model_state(build_model("tsn", "resnet18", 8, 5)), path)
    message = _refusal(build_model("tam", "resnet18", 16, 5), path)
    assert "does not fit tam-resnet18 (backbone resnet18): 8 missing keys" in message
    assert (
        "(layer1.0.temporal.weight, layer1.1.temporal.weight, layer2.0.temporal.weight, ...)"
        in (message)
    )
    message = _refusal(build_model("i3d", "resnet18", 16, 5), path)
    assert "conv1.weight: (64, 3, 7, 7) in the file, (64, 3, 3, 7, 7) expected" in message
    assert "new_head" not in message  # not a classifier problem


def test_imagenet_weights_given_as_a_checkpoint(tmp_path):
    import torchvision

    from actionbench.models import build_model
    from actionbench.models.pretrained import load_pretrained

    path = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18().state_dict(), path)
    message = _refusal(build_model("tam", "resnet18", 8, 5), path, new_head=True)
    assert message.endswith("the file holds resnet18 ImageNet weights: use init.kind imagenet")
    # the ImageNet path words its refusals with the same formatter
    wrong = tmp_path / "resnet50.pth"
    torch.save(torchvision.models.resnet50().state_dict(), wrong)
    with pytest.raises(ModelError) as info:
        load_pretrained(build_model("tam", "resnet18", 8, 5), wrong)
    assert MISFIT.match(str(info.value)), str(info.value)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "file is empty (0 bytes)"),
        ("half", "truncated: a PyTorch file cut short at"),
        ("module", "pickled objects that are not tensors (actionbench"),
    ],
)
def test_unreadable_checkpoints_get_a_reason_to_act_on(tmp_path, content, reason):
    path = tmp_path / "last.pt"
    if content == "half":
        ckpt.atomic_save({"model": {"w": torch.zeros(1000)}}, path)
        path.write_bytes(path.read_bytes()[:2000])
    elif content == "module":
        from actionbench.models import build_model

        torch.save(build_model("tsn", "resnet18", 8, 5), path)
    else:
        path.write_bytes(content)
    with pytest.raises(TrainingError) as info:
        ckpt.load(path)
    message = str(info.value)
    assert message.startswith(f"cannot read checkpoint {path}: ") and reason in message
    assert "weights_only" not in message and "\n" not in message
