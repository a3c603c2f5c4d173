"""`actionbench report`: tables, figures, significance tests and DVC metrics from saved runs."""

from __future__ import annotations

import argparse

from actionbench.cli.helptext import description


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="build the HTML/Markdown report from saved evaluations",
        description=description(
            "Read <runs_dir>/<run>/eval/* and train outputs of the grid (never trains), plus\n"
            "profile.csv / profile/*.csv and benchmarks/*.json in --inputs-dir when present;\n"
            "write index.html (findings first), report.md, metrics.json, results.csv,\n"
            "contributions.csv, pairwise.csv, tables/, plots/ and figures/ into --out-dir\n"
            "(docs/report.md).",
            "actionbench report --params params.yaml --out-dir reports",
        ),
    )
    p.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
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
    print(f"report: {paths['html'].resolve()}")
    return 0
