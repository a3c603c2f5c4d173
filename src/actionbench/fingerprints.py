"""Fingerprints of what each job reads, so a params.yaml edit re-runs exactly the jobs it affects.

Snakemake re-runs a job when its ``params:`` change. If a train job's params were the run's whole
resolved config, renaming the MLflow experiment or changing ``evaluate.num_clips`` would re-train
every model. Each rule therefore gets the fingerprint of only what its command reads:

* train: the resolved run config minus evaluation, tracking and where/how-fast settings
  (:func:`protocol_digest`; it holds the protocol digest of the run it initialises from, so an
  f8 change reaches f16, f32, f64), with the digest of an ImageNet file
  (:func:`actionbench.identity.planned_fingerprint`);
* evaluate: the evaluation settings, the model's identity and its input pipeline.

The lists and checkpoints the jobs read are input files, which Snakemake checksums; the whole
identity of a run (:mod:`actionbench.identity`) is what the trainer's resume check and
``actionbench status`` compare. The report job's fingerprint (its settings, the runs it reads
and the groups' descriptions) needs params.yaml's experiment groups and so lives with the other
rule helpers, in :func:`actionbench.planning.report_fingerprint`.

The same functions compare what is recorded in ``runs/<id>/`` with the current params.yaml in
``actionbench status``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from actionbench import defaults

# Dotted keys of a resolved run config that do not change what training computes.
TRAIN_IGNORED = (
    "eval.num_clips",
    "eval.num_crops",
    "eval.batch_size",
    "tracking",
    "output_dir",
    "group",
    "num_classes",  # read from the class list, an input file
    "data.workers",
    "data.val_list",  # per-epoch validation only (history.csv); an input file anyway
    "data.eval_min_frames",  # which videos evaluation scores
    "runtime.device",
    "runtime.threads",
    "runtime.log_interval_s",
    "runtime.dist_timeout_s",
    "checkpoints",  # retention of set-aside checkpoints
)
# Keys the evaluation does not read: the training protocol (its result, final.pt, is an input).
EVAL_IGNORED = (
    "optim",
    "schedule",
    "init",
    "tracking",
    "output_dir",
    "group",
    "num_classes",
    "eval.val_every",
    "data.train_list",
    "data.flip",
    "data.workers",
    "runtime.device",
    "runtime.threads",
    "runtime.sync_bn",
    "runtime.log_interval_s",
    "runtime.dist_timeout_s",
    "checkpoints",
)


def digest(value: Any) -> str:
    """A short, stable hash of a JSON-serialisable value (sorted keys)."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _without(cfg: Mapping[str, Any], dotted_keys: tuple[str, ...]) -> dict:
    """``cfg`` less ``dotted_keys``, with moved keys at their old places
    (:func:`actionbench.defaults.at_old_places`): a key that moves changes no fingerprint."""
    out = defaults.at_old_places(cfg)
    for dotted in dotted_keys:
        *parents, last = dotted.split(".")
        node: Any = out
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    return out


def train_view(cfg: Mapping[str, Any]) -> dict:
    """The part of a resolved run config that defines the trained model."""
    return _without(cfg, TRAIN_IGNORED)


def eval_view(cfg: Mapping[str, Any]) -> dict:
    """The part of a resolved run config that defines its evaluation."""
    return _without(cfg, EVAL_IGNORED)


def protocol_digest(cfg: Mapping[str, Any]) -> str:
    """Digest of what a run config says about training: :func:`train_view`, which keeps
    ``init.source_fingerprint`` (the source run's own protocol digest), so it covers the chain."""
    return digest(train_view(cfg))


def eval_fingerprint(cfg: Mapping[str, Any]) -> str:
    return digest(eval_view(cfg))


def flatten(cfg: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}} -> {"a.b": 1}``: how params reach MLflow and how two settings are told
    apart key by key."""
    flat: dict[str, Any] = {}
    for key, value in cfg.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
