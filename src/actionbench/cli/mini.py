"""``actionbench mini``: a mini dataset (a subset of the classes) from split lists (paper,
Table 11).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from actionbench.cli.args import add_list_settings
from actionbench.cli.helptext import add_command


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(
        subparsers,
        "mini",
        help="derive a mini dataset (class subset) from split lists",
        text="Keep a subset of the classes of train/val/classes lists. Modes: class_list\n"
        "(exact list or alias mini_ssv2/mini_kinetics400), seeded_half (a seeded half of\n"
        "the classes), all (every class).",
        examples=[
            "actionbench mini --lists-dir data/lists/synthetic --out-dir data/lists/mini-synthetic "
            "--mode seeded_half --unit-column family --strata-column group",
        ],
    )
    p.add_argument(
        "--lists-dir", required=True, type=Path, help="folder with train/val/classes.csv"
    )
    p.add_argument("--out-dir", required=True, type=Path, help="folder for the mini lists")
    p.add_argument(
        "--mode",
        required=True,
        choices=["class_list", "seeded_half", "all"],
        help="how the classes are chosen (see above)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of seeded_half (0)")
    p.add_argument(
        "--class-list", default=None, help="path or shipped alias (mini_ssv2, mini_kinetics400)"
    )
    p.add_argument(
        "--unit-column", default=None, help="classes sharing this column's value are drawn together"
    )
    p.add_argument(
        "--strata-column",
        default=None,
        help="draw half of the units within each value of this column",
    )
    add_list_settings(p)
    p.set_defaults(func=_mini)


def _mini(args: argparse.Namespace) -> int:
    from actionbench.data.lists import check_splits
    from actionbench.data.mini import make_mini
    from actionbench.planning import record_list_settings

    tables = make_mini(
        args.lists_dir,
        args.out_dir,
        mode=args.mode,
        seed=args.seed,
        class_list=args.class_list,
        unit_column=args.unit_column,
        strata_column=args.strata_column,
    )
    record_list_settings(args.params, args.out_dir.name, args.out_dir)
    check_splits(tables["train"], tables["val"], tables["classes"], args.out_dir.name)
    return 0
