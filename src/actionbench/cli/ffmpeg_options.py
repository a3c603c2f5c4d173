"""Options shared by the subcommands that run a sharded pool of ffmpeg processes (``extract``,
``reencode``), so both word them alike and read them back alike.
"""

from __future__ import annotations

import argparse


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


def pool_arguments(args: argparse.Namespace) -> dict:
    """Those options as the keyword arguments of the pool's callers (``extract_videos``,
    ``verify_frames``, ``reencode_videos``)."""
    return {
        "workers": args.workers,
        "shard": args.shard,
        "num_shards": args.num_shards,
        "progress": not args.no_progress,
    }
