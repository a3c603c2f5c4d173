"""`actionbench report`: tables, figures and DVC metrics from the saved runs of the grid."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="build the HTML/Markdown report from saved evaluations")
    p.add_argument("--params", default="params.yaml")
    p.add_argument("--out-dir", default=None, help="default: project.reports_dir")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from actionbench.analysis.report import build_report
    from actionbench.config import load_params

    params = load_params(args.params)
    paths = build_report(params, args.out_dir or params["project"]["reports_dir"])
    print(f"report: {paths['html'].resolve()}")
    return 0
