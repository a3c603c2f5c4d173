"""Frame extraction with the real ffmpeg: sizes, counts, idempotence, resume, failures, odd names."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from actionbench.data import ffmpeg_bin
from actionbench.data.extract import (
    PARTIAL_DIRNAME,
    ExtractionSettings,
    count_frames,
    extract_videos,
    ffmpeg_args,
    select_shard,
)
from actionbench.data.probe import last_meaningful_line, probe_video
from actionbench.errors import ConfigError, DataError

pytestmark = pytest.mark.integration


def index_of(paths: dict[str, Path]) -> pd.DataFrame:
    return pd.DataFrame({"video_id": list(paths), "video_path": [str(p) for p in paths.values()]})


def frame_size(folder: Path, number: int = 1) -> tuple[int, int]:
    with Image.open(folder / f"img_{number:05d}.jpg") as image:
        return image.size


# --------------------------------------------------------------------------- ffmpeg binary


def test_ffmpeg_exe_prefers_override_then_path_then_bundled(tmp_path, monkeypatch):
    import imageio_ffmpeg

    monkeypatch.delenv(ffmpeg_bin.ENV_VAR, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no ffmpeg on PATH
    assert ffmpeg_bin.ffmpeg_exe() == imageio_ffmpeg.get_ffmpeg_exe()
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert ffmpeg_bin.ffmpeg_exe() == str(fake)
    monkeypatch.setenv(ffmpeg_bin.ENV_VAR, imageio_ffmpeg.get_ffmpeg_exe())
    assert ffmpeg_bin.ffmpeg_exe() == imageio_ffmpeg.get_ffmpeg_exe()
    monkeypatch.setenv(ffmpeg_bin.ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match="ACTIONBENCH_FFMPEG"):
        ffmpeg_bin.ffmpeg_exe()


def test_probe_reads_size_and_frame_count(tmp_path, video_maker):
    video = video_maker(tmp_path / "v.mp4", frames=12, size="64x48", rate=12)
    probe = probe_video(video)
    assert (probe.width, probe.height, probe.num_frames) == (64, 48, 12)
    assert probe.codec == "h264"
    assert probe.duration_s == pytest.approx(1.0, abs=0.1)
    (tmp_path / "bad.mp4").write_bytes(b"not a video at all")
    with pytest.raises(DataError, match="bad.mp4: not a video: a text file"):
        probe_video(tmp_path / "bad.mp4")
    (tmp_path / "noise.mp4").write_bytes(bytes(range(1, 256)) * 16)  # unknown binary: ffmpeg says
    with pytest.raises(DataError, match="not a readable video"):
        probe_video(tmp_path / "noise.mp4")


def test_last_meaningful_line_prefers_specific_messages():
    stderr = (
        "[in#0 @ 0x55b8d52740c0] moov atom not found\n"
        "[in#0 @ 0x55b8d5273d40] Error opening input: Invalid data found when processing input\n"
        "Error opening input files: Invalid data found when processing input\n"
    )
    assert last_meaningful_line(stderr) == "moov atom not found"
    assert last_meaningful_line("Conversion failed!\n") == "Conversion failed!"
    assert last_meaningful_line("") == ""


def test_arguments_are_a_list_with_single_threaded_ffmpeg(tmp_path):
    video = tmp_path / "a b.mp4"
    video.write_bytes(b"x")
    args = ffmpeg_args(
        video, tmp_path / "out", ExtractionSettings(short_side=256, quality=3, fps=5)
    )
    assert f"file:{video}" in args
    assert args[args.index("-q:v") + 1] == "3"
    assert args.count("-threads") == 2  # decoder and encoder
    assert any("fps=fps=5" in a and "force_original_aspect_ratio=increase" in a for a in args)
    assert args[-1].endswith("/img_%05d.jpg")


# --------------------------------------------------------------------------- extraction


def test_frame_count_and_short_side(tmp_path, video_maker):
    videos = {
        "landscape": video_maker(tmp_path / "raw/landscape.mp4", frames=12, size="64x48"),
        "portrait": video_maker(tmp_path / "raw/portrait.mp4", frames=9, size="48x64"),
    }
    result = extract_videos(
        index_of(videos), tmp_path / "frames", short_side=32, quality=5, workers=2
    )
    assert result.failures.empty
    got = result.extracted.set_index("video_id")
    assert got.loc["landscape", "num_frames"] == 12
    assert got.loc["portrait", "num_frames"] == 9
    assert got.loc["landscape", "frames_dir"] == str(tmp_path / "frames" / "landscape")
    assert frame_size(tmp_path / "frames/landscape") == (43, 32)  # 64x48 -> short side 32
    assert frame_size(tmp_path / "frames/portrait", 9) == (32, 43)
    assert not (tmp_path / "frames" / PARTIAL_DIRNAME).exists()


def test_fps_option_resamples(tmp_path, video_maker):
    video = video_maker(tmp_path / "v.mp4", frames=12, rate=12)
    result = extract_videos(
        index_of({"v": video}), tmp_path / "frames", short_side=32, fps=6, workers=1
    )
    assert result.extracted["num_frames"].tolist() == [6]


def test_second_run_skips_complete_videos(tmp_path, video_maker):
    video = video_maker(tmp_path / "v.mp4")
    index = index_of({"v": video})
    first = extract_videos(index, tmp_path / "frames", short_side=32, workers=1)
    mtime = os.stat(tmp_path / "frames/v/img_00001.jpg").st_mtime_ns
    second = extract_videos(index, tmp_path / "frames", short_side=32, workers=1)
    assert first.extracted["reused"].tolist() == [False]
    assert second.extracted["reused"].tolist() == [True]
    assert second.extracted["num_frames"].tolist() == [12]
    assert os.stat(tmp_path / "frames/v/img_00001.jpg").st_mtime_ns == mtime


def test_half_written_partial_folder_is_redone(tmp_path, video_maker):
    video = video_maker(tmp_path / "v.mp4")
    partial = tmp_path / "frames" / PARTIAL_DIRNAME / "v"
    partial.mkdir(parents=True)
    (partial / "img_00001.jpg").write_bytes(b"half")  # an interrupted run's leftovers
    empty_dest = tmp_path / "frames/w"
    empty_dest.mkdir()  # a destination without frames is not complete
    index = index_of({"v": video, "w": video})
    result = extract_videos(index, tmp_path / "frames", short_side=32, workers=2)
    assert result.extracted["num_frames"].tolist() == [12, 12]
    assert result.extracted["reused"].tolist() == [False, False]
    assert frame_size(tmp_path / "frames/v") == (43, 32)
    assert not partial.exists()


def test_bad_files_each_get_one_failure_row(tmp_path, video_maker):
    good = video_maker(tmp_path / "good.mp4")
    plain = video_maker(tmp_path / "plain.mp4", frames=24)
    faststart = video_maker(tmp_path / "fast.mp4", frames=48, faststart=True, gop=12)
    truncated = tmp_path / "truncated.mp4"  # moov atom at the end is cut off
    truncated.write_bytes(plain.read_bytes()[: plain.stat().st_size // 2])
    # Index up front, last quarter of the media data cut off: ffmpeg decodes about half the
    # frames and exits 0, but the clip would be cut short, so it must still fail.
    truncated_fs = tmp_path / "truncated_fs.mp4"
    truncated_fs.write_bytes(faststart.read_bytes()[: faststart.stat().st_size * 3 // 4])
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(os.urandom(4096))
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.txt"
    text.write_text("this is not a video\n")
    text_mp4 = tmp_path / "text.mp4"  # a video's name, a text's content
    text_mp4.write_text("404 Not Found\n")
    image = tmp_path / "image.mp4"
    from PIL import Image

    Image.new("RGB", (8, 8)).save(image, format="PNG")
    videos = {
        "text_mp4": text_mp4,
        "image": image,
        "good": good,
        "truncated": truncated,
        "truncated_fs": truncated_fs,
        "corrupt": corrupt,
        "empty": empty,
        "text": text,
        "missing": tmp_path / "missing.mp4",
    }
    result = extract_videos(index_of(videos), tmp_path / "frames", short_side=32, workers=2)
    assert result.extracted[["video_id", "num_frames"]].values.tolist() == [["good", 12]]
    failures = result.failures.set_index("video_id")
    assert sorted(failures.index) == sorted(set(videos) - {"good"})
    assert failures["reason"].str.len().min() > 0
    assert failures.loc["empty", "reason"] == "empty file (0 bytes)"
    assert failures.loc["missing", "reason"] == "video file not found"
    assert failures.loc["truncated", "reason"] == "moov atom not found"
    assert failures.loc["text", "reason"].startswith("not a video: a text file")
    assert (
        failures.loc["text_mp4", "reason"]
        == "not a video: a text file (starts with '404 Not Found')"
    )
    assert failures.loc["image", "reason"] == "not a video: a PNG image"
    reason = failures.loc["truncated_fs", "reason"]
    assert reason.startswith("truncated file") and "partial file" in reason
    assert failures.loc["corrupt", "video_path"] == str(corrupt)
    leftovers = [p.name for p in (tmp_path / "frames").iterdir()]
    assert leftovers == ["good"]


@pytest.mark.parametrize("suffix", [".mp4", ".m4a"])
def test_an_audio_only_file_is_named_no_video_stream(tmp_path, audio_maker, video_maker, suffix):
    """ffmpeg only says "Error parsing options for output file ...img_%05d.jpg" (or that its map
    matches no streams): the file is fine, it just holds no video."""
    audio = audio_maker(tmp_path / f"speech{suffix}")
    good = video_maker(tmp_path / "good.mp4")
    for short_side in (32, None):  # with and without the scale filter
        result = extract_videos(
            index_of({"speech": audio, "good": good}),
            tmp_path / f"frames{short_side}",
            short_side=short_side,
            workers=1,
            progress=False,
        )
        assert result.extracted["video_id"].tolist() == ["good"]
        assert result.failures[["video_id", "reason"]].values.tolist() == [
            ["speech", "no video stream (audio only)"]
        ]
    with pytest.raises(DataError, match=r"speech\.m?[a-z0-9]+: no video stream \(audio only\)$"):
        probe_video(audio)


def test_names_with_spaces_quotes_and_unicode(tmp_path, video_maker):
    odd = video_maker(tmp_path / "raw" / 'it\'s a "weird" vidéo 東京 -x:y.mp4', frames=5)
    result = extract_videos(
        index_of({"odd-1": odd}), tmp_path / "frames dir %d", short_side=32, workers=1
    )
    assert result.failures.empty
    assert result.extracted["num_frames"].tolist() == [5]
    assert count_frames(tmp_path / "frames dir %d" / "odd-1") == 5


def test_frame_folder_input_is_renumbered_and_resized(tmp_path, frames_maker):
    folder = frames_maker(tmp_path / "jester" / "1", frames=6, size="40x30", name="{:05d}.jpg")
    gap = frames_maker(tmp_path / "jester" / "2", frames=3)
    (gap / "00002.jpg").unlink()
    empty = tmp_path / "jester" / "3"
    empty.mkdir()
    index = index_of({"j1": folder, "j2": gap, "j3": empty})
    result = extract_videos(index, tmp_path / "frames", short_side=60, workers=1)
    assert result.extracted[["video_id", "num_frames"]].values.tolist() == [["j1", 6]]
    assert frame_size(tmp_path / "frames/j1", 6) == (80, 60)
    reasons = result.failures.set_index("video_id")["reason"]
    assert "not one consecutively numbered sequence" in reasons["j2"]
    assert "no images" in reasons["j3"]


def test_shards_partition_the_index(tmp_path, video_maker):
    video = video_maker(tmp_path / "v.mp4", frames=3)
    index = index_of({f"vid{i}": video for i in range(8)})
    parts = [select_shard(index, i, 3) for i in range(3)]
    ids = [set(p["video_id"]) for p in parts]
    assert set().union(*ids) == set(index["video_id"])
    assert sum(len(s) for s in ids) == len(index)
    assert select_shard(index, 1, 3).equals(parts[1])  # deterministic
    done = pd.concat(
        [
            extract_videos(
                index, tmp_path / "frames", short_side=32, workers=2, shard=i, num_shards=3
            ).extracted
            for i in range(3)
        ]
    )
    assert sorted(done["video_id"]) == sorted(index["video_id"])
    with pytest.raises(ConfigError, match="shard=3, num_shards=3"):
        select_shard(index, 3, 3)


def test_index_with_unsafe_or_duplicate_ids_is_rejected(tmp_path):
    with pytest.raises(DataError, match="not filesystem-safe"):
        extract_videos(index_of({"../x": tmp_path / "a.mp4"}), tmp_path / "frames")
    duplicate = pd.DataFrame({"video_id": ["a", "a"], "video_path": ["x", "y"]})
    with pytest.raises(DataError, match="duplicate video_id"):
        extract_videos(duplicate, tmp_path / "frames")


def test_settings_are_validated():
    with pytest.raises(ConfigError, match="quality=0"):
        ExtractionSettings(quality=0)
    with pytest.raises(ConfigError, match="short_side=4"):
        ExtractionSettings(short_side=4)
