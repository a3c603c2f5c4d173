"""Every adapter on a tiny fixture in its official format, bad rows and missing videos included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actionbench.data.adapters import ADAPTERS, build_index, get_adapter, safe_video_id
from actionbench.data.adapters.base import INDEX_COLUMNS, is_safe_video_id
from actionbench.errors import ConfigError, DataError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def failures_by_row(result) -> dict[tuple[str, int], str]:
    return {
        (Path(f).name, int(r)): reason
        for f, r, reason in result.failures[["file", "row", "reason"]].values
    }


def check_index(result) -> None:
    index = result.index
    assert list(index.columns[:4]) == INDEX_COLUMNS
    assert index["video_id"].is_unique
    assert all(is_safe_video_id(v) for v in index["video_id"])
    assert set(index["split"]) <= {"train", "val"}
    assert all(Path(p).exists() for p in index["video_path"])


def test_registry_lists_every_format():
    assert set(ADAPTERS) == {
        "kinetics400",
        "ssv2",
        "mit",
        "ucf101",
        "hmdb51",
        "jester",
        "synthetic",
    }
    with pytest.raises(ConfigError, match="unknown dataset format 'kinetics'"):
        get_adapter("kinetics")


def test_safe_video_id_keeps_safe_names_and_hashes_unsafe_ones():
    assert safe_video_id("abc-DEF_1.2") == "abc-DEF_1.2"
    a, b = safe_video_id("a b"), safe_video_id("a/b")
    assert a != b and is_safe_video_id(a) and is_safe_video_id(b)
    assert is_safe_video_id(safe_video_id('東京 "it\'s".mp4'))


# --------------------------------------------------------------------------- kinetics400


def test_kinetics400_both_layouts_bad_rows_and_missing_video(tmp_path, place_video):
    raw = tmp_path / "raw"
    write(
        raw / "kinetics400/train.csv",
        "label,youtube_id,time_start,time_end,split,is_cc\n"
        "abseiling,aaaaaaaaaaa,0,10,train,0\n"  # line 2: flat layout
        '"air drumming",bbbbbbbbbbb,5,15,train,0\n'  # line 3: per-class layout, webm
        "abseiling,ccccccccccc,20,10,train,0\n"  # line 4: end before start
        "abseiling,ddddddddddd,0,10,train\n"  # line 5: a field short
        "abseiling,eeeeeeeeeee,0,10,train,0\n"  # line 6: video missing
        "abseiling,ggggggggggg,x,10,train,0\n",  # line 7: time not a number
    )
    write(
        raw / "kinetics400/validate.csv",
        "label,youtube_id,time_start,time_end,split,is_cc\nair drumming,fffffffffff,1,11,val,0\n",
    )
    place_video(raw / "train/aaaaaaaaaaa_000000_000010.mp4")
    place_video(raw / "train/air drumming/bbbbbbbbbbb_000005_000015.webm")
    place_video(raw / "val/fffffffffff_000001_000011.mp4")

    result = build_index("kinetics400", raw)
    check_index(result)
    index = result.index.set_index("video_id")
    assert sorted(index.index) == [
        "aaaaaaaaaaa_000000_000010",
        "bbbbbbbbbbb_000005_000015",
        "fffffffffff_000001_000011",
    ]
    assert index.loc["bbbbbbbbbbb_000005_000015", "label_name"] == "air drumming"
    assert index.loc["bbbbbbbbbbb_000005_000015", "video_path"].endswith(
        "air drumming/bbbbbbbbbbb_000005_000015.webm"
    )
    assert index.loc["fffffffffff_000001_000011", "split"] == "val"
    assert {"youtube_id", "time_start", "time_end"} <= set(result.index.columns)
    fails = failures_by_row(result)
    assert set(fails) == {("train.csv", 4), ("train.csv", 5), ("train.csv", 6), ("train.csv", 7)}
    assert "bad times" in fails[("train.csv", 4)]
    assert "expected 6 fields, found 5" in fails[("train.csv", 5)]
    assert "video not found" in fails[("train.csv", 6)]
    assert "bad times" in fails[("train.csv", 7)]


def test_kinetics400_option_errors_name_key_and_file(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    with pytest.raises(ConfigError, match="'train_csv'.*kinetics400/train.csv"):
        build_index("kinetics400", raw)
    with pytest.raises(ConfigError, match=r"unknown annotations key\(s\) \['trian_csv'\]"):
        build_index("kinetics400", raw, {"trian_csv": "x.csv"})
    with pytest.raises(ConfigError, match="raw directory"):
        build_index("kinetics400", tmp_path / "nope")


def test_kinetics400_header_without_required_columns_is_a_data_error(tmp_path):
    raw = tmp_path / "raw"
    write(raw / "kinetics400/train.csv", "youtube_id,start\nabc,1\n")
    write(raw / "kinetics400/validate.csv", "label,youtube_id,time_start,time_end\n")
    (raw / "train").mkdir()
    (raw / "val").mkdir()
    with pytest.raises(DataError, match=r"lacks column\(s\) \['label', 'time_start', 'time_end'\]"):
        build_index("kinetics400", raw)


# --------------------------------------------------------------------------- ssv2


def test_ssv2_normalises_templates_and_uses_official_indices(tmp_path, place_video):
    raw = tmp_path / "raw"
    labels = {
        "Pushing something from left to right": "0",
        "Pushing something from right to left": "1",
    }
    write(raw / "something-something-v2-labels.json", json.dumps(labels))
    train = [
        {
            "id": "1",
            "label": "pushing cup from left to right",
            "template": "Pushing [something] from left to right",
            "placeholders": ["cup"],
        },
        {
            "id": "2",
            "label": "pushing pen from right to left",
            "template": "Pushing [something] from right to left",
            "placeholders": ["pen"],
        },
        {
            "id": "3",
            "label": "juggling balls",
            "template": "Juggling [something]",
            "placeholders": ["balls"],
        },
        {
            "id": "4",
            "label": "pushing box",
            "template": "Pushing [something] from left to right",
            "placeholders": ["box"],
        },
        {"id": "5", "label": "no template"},
    ]
    val = [
        {
            "id": "6",
            "label": "x",
            "template": "Pushing [something] from right to left",
            "placeholders": ["x"],
        }
    ]
    write(raw / "something-something-v2-train.json", json.dumps(train))
    write(raw / "something-something-v2-validation.json", json.dumps(val))
    for vid in ("1", "2", "3", "6"):
        place_video(raw / f"20bn-something-something-v2/{vid}.webm")

    result = build_index("ssv2", raw)
    check_index(result)
    index = result.index.set_index("video_id")
    assert sorted(index.index) == ["1", "2", "6"]
    assert index.loc["1", "label_name"] == "Pushing something from left to right"
    assert index.loc["2", "class_index"] == 1
    assert index.loc["6", "split"] == "val"
    assert json.loads(index.loc["1", "placeholders"]) == ["cup"]
    fails = failures_by_row(result)
    assert set(fails) == {
        ("something-something-v2-train.json", 3),
        ("something-something-v2-train.json", 4),
        ("something-something-v2-train.json", 5),
    }
    assert "unknown label 'Juggling something'" in fails[("something-something-v2-train.json", 3)]
    assert "video not found" in fails[("something-something-v2-train.json", 4)]


# --------------------------------------------------------------------------- mit


def test_mit_rows_categories_and_duplicate_file_names(tmp_path, place_video):
    raw = tmp_path / "raw"
    write(raw / "moments_categories.txt", "abseiling,0\napplauding,1\n")
    write(
        raw / "trainingSet.csv",
        "abseiling/giphy-a.mp4,abseiling,3,0\n"
        "applauding/giphy-a.mp4,applauding,3,0\n"  # same file name, other class
        "abseiling/x.mp4\n"  # line 3: one field
        "barking/y.mp4,barking,3,0\n"  # line 4: unknown label
        "applauding/missing.mp4,applauding,3,0\n",  # line 5: no video
    )
    write(raw / "validationSet.csv", "abseiling/giphy-c.mp4,abseiling,3,0\n")
    place_video(raw / "training/abseiling/giphy-a.mp4")
    place_video(raw / "training/applauding/giphy-a.mp4")
    place_video(raw / "training/barking/y.mp4")
    place_video(raw / "validation/abseiling/giphy-c.mp4")

    result = build_index("mit", raw)
    check_index(result)
    index = result.index.set_index("video_id")
    assert sorted(index.index) == [
        "abseiling__giphy-a",
        "abseiling__giphy-c",
        "applauding__giphy-a",
    ]
    assert index.loc["applauding__giphy-a", "class_index"] == 1
    fails = failures_by_row(result)
    assert set(fails) == {("trainingSet.csv", 3), ("trainingSet.csv", 4), ("trainingSet.csv", 5)}
    assert "unknown label 'barking'" in fails[("trainingSet.csv", 4)]


# --------------------------------------------------------------------------- ucf101


@pytest.mark.parametrize("split", [1, 2])
def test_ucf101_split_files(tmp_path, place_video, split):
    raw = tmp_path / "raw"
    lists = raw / "ucfTrainTestlist"
    write(lists / "classInd.txt", "1 ApplyEyeMakeup\n2 HandstandPushups\n")
    write(
        lists / f"trainlist0{split}.txt",
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\n"
        "HandstandPushups/v_HandStandPushups_g08_c01.avi 2\n"
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g09_c01.avi\n"  # line 3: index missing
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g10_c01.avi 7\n"  # line 4: no class 7
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g11_c01.avi 1\n",  # line 5: no video
    )
    write(
        lists / f"testlist0{split}.txt",
        "HandStandPushups/v_HandStandPushups_g01_c01.avi\nJuggling/v_Juggling_g01_c01.avi\n",
    )
    for name in (
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi",
        "HandstandPushups/v_HandStandPushups_g08_c01.avi",
        "HandstandPushups/v_HandStandPushups_g01_c01.avi",
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g10_c01.avi",
    ):
        place_video(raw / "UCF-101" / name)

    result = build_index("ucf101", raw, {"split": split})
    check_index(result)
    index = result.index.set_index("video_id")
    assert sorted(index.index) == [
        "v_ApplyEyeMakeup_g08_c01",
        "v_HandStandPushups_g01_c01",
        "v_HandStandPushups_g08_c01",
    ]
    assert index.loc["v_HandStandPushups_g01_c01", "label_name"] == "HandstandPushups"
    assert index.loc["v_HandStandPushups_g01_c01", "split"] == "val"
    assert index.loc["v_ApplyEyeMakeup_g08_c01", "class_index"] == 0
    fails = failures_by_row(result)
    name = f"trainlist0{split}.txt"
    assert set(fails) == {(name, 3), (name, 4), (name, 5), (f"testlist0{split}.txt", 2)}
    assert "expected 2 field(s), found 1" in fails[(name, 3)]
    assert "unknown class folder 'Juggling'" in fails[(f"testlist0{split}.txt", 2)]


def test_ucf101_split_out_of_range(tmp_path):
    (tmp_path / "ucfTrainTestlist").mkdir()
    (tmp_path / "UCF-101").mkdir()
    with pytest.raises(ConfigError, match="'split' = 4; expected an integer in 1..3"):
        build_index("ucf101", tmp_path, {"split": 4})


# --------------------------------------------------------------------------- hmdb51


def test_hmdb51_marks_unused_rows_and_unsafe_names(tmp_path, place_video):
    raw = tmp_path / "raw"
    splits = raw / "testTrainMulti_7030_splits"
    write(
        splits / "brush_hair_test_split1.txt", "a.avi 1 \nb.avi 2 \nc.avi 0 \nd.avi 3 \nonlyname\n"
    )
    write(
        splits / "cartwheel_test_split1.txt",
        "#20_Rhythm_clap_u_nm_np1_fr_goo_0.avi 1\nmissing.avi 2\n",
    )
    write(splits / "brush_hair_test_split2.txt", "a.avi 2\n")
    for name in (
        "brush_hair/a.avi",
        "brush_hair/b.avi",
        "brush_hair/c.avi",
        "brush_hair/d.avi",
        "cartwheel/#20_Rhythm_clap_u_nm_np1_fr_goo_0.avi",
    ):
        place_video(raw / "hmdb51_org" / name)

    result = build_index("hmdb51", raw)
    check_index(result)
    index = result.index
    assert sorted(index["label_name"].unique()) == ["brush_hair", "cartwheel"]
    assert dict(zip(index["video_id"], index["split"], strict=True))["a"] == "train"
    assert dict(zip(index["video_id"], index["split"], strict=True))["b"] == "val"
    assert "c" not in set(index["video_id"])  # mark 0: not in this split
    clap = index[index["label_name"] == "cartwheel"]["video_id"].item()
    assert clap.startswith("20_Rhythm_clap") and is_safe_video_id(clap)
    fails = failures_by_row(result)
    assert set(fails) == {
        ("brush_hair_test_split1.txt", 4),
        ("brush_hair_test_split1.txt", 5),
        ("cartwheel_test_split1.txt", 2),
    }
    assert "split mark '3'" in fails[("brush_hair_test_split1.txt", 4)]

    split2 = build_index("hmdb51", raw, {"split": 2})
    assert split2.index[["video_id", "split"]].values.tolist() == [["a", "val"]]


# --------------------------------------------------------------------------- jester


def test_jester_indexes_frame_folders(tmp_path, frames_maker):
    raw = tmp_path / "raw"
    write(raw / "jester-v1-labels.csv", "Swiping Left\nSwiping Right\n")
    write(
        raw / "jester-v1-train.csv",
        "1;Swiping Left\n2;Swiping Right\n3;Waving\n4\n5;Swiping Left\n",
    )
    write(raw / "jester-v1-validation.csv", "6;Swiping Right\n")
    for vid in ("1", "2", "3", "6"):
        frames_maker(raw / "20bn-jester-v1" / vid, frames=3)

    result = build_index("jester", raw)
    check_index(result)
    index = result.index.set_index("video_id")
    assert sorted(index.index) == ["1", "2", "6"]
    assert Path(index.loc["1", "video_path"]).is_dir()
    assert index.loc["6", "class_index"] == 1
    fails = failures_by_row(result)
    assert set(fails) == {
        ("jester-v1-train.csv", 3),
        ("jester-v1-train.csv", 4),
        ("jester-v1-train.csv", 5),
    }
    assert "frame folder not found" in fails[("jester-v1-train.csv", 5)]


# --------------------------------------------------------------------------- synthetic


def test_synthetic_keeps_group_and_family(tmp_path, place_video):
    raw = tmp_path / "raw"
    write(
        raw / "classes.csv",
        "label_name,group,family\nmove_right,temporal,horizontal\nmove_left,temporal,horizontal\nred_disk,spatial,red_disk\n",
    )
    write(
        raw / "annotations.csv",
        "video_id,filename,split,label_name,group,family\n"
        "move_right_train_000,videos/move_right_train_000.mp4,train,move_right,temporal,horizontal\n"
        "move_left_val_000,videos/move_left_val_000.mp4,val,move_left,temporal,horizontal\n"
        "red_disk_train_000,videos/red_disk_train_000.mp4,train,red_disk,spatial,red_disk\n"
        "x_test_000,videos/x.mp4,test,red_disk,spatial,red_disk\n"  # line 5: split
        "blue_000,videos/blue_000.mp4,train,blue,spatial,blue\n"  # line 6: unknown class
        "red_disk_train_001,videos/red_disk_train_001.mp4,train,red_disk,spatial,red_disk\n"  # line 7: missing
        "red_disk_train_002,videos/red_disk_train_000.mp4,train,red_disk,temporal,red_disk\n"  # line 8: group
        "bad,row\n",  # line 9: field count
    )
    for vid in ("move_right_train_000", "move_left_val_000", "red_disk_train_000", "blue_000"):
        place_video(raw / f"videos/{vid}.mp4")

    result = build_index("synthetic", raw)
    check_index(result)
    index = result.index.set_index("video_id")
    assert sorted(index.index) == [
        "move_left_val_000",
        "move_right_train_000",
        "red_disk_train_000",
    ]
    assert index.loc["move_left_val_000", ["group", "family", "class_index"]].tolist() == [
        "temporal",
        "horizontal",
        1,
    ]
    assert set(failures_by_row(result)) == {("annotations.csv", n) for n in (5, 6, 7, 8, 9)}


def test_duplicate_video_ids_are_reported(tmp_path, place_video):
    raw = tmp_path / "raw"
    write(raw / "classes.csv", "label_name,group,family\na,spatial,a\n")
    write(
        raw / "annotations.csv",
        "video_id,filename,split,label_name,group,family\nv1,v.mp4,train,a,spatial,a\nv1,v.mp4,val,a,spatial,a\n",
    )
    place_video(raw / "v.mp4")
    result = build_index("synthetic", raw)
    assert len(result.index) == 1
    assert result.failures[["row", "reason"]].values.tolist() == [
        [3, "duplicate video_id (first occurrence kept)"]
    ]
