"""The data subcommands end to end on a tiny synthetic-format dataset."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from actionbench.cli import main

pytestmark = pytest.mark.integration

CLASSES = [("move_right", "temporal", "horizontal"), ("move_left", "temporal", "horizontal"),
           ("red_disk", "spatial", "red_disk"), ("blue_cross", "spatial", "blue_cross")]  # fmt: skip


@pytest.fixture
def raw_dir(tmp_path, video_maker, place_video):
    raw = tmp_path / "raw"
    source = video_maker(tmp_path / "src.mp4", frames=10, size="48x36")
    rows = []
    for name, group, family in CLASSES:
        for split, count in (("train", 2), ("val", 1)):
            for k in range(count):
                vid = f"{name}_{split}_{k:03d}"
                rows.append([vid, f"videos/{vid}.mp4", split, name, group, family])
                (raw / "videos").mkdir(parents=True, exist_ok=True)
                # distinct files (identical bytes in train and val are rejected as a leak):
                # an MP4 "free" box, which demuxers skip, tagged with the id
                tag = vid.encode().ljust(32)[:32]
                free = (8 + len(tag)).to_bytes(4, "big") + b"free" + tag
                (raw / f"videos/{vid}.mp4").write_bytes(source.read_bytes() + free)
    (raw / "videos/blue_cross_val_000.mp4").write_bytes(b"garbage")  # fails extraction
    rows.append(["ghost_train_000", "videos/ghost.mp4", "train", "red_disk", "spatial", "red_disk"])
    pd.DataFrame(
        rows, columns=["video_id", "filename", "split", "label_name", "group", "family"]
    ).to_csv(raw / "annotations.csv", index=False)
    pd.DataFrame(CLASSES, columns=["label_name", "group", "family"]).to_csv(
        raw / "classes.csv", index=False
    )
    return raw


def test_index_extract_lists_mini_benchmark(tmp_path, raw_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["index", "--format", "synthetic", "--raw-dir", str(raw_dir),
                 "--annotations", "annotations=annotations.csv",
                 "--out", "data/index/syn.csv", "--failures", "data/index/syn_failures.csv"]) == 0  # fmt: skip
    assert pd.read_csv("data/index/syn_failures.csv")["video_id"].tolist() == ["ghost_train_000"]

    for shard in (0, 1):
        assert main(["extract", "--index", "data/index/syn.csv", "--frames-root", "data/frames/syn",
                     "--short-side", "32", "--quality", "4", "--workers", "2", "--no-progress",
                     "--shard", str(shard), "--num-shards", "2",
                     "--out", f"data/index/extracted_{shard}.csv",
                     "--failures", f"data/index/extract_failures_{shard}.csv"]) == 0  # fmt: skip
    assert main(["lists", "--index", "data/index/syn.csv",
                 "--extracted", "data/index/extracted_0.csv", "data/index/extracted_1.csv",
                 "--failures", "data/index/extract_failures_0.csv", "--failures", "data/index/extract_failures_1.csv",
                 "--out-dir", "data/lists/syn"]) == 0  # fmt: skip
    train = pd.read_csv("data/lists/syn/train.csv")
    val = pd.read_csv("data/lists/syn/val.csv")
    assert len(train) == 8 and len(val) == 3
    assert train["frames_dir"].str.startswith("data/frames/syn/").all()
    assert (train["num_frames"] == 10).all()
    assert pd.read_csv("data/lists/syn/excluded.csv")["video_id"].tolist() == ["blue_cross_val_000"]
    assert pd.read_csv("data/lists/syn/classes.csv")["label_name"].tolist() == [
        c[0] for c in CLASSES
    ]

    assert main(["mini", "--lists-dir", "data/lists/syn", "--out-dir", "data/lists/mini_syn",
                 "--mode", "seeded_half", "--seed", "0",
                 "--unit-column", "family", "--strata-column", "group"]) == 0  # fmt: skip
    mini_classes = pd.read_csv("data/lists/mini_syn/classes.csv")
    assert len(mini_classes) == 3  # the temporal pair + 1 of 2 spatial classes

    assert main(["benchmark-data", "--list", "data/lists/syn/train.csv", "--frames", "4",
                 "--batch-size", "2", "--workers", "0", "--input-size", "24", "--batches", "3",
                 "--json", "reports/bench.json"]) == 0  # fmt: skip
    report = json.loads((tmp_path / "reports/bench.json").read_text())
    assert report["clips_per_s"] > 0 and report["frames_per_s"] == pytest.approx(
        report["clips_per_s"] * 4, rel=0.01
    )

    assert main(["benchmark-data", "--list", "data/lists/syn/train.csv", "--frames", "4",
                 "--batch-size", "2", "--input-size", "24", "--batches", "2", "--decode-videos", "3",
                 "--vs-decode", "--json", "reports/vs_decode.json"]) == 0  # fmt: skip
    side = json.loads((tmp_path / "reports/vs_decode.json").read_text())
    assert side["frames_timed"] == 12 and side["ratio_to_decode"]["decode_jpeg"] == 1.0
    assert set(side["frames_per_s"]) == {
        "decode_jpeg", "pil", "pil_draft", "pipeline_uint8", "pipeline_uint8_resampled",
        "pipeline_float_in_worker",
    }  # fmt: skip
    assert side["loader_1_worker"]["workers"] == 1 and side["loader_1_worker"]["frames_per_s"] > 0
    assert side["workers_per_v100"] >= 1


def test_errors_exit_2_with_one_message(tmp_path, caplog):
    assert main(["index", "--format", "ucf101", "--raw-dir", str(tmp_path),
                 "--out", str(tmp_path / "i.csv"), "--failures", str(tmp_path / "f.csv")]) == 2  # fmt: skip
    assert "'splits_dir'" in caplog.text
    assert (
        main(
            [
                "mini",
                "--lists-dir",
                str(tmp_path),
                "--out-dir",
                str(tmp_path / "m"),
                "--mode",
                "all",
            ]
        )
        == 2
    )
    assert "classes.csv: file not found" in caplog.text


def test_annotations_must_be_key_value(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["index", "--format", "synthetic", "--raw-dir", str(tmp_path), "--annotations", "oops",
              "--out", "i.csv", "--failures", "f.csv"])  # fmt: skip
    assert "expected KEY=VALUE" in capsys.readouterr().err
