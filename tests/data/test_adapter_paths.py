"""No leakage through paths (issue 12, item 4), in each official annotation format.

Every fixture has: a good training row; a validation row whose video is the SAME physical file
(a symlink inside the raw directory); a row with ``..``; a row whose video is a symlink leading
out of the raw directory; and, where the format carries paths, an absolute path. Only the good
row is indexed; every other row is in the failures table with its file, row and reason.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from actionbench.data.adapters import build_index

SAME = "same video as video_id"
DOTDOT = "has a '..' component"
SYMLINK_OUT = "is a symlink to"
ABSOLUTE = "is outside the raw directory"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def link(path: Path, target: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)
    return path


def reasons(result) -> dict[tuple[str, int], str]:
    return {
        (Path(f).name, int(r)): why
        for f, r, why in result.failures[["file", "row", "reason"]].values
    }


@pytest.fixture
def outside(tmp_path, place_video) -> Path:
    """A real video outside every raw directory."""
    return place_video(tmp_path / "elsewhere" / "secret.mp4")


def test_kinetics_csv(tmp_path, place_video, outside):
    raw = tmp_path / "raw"
    write(
        raw / "kinetics400/train.csv",
        "label,youtube_id,time_start,time_end,split,is_cc\n"
        "abseiling,aaaaaaaaaaa,0,10,train,0\n"  # line 2: good
        "abseiling,ooooooooooo,0,10,train,0\n",  # line 3: symlink out
    )
    write(
        raw / "kinetics400/validate.csv",
        "label,youtube_id,time_start,time_end,split,is_cc\n"
        "abseiling,bbbbbbbbbbb,0,10,val,0\n",  # line 2: the same file as train line 2
    )
    good = place_video(raw / "train/aaaaaaaaaaa_000000_000010.mp4")
    link(raw / "train/ooooooooooo_000000_000010.mp4", outside)
    link(raw / "val/abseiling/bbbbbbbbbbb_000000_000010.mp4", good)
    result = build_index("kinetics400", raw)
    assert result.index["video_id"].tolist() == ["aaaaaaaaaaa_000000_000010"]
    why = reasons(result)
    assert SYMLINK_OUT in why[("train.csv", 3)] and str(outside) in why[("train.csv", 3)]
    assert why[("validate.csv", 2)].startswith(
        f"{SAME} 'aaaaaaaaaaa_000000_000010' (train.csv row 2)"
    )
    assert why[("validate.csv", 2)].endswith("it would be in both train and val")


def test_ssv2_json(tmp_path, place_video, outside):
    raw = tmp_path / "raw"
    template = "Pushing [something] from left to right"
    write(raw / "something-something-v2-labels.json", json.dumps({template.replace("[", "").replace("]", ""): "0"}))  # fmt: skip

    def entry(vid: str) -> dict:
        return {"id": vid, "label": "x", "template": template, "placeholders": []}

    videos = raw / "20bn-something-something-v2"
    train = [
        entry("1"),
        entry("../videos/1"),
        entry("3"),
        entry(str(tmp_path / "elsewhere/secret")),
    ]
    write(raw / "something-something-v2-train.json", json.dumps(train))
    write(raw / "something-something-v2-validation.json", json.dumps([entry("2")]))
    good = place_video(videos / "1.webm")
    place_video(raw / "videos" / "1.webm")  # exists: only the '..' makes the row wrong
    link(videos / "2.webm", good)
    link(videos / "3.webm", outside.with_suffix(".webm"))
    place_video(outside.with_suffix(".webm"))
    result = build_index("ssv2", raw)
    assert result.index["video_id"].tolist() == ["1"]
    why = reasons(result)
    assert DOTDOT in why[("something-something-v2-train.json", 2)]
    assert SYMLINK_OUT in why[("something-something-v2-train.json", 3)]
    assert ABSOLUTE in why[("something-something-v2-train.json", 4)]
    assert SAME in why[("something-something-v2-validation.json", 1)]


def test_mit_csv(tmp_path, place_video, outside):
    raw = tmp_path / "raw"
    write(raw / "moments_categories.txt", "odd,0\n")
    write(
        raw / "trainingSet.csv",
        "odd/ok.mp4,odd,3,0\n"  # line 1: good
        "odd/../odd/ok.mp4,odd,3,0\n"  # line 2: the same file through '..'
        f"{outside},odd,3,0\n"  # line 3: absolute path elsewhere
        "odd/out.mp4,odd,3,0\n",  # line 4: symlink out
    )
    write(raw / "validationSet.csv", "odd/copy.mp4,odd,3,0\n")  # hard link to the train file
    good = place_video(raw / "training/odd/ok.mp4")
    (raw / "validation/odd").mkdir(parents=True)
    os.link(good, raw / "validation/odd/copy.mp4")
    link(raw / "training/odd/out.mp4", outside)
    result = build_index("mit", raw)
    assert result.index["video_id"].tolist() == ["odd__ok"]
    why = reasons(result)
    assert DOTDOT in why[("trainingSet.csv", 2)]
    assert ABSOLUTE in why[("trainingSet.csv", 3)]
    assert SYMLINK_OUT in why[("trainingSet.csv", 4)]
    assert why[("validationSet.csv", 1)].startswith(f"{SAME} 'odd__ok' (trainingSet.csv row 1)")


def test_ucf101_split_files(tmp_path, place_video, outside):
    raw = tmp_path / "raw"
    lists = raw / "ucfTrainTestlist"
    write(lists / "classInd.txt", "1 ApplyEyeMakeup\n")
    write(
        lists / "trainlist01.txt",
        "ApplyEyeMakeup/v_a.avi 1\n"
        "ApplyEyeMakeup/../ApplyEyeMakeup/v_a.avi 1\n"
        "ApplyEyeMakeup/v_out.avi 1\n",
    )
    write(lists / "testlist01.txt", "ApplyEyeMakeup/v_b.avi\n")
    good = place_video(raw / "UCF-101/ApplyEyeMakeup/v_a.avi")
    link(raw / "UCF-101/ApplyEyeMakeup/v_b.avi", good)
    link(raw / "UCF-101/ApplyEyeMakeup/v_out.avi", outside)
    result = build_index("ucf101", raw)
    assert result.index["video_id"].tolist() == ["v_a"]
    why = reasons(result)
    assert DOTDOT in why[("trainlist01.txt", 2)]
    assert SYMLINK_OUT in why[("trainlist01.txt", 3)]
    assert SAME in why[("testlist01.txt", 1)] and "both train and val" in why[("testlist01.txt", 1)]


def test_hmdb51_split_files(tmp_path, place_video, outside):
    raw = tmp_path / "raw"
    splits = raw / "testTrainMulti_7030_splits"
    write(splits / "clap_test_split1.txt", "a.avi 1\n../clap/a.avi 1\nout.avi 1\nb.avi 2\n")
    good = place_video(raw / "hmdb51_org/clap/a.avi")
    link(raw / "hmdb51_org/clap/out.avi", outside)
    link(raw / "hmdb51_org/clap/b.avi", good)
    result = build_index("hmdb51", raw)
    assert result.index["video_id"].tolist() == ["a"]
    why = reasons(result)
    assert DOTDOT in why[("clap_test_split1.txt", 2)]
    assert SYMLINK_OUT in why[("clap_test_split1.txt", 3)]
    assert SAME in why[("clap_test_split1.txt", 4)]


def test_jester_csv(tmp_path, frames_maker):
    raw = tmp_path / "raw"
    write(raw / "jester-v1-labels.csv", "Swiping Left\n")
    frames = raw / "20bn-jester-v1"
    write(
        raw / "jester-v1-train.csv",
        "1;Swiping Left\n../20bn-jester-v1/1;Swiping Left\n3;Swiping Left\n",
    )
    write(raw / "jester-v1-validation.csv", f"2;Swiping Left\n{tmp_path / 'out'};Swiping Left\n")
    frames_maker(frames / "1", frames=2)
    link(frames / "2", frames / "1")
    link(frames / "3", frames_maker(tmp_path / "out", frames=2))
    result = build_index("jester", raw)
    assert result.index["video_id"].tolist() == ["1"]
    why = reasons(result)
    assert DOTDOT in why[("jester-v1-train.csv", 2)]
    assert SYMLINK_OUT in why[("jester-v1-train.csv", 3)]
    assert why[("jester-v1-validation.csv", 1)].startswith("same frame folder as video_id '1'")
    assert ABSOLUTE in why[("jester-v1-validation.csv", 2)]


def test_a_raw_folder_kept_on_another_disk_is_inside(tmp_path, place_video):
    """raw/UCF-101 -> /elsewhere/UCF-101 (a top-level symlinked folder) is a normal setup."""
    raw = tmp_path / "raw"
    lists = raw / "ucfTrainTestlist"
    write(lists / "classInd.txt", "1 Jump\n")
    write(lists / "trainlist01.txt", "Jump/v_a.avi 1\n")
    write(lists / "testlist01.txt", "Jump/v_b.avi\n")
    place_video(tmp_path / "disk2/UCF-101/Jump/v_a.avi")
    place_video(tmp_path / "disk2/UCF-101/Jump/v_b.avi")
    link(raw / "UCF-101", tmp_path / "disk2/UCF-101")
    result = build_index("ucf101", raw)
    assert result.failures.empty
    assert sorted(result.index["video_id"]) == ["v_a", "v_b"]


def test_a_byte_identical_copy_in_the_other_split_is_rejected(tmp_path, place_video, caplog):
    """Copies are not links: the bytes are compared (only among files of equal size)."""
    raw = tmp_path / "raw"
    write(raw / "moments_categories.txt", "odd,0\n")
    write(raw / "trainingSet.csv", "odd/a.mp4,odd,3,0\nodd/a_again.mp4,odd,3,0\n")
    write(raw / "validationSet.csv", "odd/b.mp4,odd,3,0\nodd/c.mp4,odd,3,0\n")
    good = place_video(raw / "training/odd/a.mp4")
    shutil.copyfile(good, raw / "training/odd/a_again.mp4")  # same split: kept, with a warning
    place_video(raw / "validation/odd/c.mp4")  # same size, other bytes: kept
    shutil.copyfile(good, raw / "validation/odd/b.mp4")  # other split: a leak
    result = build_index("mit", raw)
    assert sorted(result.index["video_id"]) == ["odd__a", "odd__a_again", "odd__c"]
    why = reasons(result)
    assert set(why) == {("validationSet.csv", 1)}
    assert why[("validationSet.csv", 1)].startswith(
        "identical bytes to video_id 'odd__a' (trainingSet.csv row 1)"
    )
    assert why[("validationSet.csv", 1)].endswith("it would be in both train and val")
    assert (
        "has the same bytes as video_id 'odd__a'" in caplog.text and "both in train" in caplog.text
    )
