"""``actionbench import-checkpoint``: a reference-code checkpoint as an actionbench checkpoint.

``actionbench import-checkpoint K400-TAM-ResNet-50-f32.pth.tar --out weights/tam-r50-f32.pt``
reads a checkpoint saved by IBM/action-recognition-pytorch (its ``{"state_dict": ...}`` format
or a bare state dict), builds the matching actionbench model (``--layout reference`` by
default, the layout that computes the reference's function), maps every tensor
(``actionbench.models.weights.reference_checkpoint``) and writes ``{"model": state_dict, ...}``.
The model is read from the checkpoint's ``arch`` string and ``fc.weight`` where possible;
``--arch``/``--backbone``/``--frames``/``--num-classes``/``--temporal-pooling`` override.
Score it with ``actionbench evaluate --run RUN --checkpoint OUT`` on a run of the same model.
"""

from __future__ import annotations

import argparse
import logging

from actionbench.cli.helptext import add_command
from actionbench.spec import LAYOUTS

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "import-checkpoint",
        help="convert a checkpoint of the reference code (IBM/action-recognition-pytorch)",
        text='Read a checkpoint saved by IBM/action-recognition-pytorch (its {"state_dict": ...}\n'
        "format or a bare state dict), build the matching actionbench model (--layout\n"
        "reference by default: it computes the reference's function), map every tensor and\n"
        "write an actionbench checkpoint; a key that cannot be mapped is refused by name.\n"
        "The model comes from the file's arch string and fc.weight; the options override.\n"
        "Score it with `actionbench evaluate --run RUN --checkpoint OUT`.",
        examples=[
            "actionbench import-checkpoint K400-TAM-ResNet-50-f32.pth.tar --out weights/tam-r50.pt",
        ],
    )
    parser.add_argument("source", help="the reference checkpoint (.pth / .pth.tar)")
    parser.add_argument("--out", required=True, help="where to write the actionbench checkpoint")
    parser.add_argument("--arch", help="tsn, tam, tconv, i3d or s3d (default: from the file)")
    parser.add_argument("--backbone", help="inceptionv1, resnet18/50/101 (default: from the file)")
    parser.add_argument("--frames", type=int, help="frames per clip (default: from the file)")
    parser.add_argument("--num-classes", type=int, help="classes (default: fc.weight's rows)")
    parser.add_argument(
        "--temporal-pooling",
        choices=("auto", "yes", "no"),
        default="auto",
        help="the -tp variant (the reference's -ts); auto: from the file",
    )
    parser.add_argument(
        "--layout",
        default="reference",
        choices=LAYOUTS,
        help="layout of the model to load into (reference computes the reference's function)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from actionbench.engine.checkpoint import atomic_save
    from actionbench.errors import ModelError
    from actionbench.models import build_model
    from actionbench.models.weights.reference_checkpoint import (
        convert_state_dict,
        infer_model_args,
        num_classes_of,
        read_reference_checkpoint,
    )

    state, meta = read_reference_checkpoint(args.source)
    tp = {"auto": None, "yes": True, "no": False}[args.temporal_pooling]
    explicit = {
        "arch": args.arch,
        "backbone": args.backbone,
        "num_frames": args.frames,
        "temporal_pooling": tp,
    }
    spec: dict = {}
    if any(v is None for v in explicit.values()):
        if "arch" not in meta:
            missing = [k for k, v in explicit.items() if v is None]
            raise ModelError(
                f"{args.source} has no 'arch' string to read the model from; pass "
                + ", ".join(f"--{k.replace('num_', '').replace('_', '-')}" for k in missing)
            )
        spec = infer_model_args(str(meta["arch"]))
    spec.update({k: v for k, v in explicit.items() if v is not None})
    num_classes = args.num_classes or num_classes_of(state)
    model = build_model(
        spec["arch"],
        spec["backbone"],
        spec["num_frames"],
        num_classes,
        spec["temporal_pooling"],
        dropout=0.0,
        layout=args.layout,
    )
    converted = convert_state_dict(state, model)
    model.load_state_dict(converted)  # strict: proves the result fits
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    config = {k: v for k, v in model.config.items() if k != "dropout"}
    payload = {
        "model": {k: v.contiguous() for k, v in converted.items()},
        "model_config": config,
        "imported_from": {"path": str(args.source), **{k: str(v) for k, v in meta.items()}},
    }
    atomic_save(payload, out)
    log.info(
        "imported %s (%d tensors) as %s, %s layout -> %s",
        args.source,
        len(converted),
        config["name"],
        args.layout,
        out,
    )
    print(out)
    return 0
