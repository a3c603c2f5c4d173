"""``actionbench index``: a dataset's official annotation files -> one index table.

The first step of the data pipeline (docs/data.md): files in, files out, so a Snakemake rule or
DVC stage is one command line. The adapters are imported inside the handler.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from actionbench.cli.helptext import add_command


def _key_value(text: str) -> tuple[str, str | int]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, int(value) if value.isdigit() else value


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(
        subparsers,
        "index",
        help="turn a dataset's official annotation files into an index table",
        text="Run a dataset adapter: raw annotations + videos -> index.csv\n"
        "(video_id, video_path, split, label_name, ...) and index_failures.csv.",
        examples=[
            "actionbench index --format synthetic --raw-dir data/raw/synthetic "
            "--out data/interim/synthetic/index.csv "
            "--failures data/interim/synthetic/index_failures.csv",
        ],
    )
    p.add_argument(
        "--format", required=True, help="kinetics400, ssv2, mit, ucf101, hmdb51, jester, synthetic"
    )
    p.add_argument("--raw-dir", required=True, type=Path, help="folder holding the raw dataset")
    p.add_argument(
        "--annotations",
        nargs="*",
        default=[],
        type=_key_value,
        metavar="KEY=VALUE",
        help="format options, e.g. train_csv=kinetics400/train.csv or split=2 (see docs/data.md)",
    )
    p.add_argument("--out", required=True, type=Path, help="index CSV to write")
    p.add_argument("--failures", required=True, type=Path, help="CSV of skipped annotation rows")
    p.set_defaults(func=_index)


def _index(args: argparse.Namespace) -> int:
    from actionbench.data.adapters import build_index, write_index
    from actionbench.errors import DataError

    result = build_index(args.format, args.raw_dir, dict(args.annotations))
    write_index(result, args.out, args.failures)
    if result.index.empty:
        raise DataError(
            f"{args.format}: no usable videos in {args.raw_dir} "
            f"({len(result.failures)} row(s) failed, listed in {args.failures})"
        )
    return 0
