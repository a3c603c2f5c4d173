"""``actionbench status``: every run of the grid as done / missing / stale / failed, and the cost.

Snakemake re-runs what params.yaml changes; it does not re-train when the code changes. This
command says which runs a code change (or a params edit, or a failure) leaves out of date and how
many jobs and hours bringing them up to date would take. Details: docs/reruns.md.
"""

from __future__ import annotations

import argparse
import json

from actionbench.cli.args import add_params
from actionbench.cli.helptext import add_command


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "status",
        help="list every run as done/missing/stale/failed and the cost of re-running",
        text="Compare each run of the enabled grid on disk with params.yaml and the checkout:\n"
        "done, missing, stale-by-params, stale-by-code or failed, and what re-running the\n"
        "ones not done would cost (jobs, hours from recorded step times).",
        examples=[
            "actionbench status --params params.yaml --only-todo",
        ],
    )
    add_params(p, help="params.yaml of the study")
    p.add_argument(
        "--benchmarks",
        default="logs/benchmarks",
        help="folder of Snakemake's benchmark TSVs (a fallback for recorded times)",
    )
    p.add_argument("--json", action="store_true", help="print JSON (runs and summary)")
    p.add_argument("--only-todo", action="store_true", help="list only runs that are not done")
    p.add_argument(
        "--check", action="store_true", help="exit with status 1 when any run is not done"
    )
    p.set_defaults(func=run)


def duration(seconds: float | None) -> str:
    """A re-run cost as people say it: minutes below an hour, hours (one decimal) above."""
    if seconds is None:
        return "?"
    if seconds < 60:
        return "<1 min"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def mlflow_line(params: dict) -> str | None:
    """Where `mlflow ui` shows the study's runs table, when its local store has the experiment."""
    from actionbench.config import expand_grid, run_protocol
    from actionbench.engine import tracking

    runs = list(expand_grid(params))
    if not runs:
        return None
    settings = {"tracking": run_protocol(params, runs[0])["tracking"]}  # as every job gets them
    link = tracking.ui_link(tracking.resolve_uri(settings), settings["tracking"]["experiment"])
    return None if link is None else f"MLflow runs table: run `mlflow ui`, then open {link}"


def run(args: argparse.Namespace) -> int:
    from actionbench.config import load_params
    from actionbench.status import as_json, grid_status, summary

    params = load_params(args.params)
    statuses = grid_status(params, bench_dir=args.benchmarks)
    if args.json:
        print(json.dumps(as_json(statuses), indent=2, default=str))
    else:
        shown = [s for s in statuses if s.state != "done"] if args.only_todo else statuses
        width = max([len(s.run_id) for s in shown] + [6])
        print(f"{'run':<{width}}  {'state':<15}  {'re-run':>8}  detail")
        for s in shown:
            cost = "" if s.state == "done" else duration(s.seconds)
            print(f"{s.run_id:<{width}}  {s.state:<15}  {cost:>8}  {s.detail}")
        total = summary(statuses)
        counts = ", ".join(f"{v} {k}" for k, v in total["counts"].items())
        print(f"\n{total['runs']} runs: {counts}")
        todo = total["train_jobs"] + total["eval_jobs"]
        if todo:
            jobs = f"re-running: {total['train_jobs']} train + {total['eval_jobs']} evaluate jobs"
            if total["without_estimate"] == sum(s.state != "done" for s in statuses):
                print(f"{jobs}; none has a recorded step time yet")
            else:
                note = (
                    f"; {total['without_estimate']} without a recorded time"
                    if total["without_estimate"]
                    else ""
                )
                print(
                    f"{jobs}, about {duration(total['hours'] * 3600)} of recorded step time{note}"
                )
            print("run `snakemake --profile local all` (stale-by-code runs: see docs/reruns.md)")
        line = mlflow_line(params)
        if line:
            print(line)
    not_done = any(s.state != "done" for s in statuses)
    return 1 if args.check and not_done else 0
