"""What the Snakefile checks before planning (YAML position, key-naming schema errors, raw data,
--config overrides written where the jobs read them) and what its rules read: paths, flags,
input functions and the enabled-group filter (actionbench.planning)."""

from __future__ import annotations

import copy
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from actionbench.config import load_params, read_yaml
from actionbench.errors import ConfigError, DataError
from actionbench.planning import (
    RESOLVED_PARAMS,
    annotation_flags,
    data_targets,
    data_wildcards,
    extract_options,
    fps_flag,
    list_files,
    list_settings,
    list_settings_changes,
    mini_flags,
    mini_source,
    missing_raw_data,
    num_shards,
    record_list_settings,
    reencode_options,
    resolve_workflow_params,
    shard_failure_tables,
    shard_tables,
    synth_outputs,
    synth_pattern,
    synth_settings,
    synthetic_dir_problems,
    train_inputs,
)
from study_params import demo_params, paper_dataset

REPO = Path(__file__).resolve().parents[1]
PARAMS = demo_params()


@pytest.fixture
def proj(tmp_path, monkeypatch):
    (tmp_path / "workflow" / "schemas").mkdir(parents=True)
    shutil.copy(REPO / "workflow/schemas/params.schema.yaml", tmp_path / "workflow/schemas")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACTIONBENCH_SCHEMA", raising=False)
    return tmp_path


def write(proj, params):
    (proj / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.mark.parametrize(
    "read",
    [lambda path: resolve_workflow_params(path, {}), load_params],
    ids=["snakefile", "cli"],
)
def test_yaml_syntax_error_names_line_and_column(proj, read):
    """The Snakefile and every CLI command read params.yaml through one reader."""
    text = yaml.safe_dump(PARAMS, sort_keys=False).replace("num_clips: 10\n", "num_clips: [10\n", 1)
    (proj / "params.yaml").write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "num_clips: [10" in t)
    with pytest.raises(ConfigError) as err:
        read("params.yaml")
    message = str(err.value)
    assert message.startswith("params.yaml:") and "not valid YAML" in message
    reported = int(message.split(":")[1])
    assert line <= reported <= line + 1  # the scanner reports where the bad token ends the flow


@pytest.mark.parametrize(
    "read",
    [lambda path: resolve_workflow_params(path, {}), load_params],
    ids=["snakefile", "cli"],
)
def test_a_key_written_twice_names_both_lines(proj, read):
    """PyYAML alone keeps the second ``archs:`` and drops runs from the grid without a word."""
    lines = yaml.safe_dump(demo_params(), sort_keys=False).splitlines()
    demo = lines.index("  demo:")
    first = next(i for i in range(demo, len(lines)) if lines[i].startswith("    archs:"))
    after = next(i for i in range(first + 1, len(lines)) if not lines[i].startswith("    - "))
    lines.insert(after, "    archs: [tsn]")  # a second archs: right below the first's list
    (proj / "params.yaml").write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as err:
        read("params.yaml")
    assert str(err.value).startswith(
        f"params.yaml:{after + 1}:5: duplicate key 'archs' in experiments.demo "
        f"(first written at params.yaml:{first + 1}:5)"
    )


def test_anchors_aliases_and_merge_keys_still_load(proj):
    """params.yaml may share a protocol through an anchor (the shipped one does, for Kinetics); a
    merge key's keys may be overridden by the mapping's own (that is not a duplicate)."""
    params = demo_params()
    params["experiments"]["again"] = {**params["experiments"]["demo"], "enabled": False}
    text = yaml.safe_dump(params, sort_keys=False)  # the shared train: becomes &id001 / *id001
    assert re.search(r"&id\d+", text) and re.search(r"\*id\d+", text)
    (proj / "params.yaml").write_text(text)
    assert load_params("params.yaml") == params
    (proj / "merge.yaml").write_text(
        "base: &b {epochs: 2, lr: 0.1}\n"
        "same: *b\n"
        "more:\n  <<: *b\n  lr: 0.5\n"
        "two:\n  <<: [*b, {gamma: 0.2}]\n  gamma: 0.1\n"
    )
    assert read_yaml("merge.yaml") == {
        "base": {"epochs": 2, "lr": 0.1},
        "same": {"epochs": 2, "lr": 0.1},
        "more": {"epochs": 2, "lr": 0.5},
        "two": {"epochs": 2, "lr": 0.1, "gamma": 0.1},
    }
    (proj / "merge.yaml").write_text("base: &b {epochs: 2}\nmore:\n  <<: *b\n  x: 1\n  x: 2\n")
    with pytest.raises(ConfigError, match=r"merge.yaml:5:3: duplicate key 'x' in more \(first"):
        read_yaml("merge.yaml")


def test_schema_error_is_two_lines_naming_the_key(proj):
    params = copy.deepcopy(PARAMS)
    params["evaluate"]["num_clipz"] = 3
    write(proj, params)
    with pytest.raises(ConfigError) as err:
        resolve_workflow_params("params.yaml", {})
    lines = str(err.value).splitlines()
    assert len(lines) == 2 and lines[0] == "params.yaml is invalid:"
    assert lines[1].strip().startswith("evaluate:") and "num_clipz" in lines[1]


def table6_params() -> dict:
    """The demo and a Table 6 group on Mini-SSV2 (raw data and ImageNet weights not needed)."""
    params = demo_params()
    params["datasets"]["ssv2"] = paper_dataset("ssv2")
    params["train"]["pretrained"]["resnet18"] = "weights/resnet18.pth"
    params["experiments"]["paper_table6_ssv2"] = {
        "dataset": "mini-ssv2",
        "archs": ["tam"],
        "backbones": ["resnet18"],
        "frames": [8],
        "tam_locations": ["top_half", "bottom_half"],
    }
    return params


def test_enabled_group_without_raw_files_is_reported(proj):
    params = table6_params()
    write(proj, params)
    assert len(missing_raw_data(params)) == 1
    with pytest.raises(DataError) as err:
        resolve_workflow_params("params.yaml", {})
    assert "experiments.paper_table6_ssv2" in str(err.value) and "data/raw/ssv2" in str(err.value)
    (proj / "data/raw/ssv2").mkdir(parents=True)
    (proj / "data/raw/ssv2/labels.json").write_text("{}")
    assert missing_raw_data(params) == []


def test_config_overrides_are_validated_and_reach_the_jobs(proj):
    write(proj, PARAMS)
    params, path = resolve_workflow_params("params.yaml", {})
    assert path == "params.yaml" and params == PARAMS and not RESOLVED_PARAMS.exists()

    overrides = {"experiments": {"demo": {"evaluate": {"num_clips": 2}}}}
    params, path = resolve_workflow_params("params.yaml", overrides)
    assert path == str(RESOLVED_PARAMS)
    written = yaml.safe_load(Path(path).read_text())
    assert written == params and written["experiments"]["demo"]["evaluate"]["num_clips"] == 2
    assert written["experiments"]["demo"]["train"] == PARAMS["experiments"]["demo"]["train"]
    mtime = os.stat(path).st_mtime_ns
    resolve_workflow_params("params.yaml", overrides)  # same content: not rewritten
    assert os.stat(path).st_mtime_ns == mtime

    with pytest.raises(ConfigError) as err:
        resolve_workflow_params("params.yaml", {"evaluate": {"num_clips": "ten"}})
    assert "with --config overrides" in str(err.value) and "evaluate.num_clips" in str(err.value)


def test_nested_config_strings_are_read_as_yaml(proj):
    write(proj, PARAMS)
    params, _ = resolve_workflow_params(
        "params.yaml", {"experiments": {"demo": {"evaluate": {"num_clips": "3"}}}}
    )
    assert params["experiments"]["demo"]["evaluate"]["num_clips"] == 3


# --------------------------------------------------------------------------- the data rules


def two_sets() -> dict:
    """The demo, SSV2 (8 shards, its mini) and UCF101 (split option, no mini, extract unset)."""
    params = table6_params()
    params["datasets"]["ucf101"] = {
        "format": "ucf101",
        "raw_dir": "data/raw/ucf101",
        "annotations": {"split": 1, "list_dir": "lists v2"},
    }
    return params


def test_wildcards_match_exactly_the_datasets_of_params():
    wc = {k: re.compile(v) for k, v in data_wildcards(two_sets()).items()}
    matches = {k: [n for n in ("synthetic", "ssv2", "ucf101", "mini-ssv2", "mini-synthetic", "x")
                   if wc[k].fullmatch(n)] for k in ("base", "mini", "synth")}  # fmt: skip
    assert matches == {
        "base": ["synthetic", "ssv2", "ucf101"],
        "mini": ["mini-ssv2", "mini-synthetic"],
        "synth": ["synthetic"],
    }
    assert wc["shard"].fullmatch("12") and not wc["shard"].fullmatch("1a")
    params = two_sets()
    del params["datasets"]["synthetic"]
    assert not re.compile(data_wildcards(params)["synth"]).fullmatch("synthetic")  # none: "$^"


def test_shard_tables_follow_storage_and_the_config_folders():
    params = two_sets()
    assert num_shards(params, "ssv2") == 8 and num_shards(params, "ucf101") == 1  # unset: one
    assert shard_tables(params, "ssv2")[::7] == [
        "data/interim/ssv2/extract/shard0.csv",
        "data/interim/ssv2/extract/shard7.csv",
    ]
    params["datasets"]["ssv2"]["storage"] = "video"
    assert shard_tables(params, "ssv2")[0] == "data/interim/ssv2/reencode/shard0.csv"
    assert (
        shard_failure_tables(params, "ssv2")[0] == "data/interim/ssv2/reencode/shard0_failures.csv"
    )
    assert len(shard_failure_tables(params, "ssv2")) == 8


def test_extract_and_reencode_options():
    params = two_sets()
    assert extract_options(params, "synthetic") == {"short_side": 40, "quality": 2, "fps": ""}
    # a dataset without `extract:` gets the extraction defaults
    assert extract_options(params, "ucf101") == {"short_side": 256, "quality": 2, "fps": ""}
    params["datasets"]["ssv2"]["extract"]["fps"] = 12.5
    assert extract_options(params, "ssv2")["fps"] == "--fps 12.5"
    params["datasets"]["ssv2"]["reencode"] = {"gop": 4}
    assert reencode_options(params, "ssv2") == {"short_side": 256, "fps": 12.5, "gop": 4, "crf": 18}
    assert fps_flag(None) == "" and fps_flag(6) == "--fps 6"


def test_index_options_and_inputs():
    params = two_sets()
    assert annotation_flags(params, "ucf101") == "--annotations 'list_dir=lists v2' 'split=1'"
    assert annotation_flags(params, "ssv2") == ""
    # only a synthetic set's index waits for a job (the render); real raw data is the user's
    assert synth_outputs(params, "synthetic") == [
        "data/raw/synthetic/annotations.csv",
        "data/raw/synthetic/classes.csv",
    ]
    assert synth_outputs(params, "ssv2") == []


def test_mini_flags_and_source():
    params = two_sets()
    assert mini_source(params, "mini-ssv2") == "ssv2"
    assert mini_flags(params, "mini-ssv2") == "--mode class_list --seed 0 --class-list 'mini_ssv2'"
    assert mini_flags(params, "mini-synthetic") == (
        "--mode seeded_half --seed 0 --unit-column 'family' --strata-column 'group'"
    )
    params["datasets"]["synthetic"]["mini"]["seed"] = 3
    assert "--seed 3 " in mini_flags(params, "mini-synthetic")


def test_one_wildcard_rule_renders_every_synthetic_set():
    params = two_sets()
    second = copy.deepcopy(params["datasets"]["synthetic"])
    second.update(raw_dir="data/raw/moving", mini={"name": "mini-moving", "mode": "all"})
    second["synth"]["seed"] = 7
    params["datasets"]["moving"] = second
    assert synthetic_dir_problems(params) == []
    pattern = synth_pattern(params, "annotations.csv")
    assert pattern == "data/raw/{synth}/annotations.csv"
    for name in ("synthetic", "moving"):  # the rule's output is what each index job waits for
        assert pattern.format(synth=name) == synth_outputs(params, name)[0]
    assert '"seed": 7' in synth_settings(params, "moving")
    assert synth_settings(params, "moving") != synth_settings(params, "synthetic")


@pytest.mark.parametrize(
    "raw_dirs, key",
    [
        ({"synthetic": "data/raw/renders"}, "datasets.synthetic.raw_dir: data/raw/renders"),
        ({"synthetic": "synthetic"}, "datasets.synthetic.raw_dir: synthetic"),
        ({"moving": "elsewhere/moving"}, "data/raw and elsewhere"),
    ],
)
def test_a_synthetic_set_the_rule_cannot_render_is_refused_before_planning(proj, raw_dirs, key):
    params = demo_params()
    params["datasets"]["moving"] = copy.deepcopy(params["datasets"]["synthetic"])
    params["datasets"]["moving"].update(raw_dir="data/raw/moving", mini=None)
    del params["datasets"]["moving"]["mini"]
    for name, raw in raw_dirs.items():
        params["datasets"][name]["raw_dir"] = raw
    write(proj, params)
    with pytest.raises(ConfigError) as err:
        resolve_workflow_params("params.yaml", {})
    assert str(err.value).startswith("params.yaml is invalid:\n") and key in str(err.value)
    assert len(synthetic_dir_problems(params)) == 1


def test_data_targets_are_the_lists_of_enabled_groups_only():
    params = table6_params()
    assert data_targets(params) == [
        *list_files("mini-ssv2").values(),
        *list_files("mini-synthetic").values(),
    ]
    params["experiments"]["paper_table6_ssv2"]["enabled"] = False
    assert data_targets(params) == list(list_files("mini-synthetic").values())
    assert list_files("mini-synthetic") == {
        "train": "data/lists/mini-synthetic/train.csv",
        "val": "data/lists/mini-synthetic/val.csv",
        "classes": "data/lists/mini-synthetic/classes.csv",
    }


def test_the_enabled_filter_is_written_once():
    """The grid, the checks, the data rules and the report's fingerprint share
    config.enabled_groups; nothing else in src/ or workflow/ reads a group's `enabled`."""
    pattern = re.compile(r"""(\.get\(|\[)\s*["']enabled["']""")
    found = [
        f"{path.relative_to(REPO)}:{n}"
        for folder in ("src", "workflow")
        for path in sorted((REPO / folder).rglob("*"))
        if path.suffix in (".py", ".smk")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert len(found) == 1 and found[0].startswith("src/actionbench/config.py:"), found


def test_train_inputs():
    from actionbench.config import expand_grid, run_protocol

    params = table6_params()
    runs = expand_grid(params)
    scratch = train_inputs(run_protocol(params, "mini-synthetic/tsn-resnet18/f8", runs))
    assert scratch == {
        "train": "data/lists/mini-synthetic/train.csv",
        "classes": "data/lists/mini-synthetic/classes.csv",
    }  # not val: editing it re-runs evaluation, not training
    f16 = train_inputs(run_protocol(params, "mini-synthetic/tsn-resnet18/f16", runs))
    assert f16["init"] == "runs/mini-synthetic/tsn-resnet18/f8/final.pt"
    imagenet = train_inputs(run_protocol(params, "mini-ssv2/tam-resnet18-top_half/f8", runs))
    assert imagenet["init"] == "weights/resnet18.pth"


def test_rule_files_write_no_data_path_of_their_own():
    """data/... folders come from actionbench.config's helpers (lists_dir, interim_dir, ...)."""
    for path in [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]:
        text = path.read_text()
        assert not re.search(r"""["']data/""", text), path.name


def test_list_settings_are_what_decides_the_lists_content():
    """The record ``status`` compares: a mini set's includes its draw, its parent's does not;
    video storage records the re-encode's settings; paths and work splitting are left out."""
    params = demo_params()
    base, mini = list_settings(params, "synthetic"), list_settings(params, "mini-synthetic")
    assert "mini" not in base and mini["mini"]["seed"] == 0
    assert base["frames"] == {"short_side": 40, "quality": 2, "fps": None}
    assert base["synth"]["seed"] == 0
    params["datasets"]["synthetic"]["storage"] = "video"
    assert list_settings(params, "synthetic")["frames"]["gop"] == 8
    same = demo_params()
    same["datasets"]["synthetic"].update(raw_dir="elsewhere")
    same["datasets"]["synthetic"]["extract"].update(shards=4, workers=3)
    assert list_settings(same, "mini-synthetic") == mini


def test_list_settings_changes_name_each_changed_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = demo_params()
    assert list_settings_changes(params, "synthetic") == []  # no record: nothing to compare
    (tmp_path / "data/lists/synthetic").mkdir(parents=True)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    record_list_settings("params.yaml", "synthetic", tmp_path / "data/lists/synthetic")
    assert list_settings_changes(params, "synthetic") == []
    params["datasets"]["synthetic"]["synth"]["seed"] = 7
    params["datasets"]["synthetic"]["extract"]["quality"] = 3
    assert list_settings_changes(params, "synthetic") == [
        "frames.quality: 2 -> 3",
        "synth.seed: 0 -> 7",
    ]
    with pytest.raises(ConfigError, match="no dataset 'nope'"):
        record_list_settings("params.yaml", "nope", tmp_path)
