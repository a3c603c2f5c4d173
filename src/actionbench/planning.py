"""What the Snakefile checks and resolves before Snakemake plans a single job.

* params.yaml is read here, not by Snakemake's ``configfile:``, so a YAML syntax error names the
  file, line and column, and a schema error reads exactly like ``actionbench grid`` (key,
  problem) instead of a schema dump.
* ``--config key=value`` overrides are merged into the file's values and validated like them;
  when there are any, the merged params are written to ``RESOLVED_PARAMS`` and every job reads
  that file, so jobs run what Snakemake planned (without overrides jobs read params.yaml itself).
* an enabled experiment group whose dataset has neither raw files nor built lists is reported
  now, not as a failing job an hour later.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml

from actionbench.config import (
    dataset_refs,
    deep_merge,
    enabled_groups,
    find_schema,
    lists_dir,
    read_yaml,
    validate_params,
)
from actionbench.errors import DataError

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
