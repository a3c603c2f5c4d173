#!/usr/bin/env python
"""The two implementations of TAM / TSM / the dense temporal conv side by side on this CPU:
the fused per-frame ops (CPU default) vs the batched kernels (GPU default), ResNet50.

Why a script of its own: the batched path exists for GPUs, but a CPU is all this project's CI
has; what a CPU can show is (1) the operators each training step dispatches (what costs launches
on a GPU), counted with ``actionbench.measure.opcount``, and (2) what forcing the batched path
costs on a CPU, so that the ``auto`` rule (fused on CPU) is a measurement, not a belief. Steps
of the six (arch, path) configurations are interleaved round by round; ratios batched/fused are
taken within a round, median over rounds.

Writes ``reports/benchmarks/accelerator_paths.{json,md}``.

    python scripts/bench_accelerator_paths.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch
from tqdm import tqdm

from actionbench.measure.model_benchmark import make_step
from actionbench.measure.opcount import count_training_step
from actionbench.models import build_model
from actionbench.models.temporal.path import temporal_path

REPO = Path(__file__).resolve().parents[1]
PATHS = ("fused", "batched")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--archs", default="tam,tsm,tconv")
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--size", type=int, default=112)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--out-dir", type=Path, default=REPO / "reports" / "benchmarks")
    return p.parse_args(argv)


def op_counts(archs: list[str]) -> list[dict]:
    """Ops of one training step at the op-count test's size (T=2, B=1, 32 px) and at T=8, B=2."""
    rows = []
    for frames, batch in ((2, 1), (8, 2)):
        for arch in ["tsn", *archs]:
            for path in PATHS if arch != "tsn" else ("fused",):
                torch.manual_seed(0)
                model = build_model(arch, "resnet50", frames, 3)
                clip = torch.randn(batch, 3, frames, 32, 32)
                with temporal_path(path):
                    c = count_training_step(model, clip, torch.zeros(batch, dtype=torch.long))
                rows.append(
                    {
                        "arch": arch,
                        "path": path if arch != "tsn" else "-",
                        "frames": frames,
                        "batch": batch,
                        "ops": c.total,
                        "kernels": c.kernels,
                        "custom_ops": len(c.custom()),
                    }
                )
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    archs = args.archs.split(",")
    counts = op_counts(archs)
    configs = [(a, p) for a in archs for p in PATHS]
    steps = {}
    for arch, path in configs:
        torch.manual_seed(0)
        model = build_model(arch, "resnet50", args.frames, 87)
        with temporal_path(path):
            steps[(arch, path)] = make_step(model, args.batch_size, args.frames, args.size)
    times: dict[tuple, list[float]] = {c: [] for c in configs}
    for r in tqdm(range(args.warmup + args.rounds), desc="rounds"):
        for cfg in configs:
            with temporal_path(cfg[1]):
                t0 = time.perf_counter()
                steps[cfg]()
                dt = time.perf_counter() - t0
            if r >= args.warmup:
                times[cfg].append(dt)
    timing = []
    for arch in archs:
        f, b = times[(arch, "fused")], times[(arch, "batched")]
        timing.append(
            {
                "arch": arch,
                "fused_ms": statistics.median(f) * 1e3,
                "batched_ms": statistics.median(b) * 1e3,
                "batched_over_fused": statistics.median(x / y for x, y in zip(b, f, strict=True)),
            }
        )
    meta = {
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "frames": args.frames,
        "batch_size": args.batch_size,
        "size": args.size,
        "rounds": args.rounds,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    result = {"meta": meta, "op_counts": counts, "timing": timing}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "accelerator_paths.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out_dir / "accelerator_paths.md").write_text(markdown(result))
    print(json.dumps(result, indent=2))
    return 0


def markdown(result: dict) -> str:
    """The JSON as tables; the prose around them lives in docs/models.md."""
    m = result["meta"]
    base = {(r["frames"], r["batch"]): r for r in result["op_counts"] if r["arch"] == "tsn"}
    lines = [
        "# Accelerator path vs CPU-fused path (TAM / TSM / Conv., ResNet50)",
        "",
        f"torch {m['torch']}, {m['threads']} CPU threads, GPU: {m['gpu'] or 'none available'}."
        " Written by `scripts/bench_accelerator_paths.py`.",
        "",
        "## Operators per training step (forward, loss, backward; 32 px)",
        "",
        "`kernels` = operators that are not views/aliases; ratios to TSN-ResNet50's kernels.",
        "Custom ops (the fused path) count once each: their per-frame loops inside the forward",
        "are not visible to the counter, so the fused path's figures are lower bounds.",
        "",
        "| model | path | T x B | ops | kernels | kernels / TSN | custom op kinds |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for r in result["op_counts"]:
        ratio = r["kernels"] / base[(r["frames"], r["batch"])]["kernels"]
        lines.append(
            f"| {r['arch']}-R50 | {r['path']} | {r['frames']} x {r['batch']} | {r['ops']} | "
            f"{r['kernels']} | {ratio:.2f} | {r['custom_ops']} |"
        )
    lines += [
        "",
        f"## Training-step time on this CPU (f{m['frames']}, batch {m['batch_size']}, "
        f"{m['size']} px; median of {m['rounds']} interleaved rounds)",
        "",
        "Wall time on a 2-core machine shared with other jobs: per-round ratios and ratios of",
        "medians can disagree; read them as rough (see docs/models.md).",
        "",
        "| model | fused ms | batched ms | batched / fused (median of per-round ratios) |",
        "|---|---:|---:|---:|",
    ]
    for r in result["timing"]:
        lines.append(
            f"| {r['arch']}-R50 | {r['fused_ms']:.0f} | {r['batched_ms']:.0f} | "
            f"{r['batched_over_fused']:.2f} |"
        )
    lines += [
        "",
        "## GPU",
        "",
        "No GPU was available when this was written; nothing here was measured on one. Ready to",
        "run where one is (records clips/s, peak memory and max batch of Table 8's models):",
        "",
        "    actionbench benchmark --table8 --device cuda --mode both --max-batch \\",
        "        --out reports/benchmarks/table8_gpu.json",
        "    for p in fused batched; do actionbench benchmark --arch tam --backbone resnet50 \\",
        "        --frames 8 --batch-size 8 --device cuda --temporal-path $p --json; done",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
