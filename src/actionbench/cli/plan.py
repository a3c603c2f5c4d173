"""`actionbench plan`: GPU-hours, wall time and disk of the enabled grid, before submitting."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from actionbench.cli.args import add_params
from actionbench.cli.helptext import add_command


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "plan",
        help="what the enabled grid will cost: GPU-hours, wall time, disk",
        text="The cost of the enabled grid from the requests its jobs will make (the numbers\n"
        "`snakemake --profile slurm -n` shows): per run and per job kind GPUs and\n"
        "GPU-hours, the longest chain of dependent jobs, the wall time with the profile's\n"
        "`jobs:` limit on the cluster's GPUs, and disk for frames and checkpoints.",
        examples=[
            "actionbench plan --params params.yaml --profile slurm",
            "actionbench plan --totals --json",
        ],
    )
    add_params(p)
    p.add_argument(
        "--profile",
        default="slurm",
        help="Snakemake profile whose jobs: and group-components: apply (slurm)",
    )
    p.add_argument("--jobs", type=int, help="jobs at once (default: the profile's jobs:)")
    p.add_argument("--totals", action="store_true", help="leave out the per-run table")
    p.add_argument("--json", action="store_true", help="the plan as one JSON object")
    p.add_argument(
        "--write-profiles",
        metavar="FILE",
        help="(maintainers) write the model profile table for every group, enabled or not",
    )
    p.set_defaults(func=run)


def profile_settings(name: str, root: Path) -> tuple[int, int, int]:
    """(jobs, evaluations per group job, retries) of a profile folder under workflow/profiles."""
    import yaml

    from actionbench.errors import ConfigError

    path = root / "workflow" / "profiles" / name / "config.yaml"
    if not path.is_file():
        raise ConfigError(f"no Snakemake profile {path} (give --profile NAME or --jobs N)")
    cfg = yaml.safe_load(path.read_text()) or {}
    group = 1
    for item in cfg.get("group-components") or []:
        m = re.fullmatch(r"\s*evaluate\s*=\s*(\d+)\s*", str(item))
        if m:
            group = int(m.group(1))
    jobs = cfg.get("jobs")
    return (int(jobs) if str(jobs).isdigit() else 1), group, int(cfg.get("retries", 0))


def run(args: argparse.Namespace) -> int:
    from actionbench.cluster.plan import build_plan, render
    from actionbench.config import load_params

    params = load_params(args.params)
    if args.write_profiles:
        return _write_profiles(params, Path(args.write_profiles))
    jobs, group, retries = profile_settings(args.profile, Path(args.params).resolve().parent)
    plan = build_plan(params, args.jobs or jobs, group, retries)
    if args.json:
        print(json.dumps(plan.as_dict(), indent=1, sort_keys=True))
    else:
        print(render(plan, per_run=not args.totals))
    return 0


def _write_profiles(params: dict, path: Path) -> int:
    from actionbench.cluster.profiles import ModelKey, write_table
    from actionbench.config import expand_grid, run_protocol

    runs = expand_grid(params, include_disabled=True)
    keys = [ModelKey.of_run(run_protocol(params, rid, runs)) for rid in runs]
    rows = write_table(path, keys)
    print(f"wrote {path}: {len(rows)} models")
    return 0
