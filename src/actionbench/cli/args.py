"""Options that several subcommands take, each spelled once: its flag, type, default and usual
help text, so that ``--params`` or ``--size`` mean and read the same in every command.

A command whose option says something more about itself (``status``'s ``--params`` is "the
study's") passes its own ``help``; the flag, type and default stay the ones written here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from actionbench.defaults import DATASET


def add_params(
    p: argparse.ArgumentParser, help: str = "params file (default: params.yaml)"
) -> None:
    """``--params``: the study's params.yaml, ``params.yaml`` in the working folder by default."""
    p.add_argument("--params", default="params.yaml", help=help)


def add_model(p: argparse.ArgumentParser, arch_help: str, frames_required: bool = False) -> None:
    """``--arch``, ``--backbone`` and ``--frames``: which model, at how many frames a clip."""
    p.add_argument("--arch", help=arch_help)
    p.add_argument("--backbone", help="inceptionv1, resnet18, resnet50 or resnet101")
    p.add_argument("--frames", type=int, required=frames_required, help="frames per clip")


def add_temporal_pooling(p: argparse.ArgumentParser) -> None:
    """``--temporal-pooling``: the model's -tp variant."""
    p.add_argument("--temporal-pooling", action="store_true", help="the -tp variant")


def add_size(p: argparse.ArgumentParser) -> None:
    """``--size``: the side of the square frames a model is measured on (the dataset default)."""
    p.add_argument(
        "--size",
        type=int,
        default=DATASET["input_size"],
        help="frame height = width (%(default)s)",
    )


def add_list_settings(p: argparse.ArgumentParser) -> None:
    """``--params`` of the commands that build lists (``lists``, ``mini``): optional, for the
    settings recorded beside them (:func:`actionbench.planning.record_list_settings`)."""
    p.add_argument(
        "--params",
        type=Path,
        default=None,
        help="params.yaml whose settings of this dataset are recorded beside the lists "
        "(settings.json: actionbench status compares them with later settings)",
    )
