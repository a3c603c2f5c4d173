"""Data subcommands: ``index``, ``extract``, ``lists``, ``mini``, ``benchmark-data``.

Each is one step of the data pipeline (docs/data.md) with files in and files out, so a Snakemake
rule or DVC stage is a single command line. Heavy imports happen inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from actionbench.cli.helptext import description
from actionbench.spec import SAMPLINGS

log = logging.getLogger("actionbench.data")


def _key_value(text: str) -> tuple[str, str | int]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, int(value) if value.isdigit() else value


def add_ffmpeg_pool_options(p: argparse.ArgumentParser) -> None:
    """Options of a sharded pool of ffmpeg processes (extract, reencode): one wording for both."""
    p.add_argument(
        "--workers", type=int, default=None, help="parallel ffmpeg processes (default: all cores)"
    )
    p.add_argument("--shard", type=int, default=0, help="this job's shard, 0-based")
    p.add_argument("--num-shards", type=int, default=1, help="shards the index is split into (1)")
    p.add_argument(
        "--timeout", type=float, default=None, help="seconds before one video's ffmpeg is killed"
    )
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress output at all (neither bar nor periodic log lines)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "index",
        help="turn a dataset's official annotation files into an index table",
        description=description(
            "Run a dataset adapter: raw annotations + videos -> index.csv\n"
            "(video_id, video_path, split, label_name, ...) and index_failures.csv.",
            "actionbench index --format synthetic --raw-dir data/raw/synthetic "
            "--out data/interim/synthetic/index.csv "
            "--failures data/interim/synthetic/index_failures.csv",
        ),
    )
    p.add_argument(
        "--format", required=True, help="kinetics400, ssv2, mit, ucf101, hmdb51, jester, synthetic"
    )
    p.add_argument("--raw-dir", required=True, type=Path, help="folder holding the raw dataset")
    p.add_argument(
        "--annotations",
        nargs="*",
        default=[],
        type=_key_value,
        metavar="KEY=VALUE",
        help="format options, e.g. train_csv=kinetics400/train.csv or split=2 (see docs/data.md)",
    )
    p.add_argument("--out", required=True, type=Path, help="index CSV to write")
    p.add_argument("--failures", required=True, type=Path, help="CSV of skipped annotation rows")
    p.set_defaults(func=_index)

    p = subparsers.add_parser(
        "extract",
        help="decode videos of an index into JPEG frame folders",
        description=description(
            "Parallel, resumable ffmpeg extraction to <frames-root>/<video_id>/img_00001.jpg.",
            "actionbench extract --index data/interim/synthetic/index.csv "
            "--frames-root data/frames/synthetic --out extracted.csv --failures failed.csv",
        ),
    )
    p.add_argument(
        "--index", required=True, type=Path, help="index CSV (video_id, video_path) to extract"
    )
    p.add_argument(
        "--frames-root", required=True, type=Path, help="folder that gets one folder per video"
    )
    p.add_argument(
        "--short-side", type=int, default=256, help="shorter side in pixels (0 = keep size)"
    )
    p.add_argument(
        "--quality", type=int, default=2, help="JPEG quality, ffmpeg -q:v 1..31 (lower = better)"
    )
    p.add_argument(
        "--fps",
        type=float,
        default=None,
        help="resample to this frame rate (default: keep all frames)",
    )
    add_ffmpeg_pool_options(p)
    p.add_argument(
        "--verify",
        action="store_true",
        help="extract nothing: check every frame folder against its frames.json record and "
        "these settings by stat (exit 1 if any video has a problem)",
    )
    p.add_argument(
        "--deep", action="store_true", help="with --verify: also decode every JPEG (slow)"
    )
    p.add_argument(
        "--out", type=Path, help="CSV of extracted videos (with --verify: of the problems found)"
    )
    p.add_argument("--failures", type=Path, help="CSV of videos that failed (required to extract)")
    p.set_defaults(func=_extract)

    p = subparsers.add_parser(
        "lists",
        help="join an index with extraction results into train/val/classes lists",
        description=description(
            "Writes train.csv, val.csv, classes.csv and excluded.csv into --out-dir.",
            "actionbench lists --index index.csv --extracted extracted-0.csv extracted-1.csv "
            "--failures failed-0.csv failed-1.csv --out-dir data/lists/synthetic",
        ),
    )
    p.add_argument("--index", required=True, type=Path, help="index CSV the videos came from")
    # nargs="+" with "extend": one flag with every shard's table (as Snakemake expands a list)
    # or the flag repeated per shard both work.
    p.add_argument(
        "--extracted",
        required=True,
        type=Path,
        nargs="+",
        action="extend",
        help="extraction tables, one per shard",
    )
    p.add_argument(
        "--failures",
        type=Path,
        nargs="+",
        action="extend",
        default=[],
        help="extraction failure tables (give the reasons in excluded.csv)",
    )
    p.add_argument(
        "--index-failures",
        type=Path,
        default=None,
        help="the index command's skipped annotation rows (missing videos, malformed rows): "
        "listed in excluded.csv with their reason and counted in the summary",
    )
    p.add_argument(
        "--dataset", default=None, help="name in messages and summary.json (default: --out-dir's)"
    )

    p.add_argument("--out-dir", required=True, type=Path, help="folder for the four lists")
    p.set_defaults(func=_lists)

    p = subparsers.add_parser(
        "mini",
        help="derive a mini dataset (class subset) from split lists",
        description=description(
            "Keep a subset of the classes of train/val/classes lists. Modes: class_list\n"
            "(exact list or alias mini_ssv2/mini_kinetics400), seeded_half (a seeded half of\n"
            "the classes), all (every class).",
            "actionbench mini --lists-dir data/lists/ssv2 --out-dir data/lists/mini-ssv2 "
            "--mode class_list --class-list mini_ssv2",
        ),
    )
    p.add_argument(
        "--lists-dir", required=True, type=Path, help="folder with train/val/classes.csv"
    )
    p.add_argument("--out-dir", required=True, type=Path, help="folder for the mini lists")
    p.add_argument(
        "--mode",
        required=True,
        choices=["class_list", "seeded_half", "all"],
        help="how the classes are chosen (see above)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of seeded_half (0)")
    p.add_argument(
        "--class-list", default=None, help="path or shipped alias (mini_ssv2, mini_kinetics400)"
    )
    p.add_argument(
        "--unit-column", default=None, help="classes sharing this column's value are drawn together"
    )
    p.add_argument(
        "--strata-column",
        default=None,
        help="draw half of the units within each value of this column",
    )
    p.set_defaults(func=_mini)

    p = subparsers.add_parser(
        "benchmark-data",
        help="measure loader throughput (clips/s, frames/s) on a split list",
        description=description(
            "Time the data loader (decode, sample, augment, batch) on a split list: clips/s\n"
            "and frames/s after one warm-up batch, as JSON.",
            "actionbench benchmark-data --list data/lists/synthetic/train.csv --frames 8 "
            "--batch-size 8 --workers 2 --json loader.json",
        ),
    )
    p.add_argument(
        "--list", type=Path, dest="list_csv", help="train.csv or val.csv to time the loader on"
    )
    p.add_argument("--frames", type=int, default=8, help="frames per clip")
    p.add_argument("--batch-size", type=int, default=8, help="clips per batch (8)")
    p.add_argument("--workers", type=int, default=2, help="loader worker processes (2)")
    p.add_argument("--input-size", type=int, default=224, help="crop height = width (224)")
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
    storage.add_argument(
        "--short-side", type=int, default=256, help="shorter side of the prepared copies, px (256)"
    )
    storage.add_argument(
        "--gop",
        type=int,
        nargs="+",
        default=[8],
        help="keyframe intervals of the re-encodes to compare (8)",
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


def _index(args: argparse.Namespace) -> int:
    from actionbench.data.adapters import build_index, write_index
    from actionbench.errors import DataError

    result = build_index(args.format, args.raw_dir, dict(args.annotations))
    write_index(result, args.out, args.failures)
    if result.index.empty:
        raise DataError(
            f"{args.format}: no usable videos in {args.raw_dir} "
            f"({len(result.failures)} row(s) failed, listed in {args.failures})"
        )
    return 0


def _extract(args: argparse.Namespace) -> int:
    from actionbench.data.extract import extract_videos, write_extraction
    from actionbench.data.lists import read_csv_table
    from actionbench.errors import ConfigError

    if args.deep and not args.verify:
        raise ConfigError("extract: --deep only applies with --verify")
    if not args.verify and (args.out is None or args.failures is None):
        raise ConfigError("extract: --out and --failures are required (unless --verify)")
    index = read_csv_table(args.index, ["video_id", "video_path"])
    if args.verify:
        return _verify(args, index)
    result = extract_videos(
        index,
        args.frames_root,
        short_side=args.short_side or None,
        quality=args.quality,
        fps=args.fps,
        workers=args.workers,
        shard=args.shard,
        num_shards=args.num_shards,
        timeout_s=args.timeout,
        progress=not args.no_progress,
    )
    write_extraction(result, args.out, args.failures)
    return 0


def _verify(args: argparse.Namespace, index) -> int:
    from actionbench.data.extract import ExtractionSettings, select_shard, verify_frames

    settings = ExtractionSettings(
        short_side=args.short_side or None, quality=args.quality, fps=args.fps
    )
    problems = verify_frames(
        index,
        args.frames_root,
        settings,
        deep=args.deep,
        workers=args.workers,
        shard=args.shard,
        num_shards=args.num_shards,
        progress=not args.no_progress,
    )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        problems.to_csv(args.out, index=False)
    checked = len(select_shard(index, args.shard, args.num_shards))
    absent = problems["problem"] == "frame folder not found"
    bad = problems.loc[~absent, "video_id"].nunique()
    line = (
        f"{args.frames_root}: {checked} videos checked ({'decoded' if args.deep else 'stat'}): "
        f"{checked - bad - int(absent.sum())} ok, {bad} with problems"
    )
    if bad:
        first = problems[~absent].iloc[0]
        line += f" (e.g. {first['video_id']}: {first['problem']})"
    if absent.any():
        line += f", {int(absent.sum())} not extracted (see the extraction failures table)"
    bad += int(absent.sum())
    sys.stdout.write(line + "\n")
    return 1 if bad else 0


def _lists(args: argparse.Namespace) -> int:
    from actionbench.data.extract import EXTRACTED_COLUMNS
    from actionbench.data.extract import FAILURE_COLUMNS as EXTRACT_FAILURES
    from actionbench.data.lists import (
        build_lists,
        check_splits,
        read_csv_table,
        summary_line,
        write_lists,
    )

    index = read_csv_table(args.index, ["video_id", "video_path", "split", "label_name"])
    extracted = [read_csv_table(p, EXTRACTED_COLUMNS[:3]) for p in args.extracted]
    failures = [read_csv_table(p, EXTRACT_FAILURES) for p in args.failures] or None
    index_failures = (
        read_csv_table(args.index_failures, ["video_id", "reason"])
        if args.index_failures is not None
        else None
    )
    dataset = args.dataset or args.out_dir.name
    result = build_lists(index, extracted, failures, index_failures=index_failures, dataset=dataset)
    write_lists(result, args.out_dir)  # everything is written before any error below
    sys.stdout.write(summary_line(result.summary) + "\n")
    sys.stdout.flush()
    check_splits(result.train, result.val, result.classes, dataset)
    return 0


def _mini(args: argparse.Namespace) -> int:
    from actionbench.data.lists import check_splits
    from actionbench.data.mini import make_mini

    tables = make_mini(
        args.lists_dir,
        args.out_dir,
        mode=args.mode,
        seed=args.seed,
        class_list=args.class_list,
        unit_column=args.unit_column,
        strata_column=args.strata_column,
    )
    check_splits(tables["train"], tables["val"], tables["classes"], args.out_dir.name)
    return 0


def _benchmark(args: argparse.Namespace) -> int:
    from actionbench.data.benchmark import benchmark_loader, benchmark_pipeline

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
    from actionbench.data.storage_benchmark import benchmark_storage

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
    text = json.dumps(result, indent=2)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    sys.stdout.write(text + "\n")
    return 0
