"""Params a test builds for itself: the demo study (the synthetic set, TSN vs TAM f8 -> f16).

Tests must not depend on what the user's params.yaml enables or sets (a user who enables a paper
group or changes the demo must still see the suite pass), so they start from this dict, which
holds what the shipped demo holds, and change what they study.
"""

from __future__ import annotations

import copy


def demo_params() -> dict:
    """A fresh, valid params dict with only the demo group (mini-synthetic, TSN/TAM, f8 -> f16)."""
    return copy.deepcopy(_DEMO)


def paper_dataset(name: str) -> dict:
    """A real dataset's entry (raw data not needed until something trains on it)."""
    return copy.deepcopy(_PAPER_DATASETS[name])


_DEMO: dict = {
    "project": {
        "name": "actionbench",
        "runs_dir": "runs",
        "reports_dir": "reports",
        "mlflow_experiment": "actionbench",
        "tracking_uri": None,
        "keep_set_aside": 1,
    },
    "datasets": {
        "synthetic": {
            "format": "synthetic",
            "raw_dir": "data/raw/synthetic",
            "storage": "frames",
            "synth": {
                "seed": 0,
                "size": 64,
                "fps": 12,
                "num_frames": 48,
                "train_per_class": 24,
                "val_per_class": 16,
                "temporal_pairs": 4,
                "spatial_classes": 8,
            },
            "extract": {"short_side": 40, "quality": 2, "fps": None, "workers": 0, "shards": 1},
            "input_size": 32,
            "scale_size": 36,
            "flip": False,
            "test_crop_size": 32,
            "on_bad_frame": "fail",
            "mini": {
                "name": "mini-synthetic",
                "mode": "seeded_half",
                "seed": 0,
                "unit_column": "family",
                "strata_column": "group",
            },
        },
    },
    "train": {
        "optim": {
            "lr": 0.01,
            "momentum": 0.9,
            "weight_decay": 0.0005,
            "nesterov": False,
            "batch_size": 72,
            "accum_steps": 1,
            "lr_scaling": False,
            "base_batch_size": 72,
            "clip_grad_norm": 20.0,
        },
        "model": {"dropout": 0.5},
        "stages": {
            "f8": {"init": "imagenet", "epochs": 75, "schedule": "cosine"},
            "f16": {
                "init": "previous",
                "epochs": 35,
                "schedule": "multistep",
                "milestones": [10, 20, 30],
            },
            "f32": {
                "init": "previous",
                "epochs": 35,
                "schedule": "multistep",
                "milestones": [10, 20, 30],
            },
            "f64": {
                "init": "previous",
                "epochs": 35,
                "schedule": "multistep",
                "milestones": [10, 20, 30],
            },
        },
        "pretrained": {"inceptionv1": None, "resnet18": None, "resnet50": None, "resnet101": None},
        "inflation": "copy",
        "val_every": 1,
        "runtime": {
            "device": "auto",
            "amp": "auto",
            "channels_last": False,
            "compile": False,
            "compile_mode": "default",
            "sync_bn": False,
            "deterministic": False,
            "seed": 0,
            "threads": None,
            "workers": 4,
        },
    },
    "evaluate": {"num_clips": 10, "num_crops": 1, "batch_size": 8},
    "experiments": {
        "demo": {
            "enabled": True,
            "description": "TSN vs TAM on the synthetic set (motion matters for half of the classes)",
            "dataset": "mini-synthetic",
            "archs": ["tsn", "tam"],
            "backbones": ["resnet18"],
            "temporal_pooling": [False],
            "frames": [8, 16],
            "sampling": ["uniform"],
            "train": {
                "model": {"dropout": 0.2},
                "optim": {"batch_size": 8, "lr": 0.02},
                "stages": {
                    "f8": {"init": "scratch", "epochs": 12, "schedule": "cosine"},
                    "f16": {
                        "init": "previous",
                        "epochs": 4,
                        "schedule": "multistep",
                        "milestones": [3],
                    },
                },
                "runtime": {"threads": 1, "workers": 0, "deterministic": True},
            },
            "evaluate": {"num_clips": 4, "batch_size": 16},
        },
    },
    "resources": {
        "default": {"cpus": 1, "mem_mb": 4000, "runtime": 60, "gpus": 0},
        "extract": {"cpus": 2, "mem_mb": 4000, "runtime": 240, "gpus": 0},
        "train": {"cpus": 1, "mem_mb": 8000, "runtime": 720, "gpus": 0},
        "evaluate": {"cpus": 1, "mem_mb": 8000, "runtime": 120, "gpus": 0},
    },
    "report": {
        "title": "actionbench report",
        "significance": {"resamples": 1000, "seed": 0, "alpha": 0.05},
    },
}

_PAPER_DATASETS: dict = {
    "ssv2": {
        "format": "ssv2",
        "raw_dir": "data/raw/ssv2",
        "extract": {"short_side": 256, "quality": 2, "fps": None, "workers": 0, "shards": 8},
        "input_size": 224,
        "scale_size": 256,
        "mini": {"name": "mini-ssv2", "mode": "class_list", "class_list": "mini_ssv2"},
    },
    "kinetics400": {
        "format": "kinetics400",
        "raw_dir": "data/raw/kinetics400",
        "extract": {"short_side": 256, "quality": 2, "fps": None, "workers": 0, "shards": 16},
        "input_size": 224,
        "scale_size": 256,
        "flip": True,
        "mini": {"name": "mini-kinetics", "mode": "class_list", "class_list": "mini_kinetics400"},
    },
}


# A GPU partition for `auto` resources (the shipped params.yaml's example): 8 x A100 80 GB per
# node, 16 nodes, a 48 h limit; no benchmark records of that GPU, so an assumed throughput.
A100_CLUSTER: dict = {
    "gpu_type": "NVIDIA A100-SXM4-80GB",
    "gpus_per_node": 8,
    "gpu_mem_mb": 81920,
    "cpus_per_node": 64,
    "mem_mb_per_node": 500000,
    "nodes": 16,
    "max_runtime": 2880,
    "safety": 1.5,
    "assumed_gmacs_per_s": 2400,
}
AUTO = {
    "train": {"gpus": "auto", "nodes": "auto", "cpus": "auto", "mem_mb": "auto", "runtime": "auto"},
    "evaluate": {"gpus": "auto", "cpus": "auto", "mem_mb": "auto", "runtime": "auto"},
}


def sized_study(records: str) -> dict:
    """The demo plus a slice of the paper's study sized by `auto` for :data:`A100_CLUSTER`
    (records: the folder of model profiles and benchmark records): Mini-SSV2 TSN/I3D on
    ResNet18/50, f8 -> f64 (Table 12's protocol); Table 6's three TAM-R18 f8 location runs; full
    Kinetics I3D-R50 dense f32 (the SlowFast recipe, batch 1024). ImageNet weights are placeholder
    paths under weights/."""
    p = demo_params()
    p["datasets"].update(ssv2=paper_dataset("ssv2"), kinetics400=paper_dataset("kinetics400"))
    p["train"]["pretrained"] = {b: f"weights/{b}.pth" for b in p["train"]["pretrained"]}
    p["resources"]["cluster"] = {**A100_CLUSTER, "records": records}
    p["experiments"].update(
        mini_ssv2={
            "dataset": "mini-ssv2",
            "archs": ["tsn", "i3d"],
            "backbones": ["resnet18", "resnet50"],
            "frames": [8, 16, 32, 64],
            "resources": copy.deepcopy(AUTO),
        },
        table6={
            "dataset": "mini-ssv2",
            "archs": ["tam"],
            "backbones": ["resnet18"],
            "frames": [8],
            "tam_locations": ["top_half", "bottom_half", "uniform_half"],
            "resources": copy.deepcopy(AUTO),
        },
        sota_kinetics={
            "dataset": "kinetics400",
            "archs": ["i3d"],
            "backbones": ["resnet50"],
            "frames": [32],
            "sampling": ["dense"],
            "dense_stride": 2,
            "train": {
                "optim": {"lr": 1.6, "weight_decay": 0.0001, "batch_size": 1024},
                "stages": {
                    "f32": {
                        "init": "imagenet",
                        "epochs": 196,
                        "schedule": "warmup_cosine",
                        "warmup_epochs": 34,
                        "warmup_start_lr": 0.01,
                    }
                },
            },
            "evaluate": {"num_clips": 10, "num_crops": 3, "batch_size": 4},
            "resources": copy.deepcopy(AUTO),
        },
    )
    return p
