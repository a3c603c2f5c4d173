"""``actionbench profile``: parameters and GFLOPs (multiply-adds, one clip) of a model.

One model: ``--arch A --backbone B --frames F --num-classes N [--temporal-pooling] --json``
prints one JSON object on stdout (logs go to stderr). ``--layout reference|paper`` picks the
model layout (default: reference, the reference code's, whose counts match its published table). ``--table`` profiles every supported
(arch, backbone, temporal pooling) combination at that frame count, as a table on stdout,
``--json`` (a list) or ``--csv PATH``.
"""

from __future__ import annotations

import argparse
import json
import logging

from actionbench.cli.args import add_model, add_size, add_temporal_pooling
from actionbench.cli.helptext import add_command
from actionbench.spec import LAYOUTS, TAM_LOCATIONS

log = logging.getLogger(__name__)

FIELDS = (
    "model",
    "arch",
    "backbone",
    "temporal_pooling",
    "layout",
    "frames",
    "size",
    "params",
    "gflops",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "profile",
        help="count parameters and GFLOPs of a model (or of every model with --table)",
        text="Parameters and GFLOPs (billions of multiply-adds, one clip) of a model.\n"
        "One model with --json prints one JSON object on stdout (logs go to stderr);\n"
        "--table profiles every supported (arch, backbone, temporal pooling) at that\n"
        "frame count, as a table on stdout, a JSON list (--json) or a CSV (--csv PATH).",
        examples=[
            "actionbench profile --arch tam --backbone resnet50 --frames 8 --num-classes 174 "
            "--json",
            "actionbench profile --table --frames 8 --num-classes 174 --csv profile/f8.csv",
        ],
    )
    add_model(
        parser, arch_help="architecture, e.g. tsn, tam, i3d (see --table)", frames_required=True
    )
    parser.add_argument("--num-classes", type=int, required=True, help="classifier size")
    add_temporal_pooling(parser)
    parser.add_argument(
        "--tam-locations",
        default="all",
        choices=TAM_LOCATIONS,
        help="where temporal modules go (Table 6); tam/tsm/tconv only",
    )
    parser.add_argument(
        "--layout",
        default="reference",
        choices=LAYOUTS,
        help="the reference code's pools/strides/init/dropout (default) or section E's text",
    )
    add_size(parser)
    parser.add_argument(
        "--counter",
        default="flop_counter",
        choices=("flop_counter", "fvcore"),
        help="torch FlopCounterMode on the meta device (fast) or fvcore tracing (slow)",
    )
    parser.add_argument("--table", action="store_true", help="profile every supported model")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")
    out.add_argument("--csv", metavar="PATH", help="with --table: write the table as CSV")
    parser.set_defaults(func=run)


def _profile(
    args: argparse.Namespace, arch: str, backbone: str, temporal_pooling: bool, **options
) -> dict:
    """One model's counts at the command line's frames, classes, size, counter and layout."""
    from actionbench.measure.profiling import profile_model

    return profile_model(
        arch,
        backbone,
        args.frames,
        args.num_classes,
        temporal_pooling,
        size=args.size,
        counter=args.counter,
        layout=args.layout,
        **options,
    )


def run(args: argparse.Namespace) -> int:
    from actionbench.errors import ModelError

    if args.table:
        return _run_table(args)
    if not args.arch or not args.backbone:
        raise ModelError("profile needs --arch and --backbone (or --table)")
    if args.csv:
        raise ModelError("--csv is only for --table; use --json for one model")
    result = _profile(
        args, args.arch, args.backbone, args.temporal_pooling, tam_locations=args.tam_locations
    )
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['model']} ({result['layout']} layout) f={args.frames} {args.size}px: "
            f"{result['params']:,} params ({result['params'] / 1e6:.1f} M), "
            f"{result['gflops']:.1f} GFLOPs (multiply-adds, one clip)"
        )
    return 0


def _run_table(args: argparse.Namespace) -> int:
    from actionbench.models import list_models
    from actionbench.progress import Progress

    rows, too_short = [], []
    models = list_models()
    progress = Progress(len(models), "profiling", unit="model")
    for arch, backbone, tp in models:
        try:
            rows.append(_profile(args, arch, backbone, tp))
        except RuntimeError as err:  # a pooling window larger than what is left of the clip
            name = f"{arch}-{backbone}{'-tp' if tp else ''}"
            too_short.append(name)
            log.warning("%s cannot take %d frames at %d px (%s); left out", name, args.frames,
                        args.size, str(err).splitlines()[-1])  # fmt: skip
        progress.update()
    progress.close()
    if too_short:
        log.warning(
            "%d model(s) left out of the table, the clip is too short for their layout: %s",
            len(too_short),
            ", ".join(too_short),
        )
    if args.json:
        print(json.dumps(rows))
    elif args.csv:
        import csv
        from pathlib import Path

        Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
        with open(args.csv, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        log.info("wrote %d rows to %s", len(rows), args.csv)
    else:
        print(f"{'model':<24} {'params (M)':>10} {'GFLOPs':>9}")
        for r in rows:
            print(f"{r['model']:<24} {r['params'] / 1e6:>10.2f} {r['gflops']:>9.1f}")
    return 0
