"""VideoClipDataset and build_loader on tiny JPEG frame folders."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch
from torchvision.io import encode_jpeg

from actionbench.data.dataset import VideoClipDataset, build_loader, frame_path
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
    assert clip.shape == (3, 4, 24, 24) and clip.dtype == torch.float32
    assert (label, index) == (1, 1)


@pytest.mark.parametrize(("clips", "crops"), [(1, 1), (2, 3), (4, 1)])
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
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1)
    values = (clip[0].mean(dim=(-1, -2)) * std + mean) * 255
    expected = torch.tensor([20.0, 60.0, 100.0, 140.0, 180.0])
    assert (values - expected).abs().max() < 3


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


def test_loader_batches_train_and_test(list_csv):
    train = VideoClipDataset(list_csv, num_frames=4, input_size=24, root=list_csv.parent)
    loader = build_loader(train, batch_size=3, train=True, workers=0, seed=1)
    batches = list(loader)
    assert len(batches) == 1  # 4 videos, drop_last
    clips, labels, indices = batches[0]
    assert clips.shape == (3, 3, 4, 24, 24) and labels.shape == (3,) and indices.shape == (3,)
    assert loader.pin_memory == torch.cuda.is_available()

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
    batches = list(build_loader(test, batch_size=3, train=False, workers=0))
    assert [b[0].shape for b in batches] == [(3, 6, 3, 4, 24, 24), (1, 6, 3, 4, 24, 24)]
    assert torch.cat([b[2] for b in batches]).tolist() == [0, 1, 2, 3]


def test_worker_loading_is_reproducible_for_a_seed(list_csv):
    ds = VideoClipDataset(list_csv, num_frames=4, input_size=24, root=list_csv.parent)

    def run():
        loader = build_loader(ds, batch_size=2, train=True, workers=2, seed=5)
        return [(c.clone(), i.clone()) for c, _, i in loader]

    first, second = run(), run()
    for (c1, i1), (c2, i2) in zip(first, second, strict=True):
        assert torch.equal(i1, i2) and torch.equal(c1, c2)
