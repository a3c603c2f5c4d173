"""What the Snakefile checks before planning: YAML position, key-naming schema errors, raw data,
and --config overrides written where the jobs read them."""

from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path

import pytest
import yaml

from actionbench.config import load_params, read_yaml
from actionbench.errors import ConfigError, DataError
from actionbench.planning import RESOLVED_PARAMS, missing_raw_data, resolve_workflow_params
from study_params import demo_params

REPO = Path(__file__).resolve().parents[1]
PARAMS = yaml.safe_load((REPO / "params.yaml").read_text())


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
    text = (REPO / "params.yaml").read_text().replace("num_clips: 10 ", "num_clips: [10 ", 1)
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
    """The shipped params.yaml shares a protocol through an anchor; a merge key's keys may be
    overridden by the mapping's own (that is not a duplicate)."""
    text = (REPO / "params.yaml").read_text()
    assert "&kinetics_protocol" in text and "*kinetics_protocol" in text
    (proj / "params.yaml").write_text(text)
    assert load_params("params.yaml") == PARAMS
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


def test_enabled_group_without_raw_files_is_reported(proj):
    params = copy.deepcopy(PARAMS)
    params["experiments"]["paper_table6_ssv2"]["enabled"] = True
    params["train"]["pretrained"]["resnet18"] = "weights/resnet18.pth"
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
