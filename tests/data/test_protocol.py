"""Layout-dependent data defaults (flip, short-video filter, test crop) and their resolution."""

from __future__ import annotations

import copy

import pytest
import yaml

from actionbench.config import load_params, run_protocol, validate_params
from actionbench.data.protocol import data_protocol
from actionbench.errors import ConfigError
from study_params import paper_dataset


@pytest.mark.parametrize(
    "layout, fmt, settings, expected",
    [
        # reference: flips everything, Kinetics drops < 30 frames, SSV2 < 3; 256-px test crops
        ("reference", "kinetics400", {}, (True, 30, 256)),
        ("reference", "ssv2", {}, (True, 3, 256)),
        ("reference", "jester", {}, (True, 1, 256)),
        ("reference", "mit", {}, (True, 1, 256)),
        # paper: no flip for direction-bearing labels, no filter, test crop = input size
        ("paper", "ssv2", {}, (False, 1, 224)),
        ("paper", "jester", {}, (False, 1, 224)),
        ("paper", "kinetics400", {}, (True, 1, 224)),
        # an explicit setting wins in both layouts (the synthetic set's mirror-pair classes)
        ("reference", "synthetic", {"flip": False}, (False, 1, 256)),
        ("paper", "synthetic", {"flip": False}, (False, 1, 224)),
        ("reference", "kinetics400", {"min_frames": 8, "test_crop_size": 224}, (True, 8, 224)),
        ("paper", "ssv2", {"flip": True, "min_frames": 3}, (True, 3, 224)),
    ],
)
def test_layout_defaults_and_explicit_settings(layout, fmt, settings, expected):
    resolved = data_protocol(layout, fmt, settings, input_size=224, scale_size=256)
    assert (resolved["flip"], resolved["min_frames"], resolved["test_crop_size"]) == expected


@pytest.mark.parametrize(
    "layout, fmt, settings, expected",
    [
        # reference: test.py -e filters the val list with the training filter_video
        ("reference", "kinetics400", {}, 30),
        ("reference", "ssv2", {}, 3),
        ("reference", "synthetic", {}, 1),
        ("reference", "kinetics400", {"min_frames": 8}, 8),  # one filter for both lists
        ("reference", "kinetics400", {"eval_min_frames": 1}, 1),  # score every video
        # paper: every video is scored unless asked otherwise
        ("paper", "kinetics400", {}, 1),
        ("paper", "ssv2", {"min_frames": 3}, 1),
        ("paper", "ssv2", {"eval_min_frames": 5}, 5),
    ],
)
def test_evaluation_drops_what_the_reference_drops(layout, fmt, settings, expected):
    resolved = data_protocol(layout, fmt, settings, input_size=224, scale_size=256)
    assert resolved["eval_min_frames"] == expected


def test_unknown_layout():
    with pytest.raises(ValueError, match="layout 'mmaction'"):
        data_protocol("mmaction", "ssv2", {}, 224, 256)


def test_run_config_carries_the_resolved_data_protocol(params_file, base_params):
    params = load_params(params_file(base_params))
    data = run_protocol(params, "mini-synthetic/tam-resnet18/f8")["data"]
    # the synthetic set: explicit flip: false and test_crop_size: 32 (= input_size)
    assert (data["flip"], data["min_frames"], data["test_crop_size"]) == (False, 1, 32)
    assert data["eval_min_frames"] == 1  # the demo's 48-frame videos are all scored
    edited = copy.deepcopy(params)
    del edited["datasets"]["synthetic"]["test_crop_size"]
    data = run_protocol(edited, "mini-synthetic/tam-resnet18/f8")["data"]
    assert data["test_crop_size"] == 36  # the reference default: scale_size
    edited = copy.deepcopy(params)
    edited["datasets"]["synthetic"].update(min_frames=12, test_crop_size=32)
    data = run_protocol(edited, "mini-synthetic/tam-resnet18/f8")["data"]
    assert (data["min_frames"], data["test_crop_size"]) == (12, 32)
    edited["experiments"]["demo"]["test_crop_size"] = 34  # a group overrides its dataset
    assert run_protocol(edited, "mini-synthetic/tam-resnet18/f8")["data"]["test_crop_size"] == 34


def test_schema_names_a_bad_setting(repo_root, base_params):
    params = base_params
    params["datasets"]["ssv2"] = paper_dataset("ssv2")
    schema = yaml.safe_load((repo_root / "workflow/schemas/params.schema.yaml").read_text())
    params["datasets"]["ssv2"]["min_frames"] = 0
    with pytest.raises(ConfigError, match="datasets.ssv2.min_frames"):
        validate_params(params, schema)
    params["datasets"]["ssv2"]["min_frames"] = 3
    params["datasets"]["ssv2"]["eval_min_frames"] = 0
    with pytest.raises(ConfigError, match="datasets.ssv2.eval_min_frames"):
        validate_params(params, schema)
    params["datasets"]["ssv2"]["eval_min_frames"] = 1  # today's behaviour: score every video
    params["evaluate"]["num_crops"] = 10  # 5- and 10-crop views exist in both layouts
    validate_params(params, schema)
