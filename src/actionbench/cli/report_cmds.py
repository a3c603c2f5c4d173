"""`actionbench report`: tables, figures, significance tests and DVC metrics from saved runs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from actionbench.cli.args import add_params
from actionbench.cli.helptext import add_command

# Written only by Snakemake's `report` rule; `rule all` needs it (see --mark-complete).
COMPLETE_MARKER = "complete.json"


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "report",
        help="build the HTML/Markdown report from saved evaluations",
        text="Read <runs_dir>/<run>/eval/* and train outputs of the grid (never trains), plus\n"
        "profile.csv / profile/*.csv and benchmarks/*.json in --inputs-dir when present;\n"
        "write index.html (findings first), report.md, metrics.json, results.csv,\n"
        "contributions.csv, pairwise.csv, tables/, plots/ and figures/ into --out-dir\n"
        "(docs/report.md).",
        examples=[
            "actionbench report --params params.yaml --out-dir reports",
        ],
    )
    add_params(p)
    p.add_argument(
        "--out-dir", default=None, help="where the report goes (default: project.reports_dir)"
    )
    p.add_argument(
        "--inputs-dir",
        default=None,
        help="where profile/benchmark results are read (default: --out-dir)",
    )
    p.add_argument(
        "--resamples",
        type=int,
        default=None,
        help="paired bootstrap resamples (default 1000, or report.significance)",
    )
    p.add_argument("--seed", type=int, default=None, help="bootstrap seed (default 0)")
    p.add_argument(
        "--alpha",
        type=float,
        default=None,
        help="significance level of the pairwise tests (default 0.05)",
    )
    p.add_argument(
        "--mark-complete",
        action="store_true",
        help="write <out-dir>/complete.json (Snakemake's report rule only: every run of the "
        "grid has been trained and evaluated); without it the file is removed, so a report "
        "built by hand or after a failure never passes for the finished study",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from actionbench.analysis.report import build_report
    from actionbench.config import load_params

    params = load_params(args.params)
    paths = build_report(
        params,
        args.out_dir or params["project"]["reports_dir"],
        params_path=args.params,
        inputs_dir=args.inputs_dir,
        resamples=args.resamples,
        seed=args.seed,
        alpha=args.alpha,
    )
    marker = Path(paths["html"]).parent / COMPLETE_MARKER
    if args.mark_complete:
        marker.write_text(json.dumps({"report": str(paths["html"]), "complete": True}) + "\n")
    else:
        marker.unlink(missing_ok=True)
    print(f"report: {paths['html'].resolve()}")
    return 0
