"""``actionbench reencode``: the one-time re-encode that replaces frame extraction in
``storage: video`` (docs/data.md). Files in (an index), files out (videos + a table ``actionbench
lists`` reads), so a Snakemake rule is one command line.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from actionbench.cli import ffmpeg_options
from actionbench.cli.helptext import add_command


def register(subparsers: argparse._SubParsersAction) -> None:
    p = add_command(
        subparsers,
        "reencode",
        help="re-encode an index's videos to short-GOP H.264 for storage: video",
        text="Parallel, resumable ffmpeg re-encode to <videos-root>/<video_id>.mp4 at the\n"
        "extraction's shorter side, a keyframe every --gop frames; writes a table with\n"
        "extraction's columns (frames_dir = the video file, num_frames probed from it).",
        examples=[
            "actionbench reencode --index data/interim/synthetic/index.csv "
            "--videos-root data/videos/synthetic --short-side 40 --out reencoded.csv "
            "--failures failed.csv",
        ],
    )
    ffmpeg_options.add_job_options(
        p, "re-encode", "--videos-root", "folder that gets <video_id>.mp4 files"
    )
    ffmpeg_options.add_setting(p, "reencode", "gop", "keyframe interval in frames (%(default)s)")
    ffmpeg_options.add_setting(
        p, "reencode", "crf", "x264 quality, 0..51, lower = better (%(default)s)"
    )
    p.add_argument("--fps", type=float, default=None, help="resample (default: keep all frames)")
    ffmpeg_options.add_pool_options(p)
    p.add_argument("--out", required=True, type=Path, help="CSV of re-encoded videos")
    p.add_argument("--failures", required=True, type=Path, help="CSV of videos that failed")
    p.set_defaults(func=_reencode)


def _reencode(args: argparse.Namespace) -> int:
    from actionbench.data.ffmpeg_jobs import write_extraction
    from actionbench.data.lists import read_csv_table
    from actionbench.data.reencode import ReencodeSettings, reencode_videos

    settings = ReencodeSettings(
        short_side=args.short_side or None,
        gop=args.gop,
        crf=args.crf,
        fps=args.fps,
        timeout_s=args.timeout,
    )
    result = reencode_videos(
        read_csv_table(args.index, ["video_id", "video_path"]),
        args.videos_root,
        settings,
        **ffmpeg_options.pool_arguments(args),
    )
    write_extraction(result, args.out, args.failures)
    return 0
