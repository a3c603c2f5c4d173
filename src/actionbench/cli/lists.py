"""``actionbench lists``: join an index with its extraction (or re-encode) tables into the
train/val/classes lists and the table of excluded videos.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from actionbench.cli.args import add_list_settings
from actionbench.cli.helptext import add_command


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(
        subparsers,
        "lists",
        help="join an index with extraction results into train/val/classes lists",
        text="Writes train.csv, val.csv, classes.csv and excluded.csv into --out-dir.",
        examples=[
            "actionbench lists --index data/interim/synthetic/index.csv "
            "--extracted extracted-0.csv extracted-1.csv "
            "--failures failed-0.csv failed-1.csv --out-dir data/lists/synthetic",
        ],
    )
    p.add_argument("--index", required=True, type=Path, help="index CSV the videos came from")
    # nargs="+" with "extend": one flag with every shard's table (as Snakemake expands a list)
    # or the flag repeated per shard both work.
    p.add_argument(
        "--extracted",
        required=True,
        type=Path,
        nargs="+",
        action="extend",
        help="extraction tables, one per shard",
    )
    p.add_argument(
        "--failures",
        type=Path,
        nargs="+",
        action="extend",
        default=[],
        help="extraction failure tables (give the reasons in excluded.csv)",
    )
    p.add_argument(
        "--index-failures",
        type=Path,
        default=None,
        help="the index command's skipped annotation rows (missing videos, malformed rows): "
        "listed in excluded.csv with their reason and counted in the summary",
    )
    p.add_argument(
        "--dataset", default=None, help="name in messages and summary.json (default: --out-dir's)"
    )

    p.add_argument("--out-dir", required=True, type=Path, help="folder for the four lists")
    add_list_settings(p)
    p.set_defaults(func=_lists)


def _lists(args: argparse.Namespace) -> int:
    from actionbench.data.ffmpeg_jobs import EXTRACTED_COLUMNS
    from actionbench.data.ffmpeg_jobs import FAILURE_COLUMNS as EXTRACT_FAILURES
    from actionbench.data.lists import (
        build_lists,
        check_splits,
        read_csv_table,
        summary_line,
        write_lists,
    )
    from actionbench.planning import record_list_settings

    index = read_csv_table(args.index, ["video_id", "video_path", "split", "label_name"])
    extracted = [read_csv_table(p, EXTRACTED_COLUMNS[:3]) for p in args.extracted]
    failures = [read_csv_table(p, EXTRACT_FAILURES) for p in args.failures] or None
    index_failures = (
        read_csv_table(args.index_failures, ["video_id", "reason"])
        if args.index_failures is not None
        else None
    )
    dataset = args.dataset or args.out_dir.name
    result = build_lists(index, extracted, failures, index_failures=index_failures, dataset=dataset)
    write_lists(result, args.out_dir)  # everything is written before any error below
    record_list_settings(args.params, dataset, args.out_dir)
    sys.stdout.write(summary_line(result.summary) + "\n")
    sys.stdout.flush()
    check_splits(result.train, result.val, result.classes, dataset)
    return 0
