"""storage: video — decoders, the re-encode step and the Dataset's video path, on real
ffmpeg-made videos, compared with frames mode (extraction) frame by frame.

Codec tolerance: a frame decoded from the re-encoded H.264 file and the same frame extracted to
JPEG (both from one source, both at the same shorter side) may differ by at most
``CODEC_TOLERANCE`` grey levels in mean absolute difference over the frame (uint8). Measured on
the smooth test video below: <= 2.4 (gop 8) and <= 1.9 (gop 1); the neighbouring frame differs by
~67, so an off-by-one index can never pass.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from actionbench.data.dataset import VideoClipDataset, decode_frame, frame_path
from actionbench.data.extract import extract_videos
from actionbench.data.ffmpeg_bin import ffmpeg_exe
from actionbench.data.lists import build_lists, write_lists
from actionbench.data.reencode import ReencodeSettings, reencode_videos
from actionbench.data.video_reader import (
    BACKENDS,
    backend_speed,
    backend_status,
    make_reader,
    resolve_backend,
)
from actionbench.errors import ConfigError, DataError

CODEC_TOLERANCE = 4.0
WORKING = [b for b in BACKENDS if backend_status()[b] is None]


def make_ramp_video(path: Path, frames: int = 30, size: str = "96x64", gop: int = 25) -> Path:
    """H.264 with B-frames and a long GOP (like a publisher's file); every frame a distinct,
    smooth colour ramp, so frames are told apart by far more than the codec's error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    source = f"nullsrc=size={size}:rate=12,geq=lum='mod(N*37+X+Y\\,200)+20':cb='128+X/2':cr='160-Y'"
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source,
         "-frames:v", str(frames), "-c:v", "libx264", "-g", str(gop), "-pix_fmt", "yuv420p",
         "-threads", "1", "file:" + str(path.absolute())],
        check=True, capture_output=True,
    )  # fmt: skip
    return path


def per_frame_error(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a.float() - b.float()).abs().flatten(1).mean(1)


@pytest.fixture(scope="module")
def both_modes(tmp_path_factory):
    """One set of 6 videos (lengths 30, 7 and 61) prepared both ways: extracted JPEG folders
    (frames mode) and re-encoded mp4s (video mode), with split lists for each."""
    root = tmp_path_factory.mktemp("modes")
    rows = []
    for i, n in enumerate([30, 7, 61, 30, 7, 61]):
        video = make_ramp_video(root / "raw" / f"v{i}.mp4", frames=n)
        rows.append([f"v{i}", str(video), "train" if i < 3 else "val", f"c{i % 3}"])
    index = pd.DataFrame(rows, columns=["video_id", "video_path", "split", "label_name"])
    extracted = extract_videos(index, root / "frames", short_side=40, workers=1, progress=False)
    reencoded = reencode_videos(
        index, root / "videos", ReencodeSettings(short_side=40, gop=8), workers=1, progress=False
    )
    assert reencoded.failures.empty
    write_lists(build_lists(index, extracted.extracted), root / "lists_frames")
    write_lists(build_lists(index, reencoded.extracted), root / "lists_video")
    return root, extracted.extracted, reencoded.extracted


@pytest.mark.parametrize("backend", WORKING)
def test_reader_returns_the_extracted_frames_at_every_index(both_modes, backend):
    root, extracted, reencoded = both_modes
    reader = make_reader(backend)
    wanted = np.array([60, 0, 5, 5, 31, 8, 59, 1])  # unsorted, repeated, across keyframes
    video = reader.read(root / "videos" / "v2.mp4", wanted)
    frames = torch.stack([decode_frame(frame_path(root / "frames" / "v2", i)) for i in wanted])
    assert video.shape == frames.shape == (8, 3, 40, 60)
    assert video.dtype == torch.uint8
    assert per_frame_error(video, frames).max() <= CODEC_TOLERANCE
    # The test can see an off-by-one: the next frame is far outside the tolerance.
    shifted = torch.stack([decode_frame(frame_path(root / "frames" / "v2", i + 1)) for i in [0, 5]])
    assert per_frame_error(video[1:3], shifted).min() > 10 * CODEC_TOLERANCE


@pytest.mark.parametrize("backend", WORKING)
def test_reader_decodes_a_publisher_file_and_names_bad_ones(both_modes, backend, tmp_path):
    root, _, _ = both_modes
    reader = make_reader(backend)
    # the original (B-frames, GOP 25, 96x64) decodes too
    assert reader.read(root / "raw" / "v0.mp4", np.array([29, 12])).shape == (2, 3, 64, 96)
    with pytest.raises(DataError, match=r"v1\.mp4.*frame 7 .*7 frames"):
        reader.read(root / "videos" / "v1.mp4", np.array([7]))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 10)
    with pytest.raises(DataError, match="junk.mp4"):
        reader.read(junk, np.array([0]))


def test_backends_agree_with_each_other(both_modes):
    if len(WORKING) < 2:
        pytest.skip(f"only {WORKING} decode here: {backend_status()}")
    root, _, _ = both_modes
    wanted = np.arange(0, 61, 3)
    a, b = (make_reader(n).read(root / "videos" / "v2.mp4", wanted) for n in WORKING)
    assert torch.equal(a, b)


def test_reencode_keeps_every_frame_at_the_short_side_with_a_short_gop(both_modes):
    import av

    root, extracted, reencoded = both_modes
    assert reencoded["num_frames"].tolist() == extracted["num_frames"].tolist() == [30, 7, 61] * 2
    assert reencoded["frames_dir"].map(lambda p: Path(p).suffix).eq(".mp4").all()
    with av.open(str(root / "videos" / "v2.mp4")) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (60, 40)
        keys = [p.is_keyframe for p in container.demux(stream) if p.size]
    assert len(keys) == 61
    assert [i for i, k in enumerate(keys) if k] == list(range(0, 61, 8))


def test_reencode_reuses_done_files_and_reports_failures(both_modes, tmp_path, audio_maker):
    root, _, _ = both_modes
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "junk.mp4").write_bytes(b"garbage" * 100)
    audio_maker(tmp_path / "speech.m4a")
    index = pd.DataFrame(
        [["v0", str(root / "raw" / "v0.mp4")], ["gone", str(tmp_path / "missing.mp4")],
         ["empty", str(tmp_path / "empty.mp4")], ["junk", str(tmp_path / "junk.mp4")],
         ["speech", str(tmp_path / "speech.m4a")]],
        columns=["video_id", "video_path"],
    )  # fmt: skip
    result = reencode_videos(index, root / "videos", ReencodeSettings(short_side=40), workers=1,
                             progress=False)  # fmt: skip
    assert result.extracted[["video_id", "num_frames", "reused"]].values.tolist() == [
        ["v0", 30, True]
    ]
    reasons = dict(zip(result.failures["video_id"], result.failures["reason"], strict=True))
    assert reasons["gone"] == "video file not found"
    assert reasons["empty"] == "empty file (0 bytes)"
    assert reasons["junk"]  # ffmpeg's own diagnosis
    assert reasons["speech"] == "no video stream (audio only)"  # as extraction says it
    assert not (root / "videos" / ".partial").exists()
    with pytest.raises(ConfigError, match="gop=0"):
        ReencodeSettings(gop=0)


def test_reencode_redoes_a_file_made_with_other_settings_and_lists_digest_its_record(tmp_path):
    """A re-encoded file is reused only with its record's settings: a changed short side
    re-encodes it, and the list row's content digest (a run's identity) changes with it."""
    from actionbench.data.lists import frames_check
    from actionbench.data.reencode import record_path

    source = make_ramp_video(tmp_path / "raw" / "v.mp4", frames=12)
    index = pd.DataFrame([["v", str(source)]], columns=["video_id", "video_path"])

    def encode(side):
        out = reencode_videos(index, tmp_path / "videos", ReencodeSettings(short_side=side),
                              workers=1, progress=False)  # fmt: skip
        video = tmp_path / "videos" / "v.mp4"
        return bool(out.extracted["reused"].iloc[0]), frames_check(str(video), 12)[1]

    first = encode(40)
    assert first[0] is False and first[1]
    record = json.loads(record_path(tmp_path / "videos" / "v.mp4").read_text())
    assert record["settings"]["short_side"] == 40 and record["num_frames"] == 12
    assert encode(40) == (True, first[1])  # same settings: reused, same digest
    again = encode(32)
    assert again[0] is False and again[1] != first[1]
    record_path(tmp_path / "videos" / "v.mp4").unlink()  # made before records existed
    assert encode(32)[0] is False


def _datasets(root, **kwargs):
    frames = VideoClipDataset(root / "lists_frames" / kwargs.pop("split"), **kwargs)
    return frames, VideoClipDataset(
        root / "lists_video" / frames.list_csv.name, storage="video", short_side=40, **kwargs
    )


@pytest.mark.parametrize("sampling", ["uniform", "dense"])
def test_same_seed_same_indices_same_clips_in_training(both_modes, sampling):
    root, _, _ = both_modes
    frames, video = _datasets(
        root, split="train.csv", num_frames=8, sampling=sampling, dense_stride=2, train=True,
        input_size=32, flip=True,
    )  # fmt: skip
    for item in range(len(frames)):
        assert frames.video_lengths[item] == video.video_lengths[item]
        torch.manual_seed(item)
        clip_f, label_f, _ = frames[item]
        torch.manual_seed(item)
        clip_v, label_v, _ = video[item]
        assert clip_f.shape == clip_v.shape == (3, 8, 32, 32)
        assert label_f == label_v
        assert clip_f.dtype == clip_v.dtype == torch.uint8  # items are grey levels
        error = (clip_f.float() - clip_v.float()).abs().mean(dim=(0, 2, 3))
        assert error.max() <= CODEC_TOLERANCE, (item, error)


@pytest.mark.parametrize("sampling", ["uniform", "dense"])
def test_multi_clip_multi_crop_test_views_match(both_modes, sampling):
    root, _, _ = both_modes
    frames, video = _datasets(
        root, split="val.csv", num_frames=4, sampling=sampling, train=False, num_clips=3,
        num_crops=3, input_size=32, scale_size=36,
    )  # fmt: skip
    for item in range(len(frames)):
        np.testing.assert_array_equal(frames.sample_indices(item), video.sample_indices(item))
        clip_f, clip_v = frames[item][0], video[item][0]
        assert clip_f.shape == clip_v.shape == (9, 3, 4, 32, 32)
        assert (clip_f.float() - clip_v.float()).abs().mean().item() <= CODEC_TOLERANCE


def test_video_mode_resizes_a_full_size_file_to_the_short_side(both_modes, tmp_path):
    """Lists that point at the publisher's files (no re-encode) still give frames-mode sizes."""
    root, _, _ = both_modes
    table = pd.read_csv(root / "lists_video" / "train.csv")
    table["frames_dir"] = [str(root / "raw" / f"{v}.mp4") for v in table["video_id"]]
    table.to_csv(tmp_path / "train.csv", index=False)
    dataset = VideoClipDataset(
        tmp_path / "train.csv", 4, train=False, storage="video", short_side=40, input_size=32,
        scale_size=40,
    )  # fmt: skip
    frames = dataset.load_frames(0, np.array([0, 29]))
    assert frames.shape == (2, 3, 40, 60)


def test_video_mode_trains_through_a_dataloader_with_workers(both_modes):
    from actionbench.engine.loader import EpochShardSampler, SeededItems, make_loader

    root, _, _ = both_modes
    _, video = _datasets(root, split="train.csv", num_frames=4, train=True, input_size=32)
    sampler = EpochShardSampler(len(video), global_batch=3, seed=0)
    loader = make_loader(
        SeededItems(video, seed=0), sampler, batch_size=3, workers=2, pin_memory=False
    )
    clips, labels, _ = next(iter(loader))
    assert clips.shape == (3, 3, 4, 32, 32)
    assert sorted(labels.tolist()) == [0, 1, 2]


def test_missing_video_file_names_the_row(both_modes, tmp_path):
    root, _, _ = both_modes
    table = pd.read_csv(root / "lists_video" / "train.csv")
    table.loc[1, "frames_dir"] = str(tmp_path / "nowhere.mp4")
    table.to_csv(tmp_path / "train.csv", index=False)
    dataset = VideoClipDataset(tmp_path / "train.csv", 4, train=False, storage="video")
    with pytest.raises(DataError, match=r"train\.csv: line 3 \(video v1.*nowhere\.mp4 is missing"):
        dataset[1]


def test_bad_storage_or_decoder_is_a_config_error(both_modes):
    root, _, _ = both_modes
    with pytest.raises(ConfigError, match="storage 'tape'"):
        VideoClipDataset(root / "lists_video" / "train.csv", 4, storage="tape")
    with pytest.raises(ConfigError, match="decoder 'decord'"):
        resolve_backend("decord")


def test_no_working_decoder_says_how_to_fix_it(monkeypatch):
    import actionbench.data.video_reader as vr

    monkeypatch.setattr(
        vr, "backend_status",
        lambda: {"torchcodec": "OSError: libavutil.so.57 missing", "pyav": "ImportError: no av"},
    )  # fmt: skip
    with pytest.raises(ConfigError) as err:
        vr.resolve_backend("auto")
    message = str(err.value)
    assert "libavutil.so.57 missing" in message and "no av" in message
    assert "pip install av" in message and "apt-get install" in message
    assert "storage: frames" in message


def test_auto_picks_the_faster_working_backend_on_this_machine():
    speed = backend_speed()
    assert sorted(speed) == sorted(WORKING) and all(s > 0 for s in speed.values())
    assert resolve_backend("auto") == min(WORKING, key=speed.get)


def test_frames_lists_in_video_mode_say_what_to_do(both_modes):
    root, _, _ = both_modes
    dataset = VideoClipDataset(root / "lists_frames" / "train.csv", 4, train=False, storage="video")
    with pytest.raises(DataError, match=r"line 2 \(video v0.*frame folder but storage is video"):
        dataset[0]


def test_a_frame_folder_reencodes_image_by_image(tmp_path, frames_maker):
    folder = frames_maker(tmp_path / "jester" / "17", frames=6, size="40x30")
    index = pd.DataFrame([["17", str(folder)]], columns=["video_id", "video_path"])
    result = reencode_videos(index, tmp_path / "videos", ReencodeSettings(short_side=30, fps=30),
                             workers=1, progress=False)  # fmt: skip
    assert result.failures.empty, result.failures
    assert result.extracted["num_frames"].tolist() == [6]
    extracted = extract_videos(index, tmp_path / "frames", short_side=30, fps=30, progress=False)
    video = make_reader(WORKING[0]).read(tmp_path / "videos" / "17.mp4", np.arange(6))
    frames = torch.stack(
        [decode_frame(frame_path(tmp_path / "frames" / "17", i)) for i in range(6)]
    )
    assert extracted.extracted["num_frames"].tolist() == [6]
    assert video.shape == frames.shape == (6, 3, 30, 40)
