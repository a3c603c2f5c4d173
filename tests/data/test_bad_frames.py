"""Loading never crashes obscurely (issue 12, item 3): every bad frame is a DataError naming the
list line and the file; ``on_bad_frame: skip`` replaces a bad training clip and the run's
metrics count it. Frames are extracted from a real ffmpeg-made video by ``extract``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from actionbench.data.dataset import VideoClipDataset
from actionbench.data.extract import extract_videos
from actionbench.engine.loader import EpochShardSampler, SeededItems, make_loader
from actionbench.errors import ConfigError, DataError

pytestmark = pytest.mark.integration

ENGINE_TESTS = Path(__file__).resolve().parents[1] / "engine"


@pytest.fixture
def frames_list(tmp_path, video_maker) -> Path:
    """train.csv over 6 extracted 12-frame videos (two classes), frames 43x32."""
    video = video_maker(tmp_path / "v.mp4", frames=12)
    ids = [f"v{i}" for i in range(6)]
    index = pd.DataFrame({"video_id": ids, "video_path": [str(video)] * 6})
    result = extract_videos(index, tmp_path / "frames", short_side=32, workers=2, progress=False)
    table = result.extracted[["video_id", "frames_dir", "num_frames"]].copy()
    table["label"] = [i % 2 for i in range(6)]
    table["label_name"] = [f"c{i % 2}" for i in range(6)]
    path = tmp_path / "lists" / "ds" / "train.csv"
    path.parent.mkdir(parents=True)
    table.to_csv(path, index=False)
    return path


def damage(frame: Path, how: str) -> None:
    if how == "zero_byte":
        frame.write_bytes(b"")
    elif how == "truncated":
        frame.write_bytes(frame.read_bytes()[: frame.stat().st_size // 2])
    elif how == "not_jpeg":
        Image.new("RGB", (43, 32)).save(frame, format="PNG")
    elif how == "wrong_size":
        Image.new("RGB", (20, 10)).save(frame, format="JPEG")
    elif how == "missing":
        frame.unlink()


@pytest.mark.parametrize(
    ("how", "problem"),
    [
        ("zero_byte", "is empty (0 bytes)"),
        ("truncated", "is not a readable JPEG (Image is incomplete or truncated)"),
        ("not_jpeg", "is not a readable JPEG (Not a JPEG file"),
        ("wrong_size", "is 20x10 but the clip's other frames are 43x32"),
        ("missing", "is missing"),
    ],
)
def test_every_bad_frame_is_a_data_error_naming_line_and_file(frames_list, how, problem):
    frame = frames_list.parents[2] / "frames" / "v2" / "img_00005.jpg"
    damage(frame, how)
    ds = VideoClipDataset(frames_list, num_frames=12, train=False, input_size=24, scale_size=32)
    ds[1]  # the other videos still load
    with pytest.raises(DataError) as err:
        ds[2]
    message = str(err.value)
    assert f"{frames_list}: line 4 (video v2, num_frames=12)" in message
    assert f"frame file {frame} {problem}" in message


def test_skip_policy_replaces_bad_training_clips_and_counts_them_across_workers(frames_list):
    for vid in ("v1", "v4"):
        damage(frames_list.parents[2] / "frames" / vid / "img_00001.jpg", "zero_byte")
    strict = VideoClipDataset(frames_list, num_frames=12, input_size=24)
    with pytest.raises(DataError, match="img_00001.jpg is empty"):
        strict[1]
    ds = VideoClipDataset(frames_list, num_frames=12, input_size=24, on_bad_frame="skip")
    sampler = EpochShardSampler(len(ds), global_batch=3, seed=0)
    loader = make_loader(
        SeededItems(ds, seed=0), sampler, batch_size=3, workers=2, pin_memory=False
    )
    labels = []
    for epoch in range(2):  # two epochs: the counter survives worker restarts
        sampler.set_epoch(epoch)
        for clips, label, index in loader:
            assert clips.shape == (3, 3, 12, 24, 24)
            assert not {1, 4} & set(index.tolist())  # the bad videos never reach the model
            labels += label.tolist()
    assert len(labels) == 12
    assert ds.skipped_clips == 4  # each bad video once per epoch
    test_ds = VideoClipDataset(
        frames_list, num_frames=12, train=False, input_size=24, on_bad_frame="skip"
    )
    with pytest.raises(DataError, match="line 3 \\(video v1"):
        test_ds[1]  # evaluation never drops or duplicates a video
    with pytest.raises(ConfigError, match="on_bad_frame 'ignore'"):
        VideoClipDataset(frames_list, num_frames=12, on_bad_frame="ignore")


def test_skip_gives_up_when_the_data_is_broken(frames_list):
    for frame in (frames_list.parents[2] / "frames").glob("v*/img_00001.jpg"):
        frame.write_bytes(b"")
    ds = VideoClipDataset(frames_list, num_frames=12, input_size=24, on_bad_frame="skip")
    with pytest.raises(DataError, match="6 videos in a row from line 2 have bad frames"):
        ds[0]


def test_an_empty_list_is_an_error_naming_split_and_dataset(tmp_path):
    path = tmp_path / "lists" / "mini-x" / "val.csv"
    path.parent.mkdir(parents=True)
    path.write_text("video_id,frames_dir,num_frames,label,label_name\n")
    with pytest.raises(DataError, match="split 'val' of dataset 'mini-x' is empty"):
        VideoClipDataset(path, num_frames=4)


def test_training_run_records_skipped_clips(frames_list, tmp_path, monkeypatch):
    sys.path.insert(0, str(ENGINE_TESTS))
    import engine_tiny as tiny

    from actionbench.engine import factory
    from actionbench.engine.train import train

    damage(frames_list.parents[2] / "frames" / "v3" / "img_00002.jpg", "truncated")
    monkeypatch.setattr(factory, "build_model", tiny.build_model)
    cfg = tiny.make_cfg(
        tmp_path / "job",
        num_classes=2,
        frames=2,
        optim={"batch_size": 3},
        schedule={"epochs": 2},
        tracking={"experiment": "skip", "enabled": False},
    )
    cfg["data"].update(train_list=str(frames_list), val_list=str(frames_list), root=None)
    cfg["backbone"] = "resnet18"  # the real dataset factory takes the input normalisation from it
    cfg["data"]["on_bad_frame"] = "fail"
    with pytest.raises(DataError, match="line 5 \\(video v3.*img_00002.jpg is not a readable"):
        train(dict(cfg, frames=12))
    cfg["data"]["on_bad_frame"] = "skip"
    # validation reads val.csv: give it the good videos only
    val = pd.read_csv(frames_list)
    val[val["video_id"] != "v3"].to_csv(tmp_path / "val.csv", index=False)
    cfg["data"]["val_list"] = str(tmp_path / "val.csv")
    cfg["output_dir"] = str(tmp_path / "job" / "run2")
    result = train(dict(cfg, frames=12))
    assert result["skipped_clips"] == 2  # once per epoch
    saved = json.loads((Path(cfg["output_dir"]) / "train_metrics.json").read_text())
    assert saved["skipped_clips"] == 2
