"""`actionbench --help` and every subcommand's help: a summary, a description with an example,
help on every option, no reST markup; `--version` works. The subcommands are read from the
parser, so one added later is checked without editing this file."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest

from actionbench import __version__
from actionbench.cli import SUBCOMMAND_MODULES, build_parser

MARKUP = re.compile(r"``|:(func|class|meth|mod|ref):`|\.\. \w+::")


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def _commands() -> dict[str, tuple[argparse.ArgumentParser, str]]:
    sub = _subparsers(build_parser())
    summaries = {a.dest: a.help for a in sub._choices_actions}
    return {name: (p, summaries.get(name, "")) for name, p in sub.choices.items()}


COMMANDS = _commands()


def test_every_subcommand_module_registers_a_command():
    assert len(COMMANDS) >= len(SUBCOMMAND_MODULES)
    assert {"synth", "extract", "train", "evaluate", "profile", "benchmark", "report"} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_subcommand_help_is_complete(name, capsys):
    parser, summary = COMMANDS[name]
    assert summary and summary.strip(), f"{name}: no one-line summary in `actionbench --help`"
    assert "\n" not in summary.strip(), f"{name}: summary is not one line"
    desc = parser.description or ""
    assert desc.strip(), f"{name}: no description"
    assert re.search(r"examples?:\n  actionbench " + re.escape(name) + r"\b", desc), (
        f"{name}: description has no example command line"
    )
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        flag = "/".join(action.option_strings) or action.dest
        assert action.help and action.help.strip(), f"{name} {flag}: empty help text"
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert not MARKUP.search(text), f"{name} --help shows reST markup: {MARKUP.search(text)}"
    assert "example" in text


def _cli(*args: str) -> subprocess.CompletedProcess:
    code = "import sys; from actionbench.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)


def test_top_level_help_lists_every_command_and_version_works():
    out = _cli("--help")
    assert out.returncode == 0, out.stderr
    for name in COMMANDS:
        assert name in out.stdout
    version = _cli("--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"actionbench {__version__}"


def test_a_listed_module_that_fails_to_import_is_an_error(monkeypatch):
    import actionbench.cli as cli

    monkeypatch.setattr(cli, "SUBCOMMAND_MODULES", [*SUBCOMMAND_MODULES, "no_such_module"])
    with pytest.raises(ModuleNotFoundError, match="no_such_module"):
        cli.build_parser()


def _choices(command: str, flag: str) -> tuple:
    parser, _ = COMMANDS[command]
    action = next(a for a in parser._actions if flag in a.option_strings)
    return tuple(action.choices)


@pytest.mark.parametrize(
    ("command", "flag", "where", "name"),
    [
        ("benchmark", "--amp", "actionbench.engine.runtime", "AMP_CHOICES"),
        ("benchmark", "--temporal-path", "actionbench.models.temporal.path", "PATHS"),
        ("mini", "--mode", "actionbench.data.mini", "MODES"),
    ],
)
def test_choices_spelled_in_the_cli_equal_the_modules(command, flag, where, name):
    """These options list their choices where the parser is built, because the modules that own
    them import torch or pandas and `actionbench --help` must not; this keeps the two equal."""
    import importlib

    assert _choices(command, flag) == tuple(getattr(importlib.import_module(where), name))


def test_building_the_parser_imports_neither_torch_nor_pandas():
    code = (
        "import sys; from actionbench.cli import build_parser; build_parser();"
        "print(sorted({'torch', 'pandas', 'numpy'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
