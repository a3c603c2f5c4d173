"""Where a run's initial tensors came from is recorded: train_metrics.json, MLflow, last.pt (so a
resumed run still writes it) and the report's protocol table."""

from __future__ import annotations

import json
import signal

import pytest
import torch
import torchvision
from test_integration import real_cfg  # noqa: F401  (the fixture this module builds on)

from actionbench.analysis import fairness
from actionbench.analysis.collect import collect_runs
from actionbench.analysis.tables.protocol import INIT_COLUMN, protocol_table
from actionbench.engine import checkpoint as ckpt
from actionbench.engine.preemption import Preempted
from actionbench.engine.train import train
from actionbench.errors import ModelError
from actionbench.spec import RunSpec

RUN_ID = "tiny/tam-resnet18/f4"


@pytest.fixture
def tam_cfg(real_cfg, tmp_path, mlflow_in_tmp):  # noqa: F811  (the fixture imported above)
    """TAM-ResNet18 on 4-frame JPEG clips, ImageNet-initialised, output under runs/<run id>."""
    cfg = {**real_cfg, "run_id": RUN_ID, "arch": "tam", "frames": 4}
    cfg["output_dir"] = str(tmp_path / "runs" / RUN_ID)
    cfg["schedule"]["epochs"] = 1
    cfg["eval"].update(num_clips=1, num_crops=1)
    cfg["tracking"].update(experiment="init-weights", enabled=True, tracking_uri=None)
    weights = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), weights)
    cfg["init"] = {"kind": "imagenet", "path": str(weights), "inflation": "copy", "new_head": False}
    return cfg


def test_counts_reach_train_metrics_mlflow_and_the_protocol_table(tam_cfg, tmp_path):
    from mlflow.tracking import MlflowClient

    result = train(tam_cfg)
    record = json.loads((tmp_path / "runs" / RUN_ID / "train_metrics.json").read_text())
    expected = {
        "kind": "imagenet",
        "source": tam_cfg["init"]["path"],
        "inflation": "copy",
        "loaded": 120,  # every tensor of torchvision's ResNet18 but its 1000-class head
        "inflated": 0,
        "new": 10,  # 8 TAMs and the 3-class head
        "unused_source_keys": 2,
    }
    init = record["init_weights"]
    assert {k: init[k] for k in expected} == expected and result["init_weights"] == init
    assert init["new_keys_sample"] == [
        *(f"layer{s}.{b}.temporal.weight" for s in range(1, 5) for b in range(2)),
        "fc.weight",
        "fc.bias",
    ]

    run = MlflowClient(tam_cfg["tracking"].get("tracking_uri")).get_run(result["mlflow_run_id"])
    assert {k: run.data.metrics[f"init_{k}"] for k in ("loaded", "inflated", "new")} == {
        "loaded": 120,
        "inflated": 0,
        "new": 10,
    }
    assert json.loads(run.data.tags["actionbench.init_weights"]) == init

    spec = RunSpec("tiny", "tam", "resnet18", False, 4)
    results = collect_runs({RUN_ID: spec}, tmp_path / "runs")
    protocols = {RUN_ID: fairness.protocol_record(RUN_ID, {RUN_ID: tam_cfg})}
    table = protocol_table(results, protocols)
    assert table.frame.loc[RUN_ID, INIT_COLUMN] == "120 / 0 / 10"
    columns = list(table.frame.columns)
    assert columns.index(INIT_COLUMN) == columns.index(fairness.FACTORS["weights"]) + 1


def test_wrong_imagenet_weights_stop_the_run_before_training(tam_cfg, tmp_path):
    torch.save(torchvision.models.resnet50(weights=None).state_dict(), tam_cfg["init"]["path"])
    with pytest.raises(ModelError, match=r"do not fit backbone resnet18 \(tam-resnet18\)"):
        train(tam_cfg)
    assert not (tmp_path / "runs" / RUN_ID / "train_metrics.json").exists()


class _PreemptedAt:
    """The tiny dataset, sending this process SIGUSR1 while serving training item ``at``."""

    def __init__(self, dataset, at: int) -> None:
        self.dataset, self.at = dataset, at

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index):
        if index == self.at:
            signal.raise_signal(signal.SIGUSR1)
        return self.dataset[index]


def test_a_resumed_run_keeps_the_record_of_its_initialisation(
    tmp_path, tiny_factory, monkeypatch, caplog
):
    cfg = tiny_factory.make_cfg(
        tmp_path, schedule={"epochs": 2}, tracking={"experiment": "init-resume", "enabled": False}
    )
    real = tiny_factory.build_dataset

    def interrupted(cfg, split, train, num_clips=1, num_crops=1):
        dataset = real(cfg, split, train, num_clips, num_crops)
        return _PreemptedAt(dataset, 5) if train else dataset

    monkeypatch.setattr("actionbench.engine.factory.build_dataset", interrupted)
    with pytest.raises(Preempted):
        train(cfg)
    saved = ckpt.load(ckpt.last_path(cfg["output_dir"]))["init_weights"]
    assert saved["kind"] == "scratch" and saved["new"] == 4  # TinyNet: conv and fc, all new

    monkeypatch.setattr("actionbench.engine.factory.build_dataset", real)
    with caplog.at_level("INFO", logger="actionbench.engine.train"):
        result = train(cfg)  # resumes: no weights are initialised this time
    assert "resuming from" in caplog.text and "step" in caplog.text  # mid-epoch 1
    assert result["init_weights"] == saved
    written = json.loads((tmp_path / "run" / "train_metrics.json").read_text())
    assert written["init_weights"] == saved
