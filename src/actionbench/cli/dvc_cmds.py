"""``actionbench dvc-metrics``: the short numeric metrics file DVC shows (``dvc exp show``)."""

from __future__ import annotations

import argparse

from actionbench.cli.helptext import description


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dvc-metrics",
        help="write the short numeric metrics file DVC reads (top-1 per run, Phi/Psi)",
        description=description(
            "Reduce the report's metrics.json to per-run clip/video top-1 and the Phi/Psi\n"
            "summary, all numbers, metric first, so `dvc exp show` opens on the results.",
            "actionbench dvc-metrics --report-metrics reports/metrics.json "
            "--out reports/dvc_metrics.json",
        ),
    )
    p.add_argument(
        "--report-metrics", default="reports/metrics.json", help="metrics.json of the report"
    )
    p.add_argument("--out", default="reports/dvc_metrics.json", help="file to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from actionbench.dvc_metrics import write_short_metrics

    write_short_metrics(args.report_metrics, args.out)
    return 0
