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
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    old_last, old_id = last.read_bytes(), ckpt.load(last)["identity"]["fingerprint"]
    cfg["optim"]["lr"] = 0.5
    cfg["data"]["workers"] = 0  # where/how fast it runs is not part of the identity
    with caplog.at_level("WARNING"):
        train(cfg)
    said = [r.message for r in caplog.records if "another identity" in r.message]
    assert len(said) == 1 and "training settings changed" in said[0]
    assert "training starts fresh" in said[0] and f"set-aside-{old_id}.pt" in said[0]
    aside = tmp_path / "run" / "checkpoints" / f"set-aside-{old_id}.pt"
    assert aside.read_bytes() == old_last  # nothing lost
    assert ckpt.load(last)["run_config"]["optim"]["lr"] == 0.5


def test_same_identity_resumes_despite_runtime_changes(tmp_path, tiny_factory, caplog):
    cfg = tiny_factory.make_cfg(tmp_path, tracking=NO_TRACKING, schedule={"epochs": 1})
    train(cfg)
    cfg["runtime"]["threads"] = 2
    cfg["eval"]["batch_size"] = 2
    with caplog.at_level("INFO"):
        train(cfg)
    assert "resuming from" in caplog.text and "another identity" not in caplog.text
    assert not list((tmp_path / "run" / "checkpoints").glob("set-aside-*"))


def test_edited_train_list_or_new_init_weights_start_fresh(tmp_path, tiny_factory, caplog):
    source = tiny_factory.make_cfg(tmp_path / "src", tracking=NO_TRACKING, schedule={"epochs": 1})
    train(source)
    cfg = tiny_factory.make_cfg(
        tmp_path / "run",
        tracking=NO_TRACKING,
        schedule={"epochs": 1},
        init={"kind": "checkpoint", "path": str(ckpt.final_path(source["output_dir"]))},
    )
    train(cfg)
    train_list = tmp_path / "run" / "lists" / "train.csv"
    train_list.write_text(train_list.read_text() + "\n")  # same rows, other bytes
    with caplog.at_level("WARNING"):
        train(cfg)
    assert "data changed (train list or its videos)" in caplog.text
    caplog.clear()
    source["optim"]["lr"] = 0.05  # the source run is re-trained: its final.pt changes
    train(source)
    with caplog.at_level("WARNING"):
        train(cfg)
    assert "initial weights changed (the source run was re-trained" in caplog.text
    metrics = json.loads((tmp_path / "run" / "run" / "train_metrics.json").read_text())
    recorded = json.loads((tmp_path / "src" / "run" / "train_metrics.json").read_text())
    assert metrics["identity"]["init"]["sha256"] == recorded["final"]["sha256"]


@pytest.mark.parametrize("keep", [0, 1, 2])
def test_set_aside_checkpoints_follow_the_retention_setting(tmp_path, tiny_factory, keep):
    cfg = tiny_factory.make_cfg(
        tmp_path, tracking=NO_TRACKING, schedule={"epochs": 1}, checkpoints={"keep_set_aside": keep}
    )
    fingerprints = []
    for lr in (0.1, 0.2, 0.3, 0.4):
        cfg["optim"]["lr"] = lr
        train(cfg)
        last = tmp_path / "run" / "checkpoints" / "last.pt"
        fingerprints.append(ckpt.load(last)["identity"]["fingerprint"])
    aside = sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("set-aside-*.pt"))
    # the newest `keep` of the three older identities
    assert aside == sorted(f"set-aside-{fp}.pt" for fp in fingerprints[::-1][1 : 1 + keep])


def test_a_finished_checkpoint_rewrites_outputs_snakemake_removed(tmp_path, tiny_factory):
    """Snakemake removes a job's outputs before it runs: resuming a finished last.pt (same
    identity) must write them all again, final.pt byte for byte."""
    cfg = tiny_factory.make_cfg(tmp_path, tracking=NO_TRACKING, schedule={"epochs": 2})
    first = train(cfg)
    out = tmp_path / "run"
    final_bytes = (out / "final.pt").read_bytes()
    history = (out / "history.csv").read_text()
    for name in ("final.pt", "history.csv", "train_metrics.json"):
        (out / name).unlink()
    again = train(cfg)
    assert (out / "final.pt").read_bytes() == final_bytes
    assert (out / "history.csv").read_text() == history
    assert again["final"] == first["final"] and again["identity"] == first["identity"]


def test_resuming_under_another_code_version_warns_and_records_it(
    tmp_path, tiny_factory, caplog, monkeypatch
):
    cfg = tiny_factory.make_cfg(tmp_path, tracking=NO_TRACKING, schedule={"epochs": 2})
    from actionbench.engine import train as train_mod

    old = {"package_version": "0.0.9", "git_commit": "a" * 40, "git_dirty": False}
    with monkeypatch.context() as m:
        m.setattr(train_mod, "code_version", lambda: old)
        train(cfg)
    with caplog.at_level("WARNING"):
        result = train(cfg)  # resumes the finished last.pt written by the "old" code
    assert "written by another code version (0.0.9 aaaaaaaaaa)" in caplog.text
    assert "another identity" not in caplog.text  # a code change never restarts a run
    assert result["code_resumes"] == [{"epoch": 2, "written_by": old, "resumed_by": result["code"]}]


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
