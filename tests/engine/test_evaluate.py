"""Evaluation on a hand-computed case: a model whose logits are the input's channel means."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from torch.utils.data import Dataset

from actionbench.engine import checkpoint as ckpt
from actionbench.engine import factory, metrics
from actionbench.engine.evaluate import evaluate
from actionbench.identity import eval_identity

LABELS = [0, 1, 2, 0]
GROUPS = ["temporal", "temporal", "spatial", "spatial"]
CLIP_LOGITS = [[2, 1, 0], [1, 0, 2], [0, 0, 1], [0, 1, 0]]  # clip-level: right, wrong, right, wrong
VIDEO_CLIPS = [  # 3 clips per video, in sampler order
    [[0, 3, 0], [4, 0, 0], [4, 0, 0]],  # first k: wrong, right, right
    [[0, 2, 1], [0, 2, 1], [0, 2, 1]],  # right from k=1
    [[1, 0, 0], [1, 0, 0], [0, 0, 5]],  # right only with all 3
    [[0, 1, 0], [0, 1, 0], [0, 1, 0]],  # always wrong
]
CROP_DELTA = np.array([1.0, -1.0, 0.5])  # crops are +delta / -delta around the clip's logits


class ChannelMeans(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3, 4)) * self.scale


class LogitClips(Dataset):
    """Views filled with constant per-channel values = the logits the model will output."""

    def __init__(self, num_clips: int, num_crops: int) -> None:
        self.num_clips, self.num_crops = num_clips, num_crops

    def __len__(self) -> int:
        return len(LABELS)

    def __getitem__(self, i: int):
        if self.num_clips * self.num_crops == 1:
            views = [np.array(CLIP_LOGITS[i], float)]
        else:
            views = [
                np.array(clip, float) + sign * CROP_DELTA
                for clip in VIDEO_CLIPS[i][: self.num_clips]
                for sign in (1, -1)[: self.num_crops]
            ]
        clips = torch.stack(
            [
                torch.tensor(v, dtype=torch.float32)[:, None, None, None].expand(3, 2, 4, 4)
                for v in views
            ]
        )
        return clips, LABELS[i], i


@pytest.fixture
def run_cfg(tmp_path, monkeypatch):
    import engine_tiny as tiny

    cfg = tiny.make_cfg(
        tmp_path,
        eval={"num_clips": 3, "num_crops": 2, "batch_size": 3},
        tracking={"experiment": f"eval-{tmp_path.name}", "tracking_uri": None},
    )
    pd.DataFrame(
        {
            "video_id": [f"v{i}" for i in range(4)],
            "frames_dir": "x",
            "num_frames": 2,
            "label": LABELS,
            "label_name": [f"c{k}" for k in LABELS],
            "group": GROUPS,
        }
    ).to_csv(cfg["data"]["val_list"], index=False)
    monkeypatch.setattr(factory, "build_model", lambda cfg, pretrained=None: ChannelMeans())
    monkeypatch.setattr(
        factory,
        "build_dataset",
        lambda cfg, split, train, num_clips=1, num_crops=1: LogitClips(num_clips, num_crops),
    )
    ckpt.atomic_save(ckpt.model_state(ChannelMeans()), ckpt.final_path(cfg["output_dir"]))
    return cfg


def test_metrics_and_tables_match_hand_computation(run_cfg, tmp_path):
    run_cfg["tracking"]["enabled"] = False
    result = evaluate(run_cfg)
    out = tmp_path / "run" / "eval"
    saved = json.loads((out / "metrics.json").read_text())
    # the code that evaluated the run is recorded; the numbers match the returned ones
    code = saved.pop("code")
    assert code == result.pop("code") and set(code) == {
        "package_version",
        "git_commit",
        "git_dirty",
    }
    # what it is made of: settings, lists and the weights it scored
    identity = saved.pop("identity")
    assert identity == result.pop("identity") == eval_identity(run_cfg)
    weights = (tmp_path / "run" / "final.pt").read_bytes()
    assert identity["model"] == hashlib.sha256(weights).hexdigest()
    assert saved == pytest.approx(result)
    assert result["num_videos"] == 4
    assert result["clip_top1"] == 50.0 and result["video_top1"] == 75.0
    assert result["clip_top5"] == 100.0 and result["video_top5"] == 100.0  # top-min(5, K=3)
    assert result["clip_mean_class_acc"] == result["mean_class_acc"] == pytest.approx(50.0)
    assert result["video_mean_class_acc"] == pytest.approx((50 + 100 + 100) / 3)
    assert result["clip_top1_temporal"] == 50.0 and result["video_top1_temporal"] == 100.0
    assert result["clip_top1_spatial"] == 50.0 and result["video_top1_spatial"] == 50.0

    pred = pd.read_csv(out / "predictions.csv", dtype={"video_id": str})
    assert list(pred.columns[:6]) == [
        "video_id",
        "label",
        "label_name",
        "group",
        "clip_pred",
        "video_pred",
    ]
    assert pred["clip_pred"].tolist() == [0, 2, 2, 1]
    assert pred["video_pred"].tolist() == [0, 1, 2, 1]
    np.testing.assert_allclose(
        pred[[f"clip_logit_{k}" for k in range(3)]].to_numpy(), CLIP_LOGITS, atol=1e-6
    )
    np.testing.assert_allclose(
        pred[[f"video_logit_{k}" for k in range(3)]].to_numpy(),
        np.mean(VIDEO_CLIPS, axis=1),
        atol=1e-5,
    )  # crops cancel out

    acc = pd.read_csv(out / "acc_vs_clips.csv")
    assert acc["num_clips"].tolist() == [1, 2, 3]
    assert acc["top1"].tolist() == pytest.approx([25.0, 50.0, 75.0])
    assert acc["top5"].tolist() == pytest.approx([100.0] * 3)

    per_class = pd.read_csv(out / "per_class.csv")
    assert per_class["clip_top1"].tolist() == pytest.approx([50.0, 0.0, 100.0])
    assert per_class["video_top1"].tolist() == pytest.approx([50.0, 100.0, 100.0])
    assert per_class["num_videos"].tolist() == [2, 1, 1]

    confusion = pd.read_csv(out / "confusion_clip.csv", index_col=0)
    assert confusion.to_numpy().tolist() == [[1, 1, 0], [0, 0, 1], [0, 0, 1]]
    assert pd.read_csv(out / "confusion_video.csv", index_col=0).to_numpy().tolist() == [
        [1, 1, 0],
        [0, 1, 0],
        [0, 0, 1],
    ]


def test_eval_job_is_one_mlflow_run_with_tables(run_cfg, mlflow_in_tmp):
    from mlflow.tracking import MlflowClient

    evaluate(run_cfg)
    client = MlflowClient(mlflow_in_tmp)
    experiment = client.get_experiment_by_name(run_cfg["tracking"]["experiment"])
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == run_cfg["run_id"] and run.info.status == "FINISHED"
    assert run.data.tags["stage"] == "eval"
    assert run.data.tags["checkpoint"] == str(ckpt.final_path(run_cfg["output_dir"]))
    assert run.data.metrics["video_top1"] == 75.0 and run.data.params["eval.num_clips"] == "3"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "eval")}
    assert {
        "eval/metrics.json",
        "eval/predictions.csv",
        "eval/acc_vs_clips.csv",
        "eval/config.json",
    } <= artifacts


def test_evaluate_without_checkpoint_says_train_first(run_cfg, tmp_path):
    from actionbench.errors import ModelError

    run_cfg["tracking"]["enabled"] = False
    ckpt.final_path(run_cfg["output_dir"]).unlink()
    with pytest.raises(ModelError, match="final.pt does not exist: train the run first"):
        evaluate(run_cfg)


def test_topk_is_top_min_k_classes():
    logits = np.array([[0.1, 0.9, 0.5, 0.3, 0.2, 0.0, 0.4], [1, 0, 0, 0, 0, 0, 0.0]])
    labels = np.array([5, 0])
    assert metrics.topk_hits(logits, labels, 5).tolist() == [False, True]
    assert metrics.topk_hits(logits, labels, 7).tolist() == [True, True]
    assert metrics.topk_hits(logits[:, :3], np.array([2, 0]), 5).tolist() == [True, True]


def _colour_frames(folder, count: int, label: int) -> None:
    """``count`` 16x16 JPEGs of one pure colour (red, green, blue = class 0, 1, 2)."""
    from torchvision.io import encode_jpeg

    from actionbench.data.dataset import frame_path

    folder.mkdir(parents=True, exist_ok=True)
    image = torch.zeros(3, 16, 16, dtype=torch.uint8)
    image[label] = 255
    for i in range(count):
        frame_path(folder, i).write_bytes(encode_jpeg(image, quality=95).numpy().tobytes())


@pytest.mark.parametrize("eval_min_frames, scored", [(3, ["v0", "v2", "v4"]), (1, None)])
def test_short_videos_are_left_out_counted_and_named(
    tmp_path, monkeypatch, eval_min_frames, scored
):
    """The reference's test.py -e scores only videos with at least filter_video frames; the run
    config's data.eval_min_frames says which, and metrics.json / dropped.csv say what was left."""
    import engine_tiny as tiny

    lengths, labels = [4, 2, 6, 1, 3], [0, 1, 2, 0, 1]
    rows = []
    for i, (n, label) in enumerate(zip(lengths, labels, strict=True)):
        _colour_frames(tmp_path / "frames" / f"v{i}", n, label)
        rows.append([f"v{i}", str(tmp_path / "frames" / f"v{i}"), n, label, f"c{label}"])
    cfg = tiny.make_cfg(tmp_path, backbone="resnet18", eval={"num_clips": 2, "batch_size": 2})
    pd.DataFrame(
        rows, columns=["video_id", "frames_dir", "num_frames", "label", "label_name"]
    ).to_csv(cfg["data"]["val_list"], index=False)
    cfg["data"].update(
        input_size=16, scale_size=16, test_crop_size=16, eval_min_frames=eval_min_frames
    )
    cfg["tracking"]["enabled"] = False
    monkeypatch.setattr(factory, "build_model", lambda cfg, pretrained=None: ChannelMeans())
    ckpt.atomic_save(ckpt.model_state(ChannelMeans()), ckpt.final_path(cfg["output_dir"]))

    result = evaluate(cfg)  # the real VideoClipDataset on the frames above
    out = tmp_path / "run" / "eval"
    saved = json.loads((out / "metrics.json").read_text())
    scored = scored or [f"v{i}" for i in range(5)]
    dropped = sorted(set(f"v{i}" for i in range(5)) - set(scored))
    assert (saved["num_videos"], saved["num_videos_dropped"], saved["num_videos_listed"]) == (
        len(scored),
        len(dropped),
        5,
    )
    assert saved["eval_min_frames"] == eval_min_frames == result["eval_min_frames"]
    pred = pd.read_csv(out / "predictions.csv", dtype={"video_id": str})
    assert pred["video_id"].tolist() == scored  # each scored video with its own label
    assert pred["label"].tolist() == [labels[int(v[1:])] for v in scored]
    assert result["clip_top1"] == result["video_top1"] == 100.0  # colour = class: all right
    assert pd.read_csv(out / "per_class.csv")["num_videos"].sum() == len(scored)
    gone = pd.read_csv(out / "dropped.csv", dtype={"video_id": str})
    assert gone.values.tolist() == [
        [v, lengths[int(v[1:])], f"fewer than {eval_min_frames} frames (eval_min_frames)"]
        for v in dropped
    ]
