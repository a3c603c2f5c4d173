"""Protocol differences are flagged when compared runs differ, and only then."""

from __future__ import annotations

import copy

from actionbench.analysis import fairness
from actionbench.spec import init_source_run


def _cfg(
    arch="tam",
    frames=8,
    epochs=75,
    clips=10,
    crops=1,
    init=None,
    dataset="mini-ssv2",
    backbone="resnet50",
    **extra,
):
    cfg = {
        "arch": arch,
        "backbone": backbone,
        "frames": frames,
        "dataset": dataset,
        "sampling": "uniform",
        "dense_stride": 1,
        "init": init
        or {
            "kind": "imagenet",
            "path": f"weights/{backbone}.pth",
            "inflation": "copy",
            "new_head": False,
        },
        "schedule": {"name": "cosine", "epochs": epochs, "milestones": [], "warmup_epochs": 0},
        "optim": {"lr": 0.01, "batch_size": 72, "weight_decay": 0.0005, "momentum": 0.9},
        "eval": {"num_clips": clips, "num_crops": crops},
        "data": {"input_size": 224, "scale_size": 256},
    }
    cfg.update(extra)
    return cfg


def _records(configs):
    return {rid: fairness.protocol_record(rid, configs) for rid in configs}


def test_identical_protocol_is_not_flagged():
    configs = {"mini-ssv2/tam-resnet50/f8": _cfg("tam"), "mini-ssv2/tsm-resnet50/f8": _cfg("tsm")}
    rec = _records(configs)
    assert (
        fairness.differences(rec["mini-ssv2/tam-resnet50/f8"], rec["mini-ssv2/tsm-resnet50/f8"])
        == []
    )
    assert fairness.group_flags(rec, {"ssv2 f8": list(configs)}) == []


def test_epochs_clips_and_init_differences_are_flagged():
    configs = {
        "mini-ssv2/tam-resnet50/f8": _cfg("tam", epochs=100, clips=10),
        "mini-ssv2/tsm-resnet50/f8": _cfg(
            "tsm",
            epochs=75,
            clips=2,
            crops=3,
            init={"kind": "scratch", "path": None, "inflation": "copy", "new_head": False},
        ),
    }
    rec = _records(configs)
    diffs = {
        d.factor: (d.a, d.b)
        for d in fairness.differences(
            rec["mini-ssv2/tam-resnet50/f8"], rec["mini-ssv2/tsm-resnet50/f8"]
        )
    }
    assert diffs["epochs"] == ("100", "75")
    assert diffs["eval_protocol"] == ("10x1", "2x3")
    assert diffs["pretraining"] == ("ImageNet", "scratch")
    flags = fairness.group_flags(rec, {"mini-ssv2, ResNet50, f=8": list(configs)})
    assert {f.factor for f in flags} >= {"epochs", "eval_protocol", "pretraining"}
    message = next(f for f in flags if f.factor == "epochs").message()
    assert message.startswith("mini-ssv2, ResNet50, f=8: training epochs differs")
    assert "100 (mini-ssv2/tam-resnet50/f8)" in message


def test_actual_evaluation_overrides_config_and_trained_epochs_shown():
    configs = {"d/tam-resnet50/f8": _cfg()}
    rec = fairness.protocol_record(
        "d/tam-resnet50/f8", configs, eval_clips=4, eval_crops=3, trained_epochs=50
    )
    assert rec["eval_protocol"] == "4x3"
    assert rec["epochs"] == "75 (trained 50)"


def test_studied_factor_and_what_it_implies_are_not_flagged():
    configs = {
        "d/tam-resnet18/f8": _cfg(backbone="resnet18"),
        "d/tam-resnet50/f8": _cfg(backbone="resnet50"),
    }
    rec = _records(configs)
    assert {
        d.factor for d in fairness.differences(rec["d/tam-resnet18/f8"], rec["d/tam-resnet50/f8"])
    } == {"backbone", "weights"}
    assert (
        fairness.differences(
            rec["d/tam-resnet18/f8"], rec["d/tam-resnet50/f8"], studied=["backbone"]
        )
        == []
    )


def test_progressive_and_transfer_lineage():
    f8 = _cfg(frames=8, epochs=75)
    f16 = _cfg(
        frames=16,
        epochs=35,
        init={
            "kind": "checkpoint",
            "path": "runs/mini-ssv2/tam-resnet50/f8/final.pt",
            "inflation": "copy",
            "new_head": False,
        },
    )
    k32 = _cfg(frames=32, epochs=196, dataset="kinetics400")
    ucf = _cfg(
        frames=32,
        epochs=45,
        dataset="ucf101",
        init={
            "kind": "checkpoint",
            "path": "/abs/runs/kinetics400/tam-resnet50/f32/final.pt",
            "inflation": "copy",
            "new_head": True,
        },
    )
    configs = {
        "mini-ssv2/tam-resnet50/f8": f8,
        "mini-ssv2/tam-resnet50/f16": f16,
        "kinetics400/tam-resnet50/f32": k32,
        "ucf101/tam-resnet50/f32": ucf,
    }
    rec = _records(configs)
    assert rec["mini-ssv2/tam-resnet50/f16"]["pretraining"] == "ImageNet → f8"
    assert rec["mini-ssv2/tam-resnet50/f16"]["total_epochs"] == "110"
    assert rec["ucf101/tam-resnet50/f32"]["pretraining"] == "ImageNet → kinetics400 f32 (new head)"
    assert rec["ucf101/tam-resnet50/f32"]["weights"] == "resnet50.pth"
    # the source run's config unknown: said so, not guessed
    alone = fairness.protocol_record("ucf101/tam-resnet50/f32", {"ucf101/tam-resnet50/f32": ucf})
    assert alone["pretraining"].startswith("unknown →") and alone["total_epochs"] == "unknown"


def test_flag_explained_by_frames():
    configs = {
        "d/tsn-resnet50/f8": _cfg("tsn", frames=8, epochs=75),
        "d/tam-resnet50/f8": _cfg("tam", frames=8, epochs=75),
        "d/tsn-resnet50/f16": _cfg("tsn", frames=16, epochs=35),
    }
    rec = _records(configs)
    flags = fairness.group_flags(
        rec,
        {"d": list(configs)},
        studied=["frames"],
        explained_by={r: r[-2:] for r in configs},
        explanation="follows the frames",
    )
    assert [f.factor for f in flags] == ["epochs", "total_epochs"]
    assert "[follows the frames]" in flags[0].message()


def test_config_drift_finds_stale_runs_only():
    saved = _cfg(output_dir="runs/x", tracking={"experiment": "a"})
    current = copy.deepcopy(saved)
    current["output_dir"] = "/elsewhere/runs/x"
    current["tracking"] = {"experiment": "b"}
    assert fairness.config_drift(saved, current) == []
    current["optim"]["lr"] = 0.02
    assert fairness.config_drift(saved, current) == ["optim.lr: 0.01 (run) vs 0.02 (params.yaml)"]
    assert fairness.config_drift(None, current) == []


def test_source_run_comes_from_the_resolved_config_not_the_path():
    # init.source_run says which run; the checkpoint path (elsewhere, renamed) is not parsed
    init = {
        "kind": "checkpoint",
        "path": "/scratch/copy-of-weights.pt",
        "source_run": "mini-ssv2/tam-resnet50/f8",
        "source_fingerprint": "abc",
        "new_head": False,
    }
    configs = {
        "mini-ssv2/tam-resnet50/f8": _cfg("tam", epochs=100),
        "mini-ssv2/tam-resnet50/f16": _cfg("tam", frames=16, epochs=10, init=init),
    }
    rec = _records(configs)
    assert rec["mini-ssv2/tam-resnet50/f16"]["pretraining"] == "ImageNet → f8"
    assert rec["mini-ssv2/tam-resnet50/f16"]["total_epochs"] == "110"
    assert init_source_run(init) == "mini-ssv2/tam-resnet50/f8"
    # an explicit null is "no source run", even with a parseable path
    legacy_path = "runs/mini-ssv2/tam-resnet50/f8/final.pt"
    assert init_source_run({"kind": "checkpoint", "path": legacy_path, "source_run": None}) is None
    # configs from before source_run existed: the path is still understood
    assert init_source_run({"kind": "checkpoint", "path": legacy_path}) == (
        "mini-ssv2/tam-resnet50/f8"
    )
    assert init_source_run({"kind": "imagenet", "path": legacy_path}) is None


def test_code_commit_and_layout_are_protocol_factors():
    configs = {
        "d/tsn-resnet50/f8": _cfg("tsn"),
        "d/tam-resnet50/f8": _cfg("tam"),
        "d/tam-resnet50-paper/f8": _cfg("tam", layout="paper"),
    }
    metrics = {
        "d/tsn-resnet50/f8": {"code": {"git_commit": "a" * 40, "git_dirty": False}},
        "d/tam-resnet50/f8": {"code": {"git_commit": "b" * 40, "git_dirty": True}},
        "d/tam-resnet50-paper/f8": {"epochs": 75},  # written before the code record existed
    }
    rec = {
        rid: fairness.protocol_record(rid, configs, train_metrics=metrics[rid]) for rid in configs
    }
    assert rec["d/tsn-resnet50/f8"]["code"] == "aaaaaaaaaaaa"
    assert rec["d/tam-resnet50/f8"]["code"] == "bbbbbbbbbbbb (uncommitted changes)"
    assert rec["d/tam-resnet50-paper/f8"]["code"] == "unknown"
    assert rec["d/tsn-resnet50/f8"]["layout"] == "reference"
    diffs = fairness.differences(rec["d/tam-resnet50/f8"], rec["d/tsn-resnet50/f8"])
    assert [d.factor for d in diffs] == ["code"]
    assert "code version (git commit)" in str(diffs[0])
    flags = fairness.group_flags(rec, {"d f8": ["d/tam-resnet50/f8", "d/tam-resnet50-paper/f8"]})
    assert {f.factor for f in flags} == {"layout", "code"}


def test_config_drift_ignores_the_path_of_the_same_source_run():
    init = {"kind": "checkpoint", "path": "runs/a/final.pt", "source_run": "d/tam-resnet50/f8"}
    saved = _cfg(init=init)
    current = copy.deepcopy(saved)
    current["init"]["path"] = "/elsewhere/a/final.pt"
    assert fairness.config_drift(saved, current) == []
    current["init"]["source_run"] = "d/tam-resnet50/f16"
    assert len(fairness.config_drift(saved, current)) == 2


def test_each_run_states_the_input_normalisation_its_model_declares():
    """Issue 13.5: the report says which normalisation a run used (from the model's spec)."""
    from actionbench.analysis import fairness

    assert fairness.normalization("inceptionv1") == "(0.5, 0.5, 0.5) / (0.5, 0.5, 0.5)"
    assert fairness.normalization("resnet50") == "(0.485, 0.456, 0.406) / (0.229, 0.224, 0.225)"
    assert fairness.normalization("nonesuch") == "unknown"
    assert "normalization" in fairness.FACTORS
    # comparing two backbones compares their normalisations by construction: not a second flag
    assert "normalization" in fairness.ignored_factors({"backbone"})
