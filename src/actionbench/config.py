"""Load and validate params.yaml, expand the experiment grid and resolve one run's config.

params.yaml is the project's single source of truth. It is validated once, against
``workflow/schemas/params.schema.yaml`` (the same schema Snakemake validates with), plus the
cross-key checks a JSON schema cannot express. Everything downstream receives plain values:
a run's resolved config is a JSON-serialisable dict, the engine never reads params.yaml.
"""

from __future__ import annotations

import importlib.resources
import itertools
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from actionbench import defaults
from actionbench.errors import ConfigError
from actionbench.fingerprints import protocol_digest
from actionbench.spec import FRAME_STAGES, RunSpec, parse_run_id, previous_stage

log = logging.getLogger(__name__)

SCHEMA_RELPATH = Path("workflow") / "schemas" / "params.schema.yaml"

# --------------------------------------------------------------------------- loading


def packaged_schema() -> Path:
    """The schema shipped inside the package (``actionbench/resources``, a link to
    ``workflow/schemas`` in a checkout, a copy in a built wheel)."""
    return Path(str(importlib.resources.files("actionbench") / "resources" / SCHEMA_RELPATH.name))


def find_schema(params_path: Path) -> Path:
    """The schema next to params.yaml (repo root), else the packaged one; ACTIONBENCH_SCHEMA
    overrides both."""
    env = os.environ.get("ACTIONBENCH_SCHEMA")
    if env:
        if not Path(env).is_file():
            raise ConfigError(f"ACTIONBENCH_SCHEMA={env}: no such file")
        return Path(env)
    candidates = [params_path.resolve().parent / SCHEMA_RELPATH, Path.cwd() / SCHEMA_RELPATH]
    candidates.append(packaged_schema())
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"cannot find the params schema ({SCHEMA_RELPATH}) next to {params_path} nor in the "
        "installed package; run from the repository root or set ACTIONBENCH_SCHEMA"
    )


def _key_path(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top level>"


def validate_params(params: dict, schema: dict, source: str = "params.yaml") -> None:
    """Schema + cross-key validation; raises ConfigError naming every offending key, and logs a
    deprecation message naming the new key for each deprecated one (still read)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(params), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for err in errors[:20]:
            where = _key_path(err.absolute_path)
            msg = err.message
            if err.validator == "additionalProperties":
                msg = f"unknown key: {msg}"
            lines.append(f"  {where}: {msg}")
        raise ConfigError(f"{source} is invalid:\n" + "\n".join(lines))
    _check_semantics(params, source)
    for old, new, _ in deprecated_keys(params):
        log.warning("%s: %s is deprecated: write %s (it is read all the same)", source, old, new)


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A key written twice in one YAML mapping (``first``: where it was written first)."""

    def __init__(self, key: str, where: str, first: yaml.Mark, second: yaml.Mark):
        super().__init__(problem=f"duplicate key {key!r}", problem_mark=second)
        self.key, self.where, self.first = key, where, first


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader that refuses a key written twice in one mapping.

    Plain PyYAML keeps the last value: a second ``archs:`` in an experiment group would silently
    replace the first and runs would vanish from the grid. Keys brought in by a merge key
    (``<<: *anchor``) may be overridden by the mapping's own keys, as YAML intends; anchors and
    aliases work as usual.
    """

    def construct_document(self, node: yaml.Node) -> Any:
        self._check_keys(node, "", set())
        return super().construct_document(node)

    def _check_keys(self, node: yaml.Node, where: str, seen: set[int]) -> None:
        if id(node) in seen:  # an alias of a node already checked
            return
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._check_keys(item, f"{where}[{i}]", seen)
        elif isinstance(node, yaml.MappingNode):
            first: dict[str, yaml.Mark] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self._check_keys(value_node, where, seen)
                    continue
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
                if key in first:
                    raise DuplicateKeyError(key, where, first[key], key_node.start_mark)
                first[key] = key_node.start_mark
                self._check_keys(value_node, f"{where}.{key}" if where else str(key), seen)


def read_yaml(path: str | os.PathLike) -> dict:
    """A YAML mapping; a syntax error names the file, line and column (1-based), a key written
    twice in one mapping names both lines."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"params file not found: {path}")
    try:
        data = yaml.load(path.read_text(), Loader=UniqueKeyLoader)
    except DuplicateKeyError as err:
        second, first = err.problem_mark, err.first
        inside = f" in {err.where}" if err.where else " at the top level"
        raise ConfigError(
            f"{path}:{second.line + 1}:{second.column + 1}: duplicate key {err.key!r}{inside} "
            f"(first written at {path}:{first.line + 1}:{first.column + 1}); YAML would keep "
            "only the second: merge the two or delete one"
        ) from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"{where}: not valid YAML: {problem}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def load_params(path: str | os.PathLike = "params.yaml") -> dict:
    """Read, validate and return params.yaml as a plain dict."""
    path = Path(path)
    params = read_yaml(path)
    schema = yaml.safe_load(find_schema(path).read_text())
    validate_params(params, schema, source=str(path))
    return params


# --------------------------------------------------------------------------- datasets


@dataclass(frozen=True)
class DatasetRef:
    """A trainable dataset name: a base dataset, or the mini version derived from one."""

    name: str
    base: str
    is_mini: bool


def dataset_refs(params: dict) -> dict[str, DatasetRef]:
    refs: dict[str, DatasetRef] = {}
    for base, cfg in params["datasets"].items():
        refs[base] = DatasetRef(base, base, False)
        mini = cfg.get("mini")
        if mini:
            refs[mini["name"]] = DatasetRef(mini["name"], base, True)
    return refs


def lists_dir(name: str) -> Path:
    return Path("data") / "lists" / name


def frames_root(base: str) -> Path:
    return Path("data") / "frames" / base


def interim_dir(base: str) -> Path:
    return Path("data") / "interim" / base


def videos_root(base: str) -> Path:
    """Where ``storage: video`` keeps a dataset's re-encoded videos (``<video_id>.mp4``)."""
    return Path("data") / "videos" / base


# --------------------------------------------------------------------------- grid


# A group's train:/evaluate: merge over the top-level ones as values fill defaults.
deep_merge = defaults.fill


def enabled_groups(params: dict) -> dict[str, dict]:
    """The experiment groups that run (``enabled`` unset counts as enabled, as
    :data:`actionbench.defaults.GROUP` says): the one filter the grid, the checks, the data
    rules and the report's fingerprint use."""
    return {n: g for n, g in params["experiments"].items() if defaults.group(g)["enabled"]}


def group_protocol(params: dict, group: dict) -> tuple[dict, dict]:
    """The train/evaluate sections as they apply to one experiment group: the group's over the
    top-level ones, key by key, then the defaults (:func:`actionbench.defaults.train`), so a
    stage's defaults apply after the group's stage is merged. A deprecated key (``optim.dropout``)
    is read at its new place (``model.dropout``) in each section before the merge."""
    merged = deep_merge(
        defaults.at_new_places(params["train"]), defaults.at_new_places(group.get("train"))
    )
    return defaults.train(merged), deep_merge(params["evaluate"], group.get("evaluate"))


def deprecated_keys(params: dict) -> list[tuple[str, str, bool]]:
    """(old key, new key, whether the new key is written too) for every deprecated key
    (:data:`actionbench.defaults.MOVED`) in params.yaml's train: sections."""
    sections = [("train", params.get("train"))] + [
        (f"experiments.{name}.train", group.get("train"))
        for name, group in (params.get("experiments") or {}).items()
    ]
    found = []
    for where, section in sections:
        for new, old in defaults.MOVED.items():
            if defaults.lookup(section or {}, old) is not defaults.ABSENT:
                both = defaults.lookup(section, new) is not defaults.ABSENT
                found.append((f"{where}.{old}", f"{where}.{new}", both))
    return found


def _group_specs(name: str, group: dict) -> list[RunSpec]:
    group = defaults.group(group)
    specs = []
    for arch, backbone, tp, frames, sampling, tamloc, layout in itertools.product(
        group["archs"],
        group["backbones"],
        group["temporal_pooling"],
        group["frames"],
        group["sampling"],
        group["tam_locations"],
        group["layout"],
    ):
        if arch != "tam" and tamloc != "all":
            continue  # TAM locations (Table 6) only vary TAM models
        specs.append(
            RunSpec(
                group["dataset"], arch, backbone, tp, frames, sampling, tamloc, name, layout=layout
            )
        )
    return specs


def expand_grid(params: dict, include_disabled: bool = False) -> dict[str, RunSpec]:
    """All runs of the (enabled) experiment groups, plus their progressive-training ancestors.

    Keyed by run id, in a stable order. A run id that two groups would configure differently
    is an error: one id must mean one model.
    """
    groups = params["experiments"] if include_disabled else enabled_groups(params)
    runs: dict[str, RunSpec] = {}
    owner_cfg: dict[str, str] = {}
    for name, group in groups.items():
        train_cfg, eval_cfg = group_protocol(params, group)
        for spec in _group_specs(name, group):
            chain = [spec]
            current = spec
            while True:
                stage = train_cfg["stages"].get(f"f{current.frames}")
                if (stage or {}).get("init") != "previous":
                    break
                current = current.with_frames(previous_stage(current.frames), implicit=True)
                chain.append(current)
            for item in chain:
                fingerprint = json.dumps(
                    _protocol_fingerprint(train_cfg, eval_cfg, group, item.frames), sort_keys=True
                )
                rid = item.run_id
                if rid in runs:
                    if owner_cfg[rid] != fingerprint:
                        raise ConfigError(
                            f"experiments.{name}: run {rid} is also defined by experiments."
                            f"{runs[rid].group} with a different protocol; one run id must mean "
                            "one model (use a different dataset or drop the duplicate)"
                        )
                    if runs[rid].implicit and not item.implicit:
                        runs[rid] = item
                    continue
                runs[rid] = item
                owner_cfg[rid] = fingerprint
    return runs


def _protocol_fingerprint(train_cfg: dict, eval_cfg: dict, group: dict, frames: int) -> dict:
    """What makes two groups' versions of one run id the same model."""
    group = defaults.group(group)
    return {
        "optim": train_cfg.get("optim"),
        "model": train_cfg["model"],
        "stage": train_cfg["stages"].get(f"f{frames}"),
        "runtime": train_cfg["runtime"],
        "eval": eval_cfg,
        "input": [group["input_size"], group["scale_size"], group["dense_stride"]],
    }


# --------------------------------------------------------------------------- semantics


def _check_semantics(params: dict, source: str) -> None:
    refs = dataset_refs(params)
    problems: list[str] = []
    for base, cfg in params["datasets"].items():
        mini = cfg.get("mini")
        if mini and mini["name"] in params["datasets"]:
            problems.append(
                f"datasets.{base}.mini.name: {mini['name']!r} clashes with a dataset of that name"
            )
        if mini and mini["mode"] == "class_list" and not mini.get("class_list"):
            problems.append(f"datasets.{base}.mini.class_list: required when mode is class_list")
        if cfg["format"] == "synthetic" and "synth" not in cfg:
            problems.append(f"datasets.{base}.synth: required for format synthetic")
    enabled = enabled_groups(params)
    for old, new, both in deprecated_keys(params):
        if both:
            problems.append(f"{old} and {new} are both set: keep {new} only")
    for name, group in params["experiments"].items():
        where = f"experiments.{name}"
        if group["dataset"] not in refs:
            problems.append(
                f"{where}.dataset: unknown dataset {group['dataset']!r} "
                f"(known: {', '.join(sorted(refs))})"
            )
        if name not in enabled:
            continue
        train_cfg, eval_cfg = group_protocol(params, group)
        stages = train_cfg["stages"]
        for frames in group["frames"]:
            stage = stages.get(f"f{frames}")
            if stage is None:
                problems.append(f"{where}: no protocol for f{frames} (train.stages.f{frames})")
                continue
            for key in ("init", "epochs", "schedule"):
                if key not in stage:
                    problems.append(f"{where}: train.stages.f{frames}.{key} is required")
            schedule = stage.get("schedule")
            epochs = stage.get("epochs", 0)
            if schedule == "multistep":
                ms = stage["milestones"]
                if not ms:
                    problems.append(f"{where}: train.stages.f{frames}.milestones required")
                elif ms != sorted(ms) or ms[-1] >= epochs:
                    problems.append(
                        f"{where}: train.stages.f{frames}.milestones {ms} must increase and be "
                        f"< epochs ({epochs})"
                    )
            if stage.get("init") == "previous":
                if frames == FRAME_STAGES[0]:
                    problems.append(f"{where}: train.stages.f{frames}.init: previous needs f>8")
                elif f"f{previous_stage(frames)}" not in stages:
                    problems.append(
                        f"{where}: f{frames} starts from f{previous_stage(frames)}, "
                        f"which has no train.stages.f{previous_stage(frames)}"
                    )
            if stage.get("init") == "run" and not stage.get("from_run"):
                problems.append(
                    f"{where}: train.stages.f{frames}.from_run is required with init: run"
                )
            if stage.get("init") == "imagenet":
                for backbone in group["backbones"]:
                    path = (train_cfg.get("pretrained") or {}).get(backbone)
                    if not path:
                        problems.append(
                            f"{where}: f{frames} starts from ImageNet but "
                            f"train.pretrained.{backbone} is not set (give a local torchvision "
                            "state dict, or use init: scratch)"
                        )
        # what planning reads (the engine reads the rest of the protocol, and names what lacks)
        for section, keys, values in (
            ("train.optim", ("lr", "batch_size", "accum_steps"), train_cfg.get("optim") or {}),
            ("evaluate", ("num_clips", "num_crops", "batch_size"), eval_cfg),
        ):
            problems += [f"{where}: {section}.{k} is required" for k in keys if k not in values]
    from actionbench.job_resources import resource_problems  # no torch: resources: keys

    problems += resource_problems(params)
    if problems:
        raise ConfigError(f"{source} is invalid:\n" + "\n".join(f"  {p}" for p in problems))
    try:
        runs = expand_grid(params)
        for spec in runs.values():
            train_cfg, _ = group_protocol(params, _group_for(params, spec))
            stage = train_cfg["stages"].get(f"f{spec.frames}", {})
            if stage.get("init") == "run" and source_run(spec, stage) not in runs:
                problems.append(
                    f"experiments.{spec.group}: {spec.run_id} starts from run "
                    f"{source_run(spec, stage)!r}, which no enabled experiment group trains"
                )
    except ConfigError as err:
        raise ConfigError(f"{source} is invalid:\n  {err}") from err
    if problems:
        raise ConfigError(f"{source} is invalid:\n" + "\n".join(f"  {p}" for p in problems))


# --------------------------------------------------------------------------- resolution


def source_run(spec: RunSpec, stage: dict) -> str:
    """The run a stage with ``init: run`` starts from, its template filled for this run."""
    template = stage.get("from_run") or ""
    try:
        return template.format(
            model=spec.model_name,
            arch=spec.arch,
            backbone=spec.backbone,
            frames=spec.frames,
            dataset=spec.dataset,
        )
    except (KeyError, IndexError) as err:
        raise ConfigError(f"from_run {template!r}: unknown placeholder {err}") from err


def _group_for(params: dict, spec: RunSpec) -> dict:
    group = params["experiments"].get(spec.group)
    if group is None:
        raise ConfigError(f"run {spec.run_id}: experiment group {spec.group!r} not in params")
    return group


def run_spec(params: dict, run_id: str, runs: dict[str, RunSpec] | None = None) -> RunSpec:
    runs = expand_grid(params) if runs is None else runs
    if run_id not in runs:
        parse_run_id(run_id)  # a malformed id gets the format message
        raise ConfigError(
            f"run {run_id!r} is not in the experiment grid of params.yaml "
            "(see `actionbench grid --list`)"
        )
    return runs[run_id]


# Keys a group may set over its dataset's.
GROUP_INPUT_KEYS = ("input_size", "scale_size", "test_crop_size")


def run_protocol(params: dict, run_id: str, runs: dict[str, RunSpec] | None = None) -> dict:
    """Everything that defines a run except what is read from data files (for rerun triggers).

    ``runs`` is the already expanded grid, when the caller has it (Snakemake plans hundreds of
    jobs: expanding the grid once per job would make planning quadratic).
    """
    runs = expand_grid(params) if runs is None else runs
    spec = run_spec(params, run_id, runs)
    raw_group = _group_for(params, spec)
    group = defaults.group(raw_group)
    ref = dataset_refs(params)[spec.dataset]
    ds_cfg = defaults.dataset(params["datasets"][ref.base])
    project = defaults.project(params["project"])
    train_cfg, eval_cfg = group_protocol(params, raw_group)
    stage = train_cfg["stages"][f"f{spec.frames}"]
    optim = dict(train_cfg.get("optim") or {})
    if stage["lr"] is not None:
        optim["lr"] = stage["lr"]
    runtime = dict(train_cfg["runtime"])
    runs_dir = Path(project["runs_dir"])

    init_kind = stage["init"]
    init = {
        "kind": init_kind,
        "path": None,
        "inflation": train_cfg["inflation"],
        "new_head": bool(stage["new_head"]),
        "source_run": None,
        "source_fingerprint": None,
    }
    if init_kind in ("run", "previous"):
        if init_kind == "run":
            src = source_run(spec, stage)
        else:
            src = spec.with_frames(previous_stage(spec.frames), implicit=True).run_id
        init.update(
            kind="checkpoint",
            path=str(runs_dir / src / "final.pt"),
            source_run=src,
            # a report's sub-grid may lack a source trained by another group: use the full grid
            source_fingerprint=protocol_digest(
                run_protocol(params, src, runs if src in runs else None)
            ),
        )
    elif init_kind == "imagenet":
        init["path"] = train_cfg["pretrained"][spec.backbone]

    lists = lists_dir(spec.dataset)
    from actionbench.data.protocol import data_protocol  # pure: layout-dependent data defaults

    # a group's input sizes win over its dataset's
    sizes = {k: ds_cfg[k] if group[k] is None else group[k] for k in GROUP_INPUT_KEYS}
    input_size, scale_size = sizes["input_size"], sizes["scale_size"]
    data_defaults = data_protocol(
        spec.layout, ds_cfg["format"], {**ds_cfg, **sizes}, input_size, scale_size
    )
    return {
        "run_id": spec.run_id,
        "group": spec.group,
        "dataset": spec.dataset,
        "arch": spec.arch,
        "backbone": spec.backbone,
        "temporal_pooling": spec.temporal_pooling,
        "tam_locations": spec.tam_locations,
        "layout": spec.layout,
        "frames": spec.frames,
        "sampling": spec.sampling,
        "dense_stride": group["dense_stride"],
        "data": {
            "train_list": str(lists / "train.csv"),
            "val_list": str(lists / "val.csv"),
            "classes": str(lists / "classes.csv"),
            "input_size": input_size,
            "scale_size": scale_size,
            **data_defaults,  # flip, min_frames, test_crop_size
            "on_bad_frame": ds_cfg["on_bad_frame"],
            "workers": runtime.pop("workers"),
            **storage_settings(ds_cfg),
        },
        "init": init,
        "model": dict(train_cfg["model"]),
        "optim": optim,
        "schedule": {
            "name": stage["schedule"],
            "epochs": stage["epochs"],
            "milestones": list(stage["milestones"]),
            "gamma": stage["gamma"],
            "warmup_epochs": stage["warmup_epochs"],
            "warmup_start_lr": (
                optim["lr"] if stage["warmup_start_lr"] is None else stage["warmup_start_lr"]
            ),
            "min_lr": stage["min_lr"],
        },
        "eval": {**eval_cfg, "val_every": train_cfg["val_every"]},
        "runtime": runtime,
        "tracking": {
            "experiment": project["mlflow_experiment"],
            "tracking_uri": project["tracking_uri"],
        },
        "output_dir": str(runs_dir / spec.run_id),
        "checkpoints": {"keep_set_aside": project["keep_set_aside"]},
    }


def dataset_storage(ds_cfg: dict) -> str:
    """``frames`` (extracted JPEG folders, the default) or ``video`` (decode from video files)."""
    return defaults.dataset(ds_cfg)["storage"]


def storage_settings(ds_cfg: dict) -> dict:
    """The run config's storage keys: none in frames mode (so frames-mode run configs, and the
    jobs Snakemake plans from them, are unchanged), else storage, decoder and short_side."""
    ds_cfg = defaults.dataset(ds_cfg)
    if ds_cfg["storage"] != "video":
        return {}
    return {
        "storage": "video",
        "decoder": ds_cfg["decoder"],
        "short_side": ds_cfg["extract"]["short_side"],
    }


def reencode_settings(ds_cfg: dict) -> dict:
    """``actionbench reencode`` options of a dataset: extraction's short_side and fps (so both
    modes hold the same frames) and the ``reencode:`` block's gop and crf."""
    ds_cfg = defaults.dataset(ds_cfg)
    extract, reencode = ds_cfg["extract"], ds_cfg["reencode"]
    return {
        "short_side": extract["short_side"],
        "fps": extract["fps"],
        "gop": reencode["gop"],
        "crf": reencode["crf"],
    }


def count_classes(classes_csv: str | os.PathLike) -> int:
    path = Path(classes_csv)
    if not path.is_file():
        raise ConfigError(f"class table {path} does not exist yet: build the dataset lists first")
    with path.open() as fh:
        rows = [line for line in fh.read().splitlines()[1:] if line.strip()]
    if not rows:
        raise ConfigError(f"class table {path} has no classes")
    return len(rows)


def resolve_run(params_path: str | os.PathLike, run_id: str) -> dict:
    """The complete, resolved config of one run, as the engine receives it."""
    params = load_params(params_path)
    cfg = run_protocol(params, run_id)
    cfg["num_classes"] = count_classes(cfg["data"]["classes"])
    return cfg
