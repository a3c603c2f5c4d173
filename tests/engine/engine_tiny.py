"""Tiny stand-ins for the model registry and the clip dataset, plus a run-config builder.

Used by the engine tests in-process (monkeypatching ``actionbench.engine.factory``) and in
subprocesses (``python tests/engine/engine_tiny.py CONFIG.json train``, also under torchrun), so the
engine can be tested on 2-frame 32x32 clips and 3 classes in seconds.
"""

from __future__ import annotations

import copy
import csv
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"
NUM_CLASSES = 3
FRAMES = 2
SIZE = 32


class TinyNet(nn.Module):
    """(B, C, T, H, W) -> (B, K): a 1x1x1 conv, global pooling, dropout, fc. No BatchNorm."""

    def __init__(
        self, num_classes: int = NUM_CLASSES, dropout: float = 0.0, nan_after: int | None = None
    ):
        super().__init__()
        self.conv = nn.Conv3d(3, 8, kernel_size=1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(8, num_classes)
        self.nan_after = nan_after
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1 if self.training else 0
        h = torch.relu(self.conv(x)).mean(dim=(2, 3, 4))
        out = self.fc(self.dropout(h))
        if self.nan_after is not None and self.calls > self.nan_after:
            out = out * float("nan")
        return out


class TinyClips(Dataset):
    """Reads a list CSV; clip i is a class-dependent pattern plus noise (train) or fixed views (test).

    Training randomness draws from torch, numpy and python's RNGs, as a real dataset's
    augmentations would, so the engine's per-item seeding is exercised.
    """

    def __init__(self, list_csv: str, train: bool, num_clips: int = 1, num_crops: int = 1):
        with open(list_csv) as fh:
            self.rows = list(csv.DictReader(fh))
        self.train = train
        self.views = num_clips * num_crops
        self.sleep = float(os.environ.get("TINY_SLEEP", "0"))

    def __len__(self) -> int:
        return len(self.rows)

    def _base(self, index: int) -> torch.Tensor:
        label = int(self.rows[index]["label"])
        g = torch.Generator().manual_seed(1000 + index)
        clip = torch.randn(3, FRAMES, SIZE, SIZE, generator=g) * 0.5
        clip[label] += 1.0
        return clip

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, int]:
        if self.sleep:
            time.sleep(self.sleep)
        clip = self._base(index)
        label = int(self.rows[index]["label"])
        if self.train:
            clip = clip + 0.1 * torch.randn_like(clip) + float(np.random.uniform(-0.05, 0.05))
            if random.random() < 0.5:
                clip = clip.flip(-1)
            return clip, label, index
        views = torch.stack([clip * (1.0 + 0.1 * v) - 0.05 * v for v in range(self.views)])
        return views, label, index


def build_model(cfg: dict, pretrained: str | None = None) -> nn.Module:
    nan_after = os.environ.get("TINY_NAN_AFTER")
    return TinyNet(
        cfg["num_classes"], cfg["model"]["dropout"], int(nan_after) if nan_after else None
    )


def build_dataset(
    cfg: dict, split: str, train: bool, num_clips: int = 1, num_crops: int = 1
) -> Dataset:
    return TinyClips(cfg["data"][f"{split}_list"], train, num_clips, num_crops)


def write_list(path: Path, n: int, groups: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["video_id", "frames_dir", "num_frames", "label", "label_name"]
            + (["group"] if groups else [])
        )
        for i in range(n):
            label = i % NUM_CLASSES
            extra = ["temporal" if label < 2 else "spatial"] if groups else []
            writer.writerow(
                [f"v{i:03d}", f"frames/v{i:03d}", FRAMES, label, f"class {label}"] + extra
            )
    return path


BASE_CFG: dict[str, Any] = {
    "run_id": "tiny/tsn-tiny/f2",
    "dataset": "tiny",
    "arch": "tsn",
    "backbone": "tiny",
    "temporal_pooling": False,
    "tam_locations": "all",
    "frames": FRAMES,
    "sampling": "uniform",
    "dense_stride": 1,
    "num_classes": NUM_CLASSES,
    "data": {
        "train_list": None,
        "val_list": None,
        "input_size": SIZE,
        "scale_size": SIZE,
        "flip": True,
        "workers": 0,
    },
    "init": {"kind": "scratch", "path": None, "inflation": "copy", "new_head": False},
    "optim": {
        "lr": 0.1,
        "momentum": 0.9,
        "weight_decay": 0.0005,
        "nesterov": False,
        "batch_size": 8,
        "accum_steps": 1,
        "lr_scaling": False,
        "base_batch_size": 8,
        "clip_grad_norm": 20.0,
    },
    "model": {"dropout": 0.0},
    "schedule": {
        "name": "cosine",
        "epochs": 3,
        "milestones": [],
        "gamma": 0.1,
        "warmup_epochs": 0,
        "warmup_start_lr": 0.01,
        "min_lr": 0.0,
    },
    "eval": {"num_clips": 4, "num_crops": 1, "batch_size": 4, "val_every": 1},
    "checkpoints": {"keep_set_aside": 1},
    "runtime": {
        "device": "cpu",
        "amp": "none",
        "channels_last": False,
        "sync_bn": False,
        "deterministic": True,
        "seed": 0,
        "threads": 1,
    },
    "tracking": {"experiment": "actionbench-tests", "tracking_uri": None},
    "output_dir": None,
}


def tracking_cfg(run_id: str, experiment: str) -> dict[str, Any]:
    """The keys a Tracker reads (run identity, tags, experiment): enough to log a run."""
    return {
        "run_id": run_id,
        "dataset": run_id.split("/")[0],
        "arch": "tsn",
        "backbone": "r",
        "frames": 8,
        "temporal_pooling": False,
        "sampling": "uniform",
        "output_dir": "runs/x",
        "tracking": {"experiment": experiment},
    }


def make_cfg(tmp: Path, n_train: int = 24, n_val: int = 9, **sections: dict) -> dict:
    """A complete run config writing under ``tmp``; ``sections`` update top-level dicts/values."""
    cfg = copy.deepcopy(BASE_CFG)
    cfg["data"]["train_list"] = str(write_list(tmp / "lists" / "train.csv", n_train))
    cfg["data"]["val_list"] = str(write_list(tmp / "lists" / "val.csv", n_val))
    cfg["output_dir"] = str(tmp / "run")
    for key, value in sections.items():
        if isinstance(value, dict):
            cfg[key].update(value)
        else:
            cfg[key] = value
    return cfg


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), str(HERE), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    env.pop("SLURM_JOB_ID", None)
    env.update(extra)
    return env


def run_tiny(
    config: Path, command: str = "train", timeout: float = 120, **env: str
) -> subprocess.CompletedProcess:
    """The CLI with the tiny factory, in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, str(HERE / "engine_tiny.py"), str(config), command],
        env=subprocess_env(**env),
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def patch_factory() -> None:
    from actionbench.engine import factory

    factory.build_model = build_model  # type: ignore[assignment]
    factory.build_dataset = build_dataset  # type: ignore[assignment]


def main(argv: list[str]) -> int:
    """``tiny.py CONFIG.json train|evaluate``: the real CLI with the tiny factory."""
    patch_factory()
    from actionbench.cli import main as cli_main

    return cli_main([argv[1], "--config", argv[0]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
