"""VideoClipDataset, through the engine's loader, on tiny JPEG frame folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torchvision.io import encode_jpeg

from actionbench.data.dataset import VideoClipDataset, frame_path
from actionbench.engine.loader import EpochShardSampler, SeededItems, ShardSampler, make_loader
from actionbench.errors import ConfigError, DataError


def write_frames(folder: Path, count: int, height: int = 32, width: int = 40) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        image = torch.full((3, height, width), (i * 20) % 256, dtype=torch.uint8)
        frame_path(folder, i).write_bytes(encode_jpeg(image, quality=90).numpy().tobytes())


@pytest.fixture
def list_csv(tmp_path) -> Path:
    rows = []
    for k, count in enumerate((10, 5, 12, 3)):
        vid = f"vid{k}"
        write_frames(tmp_path / "frames" / vid, count)
        rows.append([vid, f"frames/{vid}", count, k % 2, f"class{k % 2}"])
    path = tmp_path / "train.csv"
    pd.DataFrame(
        rows, columns=["video_id", "frames_dir", "num_frames", "label", "label_name"]
    ).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("sampling", ["uniform", "dense"])
def test_train_item_shape(list_csv, sampling):
    ds = VideoClipDataset(
        list_csv,
        num_frames=4,
        sampling=sampling,
        dense_stride=2,
        input_size=24,
        root=list_csv.parent,
    )
    clip, label, index = ds[1]
    assert clip.shape == (3, 4, 24, 24) and clip.dtype == torch.uint8
    assert (label, index) == (1, 1)


@pytest.mark.parametrize(("clips", "crops"), [(1, 1), (2, 3), (4, 1), (1, 5), (2, 10)])
def test_test_item_has_clips_times_crops_views(list_csv, clips, crops):
    ds = VideoClipDataset(
        list_csv, num_frames=4, train=False, num_clips=clips, num_crops=crops,
        input_size=24, scale_size=28, root=list_csv.parent,
    )  # fmt: skip
    clip, label, _ = ds[0]
    assert clip.shape == (clips * crops, 3, 4, 24, 24)
    assert ds.views_per_video == clips * crops
    assert torch.equal(ds[0][0], clip)  # testing is deterministic


def test_frames_follow_the_sampled_indices(list_csv):
    # Frame i is a flat image of value 20 * i, so the decoded clip reveals which frames were read.
    ds = VideoClipDataset(
        list_csv, num_frames=5, train=False, input_size=32, scale_size=32, root=list_csv.parent
    )
    clip, _, _ = ds[0]  # 10 frames, 5 segments -> middle frames 1, 3, 5, 7, 9
    values = clip[0].float().mean(dim=(-1, -2))  # uint8 pixels, per channel and frame
    expected = torch.tensor([20.0, 60.0, 100.0, 140.0, 180.0])
    assert (values - expected).abs().max() < 3


def test_reference_and_paper_protocols_sample_differently(list_csv):
    # vid3 has 3 frames < 4: the reference draws with replacement (RandomState(0)), sorted;
    # the paper protocol repeats frames evenly: floor((2x+1) * 3 / 8) = 0, 1, 1, 2.
    kwargs = dict(num_frames=4, train=False, input_size=32, scale_size=32, root=list_csv.parent)
    reference = VideoClipDataset(list_csv, **kwargs)
    paper = VideoClipDataset(list_csv, protocol="paper", **kwargs)
    assert paper.sample_indices(3).tolist() == [[0, 1, 1, 2]]
    expected = np.sort(np.random.RandomState(0).choice(3, 4))
    assert reference.sample_indices(3).tolist() == [expected.tolist()]
    values = reference[3][0][0, 0].float().mean(dim=(-1, -2))
    assert (values - 20.0 * torch.tensor(expected)).abs().max() < 3


def test_training_drops_videos_shorter_than_min_frames(list_csv, tmp_path, caplog):
    caplog.set_level("INFO")
    ds = VideoClipDataset(list_csv, num_frames=4, min_frames=5, input_size=24, root=tmp_path)
    assert ds.video_ids == ["vid0", "vid1", "vid2"]  # vid3 (3 frames) dropped
    assert "1 of 4 training videos have fewer than min_frames=5" in caplog.text
    test = VideoClipDataset(list_csv, num_frames=4, train=False, min_frames=5, root=tmp_path)
    assert len(test) == 4  # evaluation keeps every video
    frame_path(tmp_path / "frames/vid2", 0).unlink()
    ds = VideoClipDataset(list_csv, num_frames=12, min_frames=11, input_size=24, root=tmp_path)
    assert ds.video_ids == ["vid2"]
    with pytest.raises(DataError, match=r"line 4 \(video vid2"):  # its line in the list file
        ds.load_frames(0, np.arange(12))
    with pytest.raises(DataError, match="every video has fewer than min_frames=13"):
        VideoClipDataset(list_csv, num_frames=4, min_frames=13, root=tmp_path)


def test_evaluation_drops_videos_shorter_than_eval_min_frames(list_csv, tmp_path, caplog):
    caplog.set_level("INFO")
    test = VideoClipDataset(
        list_csv, num_frames=4, train=False, eval_min_frames=6, min_frames=11, root=tmp_path
    )
    assert test.video_ids == ["vid0", "vid2"]  # 10 and 12 frames kept; 5 and 3 dropped
    assert test.list_rows.tolist() == [0, 2]
    assert test.dropped == [
        ("vid1", 5, "fewer than 6 frames (eval_min_frames)"),
        ("vid3", 3, "fewer than 6 frames (eval_min_frames)"),
    ]
    assert "2 of 4 evaluation videos have fewer than eval_min_frames=6 frames" in caplog.text
    assert test[1][2] == 1 and test.video_lengths[1] == 12  # item 1 is the list's row 2
    train = VideoClipDataset(list_csv, num_frames=4, eval_min_frames=6, root=tmp_path)
    assert len(train) == 4 and train.dropped == []  # eval_min_frames is for evaluation only
    every = VideoClipDataset(list_csv, num_frames=4, train=False, root=tmp_path)
    assert len(every) == 4 and every.dropped == []  # the default scores every video
    with pytest.raises(DataError, match="every video has fewer than eval_min_frames=13"):
        VideoClipDataset(list_csv, num_frames=4, train=False, eval_min_frames=13, root=tmp_path)


def test_ten_crops_need_flipping_allowed(list_csv):
    with pytest.raises(ConfigError, match="num_crops=10 adds mirrored views"):
        VideoClipDataset(list_csv, num_frames=4, train=False, num_crops=10, flip=False)


def test_normalization_is_left_to_the_device_transform(list_csv):
    ds = VideoClipDataset(
        list_csv, num_frames=4, input_size=24, root=list_csv.parent,
        normalization=((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    )  # fmt: skip
    torch.manual_seed(0)
    clip = ds[0][0]
    out = ds.device_transform(clip[None])
    assert torch.allclose(out[0], clip.float() / 127.5 - 1.0)
    assert VideoClipDataset(list_csv, num_frames=4).device_transform is None


def test_training_is_reproducible_for_a_torch_seed(list_csv):
    ds = VideoClipDataset(list_csv, num_frames=4, input_size=24, root=list_csv.parent)
    torch.manual_seed(0)
    a = ds[2][0]
    torch.manual_seed(0)
    b = ds[2][0]
    assert torch.equal(a, b)


def test_missing_frame_names_file_and_row(list_csv, tmp_path):
    frame_path(tmp_path / "frames/vid2", 11).unlink()
    ds = VideoClipDataset(
        list_csv, num_frames=12, train=False, input_size=24, scale_size=28, root=tmp_path
    )
    with pytest.raises(
        DataError, match=r"train.csv: line 4 \(video vid2.*img_00012.jpg is missing"
    ):
        ds[2]


def test_corrupt_frame_is_a_data_error(list_csv, tmp_path):
    frame_path(tmp_path / "frames/vid3", 0).write_bytes(b"\xff\xd8 not really a jpeg")
    ds = VideoClipDataset(
        list_csv, num_frames=3, train=False, input_size=24, scale_size=28, root=tmp_path
    )
    with pytest.raises(
        DataError, match=r"line 5 \(video vid3.*img_00001.jpg is not a readable JPEG"
    ):
        ds[3]


def test_bad_list_and_settings(tmp_path, list_csv):
    bad = tmp_path / "bad.csv"
    bad.write_text("video_id,frames_dir,num_frames,label,label_name\nv,f,0,0,a\n")
    with pytest.raises(DataError, match="line 2 .*num_frames=0"):
        VideoClipDataset(bad, num_frames=4)
    with pytest.raises(DataError, match="lacks column"):
        bad.write_text("video_id,label\nv,0\n")
        VideoClipDataset(bad, num_frames=4)
    with pytest.raises(ConfigError, match="sampling 'random'"):
        VideoClipDataset(list_csv, num_frames=4, sampling="random")


def train_loader(ds, batch_size, workers, seed):
    sampler = EpochShardSampler(len(ds), batch_size, seed=seed)
    return make_loader(SeededItems(ds, seed), sampler, batch_size, workers, False, seed=seed)


def test_engine_loader_batches_train_and_test(list_csv):
    train = VideoClipDataset(list_csv, num_frames=4, input_size=24, root=list_csv.parent)
    batches = list(train_loader(train, batch_size=3, workers=0, seed=1))
    assert len(batches) == 1  # 4 videos, the incomplete global batch dropped
    clips, labels, indices = batches[0]
    assert clips.shape == (3, 3, 4, 24, 24) and labels.shape == (3,) and indices.shape == (3,)
    assert clips.dtype == torch.uint8

    test = VideoClipDataset(
        list_csv,
        num_frames=4,
        train=False,
        num_clips=2,
        num_crops=3,
        input_size=24,
        scale_size=28,
        root=list_csv.parent,
    )
    loader = make_loader(test, ShardSampler(len(test)), 3, workers=0, pin_memory=False)
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(3, 6, 3, 4, 24, 24), (1, 6, 3, 4, 24, 24)]
    assert torch.cat([b[2] for b in batches]).tolist() == [0, 1, 2, 3]


def test_worker_loading_is_reproducible_for_a_seed(list_csv):
    ds = VideoClipDataset(list_csv, num_frames=4, input_size=24, root=list_csv.parent)

    def run():
        loader = train_loader(ds, batch_size=2, workers=2, seed=5)
        return [(c.clone(), i.clone()) for c, _, i in loader]

    first, second = run(), run()
    for (c1, i1), (c2, i2) in zip(first, second, strict=True):
        assert torch.equal(i1, i2) and torch.equal(c1, c2)
