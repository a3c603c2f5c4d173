"""Frames carry their settings; stale or damaged folders are redone, verified, or excluded.

All on real ffmpeg-made videos and JPEGs (issue 12, items 1 and 2).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from actionbench.cli import main
from actionbench.data import frame_record
from actionbench.data.extract import ExtractionSettings, extract_videos, verify_frames
from actionbench.data.ffmpeg_bin import ffmpeg_exe
from actionbench.data.lists import build_lists, check_splits, summary_line
from actionbench.errors import DataError

pytestmark = pytest.mark.integration


def index_of(paths: dict[str, Path], splits: dict[str, str] | None = None) -> pd.DataFrame:
    ids = list(paths)
    return pd.DataFrame(
        {
            "video_id": ids,
            "video_path": [str(paths[v]) for v in ids],
            "split": [(splits or {}).get(v, "train") for v in ids],
            "label_name": ["a" for _ in ids],
        }
    )


def size_of(folder: Path) -> tuple[int, int]:
    with Image.open(folder / "img_00001.jpg") as image:
        return image.size


def test_record_holds_settings_version_count_and_bytes(tmp_path, video_maker):
    video = video_maker(tmp_path / "v.mp4", frames=12, size="64x48")
    extract_videos(index_of({"v": video}), tmp_path / "fr", short_side=32, quality=3, workers=1)
    record = json.loads((tmp_path / "fr/v" / frame_record.RECORD_NAME).read_text())
    assert record["settings"] == {"short_side": 32, "quality": 3, "fps": None}
    assert record["ffmpeg"] == frame_record.ffmpeg_version(ffmpeg_exe()) != "unknown"
    assert record["num_frames"] == 12 and (record["width"], record["height"]) == (43, 32)
    assert record["frame_bytes"] == [
        os.path.getsize(tmp_path / f"fr/v/img_{n:05d}.jpg") for n in range(1, 13)
    ]
    assert record["source"]["bytes"] == video.stat().st_size


def test_a_settings_change_re_extracts_and_says_which_setting(tmp_path, video_maker):
    video = video_maker(tmp_path / "v.mp4", frames=12, size="64x48")
    index = index_of({"v": video})
    extract_videos(index, tmp_path / "fr", short_side=48, workers=1)
    assert size_of(tmp_path / "fr/v") == (64, 48)
    same = extract_videos(index, tmp_path / "fr", short_side=48, workers=1)
    assert same.extracted["reused"].tolist() == [True]
    changed = extract_videos(index, tmp_path / "fr", short_side=32, workers=1)
    assert changed.extracted["reused"].tolist() == [False]
    assert changed.extracted["warning"].iloc[0] == (
        "re-extracted: settings changed: short_side 48 -> 32"
    )
    assert size_of(tmp_path / "fr/v") == (43, 32)
    quality = extract_videos(index, tmp_path / "fr", short_side=32, quality=5, workers=1)
    assert "quality 2 -> 5" in quality.extracted["warning"].iloc[0]


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("remove", "img_00010.jpg missing"),
        ("zero", "img_00003.jpg is empty (0 bytes)"),
        ("extra", "img_00013.jpg is extra (recorded 12 frames)"),
        ("no_record", "no readable frames.json record"),
    ],
)
def test_a_damaged_folder_is_re_extracted_at_extract_and_excluded_at_lists(
    tmp_path, video_maker, damage, expected
):
    video = video_maker(tmp_path / "v.mp4", frames=12)
    index = index_of({"v": video, "w": video}, {"w": "val"})
    first = extract_videos(index, tmp_path / "fr", short_side=32, workers=1)
    folder = tmp_path / "fr/v"
    if damage == "remove":
        (folder / "img_00010.jpg").unlink()
    elif damage == "zero":
        (folder / "img_00003.jpg").write_bytes(b"")
    elif damage == "extra":
        (folder / "img_00013.jpg").write_bytes((folder / "img_00001.jpg").read_bytes())
    else:
        (folder / frame_record.RECORD_NAME).unlink()
    # lists, run on the old extraction table, no longer takes the folder as good
    lists = build_lists(index, first.extracted, dataset="t")
    assert lists.train.empty
    reason = lists.excluded.set_index("video_id").loc["v", "reason"]
    assert expected in reason
    assert lists.summary["excluded_by_reason"] == {"frames no longer match their record": 1}
    # extract redoes it, saying why
    again = extract_videos(index, tmp_path / "fr", short_side=32, workers=1)
    row = again.extracted.set_index("video_id").loc["v"]
    assert not row["reused"] and expected in row["warning"]
    assert row["num_frames"] == 12 and len(frame_record.frame_files(folder)) == 12
    assert again.extracted.set_index("video_id").loc["w", "reused"]


def test_a_replaced_source_video_is_re_extracted(tmp_path, video_maker):
    video = video_maker(tmp_path / "v.mp4", frames=12)
    index = index_of({"v": video})
    extract_videos(index, tmp_path / "fr", short_side=32, workers=1)
    video_maker(tmp_path / "v.mp4", frames=20)
    again = extract_videos(index, tmp_path / "fr", short_side=32, workers=1)
    assert again.extracted["num_frames"].tolist() == [20]
    assert "source video changed" in again.extracted["warning"].iloc[0]


def test_verify_by_stat_and_by_decoding(tmp_path, video_maker, monkeypatch, capsys):
    video = video_maker(tmp_path / "v.mp4", frames=12)
    index = index_of({"v": video, "w": video})
    index.to_csv(tmp_path / "index.csv", index=False)
    extract_videos(index, tmp_path / "fr", short_side=32, workers=1)
    monkeypatch.chdir(tmp_path)
    base = ["extract", "--index", "index.csv", "--frames-root", "fr", "--short-side", "32",
            "--workers", "1", "--no-progress", "--verify"]  # fmt: skip
    assert main(base) == 0
    assert "2 videos checked (stat): 2 ok, 0 with problems" in capsys.readouterr().out
    # Same byte count, garbage content: stat cannot see it, decoding does.
    frame = tmp_path / "fr/w/img_00004.jpg"
    frame.write_bytes(b"\0" * frame.stat().st_size)
    assert main(base) == 0
    assert main([*base, "--deep", "--out", "problems.csv"]) == 1
    assert "1 with problems (e.g. w: img_00004.jpg does not decode" in capsys.readouterr().out
    assert pd.read_csv("problems.csv")["video_id"].tolist() == ["w"]
    # A resized frame is caught by decoding too, and a settings change by stat.
    Image.new("RGB", (10, 10)).save(tmp_path / "fr/v/img_00002.jpg", format="JPEG")
    problems = verify_frames(index, "fr", ExtractionSettings(short_side=32), deep=True)
    assert any("img_00002.jpg" in p for p in problems["problem"])
    changed = verify_frames(index, "fr", ExtractionSettings(short_side=40), progress=False)
    assert "settings changed: short_side 32 -> 40" in changed["problem"].tolist()


def test_lists_cli_reports_every_reason_summary_and_empty_split(
    tmp_path, video_maker, audio_maker, monkeypatch, capsys, caplog
):
    """Every annotated video missing from the lists is in excluded.csv with its reason, the
    videos the index skipped (never downloaded, malformed row) included, and the console line
    counts each reason."""
    monkeypatch.chdir(tmp_path)
    good = video_maker(Path("raw/good.mp4"), frames=12)
    Path("raw/text.mp4").write_text("just text\n")
    Path("raw/empty.mp4").write_bytes(b"")
    audio_maker(Path("raw/speech.mp4"))
    videos = {"g1": good, "g2": good, "text": Path("raw/text.mp4"), "empty": Path("raw/empty.mp4"),
              "speech": Path("raw/speech.mp4")}  # fmt: skip
    index = index_of(videos, {"text": "val", "empty": "val", "speech": "val"})
    index.to_csv("index.csv", index=False)
    pd.DataFrame(
        [["train.csv", 7, "x", "video not found: raw/x.mp4"],
         ["train.csv", 9, "", "expected 4 fields, found 2"]],
        columns=["file", "row", "video_id", "reason"],
    ).to_csv("index_failures.csv", index=False)  # fmt: skip
    assert main(["extract", "--index", "index.csv", "--frames-root", "fr", "--short-side", "32",
                 "--no-progress", "--out", "ex.csv", "--failures", "fail.csv"]) == 0  # fmt: skip
    assert main(["lists", "--index", "index.csv", "--extracted", "ex.csv", "--failures", "fail.csv",
                 "--index-failures", "index_failures.csv", "--dataset", "tiny",
                 "--out-dir", "lists/tiny"]) == 2  # fmt: skip
    assert "dataset 'tiny': split 'val' is empty" in caplog.text
    out = capsys.readouterr().out
    assert out.strip() == (
        "tiny: 7 annotation rows, 5 indexed, 2 extracted, 5 excluded (1 video not found; "
        "1 expected 4 fields, found 2; 1 not a video; 1 empty file; 1 no video stream); "
        "2 train / 0 val videos, 1 classes"
    )
    excluded = pd.read_csv("lists/tiny/excluded.csv", keep_default_na=False)
    assert excluded[["video_id", "stage", "reason"]].values.tolist() == [
        ["x", "index", "video not found: raw/x.mp4 (train.csv row 7)"],
        ["", "index", "expected 4 fields, found 2 (train.csv row 9)"],
        ["text", "extract", "not a video: a text file (starts with 'just text')"],
        ["empty", "extract", "empty file (0 bytes)"],
        ["speech", "extract", "no video stream (audio only)"],
    ]
    assert excluded.set_index("video_id").loc["speech", "split"] == "val"
    summary = json.loads(Path("lists/tiny/summary.json").read_text())
    assert summary["excluded_by_reason"] == {
        "video not found": 1, "expected 4 fields, found 2": 1, "not a video": 1,
        "empty file": 1, "no video stream": 1,
    }  # fmt: skip
    assert (summary["annotation_rows"], summary["annotation_rows_skipped"]) == (7, 2)
    assert (summary["indexed"], summary["extracted"], summary["excluded"]) == (5, 2, 5)
    assert summary["annotation_rows"] - summary["extracted"] == summary["excluded"]


def test_a_class_without_training_video_is_an_error_naming_it():
    train = pd.DataFrame({"label_name": ["a", "a"]})
    val = pd.DataFrame({"label_name": ["a", "b"]})
    classes = pd.DataFrame({"label_name": ["a", "b"]})
    with pytest.raises(DataError, match=r"dataset 'ds': split 'train' has no video of .*\['b'\]"):
        check_splits(train, val, classes, "ds")
    with pytest.raises(DataError, match="dataset 'ds': split 'train' is empty"):
        check_splits(train.iloc[:0], val, classes, "ds")
    check_splits(train, val, classes.iloc[:1], "ds")  # every class has training videos


def test_summary_line_without_exclusions():
    summary = {"dataset": "d", "annotation_rows_skipped": None, "indexed": 3, "extracted": 3,
               "excluded": 0, "excluded_by_reason": {}, "train": 2, "val": 1, "classes": 1}  # fmt: skip
    assert summary_line(summary) == (
        "d: 3 indexed, 3 extracted, 0 excluded; 2 train / 1 val videos, 1 classes"
    )


def test_a_cut_container_is_named_not_just_invalid_data(tmp_path, video_maker):
    whole = video_maker(tmp_path / "whole.avi", frames=24, size="96x72")
    cut = tmp_path / "cut.avi"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result = extract_videos(index_of({"cut": cut}), tmp_path / "fr", short_side=32, workers=1)
    assert result.failures["reason"].iloc[0] == (
        "cannot open the AVI container (truncated or corrupt file): "
        "Error opening input files: Invalid data found when processing input"
    )


def test_verify_counts_never_extracted_videos_apart(tmp_path, video_maker, monkeypatch, capsys):
    video = video_maker(tmp_path / "v.mp4", frames=12)
    index_of({"v": video, "gone": tmp_path / "gone.mp4"}).to_csv(tmp_path / "i.csv", index=False)
    extract_videos(index_of({"v": video}), tmp_path / "fr", short_side=32, workers=1)
    monkeypatch.chdir(tmp_path)
    code = main(["extract", "--index", "i.csv", "--frames-root", "fr", "--short-side", "32",
                 "--no-progress", "--verify"])  # fmt: skip
    assert code == 1
    assert capsys.readouterr().out.strip() == (
        "fr: 2 videos checked (stat): 1 ok, 0 with problems, 1 not extracted "
        "(see the extraction failures table)"
    )
