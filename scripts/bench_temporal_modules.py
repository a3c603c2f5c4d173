#!/usr/bin/env python
"""Training-step cost of temporal modules on CPU: TSN vs TAM vs TSM vs I3D (ResNet50, f=8).

Why a script of its own: on a shared, 2-core machine one model timed after another sees
different background load. Here the models' steps are interleaved round by round (TSN, TAM,
TSM, I3D, TSN, TAM, ...), and each ratio to TSN is taken within a round, then summarised by
the median over rounds; wall time and process CPU time are both recorded.

Writes ``reports/benchmarks/models_cpu.json`` and ``reports/benchmarks/models_cpu.md``.

    python scripts/bench_temporal_modules.py                 # defaults: 4 timed rounds
    python scripts/bench_temporal_modules.py --rounds 2 --tune-malloc
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from actionbench.measure.model_benchmark import configure_cpu_allocator, make_step
from actionbench.models import build_model
from actionbench.progress import Progress

log = logging.getLogger("bench_temporal_modules")
REPO = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--archs", default="tsn,tam,tsm,i3d", help="comma list; the first is the base")
    p.add_argument("--backbone", default="resnet50")
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=2)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--num-classes", type=int, default=87)
    p.add_argument("--rounds", type=int, default=4, help="timed rounds (one step per model)")
    p.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument(
        "--tune-malloc", action="store_true", help="see benchmark.configure_cpu_allocator"
    )
    p.add_argument("--out-dir", type=Path, default=REPO / "reports" / "benchmarks")
    p.add_argument("--name", default="models_cpu", help="output file stem")
    return p.parse_args(argv)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    tuned = configure_cpu_allocator() if args.tune_malloc else False
    archs = args.archs.split(",")
    torch.manual_seed(0)
    steps = {}
    for arch in archs:
        model = build_model(arch, args.backbone, args.frames, args.num_classes)
        steps[arch] = make_step(model, args.batch_size, args.frames, args.size, "cpu", "train")
    load_before = os.getloadavg()
    wall: dict[str, list[float]] = {a: [] for a in archs}
    cpu: dict[str, list[float]] = {a: [] for a in archs}
    total = (args.warmup + args.rounds) * len(archs)
    bar = Progress(total, "train steps", unit="step")  # a bar on a terminal, else log lines
    for r in range(args.warmup + args.rounds):
        for arch in archs:
            t0, c0 = time.perf_counter(), time.process_time()
            steps[arch]()
            if r >= args.warmup:
                wall[arch].append((time.perf_counter() - t0) * 1e3)
                cpu[arch].append((time.process_time() - c0) * 1e3)
            bar.update()
    bar.close()
    load_after = os.getloadavg()

    base = archs[0]
    results = {}
    for arch in archs:
        ratios = [w / b for w, b in zip(wall[arch], wall[base], strict=True)]
        cpu_ratios = [c / b for c, b in zip(cpu[arch], cpu[base], strict=True)]
        results[arch] = {
            "model": f"{arch}-{args.backbone}",
            "step_ms_median": statistics.median(wall[arch]),
            "step_ms_min": min(wall[arch]),
            "step_ms_all": wall[arch],
            "cpu_ms_median": statistics.median(cpu[arch]),
            "cpu_ms_all": cpu[arch],
            f"ratio_to_{base}_median": statistics.median(ratios),
            f"ratio_to_{base}_of_min": min(wall[arch]) / min(wall[base]),
            f"cpu_ratio_to_{base}_median": statistics.median(cpu_ratios),
        }
    report = {
        "setup": {
            "what": "training step = forward + cross-entropy + backward + SGD(momentum) step",
            "backbone": args.backbone,
            "frames": args.frames,
            "batch_size": args.batch_size,
            "size": args.size,
            "num_classes": args.num_classes,
            "rounds": args.rounds,
            "warmup_rounds": args.warmup,
            "threads": torch.get_num_threads(),
            "malloc_tuned": tuned,
            "cpu": cpu_name(),
            "cores": os.cpu_count(),
            "torch": torch.__version__,
            "loadavg_before": load_before,
            "loadavg_after": load_after,
        },
        "results": results,
    }
    args.out_dir.mkdir(parents=True, exist_ok=True)
    json_path = args.out_dir / f"{args.name}.json"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    md_path = args.out_dir / f"{args.name}.md"
    md_path.write_text(markdown(report, base))
    log.info("wrote %s and %s", json_path, md_path)
    print(markdown(report, base))
    return 0


def markdown(report: dict, base: str) -> str:
    s = report["setup"]
    lines = [
        f"# Training-step time on CPU ({s['backbone']}, f={s['frames']}, batch {s['batch_size']}, "
        f"{s['size']}px)",
        "",
        f"CPU: {s['cpu']} ({s['cores']} cores, {s['threads']} torch threads), torch {s['torch']}, "
        f"glibc malloc {'tuned' if s['malloc_tuned'] else 'default'}. "
        f"{s['rounds']} timed rounds after {s['warmup_rounds']} warm-up round(s); the models' "
        f"steps are interleaved and each ratio is taken within a round (median over rounds). "
        f"Load average before/after: {s['loadavg_before'][0]:.2f} / {s['loadavg_after'][0]:.2f} "
        "(the machine is shared).",
        "",
        f"| model | ms/step (median) | ms/step (min) | CPU ms/step (median) | "
        f"x {base} (median of rounds) | x {base} (min/min) | CPU x {base} |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["results"].values():
        lines.append(
            f"| {r['model']} | {r['step_ms_median']:.0f} | {r['step_ms_min']:.0f} | "
            f"{r['cpu_ms_median']:.0f} | {r[f'ratio_to_{base}_median']:.3f} | "
            f"{r[f'ratio_to_{base}_of_min']:.3f} | {r[f'cpu_ratio_to_{base}_median']:.3f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
