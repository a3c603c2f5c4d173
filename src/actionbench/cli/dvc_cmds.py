"""The DVC command group: ``actionbench dvc-metrics`` (the short numeric metrics file `dvc exp
show` opens on) and ``actionbench dvc-params`` (params.yaml in the form DVC writes back)."""

from __future__ import annotations

import argparse

from actionbench.cli.args import add_params
from actionbench.cli.helptext import add_command


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "dvc-metrics",
        help="write the short numeric metrics file DVC reads (top-1 per run, Phi/Psi)",
        text="Reduce the report's metrics.json to per-run clip/video top-1 and the Phi/Psi\n"
        "summary, all numbers, metric first, so `dvc exp show` opens on the results.",
        examples=[
            "actionbench dvc-metrics --report-metrics reports/metrics.json "
            "--out reports/dvc_metrics.json",
        ],
    )
    p.add_argument(
        "--report-metrics", default="reports/metrics.json", help="metrics.json of the report"
    )
    p.add_argument("--out", default="reports/dvc_metrics.json", help="file to write")
    p.set_defaults(func=run)

    q = add_command(
        sub,
        "dvc-params",
        help="check (or --write) params.yaml in the form DVC writes back after `dvc exp run -S`",
        text="`dvc exp run -S KEY=VALUE` writes params.yaml back with DVC's own YAML writer; a file\n"
        "not already in that form is rewritten wholesale. Without --write: exit 1 naming the\n"
        "first line DVC would rewrite. With --write: rewrite the file in that form (comments\n"
        "kept), so an experiment's diff is the lines of its keys.",
        examples=[
            "actionbench dvc-params --params params.yaml --write",
        ],
    )
    add_params(q, help="the params file DVC edits")
    q.add_argument("--write", action="store_true", help="rewrite it in DVC's form")
    q.set_defaults(func=run_params)


def run(args: argparse.Namespace) -> int:
    from actionbench.dvc_metrics import write_short_metrics

    write_short_metrics(args.report_metrics, args.out)
    return 0


def run_params(args: argparse.Namespace) -> int:
    from actionbench import dvc_params

    if args.write:
        changed = dvc_params.write(args.params)
        print(f"{args.params}: {'rewritten in' if changed else 'already in'} DVC's form")
        return 0
    dvc_params.check(args.params)  # ConfigError (exit 2) names the first differing line
    print(f"{args.params}: in DVC's form")
    return 0
