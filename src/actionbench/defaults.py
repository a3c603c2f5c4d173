"""Every default of actionbench's settings, written once, with what it means.

In the style of PySlowFast's ``slowfast/config/defaults.py``: one module holds the value a
setting takes when ``params.yaml`` (or a hand-built run config) leaves it out, each with a
comment. Code that reads a setting gets it through :func:`fill` (or a section's function below)
or, in a run config, :func:`run_value`; nothing else in ``src/`` or ``workflow/`` writes a
default again (``tests/test_defaults.py`` fails on a literal ``.get(key, default)`` fallback).

Why a module and not ``default:`` keywords in ``workflow/schemas/params.schema.yaml``: an
experiment group's ``train:`` and ``evaluate:`` sections use the same schema definitions as the
top-level ones but are overrides, merged key by key over them. A validator that fills schema
defaults (jsonschema's documented "extend the validator to set defaults" pattern, and
Snakemake's ``validate(..., set_default=True)``) would fill every group's override section too,
so a group that sets ``optim: {batch_size: 8}`` would silently reset the top-level momentum and
seed; a stage's defaults (gamma, min_lr) must likewise apply after the group's stage is merged
over the top-level one. Defaults are therefore applied where each section is resolved
(``actionbench.config``), from the tables here; the schema says what a key may hold and has no
``default:`` entries. The engine's optional run-config keys (:data:`RUN_CONFIG`) are taken from
the same tables, so a run config built by hand (tests, ``actionbench train --config run.json``)
gets the values a run resolved from params.yaml gets.

A few defaults depend on other settings and are computed, not listed: the data protocol's
``flip``, ``min_frames``, ``eval_min_frames`` and ``test_crop_size`` (by layout and dataset
format, :mod:`actionbench.data.protocol`), a stage's ``lr`` (``optim.lr``) and
``warmup_start_lr`` (the stage's ``lr``), a group's input sizes (its dataset's), and the dataset
annotation file names (each format's adapter, ``actionbench.data.adapters``).

Pure Python, imports nothing of actionbench: every layer may use it.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- params.yaml

PROJECT: dict[str, Any] = {
    "mlflow_experiment": "actionbench",  # the MLflow experiment every job logs to
    "tracking_uri": None,  # null: the store `mlflow ui` opens in the repository root
    "keep_set_aside": 1,  # last.pt files of an older identity kept per run (0 deletes them)
}

# datasets.<name>: every dataset.
DATASET: dict[str, Any] = {
    "storage": "frames",  # train from extracted JPEG folders; video: decode from video files
    "decoder": "auto",  # storage: video: the fastest decoder that works on the machine
    "input_size": 224,  # side of the training crops, px (the paper's, supplementary C)
    "scale_size": 256,  # shorter side test clips are resized to, px
    "on_bad_frame": "fail",  # a training clip with a bad frame stops the run (skip: counted)
    # None: the layout's default (actionbench.data.protocol)
    "flip": None,
    "min_frames": None,
    "eval_min_frames": None,
    "test_crop_size": None,
    "extract": {
        "short_side": 256,  # shorter side of extracted frames, px (the paper, supplementary C)
        "quality": 2,  # JPEG quality, ffmpeg -q:v (1 best .. 31)
        "fps": None,  # null: every frame of the source
        "workers": 0,  # parallel ffmpeg processes; 0: one per core
        "shards": 1,  # extraction jobs the videos are split into
    },
    "reencode": {  # storage: video: the one-time re-encode
        "gop": 8,  # a keyframe every 8 frames: a clip decodes at most 7 frames it does not use
        "crf": 18,  # x264 quality (0 lossless .. 51)
    },
}

# datasets.<name>.mini, when a dataset has a mini version.
MINI: dict[str, Any] = {
    "seed": 0,  # seeded_half: which half of the classes
    "class_list": None,  # class_list: the file (or packaged list) naming the classes
    "unit_column": None,  # classes kept or dropped together (the synthetic set's families)
    "strata_column": None,  # classes halved within each value (temporal / spatial)
}

# datasets.<name>.synth, for a dataset of format synthetic.
SYNTH: dict[str, Any] = {
    "seed": 0,
    "size": 64,  # rendered video side, px
    "fps": 12,
    "num_frames": 30,  # frames per video
    "train_per_class": 24,
    "val_per_class": 12,
    "temporal_pairs": 4,  # forward/reversed class pairs (motion only)
    "spatial_classes": 8,  # classes told apart by appearance only
}

# experiments.<group>: the group's own keys (its train: and evaluate: are overrides, see TRAIN).
GROUP: dict[str, Any] = {
    "enabled": True,
    "temporal_pooling": [False],
    "sampling": ["uniform"],  # uniform: one frame per segment (TSN); dense: consecutive frames
    "tam_locations": ["all"],  # TAM in every residual block (Table 6 varies it)
    "layout": ["reference"],  # the reference code's model layout and data protocol
    "dense_stride": 1,  # dense sampling: every frame
    "input_size": None,  # None: the dataset's
    "scale_size": None,
    "test_crop_size": None,
}

# train: (and a group's train:, merged over it). The optimiser's numbers (optim.*) and the
# stages' init, epochs and schedule are the protocol: they have no default, params.yaml states
# them (the paper's Table 12).
TRAIN: dict[str, Any] = {
    "model": {
        "dropout": 0.5,  # before the classifier (the reference code's)
    },
    "inflation": "copy",  # 2D -> 3D ImageNet weights: copied along time (paper, supplementary E)
    "val_every": 1,  # validate every N epochs (and after the last)
    "runtime": {
        "device": "auto",  # cuda when there is a GPU, else cpu
        "amp": "auto",  # bf16 on GPUs that support it, else fp16 + GradScaler; fp32 on CPU
        "channels_last": False,
        "compile": False,  # torch.compile the model
        "compile_mode": "default",
        "sync_bn": False,  # SyncBatchNorm in multi-GPU runs
        "deterministic": True,  # deterministic kernels: a resumed run ends bit-identical
        "seed": 0,  # model init, sample order and augmentation
        "threads": None,  # torch.set_num_threads; null: torch's choice
        "workers": 4,  # DataLoader worker processes
        "log_interval_s": 30.0,  # seconds between progress lines when there is no TTY
        "dist_timeout_s": 1800,  # torch.distributed timeout
    },
}

# train.stages.f<N>, applied to a stage after the group's stage is merged over the top-level one.
STAGE: dict[str, Any] = {
    "milestones": [],  # multistep: epochs where the lr drops
    "gamma": 0.1,  # multistep: the factor at each milestone
    "warmup_epochs": 0,
    "min_lr": 0.0,  # where cosine schedules end
    "new_head": False,  # init: run: a fresh classifier (transfer learning, D.3)
    "from_run": None,  # init: run: the source run id template
    "lr": None,  # None: optim.lr
    "warmup_start_lr": None,  # None: the stage's lr
}

# resources: what a job asks for when params.yaml's resources: say nothing, per rule kind
# (under resources.default and resources.<kind>, which are merged over these).
RESOURCES: dict[str, dict[str, Any]] = {
    "default": {
        "cpus": 1,
        "gpus": 0,
        "nodes": 1,
        "tasks_per_node": 1,  # torchrun agents per node
        "mem_mb": 4000,
        "runtime": 60,  # minutes
        "partition": None,  # None: the cluster's default
        "account": None,
        "constraint": None,
    },
    "extract": {"runtime": 120},
    "train": {"mem_mb": 8000, "runtime": 720},
    "evaluate": {"mem_mb": 8000, "runtime": 120},
    "report": {},
}

# resources.cluster (gpu_type, gpus_per_node and max_runtime are required).
CLUSTER: dict[str, Any] = {
    "nodes": 1,  # nodes a job may use
    "safety": 1.5,  # runtime margin over the estimate
    "startup_min": 5,  # minutes a job spends starting, warming the loader and checkpointing
    "records": "reports/benchmarks/sizing",  # `actionbench benchmark --grid` records
    "target_runtime": None,  # None: max_runtime
    "gpu_mem_mb": None,
    "cpus_per_node": None,
    "mem_mb_per_node": None,
    "assumed_gmacs_per_s": None,  # None: only measured throughput records
}

REPORT: dict[str, Any] = {
    "title": "actionbench report",
    "experiments": None,  # None: every enabled group
    "significance": {
        "resamples": 1000,  # paired bootstrap resamples
        "seed": 0,
        "alpha": 0.05,  # level of the pairwise tests
    },
    "published": {
        "tolerance": 1.0,  # points of top-1 ours may differ from the published number
    },
}

# --------------------------------------------------------------------------- run config

_RUNTIME = TRAIN["runtime"]
# The optional keys of a resolved run config (dotted), for configs built by hand; a run config
# resolved from params.yaml holds them all. Every other key is required (docs/engine.md,
# "Run-config keys"): the protocol's numbers never come from code.
RUN_CONFIG: dict[str, Any] = {
    "layout": GROUP["layout"][0],
    "data.root": None,  # base folder of relative frames_dir
    "data.classes": None,  # classes.csv, for label names in the evaluation tables
    "data.on_bad_frame": DATASET["on_bad_frame"],
    "data.storage": DATASET["storage"],
    "data.decoder": DATASET["decoder"],
    "data.short_side": None,  # storage: video: the re-encoded short side
    "eval.val_every": TRAIN["val_every"],
    **{f"runtime.{k}": v for k, v in _RUNTIME.items() if k != "workers"},  # data.workers
    "tracking.experiment": PROJECT["mlflow_experiment"],
    "tracking.tracking_uri": PROJECT["tracking_uri"],
    "tracking.enabled": True,  # false: no MLflow at all (tests)
    "checkpoints.keep_set_aside": PROJECT["keep_set_aside"],
}

# Keys that moved, in a run config and in params.yaml's train: sections alike: new place -> old
# place. The old place is still read, with a deprecation message naming the new one, and a run's
# identity hashes the value at its old place (actionbench.fingerprints), so moving a key re-runs
# nothing.
MOVED: dict[str, str] = {
    "model.dropout": "optim.dropout",  # a model setting, once filed under the optimiser
}

# --------------------------------------------------------------------------- applying them


def fill(defaults: Mapping[str, Any], values: Mapping[str, Any] | None) -> dict[str, Any]:
    """``values`` over ``defaults``, nested mappings merged key by key; a new dict (neither
    argument changes). Also the merge of a group's overrides over the top-level protocol."""
    out = copy.deepcopy(dict(defaults))
    for key, value in (values or {}).items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = fill(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def dataset(ds_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """A dataset's settings with the defaults filled in (``mini:`` and ``synth:`` when given)."""
    out = fill(DATASET, ds_cfg)
    for key, table in (("mini", MINI), ("synth", SYNTH)):
        if ds_cfg.get(key):
            out[key] = fill(table, ds_cfg[key])
    return out


def group(group_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """An experiment group's own keys with the defaults filled in (not its train:/evaluate:)."""
    return fill(GROUP, group_cfg)


def train(train_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """A merged train: section with the defaults filled in (its stages too)."""
    out = fill(TRAIN, train_cfg)
    out["stages"] = {name: stage(s) for name, s in (train_cfg.get("stages") or {}).items()}
    return out


def stage(stage_cfg: Mapping[str, Any]) -> dict[str, Any]:
    return fill(STAGE, stage_cfg)


def project(project_cfg: Mapping[str, Any]) -> dict[str, Any]:
    return fill(PROJECT, project_cfg)


def report(report_cfg: Mapping[str, Any] | None) -> dict[str, Any]:
    return fill(REPORT, report_cfg)


def cluster(cluster_cfg: Mapping[str, Any]) -> dict[str, Any]:
    return fill(CLUSTER, cluster_cfg)


def job(kind: str) -> dict[str, Any]:
    """What a job of a rule kind asks for when params.yaml's ``resources:`` say nothing."""
    return fill(RESOURCES["default"], RESOURCES.get(kind))


# --------------------------------------------------------------------------- run configs

ABSENT = object()  # what lookup() returns for a key that is not there


def lookup(cfg: Mapping[str, Any], dotted: str) -> Any:
    """The value at ``a.b.c`` (``None`` included), or :data:`ABSENT` when a part is missing."""
    node: Any = cfg
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return ABSENT
        node = node[part]
    return node


def run_value(cfg: Mapping[str, Any], dotted: str) -> Any:
    """A run config's value at ``dotted``: the config's own, else at the key's old place
    (:data:`MOVED`, with a deprecation message), else its default
    (:data:`RUN_CONFIG`). KeyError when the config lacks a key that has no default."""
    value = lookup(cfg, dotted)
    if value is not ABSENT:
        return value
    old = MOVED.get(dotted)
    if old is not None and (value := lookup(cfg, old)) is not ABSENT:
        log.warning(
            "run config key %r is deprecated: write %r (it is read all the same)", old, dotted
        )
        return value
    if dotted in RUN_CONFIG:
        return RUN_CONFIG[dotted]
    raise KeyError(dotted)


def at_old_places(cfg: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of a run config (or a params.yaml train: section) with every moved key
    (:data:`MOVED`) at its old place: the form a run's identity is hashed in, so identities
    recorded before a key moved still match."""
    return _moved(cfg, [(new, old) for new, old in MOVED.items()], moved_wins=True)


def at_new_places(cfg: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of a run config (or a params.yaml train: section) with every moved key at its new
    place; where both places are written, the new one's value is kept."""
    return _moved(cfg, [(old, new) for new, old in MOVED.items()], moved_wins=False)


def _moved(
    cfg: Mapping[str, Any] | None, moves: list[tuple[str, str]], moved_wins: bool
) -> dict[str, Any]:
    """``cfg`` with each (source, target) key moved; where both are written, the source's value
    (``moved_wins``) or the target's is kept: the new place's, either way."""
    out = copy.deepcopy(dict(cfg or {}))
    for source, target in moves:
        *parents, leaf = source.split(".")
        parent = lookup(out, ".".join(parents)) if parents else out
        if not isinstance(parent, dict) or leaf not in parent:
            continue
        value = parent.pop(leaf)
        if len(parents) == 1 and not parent:
            del out[parents[0]]  # the section held only moved keys
        *parents, leaf = target.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        if moved_wins or leaf not in node:
            node[leaf] = value
    return out
