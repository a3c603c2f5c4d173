"""Training loop in-process on the tiny model: outputs, accumulation, NaN handling, init."""

from __future__ import annotations

import json

import pytest
import torch

from actionbench.engine import checkpoint as ckpt
from actionbench.engine.train import train
from actionbench.errors import ConfigError, TrainingError

NO_TRACKING = {"experiment": "t", "tracking_uri": None, "enabled": False}


def final_weights(cfg: dict) -> dict[str, torch.Tensor]:
    return torch.load(ckpt.final_path(cfg["output_dir"]), weights_only=True)


def test_train_writes_every_output(tmp_path, tiny_factory):
    cfg = tiny_factory.make_cfg(tmp_path, tracking=NO_TRACKING, eval={"val_every": 2})
    result = train(cfg)
    out = tmp_path / "run"
    for name in (
        "final.pt",
        "checkpoints/last.pt",
        "history.csv",
        "train_metrics.json",
        "config.json",
    ):
        assert (out / name).is_file(), name
    assert json.loads((out / "config.json").read_text()) == cfg
    lines = (out / "history.csv").read_text().splitlines()
    assert lines[0] == "epoch,loss,lr,train_top1,val_top1,clips_per_s,epoch_seconds"
    rows = [line.split(",") for line in lines[1:]]
    assert [r[0] for r in rows] == ["1", "2", "3"]
    assert [r[4] == "" for r in rows] == [True, False, False]  # val every 2 epochs and the last
    assert float(rows[1][2]) == pytest.approx(
        0.1 * 0.5 * (1 + torch.cos(torch.tensor(torch.pi / 3)).item())
    )
    metrics = json.loads((out / "train_metrics.json").read_text())
    assert metrics == result and metrics["epochs"] == 3 and metrics["final_val_top1"] is not None
    weights = final_weights(cfg)
    assert set(weights) == {"conv.weight", "conv.bias", "fc.weight", "fc.bias"}
    last = ckpt.load(out / "checkpoints" / "last.pt")
    assert last["epoch"] == 3 and last["step_in_epoch"] == 0
    assert all(torch.equal(weights[k], last["model"][k]) for k in weights)


def test_gradient_accumulation_matches_full_batch(tmp_path, tiny_factory):
    results = []
    for accum in (1, 2, 4):
        cfg = tiny_factory.make_cfg(
            tmp_path / f"a{accum}",
            tracking=NO_TRACKING,
            optim={"accum_steps": accum},
            schedule={"epochs": 2},
        )
        train(cfg)
        results.append(final_weights(cfg))
    for other in results[1:]:
        for key, value in results[0].items():
            torch.testing.assert_close(other[key], value, rtol=1e-5, atol=1e-6)
    assert not torch.equal(results[0]["fc.weight"], torch.zeros_like(results[0]["fc.weight"]))


def test_nan_loss_raises_and_leaves_last_checkpoint(tmp_path, tiny_factory, monkeypatch):
    cfg = tiny_factory.make_cfg(tmp_path, tracking=NO_TRACKING)
    # 24 videos / batch 8 = 3 steps per epoch: the 5th forward pass is epoch 2, iteration 2.
    monkeypatch.setenv("TINY_NAN_AFTER", "4")
    with pytest.raises(TrainingError, match=r"epoch 2, iteration 2 of 3.*last.pt"):
        train(cfg)
    last = ckpt.load(tmp_path / "run" / "checkpoints" / "last.pt")
    assert last["epoch"] == 1 and last["step_in_epoch"] == 0
    assert all(torch.isfinite(v).all() for v in last["model"].values())
    assert not (tmp_path / "run" / "final.pt").exists()


def test_changed_protocol_sets_old_checkpoint_aside_and_starts_over(tmp_path, tiny_factory, caplog):
    cfg = tiny_factory.make_cfg(tmp_path, tracking=NO_TRACKING, schedule={"epochs": 1})
    train(cfg)
    old_last = (tmp_path / "run" / "checkpoints" / "last.pt").read_bytes()
    cfg["optim"]["lr"] = 0.5
    cfg["data"]["workers"] = 0  # runtime-only keys may change
    with caplog.at_level("WARNING"):
        train(cfg)
    assert "optim.lr: 0.1 -> 0.5" in caplog.text and "starting over" in caplog.text
    stale = list((tmp_path / "run" / "checkpoints").glob("stale-*.pt"))
    assert len(stale) == 1 and stale[0].read_bytes() == old_last  # nothing lost
    assert (
        ckpt.load(tmp_path / "run" / "checkpoints" / "last.pt")["run_config"]["optim"]["lr"] == 0.5
    )


def test_checkpoint_init_loads_previous_stage(tmp_path, tiny_factory):
    first = tiny_factory.make_cfg(tmp_path / "f2", tracking=NO_TRACKING, schedule={"epochs": 1})
    train(first)
    # lr 0 and no weight decay effect: the next stage's weights must equal what it loaded.
    second = tiny_factory.make_cfg(
        tmp_path / "f4",
        tracking=NO_TRACKING,
        schedule={"epochs": 1},
        optim={"lr": 0.0},
        init={
            "kind": "checkpoint",
            "path": str(ckpt.final_path(first["output_dir"])),
            "new_head": False,
        },
    )
    train(second)
    for key, value in final_weights(first).items():
        assert torch.equal(final_weights(second)[key], value), key


def test_missing_init_checkpoint_is_named(tmp_path, tiny_factory):
    cfg = tiny_factory.make_cfg(
        tmp_path,
        tracking=NO_TRACKING,
        init={"kind": "checkpoint", "path": str(tmp_path / "nope" / "final.pt")},
    )
    from actionbench.errors import ModelError

    with pytest.raises(ModelError, match=r"nope/final.pt does not exist: train the previous stage"):
        train(cfg)


def test_batch_larger_than_dataset_is_a_config_error(tmp_path, tiny_factory):
    cfg = tiny_factory.make_cfg(
        tmp_path, tracking=NO_TRACKING, optim={"batch_size": 64, "base_batch_size": 64}
    )
    with pytest.raises(
        ConfigError, match=r"optim.batch_size \(64\) exceeds the number of training videos \(24\)"
    ):
        train(cfg)


def test_channels_last_gives_the_same_training(tmp_path, tiny_factory):
    weights = []
    for channels_last in (False, True):
        cfg = tiny_factory.make_cfg(
            tmp_path / str(channels_last),
            tracking=NO_TRACKING,
            schedule={"epochs": 1},
            runtime={"channels_last": channels_last},
        )
        train(cfg)
        weights.append(final_weights(cfg))
    for key, value in weights[0].items():
        torch.testing.assert_close(weights[1][key], value, rtol=1e-5, atol=1e-6)
