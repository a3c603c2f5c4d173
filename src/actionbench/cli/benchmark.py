"""``actionbench benchmark``: time per training / inference step, throughput and peak memory
of one model on random clips (and, on a GPU, the largest batch that fits: Table 8).

Example: ``actionbench benchmark --arch tam --backbone resnet18 --frames 8 --batch-size 2
--size 112 --mode train --device cpu --json`` (seconds on a laptop).

``--grid`` benchmarks every model of params.yaml's enabled grid, at two batch sizes, and writes
the records `auto` resources size jobs from (docs/slurm.md, "Records for your GPU type"):
``actionbench benchmark --grid --params params.yaml --device cuda --batch-size 8``.

``--table8`` runs the paper's Table 8 models instead (TSN-R50-tp, TAM-R50, I3D-R50,
SlowFast-R50-8x8; 32 frames, 256x256, 400 classes) and, on a GPU, their largest batch:
``actionbench benchmark --table8 --device cuda --mode both --max-batch --out
reports/benchmarks/table8_gpu.json``. Mixed precision follows the engine: ``--amp auto`` (the
default) is bf16 where the GPU supports it, else fp16 with a GradScaler, float32 on CPU.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from actionbench.cli.args import add_model, add_params, add_size, add_temporal_pooling
from actionbench.cli.helptext import add_command
from actionbench.defaults import DATASET

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "benchmark",
        help="measure step time, throughput and memory of a model",
        text="Time per training / inference step, throughput and peak memory of one model on\n"
        "random clips (and, on a GPU, the largest batch that fits): the paper's Table 8.",
        examples=[
            "actionbench benchmark --arch tam --backbone resnet18 --frames 8 --batch-size 2 "
            "--size 112 --mode train --device cpu --json",
        ],
    )
    add_model(parser, arch_help="architecture, e.g. tsn, tam, i3d (not with --table8)")
    parser.add_argument("--batch-size", type=int, help="clips per step")
    parser.add_argument(
        "--grid",
        action="store_true",
        help="every model of the enabled grid, train and inference at batch B/2 and B: the "
        "records `auto` resources use (written to resources.cluster.records)",
    )
    add_params(parser, help="params file for --grid")
    parser.add_argument(
        "--table8",
        action="store_true",
        help="the paper's Table 8 models (32 frames, 256 px, 400 classes; batch default 8)",
    )
    parser.add_argument("--num-classes", type=int, default=None, help="classifier size (87)")
    add_temporal_pooling(parser)
    add_size(parser)
    parser.add_argument(
        "--mode",
        choices=("train", "inference", "both"),
        default="train",
        help="time training steps (forward + backward + update), inference, or both (train)",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument(
        "--amp",
        choices=("auto", "none", "bf16", "fp16"),
        default="auto",
        help="autocast as runtime.amp: auto = bf16/fp16 on GPUs, float32 on CPU (auto)",
    )
    parser.add_argument("--channels-last", action="store_true", help="channels_last(_3d) memory")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument(
        "--temporal-path",
        choices=("auto", "fused", "batched"),
        default="auto",
        help="TAM/TSM/Conv. kernels: fused (CPU default) or batched (GPU default), see docs",
    )
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

    from actionbench.engine.runtime import resolve_amp
    from actionbench.errors import ConfigError, ModelError
    from actionbench.measure.model_benchmark import (
        configure_cpu_allocator,
    )
    from actionbench.models.temporal.path import set_temporal_path

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.grid:
        return _grid(args)
    if args.table8:
        if args.arch or args.backbone:
            raise ConfigError("--table8 chooses the models itself; drop --arch/--backbone")
        models = [dict(m) for m in TABLE8]
        table8_size = args.size if args.size != DATASET["input_size"] else 256
        frames, size = args.frames or 32, table8_size
        args.num_classes = args.num_classes or 400
        args.batch_size = args.batch_size or 8
    else:
        missing = [
            f"--{k.replace('_', '-')}"
            for k in ("arch", "backbone", "frames", "batch_size")
            if getattr(args, k) is None
        ]
        if missing:
            raise ConfigError(f"benchmark needs {', '.join(missing)} (or --table8)")
        models = [
            {
                "arch": args.arch,
                "backbone": args.backbone,
                "temporal_pooling": args.temporal_pooling,
            }
        ]
        frames, size = args.frames, args.size
        args.num_classes = args.num_classes or 87
    set_temporal_path(args.temporal_path)
    tuned = configure_cpu_allocator() if args.tune_malloc else False
    modes = ("train", "inference") if args.mode == "both" else (args.mode,)
    if torch.device(args.device).type == "cuda" and not torch.cuda.is_available():
        raise ModelError(
            f"--device {args.device} requested but torch.cuda.is_available() is False "
            "(no GPU or driver on this machine)"
        )
    opts = {
        "amp": resolve_amp(args.amp, torch.device(args.device)),
        "channels_last": args.channels_last,
        "compile": args.compile,
    }
    results = [_bench_one(args, spec, frames, size, modes, opts, tuned) for spec in models]
    result = {"table8": results} if args.table8 else results[0]
    text = json.dumps(result, indent=None if args.json else 2)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        log.info("wrote %s", args.out)
    if args.json:
        print(text)
    else:
        for r in results:
            for mode in modes:
                print(_line(r, mode))
    return 0


def _grid(args: argparse.Namespace) -> int:
    """``--grid``: records of every model of the enabled grid on this device."""
    import torch

    from actionbench.cluster.records import record_grid
    from actionbench.config import load_params
    from actionbench.engine.runtime import resolve_amp

    params = load_params(args.params)
    amp = resolve_amp(args.amp, torch.device(args.device))
    path, rows = record_grid(params, args.device, args.batch_size or 8, amp, args.iters)
    for row in rows:
        print(
            f"{row['model']}: train {row['train']['clips_per_s']:.2f} clips/s, "
            f"inference {row['inference']['clips_per_s']:.2f} clips/s"
        )
    print(f"wrote {path} ({len(rows)} models)")
    return 0


# The paper's Table 8 (V100, PyTorch 1.5): clips/s at the largest batch, and that batch.
TABLE8 = (
    {
        "arch": "tsn",
        "backbone": "resnet50",
        "temporal_pooling": True,
        "paper_clips_per_s": 53.5,
        "paper_max_batch": 40,
    },
    {
        "arch": "tam",
        "backbone": "resnet50",
        "temporal_pooling": False,
        "paper_clips_per_s": 14.2,
        "paper_max_batch": 48,
    },
    {
        "arch": "i3d",
        "backbone": "resnet50",
        "temporal_pooling": False,
        "paper_clips_per_s": 16.1,
        "paper_max_batch": 44,
    },
    {
        "arch": "slowfast",
        "backbone": "resnet50",
        "temporal_pooling": False,
        "paper_clips_per_s": 48.9,
        "paper_max_batch": 96,
    },
)


def _bench_one(args, spec: dict, frames: int, size: int, modes, opts: dict, tuned: bool) -> dict:
    import torch

    from actionbench.measure.model_benchmark import benchmark_model, max_batch_size
    from actionbench.models import build_model
    from actionbench.models.temporal.path import configured_path

    def fresh():
        return build_model(
            spec["arch"], spec["backbone"], frames, args.num_classes, spec["temporal_pooling"]
        )

    result = {
        **spec,
        "frames": frames,
        "size": size,
        "num_classes": args.num_classes,
        "device": args.device,
        "temporal_path": configured_path(),
        "malloc_tuned": tuned,
        "torch": torch.__version__,
    }
    if torch.device(args.device).type == "cuda":
        result["gpu"] = torch.cuda.get_device_name(torch.device(args.device))
    for mode in modes:
        log.info("benchmarking %s-%s %s on %s", spec["arch"], spec["backbone"], mode, args.device)
        result[mode] = benchmark_model(
            fresh(),
            args.batch_size,
            frames,
            size,
            args.device,
            mode,
            args.warmup,
            args.iters,
            **opts,
        )
        if args.max_batch:
            result[mode]["max_batch_size"] = max_batch_size(
                fresh(), frames, size, args.device, mode, **opts
            )
    return result


def _line(r: dict, mode: str) -> str:
    m = r[mode]
    tp = "-tp" if r["temporal_pooling"] else ""
    line = (
        f"{r['arch']}-{r['backbone']}{tp} {mode}: {m['step_ms']:.0f} ms/step "
        f"(min {m['step_ms_min']:.0f}), {m['clips_per_s']:.2f} clips/s, "
        f"peak {m['peak_mem_bytes'] / 2**30:.2f} GiB"
    )
    if "max_batch_size" in m:
        line += f", max batch {m['max_batch_size']}"
    return line
