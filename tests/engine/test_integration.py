"""The engine with the real clip dataset (JPEG frame folders) and the real model registry."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from torchvision.io import write_jpeg

from actionbench.engine import checkpoint as ckpt
from actionbench.engine.evaluate import evaluate
from actionbench.engine.train import train

COLORS = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]


def make_split(root, split: str, videos: int, frames: int = 4) -> str:
    rows = []
    g = torch.Generator().manual_seed(len(split) + videos)
    for i in range(videos):
        label = i % 3
        folder = root / "frames" / f"{split}{i:02d}"
        folder.mkdir(parents=True)
        for f in range(frames):
            img = torch.tensor(COLORS[label], dtype=torch.float32)[:, None, None].expand(3, 36, 40)
            img = (img + 40 * torch.randn(3, 36, 40, generator=g)).clamp(0, 255).to(torch.uint8)
            write_jpeg(img, str(folder / f"img_{f + 1:05d}.jpg"))
        rows.append(
            {
                "video_id": f"{split}{i:02d}",
                "frames_dir": f"frames/{split}{i:02d}",
                "num_frames": frames,
                "label": label,
                "label_name": f"class{label}",
                "group": "spatial" if label else "temporal",
            }
        )
    path = root / "lists" / f"{split}.csv"
    path.parent.mkdir(exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


@pytest.fixture
def real_cfg(tmp_path):
    import engine_tiny as tiny

    cfg = tiny.make_cfg(
        tmp_path,
        arch="tsn",
        backbone="resnet18",
        data={
            "input_size": 32,
            "scale_size": 36,
            "flip": True,
            "workers": 0,
            "root": str(tmp_path),
        },
        optim={"batch_size": 3, "base_batch_size": 3, "lr": 0.01},
        model={"dropout": 0.5},
        schedule={"epochs": 2},
        eval={"num_clips": 2, "num_crops": 3, "batch_size": 2},
        tracking={"experiment": "integration", "enabled": False},  # MLflow: see test_resume
    )
    cfg["data"]["train_list"] = make_split(tmp_path, "train", 9)
    cfg["data"]["val_list"] = make_split(tmp_path, "val", 6)
    return cfg


def test_train_then_evaluate_with_real_dataset_and_model(real_cfg, tmp_path):
    result = train(real_cfg)
    assert result["epochs"] == 2 and result["final_val_top1"] is not None
    weights = torch.load(ckpt.final_path(real_cfg["output_dir"]), weights_only=True)
    assert all(torch.isfinite(v).all() for v in weights.values() if v.is_floating_point())

    metrics = evaluate(real_cfg)
    out = tmp_path / "run" / "eval"
    saved = json.loads((out / "metrics.json").read_text())
    assert saved.pop("code") == metrics["code"]  # the code that evaluated the run
    assert saved.pop("identity")["model"] == result["final"]["sha256"]  # the model it scored
    assert saved == pytest.approx(
        {k: v for k, v in metrics.items() if k not in ("code", "identity")}
    )
    assert metrics["num_videos"] == 6 and metrics["num_clips"] == 2 and metrics["num_crops"] == 3
    assert {"clip_top1_temporal", "clip_top1_spatial", "video_top1_temporal"} <= set(metrics)
    pred = pd.read_csv(out / "predictions.csv", dtype={"video_id": str})
    assert pred["video_id"].tolist() == [f"val{i:02d}" for i in range(6)]
    assert len(pd.read_csv(out / "acc_vs_clips.csv")) == 2


@pytest.mark.parametrize("arch", ["tsn", "tam", "tsm", "tconv", "i3d", "s3d", "i3d_se"])
def test_progressive_stage_loads_previous_frame_count(arch, tmp_path):
    """f16 initialises from f8's final.pt: same architecture, other frame count (Table 12)."""
    from actionbench.models import build_model

    torch.manual_seed(0)
    f8 = build_model(arch, "resnet18", num_frames=8, num_classes=5)
    path = tmp_path / "final.pt"
    ckpt.atomic_save(ckpt.model_state(f8), path)
    f16 = build_model(arch, "resnet18", num_frames=16, num_classes=5)
    ckpt.load_model_weights(f16, path)
    for key, value in f8.state_dict().items():
        assert torch.equal(f16.state_dict()[key], value), key

    transfer = build_model(arch, "resnet18", num_frames=16, num_classes=3)
    ckpt.load_model_weights(transfer, path, new_head=True)  # D.3: new classes, new classifier
    assert torch.equal(transfer.state_dict()["conv1.weight"], f8.state_dict()["conv1.weight"])


def test_imagenet_init_reaches_the_model(real_cfg, tmp_path):
    from torchvision.models import resnet18

    imagenet = resnet18().state_dict()
    torch.save(imagenet, tmp_path / "resnet18.pth")
    real_cfg["init"] = {
        "kind": "imagenet",
        "path": str(tmp_path / "resnet18.pth"),
        "inflation": "copy",
        "new_head": False,
    }
    real_cfg["optim"]["lr"] = 0.0  # weights stay as loaded
    real_cfg["schedule"]["epochs"] = 1
    train(real_cfg)
    weights = torch.load(ckpt.final_path(real_cfg["output_dir"]), weights_only=True)
    for key in ("conv1.weight", "layer1.0.conv1.weight", "layer4.1.conv2.weight"):
        assert torch.equal(weights[key], imagenet[key]), key
