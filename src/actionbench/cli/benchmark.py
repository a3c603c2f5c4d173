"""``actionbench benchmark``: time per training / inference step, throughput and peak memory
of one model on random clips (and, on a GPU, the largest batch that fits: Table 8).

Example: ``actionbench benchmark --arch tam --backbone resnet50 --frames 8 --batch-size 2
--mode train --device cpu --json``.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from actionbench.cli.helptext import description

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "benchmark",
        help="measure step time, throughput and memory of a model",
        description=description(
            "Time per training / inference step, throughput and peak memory of one model on\n"
            "random clips (and, on a GPU, the largest batch that fits): the paper's Table 8.",
            "actionbench benchmark --arch tam --backbone resnet50 --frames 8 --batch-size 2 "
            "--mode train --device cpu --json",
        ),
    )
    parser.add_argument("--arch", required=True, help="architecture, e.g. tsn, tam, i3d")
    parser.add_argument(
        "--backbone", required=True, help="inceptionv1, resnet18, resnet50 or resnet101"
    )
    parser.add_argument("--frames", type=int, required=True, help="frames per clip")
    parser.add_argument("--batch-size", type=int, required=True, help="clips per step")
    parser.add_argument("--num-classes", type=int, default=87, help="classifier size (87)")
    parser.add_argument("--temporal-pooling", action="store_true", help="the -tp variant")
    parser.add_argument("--size", type=int, default=224, help="frame height = width (224)")
    parser.add_argument(
        "--mode",
        choices=("train", "inference", "both"),
        default="train",
        help="time training steps (forward + backward + update), inference, or both (train)",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first (1)")
    parser.add_argument("--iters", type=int, default=3, help="timed steps (3)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument(
        "--tune-malloc",
        action="store_true",
        help="CPU: keep freed memory in glibc's heap (no per-step page faults), see docs",
    )
    parser.add_argument(
        "--max-batch", action="store_true", help="GPU: also search the largest batch that fits"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--out", metavar="FILE", help="also write the JSON result to FILE")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from actionbench.models import build_model
    from actionbench.models.benchmark import (
        benchmark_model,
        configure_cpu_allocator,
        max_batch_size,
    )

    if args.threads:
        torch.set_num_threads(args.threads)
    tuned = configure_cpu_allocator() if args.tune_malloc else False
    modes = ("train", "inference") if args.mode == "both" else (args.mode,)

    def fresh():
        return build_model(
            args.arch, args.backbone, args.frames, args.num_classes, args.temporal_pooling
        )

    result = {
        "arch": args.arch,
        "backbone": args.backbone,
        "temporal_pooling": args.temporal_pooling,
        "frames": args.frames,
        "num_classes": args.num_classes,
        "device": args.device,
        "malloc_tuned": tuned,
        "torch": torch.__version__,
    }
    for mode in modes:
        log.info("benchmarking %s-%s %s on %s", args.arch, args.backbone, mode, args.device)
        result[mode] = benchmark_model(
            fresh(),
            args.batch_size,
            args.frames,
            args.size,
            args.device,
            mode,
            args.warmup,
            args.iters,
        )
        if args.max_batch:
            result[mode]["max_batch_size"] = max_batch_size(
                fresh(), args.frames, args.size, args.device, mode
            )
    text = json.dumps(result, indent=None if args.json else 2)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        log.info("wrote %s", args.out)
    if args.json:
        print(text)
    else:
        for mode in modes:
            r = result[mode]
            line = (
                f"{args.arch}-{args.backbone} {mode}: {r['step_ms']:.0f} ms/step "
                f"(min {r['step_ms_min']:.0f}), {r['clips_per_s']:.2f} clips/s, "
                f"peak {r['peak_mem_bytes'] / 2**30:.2f} GiB"
            )
            if "max_batch_size" in r:
                line += f", max batch {r['max_batch_size']}"
            print(line)
    return 0
