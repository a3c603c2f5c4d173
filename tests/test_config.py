"""params.yaml validation, grid expansion and run resolution."""

from __future__ import annotations

import copy

import pytest

from actionbench.config import (
    expand_grid,
    load_params,
    parse_run_id,
    resolve_run,
    run_protocol,
)
from actionbench.errors import ConfigError
from actionbench.fingerprints import protocol_digest


def test_shipped_params_are_valid(repo_root):
    params = load_params(repo_root / "params.yaml")
    runs = expand_grid(params)
    assert "mini-synthetic/tam-resnet18/f16" in runs
    assert "mini-synthetic/tsn-resnet18/f8" in runs


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda p: p["train"]["optim"].update(lrr=0.1), r"train\.optim: unknown key.*'lrr'"),
        (lambda p: p["train"]["optim"].update(lr=-1), r"train\.optim\.lr: -1"),
        (
            lambda p: p["train"]["model"].update(dropout=1),
            r"train\.model\.dropout: 1 is greater than or equal",
        ),
        (
            lambda p: p["experiments"]["demo"].update(archs=["tsx"]),
            r"experiments\.demo\.archs\[0\]: 'tsx'",
        ),
        (lambda p: p.update(extra_section={}), r"unknown key.*'extra_section'"),
        (
            lambda p: p["experiments"]["demo"].update(dataset="nope"),
            r"experiments\.demo\.dataset: unknown dataset 'nope'",
        ),
        (
            lambda p: (
                p["train"]["stages"].pop("f32"),
                p["experiments"]["demo"].update(frames=[8, 32]),
            ),
            r"no protocol for f32",
        ),
        (
            lambda p: p["datasets"]["synthetic"]["extract"].update(quality=99),
            r"datasets\.synthetic\.extract\.quality: 99",
        ),
    ],
)
def test_bad_params_name_the_key(params_file, base_params, mutate, expected):
    params = copy.deepcopy(base_params)
    mutate(params)
    with pytest.raises(ConfigError, match=expected):
        load_params(params_file(params))


def test_imagenet_init_needs_a_local_weights_file(params_file, base_params):
    params = copy.deepcopy(base_params)
    params["experiments"]["demo"]["train"]["stages"]["f8"]["init"] = "imagenet"
    with pytest.raises(ConfigError, match=r"train\.pretrained\.resnet18 is not set"):
        load_params(params_file(params))


def test_milestones_must_fit_the_epochs(params_file, base_params):
    params = copy.deepcopy(base_params)
    params["experiments"]["demo"]["train"]["stages"]["f16"]["milestones"] = [3, 9]
    with pytest.raises(ConfigError, match=r"milestones \[3, 9\] must increase and be < epochs"):
        load_params(params_file(params))


def test_progressive_ancestors_are_added(params_file, base_params):
    params = copy.deepcopy(base_params)
    params["experiments"]["demo"]["frames"] = [16]
    runs = expand_grid(load_params(params_file(params)))
    assert runs["mini-synthetic/tam-resnet18/f8"].implicit
    assert not runs["mini-synthetic/tam-resnet18/f16"].implicit


def test_conflicting_duplicate_runs_are_refused(params_file, base_params):
    params = copy.deepcopy(base_params)
    twin = copy.deepcopy(params["experiments"]["demo"])
    twin["train"]["optim"]["lr"] = 0.5
    params["experiments"]["twin"] = twin
    with pytest.raises(ConfigError, match="different protocol"):
        load_params(params_file(params))


def test_run_protocol_links_previous_stage(params_file, base_params):
    params = load_params(params_file(base_params))
    f16 = run_protocol(params, "mini-synthetic/tam-resnet18/f16")
    assert f16["init"] == {
        "kind": "checkpoint",
        "path": "runs/mini-synthetic/tam-resnet18/f8/final.pt",
        "inflation": "copy",
        "new_head": False,
        "source_run": "mini-synthetic/tam-resnet18/f8",
        "source_fingerprint": protocol_digest(
            run_protocol(params, "mini-synthetic/tam-resnet18/f8")
        ),
    }
    assert f16["schedule"]["name"] == "multistep"
    f8 = run_protocol(params, "mini-synthetic/tam-resnet18/f8")
    assert f8["init"]["kind"] == "scratch"
    assert f8["optim"]["momentum"] == 0.9 and f8["optim"]["weight_decay"] == 0.0005


def test_tam_locations_and_tp_in_run_ids(params_file, base_params):
    params = copy.deepcopy(base_params)
    params["experiments"]["demo"].update(
        temporal_pooling=[False, True],
        tam_locations=["all", "top_half"],
        sampling=["uniform", "dense"],
    )
    runs = expand_grid(load_params(params_file(params)))
    assert "mini-synthetic/tam-resnet18-tp-dense-top_half/f8" in runs
    assert "mini-synthetic/tsn-resnet18-tp/f16" in runs
    assert not any(r.startswith("mini-synthetic/tsn-resnet18-top_half") for r in runs)
    assert parse_run_id("mini-synthetic/tam-resnet18-tp-dense-top_half/f8") == {
        "dataset": "mini-synthetic",
        "arch": "tam",
        "backbone": "resnet18",
        "temporal_pooling": True,
        "sampling": "dense",
        "tam_locations": "top_half",
        "frames": 8,
        "layout": "reference",
    }


def test_layout_axis_in_run_ids_and_resolved_config(params_file, base_params):
    """``layout`` is a grid axis: the default (reference) leaves today's ids alone, ``paper``
    adds ``-paper``; the resolved run config carries the layout for the model and the data."""
    params = copy.deepcopy(base_params)
    params["experiments"]["demo"].update(layout=["reference", "paper"], temporal_pooling=[True])
    loaded = load_params(params_file(params))
    runs = expand_grid(loaded)
    assert "mini-synthetic/tam-resnet18-tp/f8" in runs
    assert "mini-synthetic/tam-resnet18-tp-paper/f16" in runs
    assert runs["mini-synthetic/tam-resnet18-tp-paper/f16"].layout == "paper"
    paper_cfg = run_protocol(loaded, "mini-synthetic/tam-resnet18-tp-paper/f16")
    assert paper_cfg["layout"] == "paper"
    from actionbench.engine.tracking import flat_params

    assert flat_params(paper_cfg)["layout"] == "paper"  # an MLflow param of every job
    assert run_protocol(loaded, "mini-synthetic/tam-resnet18-tp/f8")["layout"] == "reference"
    # progressive training stays within one layout
    init = run_protocol(loaded, "mini-synthetic/tam-resnet18-tp-paper/f16")["init"]
    assert init["path"].endswith("mini-synthetic/tam-resnet18-tp-paper/f8/final.pt")
    assert parse_run_id("mini-synthetic/tam-resnet18-tp-dense-top_half-paper/f8")["layout"] == (
        "paper"
    )
    params["experiments"]["demo"]["layout"] = ["papers"]
    with pytest.raises(ConfigError, match="layout"):
        load_params(params_file(params))


def test_unknown_run_is_an_error(base_params):
    with pytest.raises(ConfigError, match="not in the experiment grid"):
        run_protocol(base_params, "mini-synthetic/i3d-resnet18/f8")
    with pytest.raises(ConfigError, match="malformed run id"):
        run_protocol(base_params, "whatever")


def test_resolve_run_counts_classes(params_file, base_params, tmp_path, monkeypatch):
    path = params_file(base_params)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="build the dataset lists first"):
        resolve_run(path, "mini-synthetic/tsn-resnet18/f8")
    lists = tmp_path / "data" / "lists" / "mini-synthetic"
    lists.mkdir(parents=True)
    (lists / "classes.csv").write_text("label,label_name\n0,a\n1,b\n2,c\n")
    assert resolve_run(path, "mini-synthetic/tsn-resnet18/f8")["num_classes"] == 3


def test_cli_refuses_bad_params_before_doing_anything(params_file, base_params, capsys):
    from actionbench.cli import main

    params = copy.deepcopy(base_params)
    params["train"]["optim"]["momentun"] = 0.9
    assert main(["grid", "--params", str(params_file(params))]) == 2
