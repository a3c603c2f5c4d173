"""Which ffmpeg binary every part of actionbench runs, resolved in exactly one place.

Why: a fresh laptop or cluster node often has no system ffmpeg and no root to install one, but
the ``imageio-ffmpeg`` wheel ships a static build. Preferring a system ffmpeg keeps hardware
decoders and site builds usable; ``ACTIONBENCH_FFMPEG`` pins a specific binary (e.g. a cluster
module) for reproducibility. There is deliberately no ffprobe dependency: probing goes through
ffmpeg itself (see :mod:`actionbench.data.probe`).
"""

from __future__ import annotations

import os
import shutil

from actionbench.errors import ConfigError

ENV_VAR = "ACTIONBENCH_FFMPEG"


def ffmpeg_exe() -> str:
    """Path of the ffmpeg executable: ``$ACTIONBENCH_FFMPEG``, else ``ffmpeg`` on PATH, else the
    static binary bundled with imageio-ffmpeg."""
    override = os.environ.get(ENV_VAR)
    if override:
        resolved = shutil.which(override)
        if resolved is None:
            raise ConfigError(
                f"{ENV_VAR}={override!r} is not an executable file (expected a path to ffmpeg "
                "or a command name on PATH)"
            )
        return resolved
    system = shutil.which("ffmpeg")
    if system is not None:
        return system
    try:
        import imageio_ffmpeg
    except ImportError as err:  # pragma: no cover - it is a declared dependency
        raise ConfigError(
            "no ffmpeg found: install ffmpeg on PATH, set ACTIONBENCH_FFMPEG, or "
            "`pip install imageio-ffmpeg`"
        ) from err
    return imageio_ffmpeg.get_ffmpeg_exe()
