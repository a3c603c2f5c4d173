"""Options shared by the subcommands that run a sharded pool of ffmpeg processes (``extract``,
``reencode``), so both word them alike and read them back alike, and the settings of a
dataset's ``extract:`` and ``reencode:`` blocks as options (``benchmark-data`` takes one too).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from actionbench.defaults import DATASET


def add_job_options(p: argparse.ArgumentParser, verb: str, root_flag: str, root_help: str) -> None:
    """What an ffmpeg job over an index is given first: the ``--index`` of the videos it
    ``verb``s, the folder its outputs go to (``root_flag``) and their ``--short-side``."""
    p.add_argument(
        "--index", required=True, type=Path, help=f"index CSV (video_id, video_path) to {verb}"
    )
    p.add_argument(root_flag, required=True, type=Path, help=root_help)
    add_setting(p, "extract", "short_side", "shorter side in pixels (0 = keep size)")


def add_setting(p: argparse.ArgumentParser, section: str, key: str, help: str) -> None:
    """``--KEY``: the whole-number setting ``key`` of a dataset's ``section`` (``extract``,
    ``reencode``), named as in params.yaml and with the default params.yaml has
    (:data:`actionbench.defaults.DATASET`), so a rule passes the setting under its own name."""
    flag = "--" + key.replace("_", "-")
    p.add_argument(flag, type=int, default=DATASET[section][key], help=help)


def add_pool_options(p: argparse.ArgumentParser) -> None:
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
