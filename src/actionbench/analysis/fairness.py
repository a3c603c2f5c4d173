"""Protocol differences between compared runs: the paper's case for fair comparison (Section 3).

Most published gains mix a model change with a change of backbone, input frames, sampling,
pretraining, training length or evaluation protocol. Every run's protocol is reduced here to a
few comparable *factors*; whenever the report puts two runs side by side (a table row group, a
pair of bars, a pairwise test) the factors that differ, other than the one being studied, are
flagged next to the numbers, so a protocol gap is never read as a model gain.

The protocol is taken from what the run was trained with (its saved ``config.json``); a run
without one (not trained yet) falls back to what params.yaml gives it now. Facts are read from
the resolved config (``init.source_run``, ``layout``) and the run's ``train_metrics.json``
(``code.git_commit``), never recovered from file paths — except for configs written before
``init.source_run`` existed, whose ``init.path`` is still understood.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from actionbench import defaults
from actionbench.spec import DEFAULT_SAMPLING, checkpoint_run_id, init_source_run, parse_run_id

FACTORS: dict[str, str] = {
    "backbone": "backbone",
    "frames": "input frames",
    "sampling": "sampling",
    "pretraining": "pretraining",
    "weights": "pretrained weights file",
    "eval_protocol": "evaluation (clips x crops)",
    "epochs": "training epochs",
    "total_epochs": "epochs incl. initialisation",
    "input": "input size",
    "optimizer": "optimizer",
    "schedule": "lr schedule",
    "layout": "model layout / data protocol",
    "normalization": "input normalisation (mean / std)",
    "code": "code version (git commit)",
}

# Factors that follow from another one by construction: comparing two backbones necessarily
# compares two ImageNet weight files.
IMPLIED: dict[str, tuple[str, ...]] = {"backbone": ("weights", "normalization")}


def normalization(backbone: str | None) -> str:
    """The input normalisation the model of ``backbone`` declares (models/weights/normalization.py)."""
    from actionbench.errors import ModelError
    from actionbench.models.weights.normalization import input_normalization

    try:
        mean, std = input_normalization(str(backbone))
    except ModelError:
        return "unknown"

    def fmt(values) -> str:
        return ", ".join(f"{v:.3g}" for v in values)

    return f"({fmt(mean)}) / ({fmt(std)})"


def code_version(train_metrics: Mapping | None) -> str:
    """A run's code version from its train_metrics.json ``code`` record ("unknown" if absent)."""
    code = (train_metrics or {}).get("code") or {}
    commit = code.get("git_commit")
    if not commit:
        return "unknown"
    return str(commit)[:12] + (" (uncommitted changes)" if code.get("git_dirty") else "")


def _num(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _lineage(rid: str, configs: Mapping[str, dict | None], seen: frozenset = frozenset()):
    """(pretraining chain, weights file, epochs incl. initialisation or None if unknown)."""
    cfg = configs.get(rid)
    if cfg is None or rid in seen:
        return "unknown", "", None
    init = cfg.get("init") or {}
    kind = init.get("kind", "unknown")
    epochs = (cfg.get("schedule") or {}).get("epochs")
    if kind == "scratch":
        return "scratch", "", epochs
    if kind == "imagenet":
        path = init.get("path")
        inflation = init.get("inflation")
        weights = Path(path).name if path else "not set"
        if inflation and inflation != "copy":
            weights += f" ({inflation} inflation)"
        return "ImageNet", weights, epochs
    if kind == "checkpoint":
        src = init_source_run(init)
        if src is None:
            return f"checkpoint {init.get('path')}", "", None
        chain, weights, src_epochs = _lineage(src, configs, seen | {rid})
        own, other = parse_run_id(rid), parse_run_id(src)
        same_model = all(own[k] == other[k] for k in own if k != "frames")
        if same_model:
            step = f"f{other['frames']}"
        elif own["dataset"] != other["dataset"] and all(
            own[k] == other[k] for k in own if k not in ("frames", "dataset")
        ):
            step = f"{other['dataset']} f{other['frames']}"
        else:
            step = src
        if init.get("new_head"):
            step += " (new head)"
        total = None if src_epochs is None or epochs is None else src_epochs + epochs
        return f"{chain} → {step}", weights, total
    return kind, "", epochs


def protocol_record(
    rid: str,
    configs: Mapping[str, dict | None],
    eval_clips=None,
    eval_crops=None,
    trained_epochs=None,
    train_metrics: Mapping | None = None,
) -> dict[str, str]:
    """The comparable factors of one run (strings; "unknown" where no config exists).

    ``train_metrics``: the run's train_metrics.json (its ``code`` record gives the commit).
    """
    cfg = configs.get(rid)
    if cfg is None:
        return {f: "unknown" for f in FACTORS}
    chain, weights, total = _lineage(rid, configs)
    sampling = cfg.get("sampling", DEFAULT_SAMPLING)
    if sampling == "dense":
        sampling += f" (stride {cfg.get('dense_stride', defaults.GROUP['dense_stride'])})"
    ev = cfg.get("eval") or {}
    clips = eval_clips if eval_clips is not None else ev.get("num_clips")
    crops = eval_crops if eval_crops is not None else ev.get("num_crops")
    sched = cfg.get("schedule") or {}
    planned = sched.get("epochs")
    epochs = _num(planned)
    if trained_epochs is not None and planned is not None and int(trained_epochs) != int(planned):
        epochs += f" (trained {_num(trained_epochs)})"
    schedule = str(sched.get("name"))
    if sched.get("milestones"):
        schedule += f" {sched['milestones']}"
    if sched.get("warmup_epochs"):
        schedule += f", warmup {_num(sched['warmup_epochs'])}"
    optim = cfg.get("optim") or {}
    optimizer = (
        f"lr {_num(optim.get('lr'))}, batch {_num(optim.get('batch_size'))}, "
        f"wd {_num(optim.get('weight_decay'))}, momentum {_num(optim.get('momentum'))}"
    )
    if optim.get("lr_scaling"):
        optimizer += ", lr scaled"
    data = cfg.get("data") or {}
    return {
        "backbone": str(cfg.get("backbone")),
        "frames": _num(cfg.get("frames")),
        "sampling": sampling,
        "pretraining": chain,
        "weights": weights or "–",
        "eval_protocol": f"{_num(clips)}x{_num(crops)}",
        "epochs": epochs,
        "total_epochs": "unknown" if total is None else _num(total),
        "input": f"{_num(data.get('input_size'))}px (scale {_num(data.get('scale_size'))})",
        "optimizer": optimizer,
        "schedule": schedule,
        "layout": str(defaults.run_value(cfg, "layout")),
        "normalization": normalization(cfg.get("backbone")),
        "code": code_version(train_metrics),
    }


@dataclass(frozen=True)
class Difference:
    factor: str
    a: str
    b: str

    def __str__(self) -> str:
        return f"{FACTORS.get(self.factor, self.factor)}: {self.a} vs {self.b}"


def ignored_factors(studied: Iterable[str]) -> set[str]:
    """The studied factors plus the ones they imply (see ``IMPLIED``)."""
    out = set(studied)
    for factor in list(out):
        out.update(IMPLIED.get(factor, ()))
    return out


def differences(
    a: Mapping[str, str], b: Mapping[str, str], studied: Iterable[str] = ()
) -> list[Difference]:
    """Protocol factors on which two runs differ, except the studied ones."""
    skip = ignored_factors(studied)
    out = []
    for factor in FACTORS:
        if factor in skip:
            continue
        va, vb = a.get(factor, "unknown"), b.get(factor, "unknown")
        if va != vb:
            out.append(Difference(factor, va, vb))
    return out


@dataclass(frozen=True)
class Flag:
    """Within one group of compared runs, a factor that is not the same for all of them."""

    context: str
    factor: str
    values: dict[str, list[str]] = field(default_factory=dict)  # value -> run ids
    explanation: str = ""  # e.g. "follows the input frames" when it is the studied axis's doing

    def message(self) -> str:
        parts = "; ".join(f"{value} ({', '.join(rids)})" for value, rids in self.values.items())
        where = f"{self.context}: " if self.context else ""
        why = f" [{self.explanation}]" if self.explanation else ""
        return f"{where}{FACTORS.get(self.factor, self.factor)} differs{why} — {parts}"


def group_flags(
    protocols: Mapping[str, Mapping[str, str]],
    groups: Mapping[str, Iterable[str]],
    studied: Iterable[str] = (),
    short=lambda rid: rid,
    explained_by: Mapping[str, object] | None = None,
    explanation: str = "",
) -> list[Flag]:
    """Flags for every group of runs compared with each other (e.g. the cells of a table row).

    ``groups`` maps a readable context ("mini-ssv2, ResNet50, f=8") to the run ids compared
    there; ``studied`` are the factors the comparison is about (never flagged). With
    ``explained_by`` (run id -> e.g. its frame count), a factor whose value is a function of
    that attribute within the group is still flagged, annotated with ``explanation``.
    """
    skip = ignored_factors(studied)
    flags = []
    for context, rids in groups.items():
        rids = [r for r in rids if r in protocols]
        if len(rids) < 2:
            continue
        for factor in FACTORS:
            if factor in skip:
                continue
            by_value: dict[str, list[str]] = {}
            for rid in rids:
                by_value.setdefault(protocols[rid].get(factor, "unknown"), []).append(short(rid))
            if len(by_value) > 1:
                why = ""
                if explained_by is not None:
                    seen: dict[object, str] = {}
                    aligned = all(
                        seen.setdefault(explained_by.get(rid), protocols[rid].get(factor))
                        == protocols[rid].get(factor)
                        for rid in rids
                    )
                    why = explanation if aligned else ""
                flags.append(Flag(context, factor, by_value, why))
    return flags


def config_drift(saved: dict | None, current: dict | None) -> list[str]:
    """Settings where a run's saved config differs from what params.yaml says now (stale run).

    Keys that cannot change results (paths, worker/thread counts, tracking) are ignored.
    """
    if not saved or not current:
        return []
    # a key that moved is no drift: compare both at the new places
    saved, current = defaults.at_new_places(saved), defaults.at_new_places(current)
    ignore_prefixes = (
        "output_dir",
        "tracking",
        "num_classes",
        "data.workers",
        "runtime.threads",
        "runtime.device",
        "runtime.workers",
        "eval.batch_size",
        "eval.val_every",
    )

    def flat(d: dict, prefix: str = "") -> dict[str, object]:
        out: dict[str, object] = {}
        for k, v in d.items():
            key = f"{prefix}{k}"
            if isinstance(v, dict):
                out.update(flat(v, key + "."))
            else:
                out[key] = v
        return out

    a, b = flat(saved), flat(current)
    drift = []
    for key in sorted(set(a) | set(b)):
        if key.startswith(ignore_prefixes):
            continue
        va, vb = a.get(key), b.get(key)
        if (
            key == "init.path"
            and checkpoint_run_id(va)
            and checkpoint_run_id(va) == checkpoint_run_id(vb)
        ):
            continue  # the same source run under another runs_dir (legacy configs)
        if key == "init.path" and (
            a.get("init.source_run") and a.get("init.source_run") == b.get("init.source_run")
        ):
            continue  # the same source run; its path/fingerprint depend on where it was run
        if va != vb:
            drift.append(f"{key}: {a.get(key, '—')} (run) vs {b.get(key, '—')} (params.yaml)")
    return drift
