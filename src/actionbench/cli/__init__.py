"""The single `actionbench` entry point: every Snakemake rule and DVC stage calls it.

Each subcommand lives in its own module in this package and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` to a callable taking the parsed namespace and returning
an exit code. Heavy imports (torch, pandas) happen inside those callables so that ``--help`` and
argument errors stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# One module per subcommand; order is the order shown in --help.
SUBCOMMAND_MODULES = [
    "synth",
    "data_cmds",
    "train_cmds",
    "profile",
    "import_checkpoint",
    "benchmark",
    "report_cmds",
    "grid",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="actionbench",
        description="Train, evaluate and compare video action-recognition models.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(f"actionbench.cli.{name}")
        except ModuleNotFoundError as err:  # a subcommand module not written yet
            if err.name == f"actionbench.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from actionbench.errors import ActionbenchError

    try:
        return int(args.func(args) or 0)
    except ActionbenchError as err:
        logging.getLogger("actionbench").error("%s", err)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
