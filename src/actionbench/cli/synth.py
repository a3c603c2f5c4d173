"""`actionbench synth`: render the built-in synthetic dataset described in params.yaml."""

from __future__ import annotations

import argparse

from actionbench.cli.args import add_params
from actionbench.cli.helptext import add_command


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "synth",
        help="render the built-in synthetic dataset (real mp4s via ffmpeg)",
        text="Render the synthetic dataset of params.yaml (datasets.<name>.synth): videos whose\n"
        "temporal classes differ only in motion or order, spatial classes only in\n"
        "appearance, encoded to mp4 with ffmpeg, plus raw_dir/annotations.csv.",
        examples=[
            "actionbench synth --params params.yaml --dataset synthetic --workers 2",
        ],
    )
    add_params(p)
    p.add_argument("--dataset", default="synthetic", help="dataset key of format 'synthetic'")
    p.add_argument("--workers", type=int, default=None, help="parallel encoders (default: cores)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from actionbench.config import load_params
    from actionbench.data.synth import SynthConfig, generate
    from actionbench.errors import ConfigError

    params = load_params(args.params)
    ds = params["datasets"].get(args.dataset)
    if ds is None or ds["format"] != "synthetic":
        raise ConfigError(f"datasets.{args.dataset}: not a dataset of format 'synthetic'")
    generate(ds["raw_dir"], SynthConfig(**ds["synth"]), workers=args.workers)
    return 0
