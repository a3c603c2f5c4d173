"""``actionbench benchmark-data``: throughput of the data path (loader, decoder, training
pipeline) on a split list, or what each storage mode costs on an index of videos
(:mod:`actionbench.measure.data_benchmark`, :mod:`actionbench.measure.storage_benchmark`).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from actionbench.cli.ffmpeg_options import add_setting
from actionbench.cli.helptext import add_command
from actionbench.defaults import DATASET
from actionbench.spec import SAMPLINGS

log = logging.getLogger("actionbench.data")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(
        subparsers,
        "benchmark-data",
        help="measure loader throughput (clips/s, frames/s) on a split list",
        text="Time the data loader (decode, sample, augment, batch) on a split list: clips/s\n"
        "and frames/s after one warm-up batch, as JSON.",
        examples=[
            "actionbench benchmark-data --list data/lists/synthetic/train.csv --frames 8 "
            "--batch-size 8 --workers 2 --json loader.json",
        ],
    )
    p.add_argument(
        "--list", type=Path, dest="list_csv", help="train.csv or val.csv to time the loader on"
    )
    p.add_argument("--frames", type=int, default=8, help="frames per clip")
    p.add_argument("--batch-size", type=int, default=8, help="clips per batch (8)")
    p.add_argument("--workers", type=int, default=2, help="loader worker processes (2)")
    p.add_argument(
        "--input-size",
        type=int,
        default=DATASET["input_size"],
        help="crop height = width (%(default)s)",
    )
    p.add_argument("--batches", type=int, default=10, help="batches to time (the first is warm-up)")
    p.add_argument(
        "--sampling",
        choices=SAMPLINGS,
        default="uniform",
        help="frame sampling (uniform)",
    )
    p.add_argument("--test", action="store_true", help="time the test pipeline instead of training")
    p.add_argument("--root", type=Path, default=None, help="base for relative frames_dir")
    p.add_argument("--json", type=Path, default=None, help="write the result here")
    p.add_argument(
        "--vs-decode",
        action="store_true",
        help="one thread: decode-only vs training pipeline on the same frames (+ PIL, PIL draft), "
        "then the loader with one worker for --batches batches",
    )
    p.add_argument(
        "--decode-videos", type=int, default=24, help="videos timed with --vs-decode (24)"
    )
    storage = p.add_argument_group(
        "storage modes (instead of --list)",
        "prepare an index's videos as frames, re-encoded videos and as they are; report bytes, "
        "files and prepare time per 1,000 videos and loader vs decode-only frames/s per mode",
    )
    storage.add_argument(
        "--videos",
        type=Path,
        default=None,
        metavar="INDEX_CSV",
        help="index (video_id, video_path) of the videos to measure",
    )
    storage.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="scratch folder for the prepared copies (emptied first)",
    )
    add_setting(
        storage, "extract", "short_side", "shorter side of the prepared copies, px (%(default)s)"
    )
    storage.add_argument(
        "--gop",
        type=int,
        nargs="+",
        default=[DATASET["reencode"]["gop"]],
        help="keyframe intervals of the re-encodes to compare (%(default)s)",
    )
    storage.add_argument("--limit", type=int, default=None, help="first N videos of the index")
    storage.add_argument(
        "--decoders",
        nargs="+",
        default=["torchcodec", "pyav"],
        help="video decoders to time (torchcodec pyav)",
    )
    storage.add_argument(
        "--items",
        type=int,
        default=48,
        help="clips timed per mode and decoder (0: disk report only)",
    )
    storage.add_argument(
        "--time-modes",
        nargs="+",
        default=None,
        help="storage modes to time (default: all), e.g. frames video_reencoded_g8",
    )
    storage.add_argument("--keep", action="store_true", help="keep --work-dir afterwards")
    p.set_defaults(func=_benchmark)


def _benchmark(args: argparse.Namespace) -> int:
    from actionbench.measure.data_benchmark import benchmark_loader, benchmark_pipeline

    if args.videos is not None:
        return _benchmark_storage(args)
    if args.list_csv is None:
        from actionbench.errors import ConfigError

        raise ConfigError("benchmark-data: give --list (loader) or --videos (storage modes)")
    if args.vs_decode:
        result = benchmark_pipeline(
            args.list_csv, num_frames=args.frames, input_size=args.input_size,
            videos=args.decode_videos,
            root=args.root, loader_batches=args.batches, loader_batch_size=args.batch_size,
        )  # fmt: skip
        log.info(
            "%s: training pipeline at %.0f%% of decode-only (%s vs %s frames/s, one thread); "
            "%d workers per V100 at Table 8's TSN-R50-tp rate",
            args.list_csv, 100 * result["ratio_to_decode"]["pipeline_uint8"],
            result["frames_per_s"]["pipeline_uint8"], result["frames_per_s"]["decode_jpeg"],
            result["workers_per_v100"],
        )  # fmt: skip
        return _write_json(result, args.json)
    result = benchmark_loader(
        args.list_csv,
        num_frames=args.frames,
        batch_size=args.batch_size,
        workers=args.workers,
        input_size=args.input_size,
        num_batches=args.batches,
        sampling=args.sampling,
        train=not args.test,
        root=args.root,
    )
    log.info(
        "%s: %s clips/s, %s frames/s (%d frames, %d px, batch %d, %d workers)",
        args.list_csv, result["clips_per_s"], result["frames_per_s"],
        args.frames, args.input_size, args.batch_size, args.workers,
    )  # fmt: skip
    return _write_json(result, args.json)


def _write_json(result: dict, path: Path | None) -> int:
    text = json.dumps(result, indent=2)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    sys.stdout.write(text + "\n")
    return 0


def _benchmark_storage(args: argparse.Namespace) -> int:
    from actionbench.data.lists import read_csv_table
    from actionbench.measure.storage_benchmark import benchmark_storage

    index = read_csv_table(args.videos, ["video_id", "video_path"])
    if args.limit:
        index = index.head(args.limit)
    work_dir = args.work_dir or args.videos.parent / "storage_benchmark"
    result = benchmark_storage(
        index, work_dir, short_side=args.short_side, gops=tuple(args.gop),
        workers=args.workers, decoders=tuple(args.decoders), frames=args.frames,
        input_size=args.input_size, items=args.items, keep=args.keep,
        timed_modes=tuple(args.time_modes) if args.time_modes else None,
    )  # fmt: skip
    result["index"] = str(args.videos)
    return _write_json(result, args.json)
