"""Help-text conventions shared by every subcommand, so ``actionbench X --help`` reads alike.

Every subcommand's parser is added by :func:`add_command`, with a one-line ``help`` (shown in
``actionbench --help``) and a ``description`` built by :func:`description`: what the command
does, then one or more example command lines. Descriptions keep their line breaks (the
subcommand parsers use ``RawDescriptionHelpFormatter``), so they are written as plain text,
never reST markup.
Every example must run as printed, in a project whose params.yaml holds the shipped demo grid
(tests/test_help_examples.py runs them all); :func:`read_examples` reads them back.
"""

from __future__ import annotations

import argparse


class Parser(argparse.ArgumentParser):
    """The parser class of every subcommand: descriptions and examples keep their layout."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)


def description(text: str, *examples: str) -> str:
    """``text`` followed by an "example:" block with one command line per entry."""
    if not examples:
        raise ValueError("a subcommand description needs at least one example")
    label = "example:" if len(examples) == 1 else "examples:"
    return text.strip() + f"\n\n{label}\n" + "\n".join(f"  {e}" for e in examples)


def add_command(
    subparsers: argparse._SubParsersAction,
    name: str,
    help: str,
    text: str,
    examples: list[str],
) -> argparse.ArgumentParser:
    """The parser of subcommand ``name``: ``help`` is its line in ``actionbench --help``,
    ``text`` and ``examples`` its :func:`description`."""
    return subparsers.add_parser(name, help=help, description=description(text, *examples))


def read_examples(text: str) -> list[str]:
    """The example command lines of a :func:`description`, as written."""
    _, sep, block = text.rpartition("\n\nexample")
    if not sep:
        return []
    return [line.strip() for line in block.splitlines()[1:] if line.startswith("  actionbench ")]
