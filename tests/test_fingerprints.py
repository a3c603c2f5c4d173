"""Per-rule fingerprints: an edit changes exactly the fingerprints of the jobs that read it."""

from __future__ import annotations

import copy

from actionbench.config import expand_grid, run_protocol
from actionbench.fingerprints import eval_fingerprint, protocol_digest
from actionbench.planning import report_fingerprint
from actionbench.spec import init_source_run
from study_params import demo_params

PARAMS = demo_params()


def prints(params):
    runs = expand_grid(params)
    cfgs = {rid: run_protocol(params, rid, runs) for rid in runs}
    train = {rid: protocol_digest(cfg) for rid, cfg in cfgs.items()}
    ev = {rid: eval_fingerprint(cfg) for rid, cfg in cfgs.items()}
    return train, ev, report_fingerprint(params, list(runs))


def changed(before, after):
    return sorted(k for k in before if before[k] != after[k])


def edit(path, value):
    params = copy.deepcopy(PARAMS)
    node = params
    *parents, last = path.split(".")
    for part in parents:
        node = node[part]
    node[last] = value
    return params


BASE = prints(PARAMS)
F8 = ["mini-synthetic/tam-resnet18/f8", "mini-synthetic/tsn-resnet18/f8"]
F16 = ["mini-synthetic/tam-resnet18/f16", "mini-synthetic/tsn-resnet18/f16"]


def test_evaluation_settings_change_evaluation_fingerprints_only():
    train, ev, report = prints(edit("experiments.demo.evaluate.num_clips", 2))
    assert changed(BASE[0], train) == []
    assert changed(BASE[1], ev) == sorted(F8 + F16)
    assert report == BASE[2]


def test_renaming_the_mlflow_experiment_changes_nothing():
    train, ev, report = prints(edit("project.mlflow_experiment", "renamed"))
    assert changed(BASE[0], train) == [] and changed(BASE[1], ev) == [] and report == BASE[2]


def test_f16_epochs_change_the_f16_runs_only():
    train, ev, report = prints(edit("experiments.demo.train.stages.f16.epochs", 6))
    assert changed(BASE[0], train) == sorted(F16)
    assert changed(BASE[1], ev) == []


def test_f8_change_reaches_its_descendants_through_the_source_fingerprint():
    train, _, _ = prints(edit("experiments.demo.train.stages.f8.epochs", 3))
    assert changed(BASE[0], train) == sorted(F8 + F16)


def test_speed_settings_do_not_retrain_but_seed_does():
    train, _, _ = prints(
        edit("experiments.demo.train.runtime", {"threads": 2, "workers": 3, "deterministic": True})
    )
    assert changed(BASE[0], train) == []
    params = copy.deepcopy(PARAMS)
    params["experiments"]["demo"]["train"]["runtime"]["seed"] = 1
    assert changed(BASE[0], prints(params)[0]) == sorted(F8 + F16)


def test_report_settings_change_only_the_report():
    train, ev, report = prints(edit("report.title", "another title"))
    assert changed(BASE[0], train) == [] and changed(BASE[1], ev) == [] and report != BASE[2]


def test_init_source_run_follows_source_run_or_a_legacy_checkpoint_path():
    legacy = {"kind": "checkpoint", "path": "runs/d/tam-resnet18/f8/final.pt"}
    assert init_source_run(legacy) == "d/tam-resnet18/f8"
    assert init_source_run({"kind": "checkpoint", "source_run": "x/y/f8", "path": "z"}) == "x/y/f8"
    assert init_source_run({"kind": "scratch", "path": None}) is None


def test_the_protocol_digest_covers_the_chain_through_the_source_fingerprint():
    """f32 holds f16's protocol digest, which holds f8's: an f8 edit reaches f32."""
    params = copy.deepcopy(PARAMS)
    params["experiments"]["demo"]["frames"] = [8, 16, 32]
    params["experiments"]["demo"]["train"]["stages"]["f32"] = {
        "init": "previous",
        "epochs": 2,
        "schedule": "cosine",
    }
    before = prints(params)[0]
    params["experiments"]["demo"]["train"]["stages"]["f8"]["epochs"] = 3
    after = prints(params)[0]
    assert {rid for rid in before if before[rid] != after[rid]} == set(before)
