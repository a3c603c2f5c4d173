"""A run's identity: everything its trained weights are made of, in one comparable value.

Why: a result may be reused only when nothing it is made of changed. A run config alone does not
say that: re-extracted frames, an edited train list, a replaced ImageNet file or a re-trained
previous stage leave the config as it was and change the model. The identity of a train run is

* ``protocol``: the digest of the resolved run config's training part
  (:func:`actionbench.fingerprints.protocol_digest`; it holds the protocol digest of the run it
  starts from, so the whole progressive chain is covered);
* ``data``: the content digests of the split lists it trains on (``train.csv``, ``classes.csv``).
  Each list row carries the digest of its video's frame record (settings, ffmpeg version, source
  size, frame count and every frame's byte size; or the re-encoded video's record), written by
  ``actionbench lists``, so hashing the lists covers the data without reading a single JPEG;
* ``init``: the SHA-256 of the initial weights: the ImageNet file, or the ``final.pt`` of the run
  it starts from (read from that run's ``train_metrics.json``, where training records it, when
  the file's size still matches; hashed otherwise), so a re-trained f8 reaches f16, f32, f64.

One function computes it for Snakemake's ``params:`` (so a change re-runs the job), for the
trainer's resume check (a ``last.pt`` of another identity is set aside, never resumed) and for
``actionbench status``. The code version is recorded beside it, never inside: a code change is
reported, not a re-run trigger (docs/reruns.md).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from actionbench.fingerprints import digest, eval_fingerprint, protocol_digest

IDENTITY_VERSION = 1
# Lists a training run reads (the validation list only feeds per-epoch monitoring; evaluation
# has its own fingerprint over it).
TRAIN_LISTS = ("train_list", "classes")
_CHUNK = 1 << 20

_sha_cache: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | os.PathLike) -> str | None:
    """SHA-256 of a file's bytes (None when it does not exist); cached per (path, size, mtime)."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return None
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    cached = _sha_cache.get(key)
    if cached is None:
        h = hashlib.sha256()
        with p.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
        cached = _sha_cache[key] = h.hexdigest()
    return cached


def weights_record(data: bytes) -> dict[str, Any]:
    """What training records of a ``final.pt`` it writes (its bytes are in memory anyway)."""
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def recorded_final_sha256(final: Path) -> str | None:
    """The SHA-256 of a run's ``final.pt``: as recorded by its training when the size matches,
    else hashed (a file replaced by hand); None when there is no ``final.pt``."""
    try:
        size = final.stat().st_size
    except OSError:
        return None
    record: dict = {}
    if final.name == "final.pt":
        try:
            record = (
                json.loads((final.parent / "train_metrics.json").read_text()).get("final") or {}
            )
        except (OSError, ValueError, AttributeError):
            record = {}
    if record.get("bytes") == size and isinstance(record.get("sha256"), str):
        return record["sha256"]
    return file_sha256(final)


def data_digests(cfg: Mapping[str, Any]) -> dict[str, str | None]:
    """Content digests of the lists a training run reads (None: not built yet)."""
    data = cfg.get("data") or {}
    return {key: file_sha256(data[key]) if data.get(key) else None for key in TRAIN_LISTS}


def init_digest(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Kind, path and SHA-256 of a run's initial weights (sha256 None: not there yet)."""
    init = cfg.get("init") or {}
    kind, path = init.get("kind", "scratch"), init.get("path")
    sha = None
    if kind == "checkpoint" and path:
        sha = recorded_final_sha256(Path(path))
    elif kind == "imagenet" and path:
        sha = file_sha256(path)
    return {"kind": kind, "path": path, "sha256": sha}


def train_identity(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The identity of the train run a resolved run config describes (see the module doc)."""
    parts = {
        "version": IDENTITY_VERSION,
        "protocol": protocol_digest(cfg),
        "data": data_digests(cfg),
        "init": init_digest(cfg),
    }
    return {**parts, "fingerprint": digest(parts)}


def identity_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str]:
    """Why two identities differ, in words (empty when they are the same)."""
    if not old or old.get("version") != new.get("version"):
        return ["no identity recorded (made before run identities existed)"]
    if old.get("fingerprint") == new.get("fingerprint"):
        return []
    changes = []
    if old.get("protocol") != new.get("protocol"):
        changes.append("training settings changed")
    for key in TRAIN_LISTS:
        if (old.get("data") or {}).get(key) != (new.get("data") or {}).get(key):
            changes.append(f"data changed ({key.replace('_list', '')} list or its videos)")
    o_init, n_init = old.get("init") or {}, new.get("init") or {}
    if (o_init.get("kind"), o_init.get("path")) != (n_init.get("kind"), n_init.get("path")):
        changes.append("initial weights changed (another source)")
    elif o_init.get("sha256") != n_init.get("sha256"):
        changes.append(
            "initial weights changed ("
            + ("the source run was re-trained" if n_init.get("kind") == "checkpoint" else "file")
            + f" {n_init.get('path')})"
        )
    return changes or ["identity changed"]


def change_kind(changes: list[str]) -> str:
    """The ``status`` state a list of :func:`identity_changes` maps to."""
    if any(c.startswith(("training settings", "no identity", "identity")) for c in changes):
        return "stale-by-params"
    if any(c.startswith("data") for c in changes):
        return "stale-by-data"
    return "stale-by-init"


def eval_identity(cfg: Mapping[str, Any], weights: str | os.PathLike | None = None) -> dict:
    """What an evaluation is made of: its settings and input pipeline
    (:func:`actionbench.fingerprints.eval_fingerprint`), the content of the validation and class
    lists, and the SHA-256 of the weights it scores (the run's ``final.pt`` unless ``weights``
    names others; None: not trained yet)."""
    data = cfg.get("data") or {}
    parts = {
        "version": IDENTITY_VERSION,
        "settings": eval_fingerprint(cfg),
        "data": {k: file_sha256(data[k]) if data.get(k) else None for k in ("val_list", "classes")},
        "model": recorded_final_sha256(Path(weights or Path(cfg["output_dir"]) / "final.pt")),
    }
    return {**parts, "fingerprint": digest(parts)}
