"""What the Snakefile checks and resolves before Snakemake plans a single job, and what its rules
read from params.yaml.

* params.yaml is read here, not by Snakemake's ``configfile:``, so a YAML syntax error names the
  file, line and column, and a schema error reads exactly like ``actionbench grid`` (key,
  problem) instead of a schema dump.
* ``--config key=value`` overrides are merged into the file's values and validated like them;
  when there are any, the merged params are written to ``RESOLVED_PARAMS`` and every job reads
  that file, so jobs run what Snakemake planned (without overrides jobs read params.yaml itself).
* an enabled experiment group whose dataset has neither raw files nor built lists is reported
  now, not as a failing job an hour later.
* the rules' file paths (from :mod:`actionbench.config`'s folder helpers), wildcard patterns,
  command-line flags, input functions and the report's fingerprint are the functions below, so
  the rule files hold no logic of their own and each piece is tested here.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from actionbench import defaults
from actionbench.config import (
    dataset_refs,
    dataset_storage,
    deep_merge,
    enabled_groups,
    find_schema,
    interim_dir,
    lists_dir,
    load_params,
    read_yaml,
    reencode_settings,
    validate_params,
)
from actionbench.errors import ConfigError, DataError
from actionbench.fingerprints import digest, flatten

RESOLVED_PARAMS = Path(".snakemake") / "actionbench" / "params.resolved.yaml"


def missing_raw_data(params: dict) -> list[str]:
    """One line per enabled group whose dataset has no raw files and no built lists yet."""
    refs = dataset_refs(params)
    problems = []
    for name, group in enabled_groups(params).items():
        ref = refs.get(group["dataset"])
        if ref is None:
            continue  # validate_params names an unknown dataset
        ds = params["datasets"][ref.base]
        if ds["format"] == "synthetic" or (lists_dir(group["dataset"]) / "train.csv").is_file():
            continue
        raw = Path(ds["raw_dir"])
        if not raw.is_dir() or not any(p.is_file() for p in raw.rglob("*")):
            problems.append(
                f"experiments.{name}: dataset {group['dataset']!r} has no raw files under "
                f"{raw}/ (put the {ds['format']} files there, see docs/data.md, or set "
                f"experiments.{name}.enabled: false)"
            )
    return problems


def write_if_changed(path: Path, text: str) -> None:
    """Atomic write, skipped when the content is already there (many jobs re-read the Snakefile)."""
    if path.is_file() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def typed_overrides(value):
    """``--config`` values with YAML types: Snakemake parses nested values as strings only.

    ``--config 'evaluate={num_clips: 3}'`` reaches the Snakefile as ``{"num_clips": "3"}``; read
    as YAML, as params.yaml would be, it is ``3``.
    """
    if isinstance(value, dict):
        return {k: typed_overrides(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed_overrides(v) for v in value]
    if isinstance(value, str):
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            return value
        if parsed is None or isinstance(parsed, (bool, int, float)):
            return parsed
    return value


def resolve_workflow_params(
    params_path: str | os.PathLike, overrides: dict | None
) -> tuple[dict, str]:
    """(validated params with ``--config`` overrides merged, the params file jobs must read)."""
    params_path = Path(params_path)
    from_file = read_yaml(params_path)
    overrides = typed_overrides(overrides or {})
    params = deep_merge(from_file, overrides)
    schema = yaml.safe_load(find_schema(params_path).read_text())
    source = f"{params_path} with --config overrides" if overrides else str(params_path)
    validate_params(params, schema, source=source)
    problems = synthetic_dir_problems(params)
    if problems:
        raise ConfigError(f"{source} is invalid:\n" + "\n".join(f"  {p}" for p in problems))
    problems = missing_raw_data(params)
    if problems:
        raise DataError(
            "no data for an enabled experiment group:\n" + "\n".join(f"  {p}" for p in problems)
        )
    if not overrides or params == from_file:
        return params, str(params_path)
    header = (
        f"# Written by the Snakefile: {params_path} with the --config overrides of the last\n"
        "# `snakemake` call. Jobs read this file; edit params.yaml, not this one.\n"
    )
    write_if_changed(RESOLVED_PARAMS, header + yaml.safe_dump(params, sort_keys=False))
    return params, str(RESOLVED_PARAMS)


def verbose_console() -> bool:
    """Let Snakemake's console show every job's shell command and reason (ACTIONBENCH_VERBOSE=1).

    The profiles keep the console to one line per job (``message:`` of each rule, ``quiet:
    [reason]``, no ``printshellcmds``); this turns both back on for the running Snakemake, as
    ``--printshellcmds`` and dropping ``--quiet reason`` would. Returns whether it could.
    """
    import logging

    try:
        from snakemake.settings.enums import Quietness
    except ImportError:  # pragma: no cover - only called from a Snakefile
        return False
    changed = False
    for handler in logging.getLogger("snakemake.logging").handlers:
        parts = [*handler.filters, handler.formatter]
        for part in parts:
            if hasattr(part, "printshellcmds"):
                part.printshellcmds = True
                changed = True
            quiet = getattr(part, "quiet", None)
            if isinstance(quiet, (set, list)) and Quietness.REASON in quiet:
                part.quiet = {q for q in quiet if q is not Quietness.REASON}
                changed = True
    return changed


# --------------------------------------------------------------------------- the data rules
# Each function takes the validated params (Snakemake's ``config``) and a dataset name; the rule
# files call them from one-line lambdas of the job's wildcards.


def _dataset(params: dict, base: str) -> dict:
    """A dataset's settings with the defaults filled in (:func:`actionbench.defaults.dataset`)."""
    return defaults.dataset(params["datasets"][base])


def name_pattern(names: Iterable[str]) -> str:
    """A wildcard constraint matching exactly these names (nothing at all when there are none)."""
    names = list(names)
    return "|".join(re.escape(n) for n in names) if names else "$^"


def synthetic_sets(params: dict) -> dict[str, Path]:
    """Name -> raw folder of every dataset ``actionbench synth`` renders."""
    return {
        name: Path(ds["raw_dir"])
        for name, ds in params["datasets"].items()
        if ds["format"] == "synthetic"
    }


def data_wildcards(params: dict) -> dict[str, str]:
    """The data rules' wildcard constraints: ``base``, ``mini`` and ``synth`` name datasets of
    params.yaml (``synth`` the synthetic ones), ``shard`` is a number."""
    refs = dataset_refs(params)
    return {
        "base": name_pattern(n for n, ref in refs.items() if not ref.is_mini),
        "mini": name_pattern(n for n, ref in refs.items() if ref.is_mini),
        "shard": r"[0-9]+",
        "synth": name_pattern(synthetic_sets(params)),
    }


def synthetic_dir_problems(params: dict) -> list[str]:
    """One line per synthetic set the synth rule cannot render. The rule is one wildcard rule,
    ``<folder>/{synth}/annotations.csv``, with its log named by the set: a set's raw_dir must be
    a folder named after it, and every synthetic set must sit in the same folder."""
    sets = synthetic_sets(params)
    problems = [
        f"datasets.{name}.raw_dir: {raw}: the workflow renders a synthetic set into a folder "
        f"named after it, inside another (e.g. data/raw/{name})"
        for name, raw in sets.items()
        if raw.name != name or not raw.parent.parts
    ]
    parents = sorted({str(raw.parent) for raw in sets.values()})
    if not problems and len(parents) > 1:
        where = ", ".join(f"datasets.{name}.raw_dir: {raw}" for name, raw in sets.items())
        problems.append(
            f"synthetic sets are rendered side by side in one folder, here {' and '.join(parents)} "
            f"({where}): give them the same parent folder"
        )
    return problems


def synth_pattern(params: dict, filename: str) -> str:
    """The synth rule's output pattern for one of its files, ``<folder>/{synth}/<filename>``
    (the folder every synthetic set sits in; :func:`synthetic_dir_problems` checks there is one)."""
    parents = {raw.parent for raw in synthetic_sets(params).values()}
    folder = parents.pop() if len(parents) == 1 else Path()
    return str(folder / "{synth}" / filename)


def synth_outputs(params: dict, base: str) -> list[str]:
    """What ``actionbench synth`` writes for a synthetic set (none for other formats)."""
    raw = synthetic_sets(params).get(base)
    return [] if raw is None else [str(raw / "annotations.csv"), str(raw / "classes.csv")]


def synth_settings(params: dict, name: str) -> str:
    """A synthetic set's ``synth:`` block as one stable string (the synth job's rerun trigger)."""
    return json.dumps(_dataset(params, name)["synth"], sort_keys=True)


def annotation_flags(params: dict, base: str) -> str:
    """``actionbench index``'s ``--annotations`` options (a dataset's ``annotations:``)."""
    items = _dataset(params, base).get("annotations") or {}
    if not items:
        return ""
    return "--annotations " + " ".join(f"'{k}={v}'" for k, v in sorted(items.items()))


def num_shards(params: dict, base: str) -> int:
    """How many extraction (or re-encode) jobs share a dataset's videos."""
    return _dataset(params, base)["extract"]["shards"]


def fps_flag(fps: float | None) -> str:
    return f"--fps {fps}" if fps else ""


def extract_options(params: dict, base: str) -> dict[str, Any]:
    """``actionbench extract``'s short side, JPEG quality and ``--fps`` flag (empty: every frame)."""
    extract = _dataset(params, base)["extract"]
    return {
        "short_side": extract["short_side"],
        "quality": extract["quality"],
        "fps": fps_flag(extract["fps"]),
    }


def reencode_options(params: dict, base: str) -> dict[str, Any]:
    """``actionbench reencode``'s options (:func:`actionbench.config.reencode_settings`); the
    rule writes the fps as :func:`fps_flag`."""
    return reencode_settings(_dataset(params, base))


def shard_tables(params: dict, base: str) -> list[str]:
    """The per-shard tables of a dataset's videos: extraction's (``storage: frames``) or the
    re-encode's (``storage: video``); both have the columns ``actionbench lists`` reads."""
    step = "reencode" if dataset_storage(_dataset(params, base)) == "video" else "extract"
    folder = interim_dir(base) / step
    return [str(folder / f"shard{i}.csv") for i in range(num_shards(params, base))]


def shard_failure_tables(params: dict, base: str) -> list[str]:
    """The failure table beside each of :func:`shard_tables`."""
    return [t[: -len(".csv")] + "_failures.csv" for t in shard_tables(params, base)]


def list_files(name: str) -> dict[str, str]:
    """A dataset's train, val and classes lists."""
    d = lists_dir(name)
    return {"train": f"{d}/train.csv", "val": f"{d}/val.csv", "classes": f"{d}/classes.csv"}


def mini_source(params: dict, mini: str) -> str:
    """The base dataset a mini dataset is drawn from."""
    return dataset_refs(params)[mini].base


def mini_flags(params: dict, mini: str) -> str:
    """``actionbench mini``'s options: mode and seed, and the class list and columns when set."""
    ds = _dataset(params, mini_source(params, mini))
    m = ds["mini"]
    flags = [f"--mode {m['mode']}", f"--seed {m['seed']}"]
    for key, flag in (
        ("class_list", "--class-list"),
        ("unit_column", "--unit-column"),
        ("strata_column", "--strata-column"),
    ):
        if m.get(key):
            flags.append(f"{flag} '{m[key]}'")
    return " ".join(flags)


def data_targets(params: dict) -> list[str]:
    """The lists of every dataset an enabled experiment group trains on (DVC's `data` stage)."""
    names = sorted({g["dataset"] for g in enabled_groups(params).values()})
    return [path for name in names for path in list_files(name).values()]


# What the lists hold: the settings recorded beside them (``settings.json``) and compared by
# ``actionbench status``, so a change of them is seen before the data stage re-runs.
LIST_SETTINGS_FILE = "settings.json"


def list_settings(params: dict, name: str) -> dict[str, Any]:
    """The settings of ``params`` that decide what a dataset's lists hold: its format, storage,
    annotation columns, the synthetic set's rendering and the frames' (or re-encoded videos')
    settings, and a mini set's draw. Not where things live (``raw_dir``) or how the work is
    split (shards, workers): changing those rebuilds the same lists."""
    ref = dataset_refs(params)[name]
    ds = _dataset(params, ref.base)
    video = ds["storage"] == "video"
    out: dict[str, Any] = {
        "dataset": ref.base,
        "format": ds["format"],
        "storage": ds["storage"],
        "annotations": ds.get("annotations") or {},
        "synth": ds.get("synth"),
        "frames": reencode_settings(ds)
        if video
        else {k: ds["extract"][k] for k in ("short_side", "quality", "fps")},
    }
    if ref.is_mini:
        out["mini"] = {k: v for k, v in ds["mini"].items() if k != "name"}
    return out


def list_settings_record(params: dict, name: str) -> dict[str, Any]:
    """What ``actionbench lists`` / ``mini`` write beside the lists they build."""
    settings = list_settings(params, name)
    return {"dataset": name, "digest": digest(settings), "settings": settings}


def record_list_settings(
    params_file: str | os.PathLike | None, name: str, out_dir: Path
) -> Path | None:
    """Write :func:`list_settings_record` into ``out_dir`` (the lists just built there); nothing
    without a params file (lists built by hand are not compared)."""
    if params_file is None:
        return None
    params = load_params(params_file)
    if name not in dataset_refs(params):
        raise ConfigError(f"{params_file}: no dataset {name!r} (the lists' name) to record")
    path = Path(out_dir) / LIST_SETTINGS_FILE
    path.write_text(json.dumps(list_settings_record(params, name), indent=2, sort_keys=True) + "\n")
    return path


def list_settings_changes(params: dict, name: str) -> list[str]:
    """The settings that changed since the lists of ``name`` were built (``key: old -> new``);
    empty when they did not, or when the lists carry no record (built by hand or before
    records existed: nothing to compare)."""
    path = lists_dir(name) / LIST_SETTINGS_FILE
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    now = list_settings_record(params, name)
    if recorded.get("digest") == now["digest"]:
        return []
    old, new = flatten(recorded.get("settings") or {}), flatten(now["settings"])
    changed = [f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in sorted(set(old) | set(new))
               if old.get(k) != new.get(k)]  # fmt: skip
    return changed or ["settings record of another version"]


# --------------------------------------------------------------------------- train and report


def train_inputs(run_cfg: Mapping[str, Any]) -> dict[str, str]:
    """The lists a run trains on and its initial weights (the validation list only feeds the
    per-epoch monitoring: editing it re-runs evaluation, not training)."""
    inputs = {k: v for k, v in list_files(run_cfg["dataset"]).items() if k != "val"}
    init = run_cfg["init"]
    if init["kind"] == "checkpoint" or (init["kind"] == "imagenet" and init["path"]):
        inputs["init"] = init["path"]
    return inputs


def report_fingerprint(params: dict, run_ids: Iterable[str]) -> str:
    """The report job's rerun trigger: the report settings, the runs it reads and the enabled
    groups' descriptions (not their protocols, tracking, paths or resources: where a job runs is
    not what the report shows)."""
    groups = {
        name: {
            k: v for k, v in group.items() if k not in ("enabled", "train", "evaluate", "resources")
        }
        for name, group in enabled_groups(params).items()
    }
    return digest({"report": params.get("report"), "runs": sorted(run_ids), "groups": groups})
