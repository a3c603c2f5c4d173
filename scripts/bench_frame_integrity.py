"""CPU benchmark of what frame-integrity checking costs, side by side with extraction itself.

Why: every ``extract`` rerun and every ``lists`` now re-checks each frame folder against its
``frames.json`` record by ``stat``, and ``extract --verify --deep`` decodes every JPEG. Those
checks must stay small next to extraction, or users will skip them. One run measures, on the
same freshly extracted folders (videos of 480x360, short side 256):

* ``extract`` (the first, real extraction) -- the reference;
* ``extract`` again (every folder reused after its record check);
* ``verify_frames`` by stat, and deep (decode every JPEG);
* ``build_lists`` with and without the stat check of every folder.

Usage (from the repo root; about a minute on 2 cores):
    python scripts/bench_frame_integrity.py [--videos 16] [--out reports/benchmarks/data_integrity]
Writes ``<out>.json`` and ``<out>.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_extraction import make_videos  # noqa: E402

from actionbench.data.extract import (  # noqa: E402
    ExtractionSettings,
    extract_videos,
    verify_frames,
)
from actionbench.data.ffmpeg_jobs import default_workers  # noqa: E402
from actionbench.data.lists import build_lists  # noqa: E402


def timed(fn, repeats: int = 1) -> tuple[float, object]:
    """Best wall time of ``repeats`` calls (the machine is shared) and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=int, default=16)
    parser.add_argument("--frames", type=int, default=60, help="frames per video (25 fps)")
    parser.add_argument("--out", type=Path, default=Path("reports/benchmarks/data_integrity"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    workers = default_workers()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        videos = make_videos(tmp / "raw", args.videos, "480x360", args.frames)
        index = pd.DataFrame(
            {
                "video_id": [p.stem for p in videos],
                "video_path": [str(p) for p in videos],
                "split": "train",
                "label_name": "a",
            }
        )
        frames = tmp / "frames"

        def extract():
            return extract_videos(index, frames, short_side=256, workers=workers, progress=False)

        t_extract, first = timed(extract)
        t_reuse, again = timed(extract, 3)
        assert again.extracted["reused"].all()
        settings = ExtractionSettings(short_side=256)
        t_stat, problems = timed(
            lambda: verify_frames(index, frames, settings, workers=workers, progress=False), 3
        )
        t_deep, deep = timed(
            lambda: verify_frames(
                index, frames, settings, deep=True, workers=workers, progress=False
            )
        )
        assert problems.empty and deep.empty
        t_lists_check, _ = timed(lambda: build_lists(index, first.extracted), 3)
        t_lists_plain, _ = timed(lambda: build_lists(index, first.extracted, check_frames=False), 3)
        n_frames = int(first.extracted["num_frames"].sum())
    figures = {
        "videos": args.videos,
        "frames": n_frames,
        "workers": workers,
        "machine": f"{platform.machine()}, {default_workers()} usable cores",
        "seconds": {
            "extract": round(t_extract, 3),
            "extract_rerun_all_reused": round(t_reuse, 3),
            "verify_stat": round(t_stat, 3),
            "verify_deep": round(t_deep, 3),
            "lists_with_frame_check": round(t_lists_check, 3),
            "lists_without_frame_check": round(t_lists_plain, 3),
        },
        "ratio_to_extract": {
            "extract_rerun_all_reused": round(t_reuse / t_extract, 4),
            "verify_stat": round(t_stat / t_extract, 4),
            "verify_deep": round(t_deep / t_extract, 4),
        },
        "frames_per_s": {
            "extract": round(n_frames / t_extract),
            "verify_stat": round(n_frames / t_stat),
            "verify_deep": round(n_frames / t_deep),
        },
        "lists_check_overhead_s": round(t_lists_check - t_lists_plain, 3),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(figures, indent=2) + "\n")
    s, r, f = figures["seconds"], figures["ratio_to_extract"], figures["frames_per_s"]
    md = f"""# Frame integrity checks vs extraction (`scripts/bench_frame_integrity.py`)

{args.videos} videos 480x360 -> short side 256, {n_frames} frames, {workers} workers,
{figures["machine"]}; best of 3 for the fast steps (shared machine).

| step | seconds | frames/s | / extraction |
|---|---|---|---|
| extract (first run, reference) | {s["extract"]} | {f["extract"]} | 1 |
| extract rerun, every folder reused after its record check | {s["extract_rerun_all_reused"]} | | {r["extract_rerun_all_reused"]} |
| `extract --verify` (stat) | {s["verify_stat"]} | {f["verify_stat"]} | {r["verify_stat"]} |
| `extract --verify --deep` (decode every JPEG) | {s["verify_deep"]} | {f["verify_deep"]} | {r["verify_deep"]} |
| `lists` with the frame check | {s["lists_with_frame_check"]} | | |
| `lists` without it | {s["lists_without_frame_check"]} | | |
"""
    args.out.with_suffix(".md").write_text(md)
    sys.stdout.write(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
