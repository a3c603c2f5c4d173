"""``actionbench extract``: decode an index's videos into JPEG frame folders, or with
``--verify`` check existing folders against their records (docs/data.md, sections 2-3).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from actionbench.cli import ffmpeg_options
from actionbench.cli.helptext import add_command


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(
        subparsers,
        "extract",
        help="decode videos of an index into JPEG frame folders",
        text="Parallel, resumable ffmpeg extraction to <frames-root>/<video_id>/img_00001.jpg.",
        examples=[
            "actionbench extract --index data/interim/synthetic/index.csv "
            "--frames-root data/frames/synthetic --shard 0 --num-shards 2 "
            "--out extracted-0.csv --failures failed-0.csv",
            "actionbench extract --index data/interim/synthetic/index.csv "
            "--frames-root data/frames/synthetic --shard 1 --num-shards 2 "
            "--out extracted-1.csv --failures failed-1.csv",
            "actionbench extract --index data/interim/synthetic/index.csv "
            "--frames-root data/frames/synthetic --verify",
        ],
    )
    ffmpeg_options.add_job_options(
        p, "extract", "--frames-root", "folder that gets one folder per video"
    )
    ffmpeg_options.add_setting(
        p, "extract", "quality", "JPEG quality, ffmpeg -q:v 1..31 (lower = better)"
    )
    p.add_argument(
        "--fps",
        type=float,
        default=None,
        help="resample to this frame rate (default: keep all frames)",
    )
    ffmpeg_options.add_pool_options(p)
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


def _extract(args: argparse.Namespace) -> int:
    from actionbench.data.extract import extract_videos
    from actionbench.data.ffmpeg_jobs import write_extraction
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
        timeout_s=args.timeout,
        **ffmpeg_options.pool_arguments(args),
    )
    write_extraction(result, args.out, args.failures)
    return 0


def _verify(args: argparse.Namespace, index) -> int:
    from actionbench.data.extract import ExtractionSettings, verify_frames
    from actionbench.data.ffmpeg_jobs import select_shard

    settings = ExtractionSettings(
        short_side=args.short_side or None, quality=args.quality, fps=args.fps
    )
    problems = verify_frames(
        index,
        args.frames_root,
        settings,
        deep=args.deep,
        **ffmpeg_options.pool_arguments(args),
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
