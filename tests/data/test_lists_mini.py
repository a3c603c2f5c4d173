"""Split lists (index x extraction) and mini datasets (class subsets)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from actionbench.data.lists import build_lists, write_lists
from actionbench.data.mini import CLASS_LIST_ALIASES, make_mini, read_class_list, resolve_class_list
from actionbench.errors import ConfigError, DataError

# (label_name, group, family): 3 temporal families (pairs) and 4 spatial classes.
CLASSES = [
    ("move_right", "temporal", "horizontal"),
    ("move_left", "temporal", "horizontal"),
    ("grow", "temporal", "scale"),
    ("shrink", "temporal", "scale"),
    ("move_down", "temporal", "vertical"),
    ("move_up", "temporal", "vertical"),
    ("red_disk", "spatial", "red_disk"),
    ("green_triangle", "spatial", "green_triangle"),
    ("blue_cross", "spatial", "blue_cross"),
    ("yellow_ring", "spatial", "yellow_ring"),
]


def synthetic_index(per_split: int = 2) -> pd.DataFrame:
    rows = []
    for class_index, (name, group, family) in enumerate(CLASSES):
        for split in ("train", "val"):
            for k in range(per_split):
                vid = f"{name}_{split}_{k:03d}"
                rows.append([vid, f"raw/videos/{vid}.mp4", split, name, group, family, class_index])
    return pd.DataFrame(
        rows,
        columns=["video_id", "video_path", "split", "label_name", "group", "family", "class_index"],
    )


def extracted_for(index: pd.DataFrame, drop: set[str] = frozenset()) -> pd.DataFrame:
    kept = index[~index["video_id"].isin(drop)]
    return pd.DataFrame(
        {
            "video_id": kept["video_id"],
            "frames_dir": "data/frames/synthetic/" + kept["video_id"],
            "num_frames": 16,
            "reused": False,
            "warning": "",
        }
    )


@pytest.fixture
def lists_dir(tmp_path) -> Path:
    index = synthetic_index()
    write_lists(build_lists(index, extracted_for(index), check_frames=False), tmp_path / "lists")
    return tmp_path / "lists"


# --------------------------------------------------------------------------- lists


def test_lists_join_index_and_extraction_with_official_order():
    index = synthetic_index()
    failed = {"grow_train_001", "red_disk_val_000"}
    shard_a, shard_b = (
        extracted_for(index, failed).iloc[:10],
        extracted_for(index, failed).iloc[10:],
    )
    failures = pd.DataFrame(
        {"video_id": ["grow_train_001"], "video_path": ["x"], "reason": ["moov atom not found"]}
    )
    result = build_lists(index, [shard_a, shard_b], failures, check_frames=False)
    assert list(result.train.columns[:5]) == [
        "video_id",
        "frames_dir",
        "num_frames",
        "label",
        "label_name",
    ]
    assert {"group", "family"} <= set(result.train.columns)
    assert len(result.train) == 20 - 1 and len(result.val) == 20 - 1
    assert result.classes["label_name"].tolist() == [c[0] for c in CLASSES]  # classes.csv order
    assert result.classes["label"].tolist() == list(range(10))
    assert {"group", "family"} <= set(result.classes.columns)
    label_of = dict(zip(result.classes["label_name"], result.classes["label"], strict=True))
    assert (result.train["label"] == result.train["label_name"].map(label_of)).all()
    excluded = result.excluded.set_index("video_id")["reason"]
    assert excluded.to_dict() == {
        "grow_train_001": "moov atom not found",
        "red_disk_val_000": "not in any extraction table (failed or not extracted)",
    }
    assert result.train["frames_dir"].iloc[0] == "data/frames/synthetic/move_right_train_000"


def test_lists_without_official_order_sort_label_names():
    index = synthetic_index().drop(columns=["class_index"])
    result = build_lists(index, extracted_for(index), check_frames=False)
    assert result.classes["label_name"].tolist() == sorted(c[0] for c in CLASSES)


def test_a_class_whose_videos_all_failed_keeps_its_label():
    index = synthetic_index()
    failed = set(index[index["label_name"] == "move_right"]["video_id"])
    result = build_lists(index, extracted_for(index, failed), check_frames=False)
    assert result.classes["label_name"].iloc[0] == "move_right"
    assert "move_right" not in set(result.train["label_name"])
    assert result.train["label"].min() == 1


def test_lists_writes_four_tables_and_the_summary(lists_dir):
    assert sorted(p.name for p in lists_dir.iterdir()) == [
        "classes.csv",
        "excluded.csv",
        "summary.json",
        "train.csv",
        "val.csv",
    ]


def test_empty_index_is_an_error():
    index = synthetic_index().iloc[:0]
    with pytest.raises(DataError, match="empty"):
        build_lists(index, extracted_for(index), check_frames=False)


# --------------------------------------------------------------------------- mini


def read(out: Path) -> dict[str, pd.DataFrame]:
    return {n: pd.read_csv(out / f"{n}.csv") for n in ("train", "val", "classes")}


def test_seeded_half_keeps_all_videos_and_relabels_densely(lists_dir, tmp_path):
    tables = make_mini(lists_dir, tmp_path / "mini", mode="seeded_half", seed=3)
    classes = tables["classes"]
    assert len(classes) == 5
    assert classes["label"].tolist() == list(range(5))
    assert classes["original_label"].is_monotonic_increasing
    full = pd.read_csv(lists_dir / "train.csv")
    kept = set(classes["label_name"])
    assert len(tables["train"]) == (full["label_name"].isin(kept)).sum()
    assert set(tables["train"]["label_name"]) == kept
    mapping = dict(zip(classes["label_name"], classes["label"], strict=True))
    assert (tables["train"]["label"] == tables["train"]["label_name"].map(mapping)).all()
    assert read(tmp_path / "mini")["classes"].equals(classes)


def test_seeded_half_is_reproducible_and_depends_on_seed(lists_dir, tmp_path):
    a = make_mini(lists_dir, tmp_path / "a", mode="seeded_half", seed=7)["classes"]
    b = make_mini(lists_dir, tmp_path / "b", mode="seeded_half", seed=7)["classes"]
    assert a.equals(b)
    assert (tmp_path / "a/train.csv").read_bytes() == (tmp_path / "b/train.csv").read_bytes()
    draws = {
        tuple(
            make_mini(lists_dir, tmp_path / f"s{s}", mode="seeded_half", seed=s)["classes"][
                "label_name"
            ]
        )
        for s in range(8)
    }
    assert len(draws) > 1


@pytest.mark.parametrize("seed", range(6))
def test_units_are_drawn_whole_and_strata_halved(lists_dir, tmp_path, seed):
    classes = make_mini(
        lists_dir,
        tmp_path / "m",
        mode="seeded_half",
        seed=seed,
        unit_column="family",
        strata_column="group",
    )["classes"]
    families = classes[classes["group"] == "temporal"]["family"].value_counts()
    assert (families == 2).all()  # forward and reversed class together
    assert len(families) == 1  # 3 temporal families -> 3 // 2 = 1
    assert (classes["group"] == "spatial").sum() == 2  # 4 spatial units -> 2


def test_all_mode_keeps_everything(lists_dir, tmp_path):
    tables = make_mini(lists_dir, tmp_path / "m", mode="all", seed=0)
    assert tables["classes"]["label"].tolist() == tables["classes"]["original_label"].tolist()
    assert len(tables["train"]) == len(pd.read_csv(lists_dir / "train.csv"))


def test_class_list_keeps_exactly_the_listed_classes(lists_dir, tmp_path):
    listed = tmp_path / "mini_classes.txt"
    listed.write_text("shrink\nred_disk\n\nmove_right\n")
    tables = make_mini(lists_dir, tmp_path / "m", mode="class_list", seed=0, class_list=listed)
    assert tables["classes"]["label_name"].tolist() == ["move_right", "shrink", "red_disk"]
    assert tables["classes"]["original_label"].tolist() == [0, 3, 6]
    assert set(tables["val"]["label_name"]) == {"move_right", "shrink", "red_disk"}


def test_class_list_with_unknown_names_names_them(lists_dir, tmp_path):
    listed = tmp_path / "bad.txt"
    listed.write_text("shrink\npurple_star\nmoonwalk\n")
    with pytest.raises(ConfigError, match=r"2 name\(s\).*'purple_star', 'moonwalk'"):
        make_mini(lists_dir, tmp_path / "m", mode="class_list", seed=0, class_list=listed)
    with pytest.raises(ConfigError, match="no such file"):
        make_mini(lists_dir, tmp_path / "m", mode="class_list", seed=0, class_list="mini_nothing")
    with pytest.raises(ConfigError, match="'colour' is not a class-level column"):
        make_mini(lists_dir, tmp_path / "m", mode="seeded_half", seed=0, unit_column="colour")


def test_shipped_aliases_resolve_to_the_papers_lists():
    ssv2 = read_class_list(resolve_class_list("mini_ssv2"))
    kinetics = read_class_list(resolve_class_list("mini_kinetics400"))
    assert len(ssv2) == 87 and len(kinetics) == 200
    assert ssv2[0] == "Approaching something with your camera"
    assert resolve_class_list("mini_kinetics") == resolve_class_list("mini_kinetics400")
    assert set(CLASS_LIST_ALIASES) == {"mini_ssv2", "mini_kinetics400", "mini_kinetics"}


def test_mini_ssv2_alias_selects_87_classes(tmp_path):
    names = read_class_list(resolve_class_list("mini_ssv2"))
    others = [f"Other class {i}" for i in range(5)]
    all_names = sorted(names + others)
    rows = [[f"v{i}", f"f/v{i}", 4, i, n] for i, n in enumerate(all_names)]
    lists = tmp_path / "ssv2"
    lists.mkdir()
    pd.DataFrame(
        rows, columns=["video_id", "frames_dir", "num_frames", "label", "label_name"]
    ).to_csv(lists / "train.csv", index=False)
    pd.DataFrame(
        rows[:3], columns=["video_id", "frames_dir", "num_frames", "label", "label_name"]
    ).to_csv(lists / "val.csv", index=False)
    pd.DataFrame({"label": range(len(all_names)), "label_name": all_names}).to_csv(
        lists / "classes.csv", index=False
    )
    tables = make_mini(lists, tmp_path / "mini", mode="class_list", seed=0, class_list="mini_ssv2")
    assert set(tables["classes"]["label_name"]) == set(names)
    assert len(tables["train"]) == 87
