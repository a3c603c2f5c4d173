"""The single `actionbench` entry point: every Snakemake rule and DVC stage calls it.

Each subcommand lives in its own module in this package (``train`` and ``evaluate``, which
resolve a run the same way, share ``train_cmds``) and exposes ``register(subparsers)``, which
adds its parser(s) with ``helptext.add_command`` (a one-line ``help`` and a ``description``
with an example) and sets ``func`` to a callable taking the parsed namespace and returning
an exit code. Heavy imports (torch, pandas) happen inside those callables so that ``--help`` and
argument errors stay fast. Three modules are not commands: ``helptext`` (how help reads),
``args`` (options several commands take, each spelled once) and ``ffmpeg_options`` (the
options ``extract`` and ``reencode`` share, ``benchmark-data``'s ``--short-side`` too).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

# One module per subcommand; order is the order shown in --help.
SUBCOMMAND_MODULES = [
    "synth",
    "index",
    "extract",
    "lists",
    "mini",
    "benchmark_data",
    "reencode",
    "train_cmds",
    "profile",
    "import_checkpoint",
    "benchmark",
    "report_cmds",
    "grid",
    "plan",
    "launch",
    "status",
    "dvc_cmds",
]


def build_parser() -> argparse.ArgumentParser:
    from actionbench import __version__
    from actionbench.cli.helptext import Parser

    parser = argparse.ArgumentParser(
        prog="actionbench",
        description="Train, evaluate and compare video action-recognition models.\n\n"
        "Every Snakemake rule and DVC stage calls one of these subcommands;\n"
        "actionbench COMMAND --help describes one, with an example.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}", help="print the version"
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )
    for name in SUBCOMMAND_MODULES:
        # a listed module that does not import is a broken install: fail loudly, never hide it
        importlib.import_module(f"actionbench.cli.{name}").register(sub)
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
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # here, not at exit: a reader that left is seen below
        return code
    except ActionbenchError as err:
        logging.getLogger("actionbench").error("%s", err)
        return 2
    except BrokenPipeError:
        # the reader left (`actionbench status | head`): stop quietly, as other Unix tools do;
        # stdout goes to /dev/null so the interpreter's final flush cannot fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for such a writer


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
