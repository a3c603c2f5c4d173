"""What a reader needs to reproduce the report: code, packages, data hashes, hardware, configs.

* code: the git commit of the working tree (and whether it had uncommitted changes);
* packages: installed versions of the stack;
* data: the ``md5``/``hash`` of every output recorded in ``dvc.lock`` (DVC's own record of the
  data and models the numbers came from);
* hardware: the machine that built the report (CPU model, cores, memory, GPUs via torch.cuda);
  it says nothing about where the runs trained;
* what each run is made of: the identity its train job recorded in train_metrics.json (digests
  of its settings, train and class lists, initial weights; its final.pt's digest) and the code
  that trained it (package version, git commit, uncommitted changes, resumptions under other
  code), where present;
* per run: the resolved config it was trained with (see artifacts.run_configs).
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import yaml

from actionbench import __version__
from actionbench.gitcmd import git_output

log = logging.getLogger(__name__)

PACKAGES = (
    "torch",
    "torchvision",
    "numpy",
    "pandas",
    "scipy",
    "matplotlib",
    "snakemake",
    "snakemake-executor-plugin-slurm",
    "dvc",
    "mlflow",
    "fvcore",
    "pillow",
)


def git_info(repo: Path) -> dict[str, str]:
    commit = git_output(repo, "rev-parse", "HEAD")
    if not commit:
        return {"git commit": "unknown (not a git checkout)"}
    status = git_output(repo, "status", "--porcelain", "--untracked-files=no")
    dirty = "yes (uncommitted changes to tracked files)" if status else "no"
    return {"git commit": commit, "uncommitted changes": dirty}


def package_versions() -> dict[str, str]:
    out = {"actionbench": __version__, "python": platform.python_version()}
    for pkg in PACKAGES:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> str:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        return f"{pages * size / 2**30:.1f} GiB"
    except (ValueError, OSError, AttributeError):
        return "unknown"


def _gpus() -> str:
    try:
        import torch
    except ImportError:
        return "unknown (torch not installed)"
    try:
        if not torch.cuda.is_available():
            return "none visible to torch (CUDA not available)"
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        return f"{len(names)} x " + ", ".join(sorted(set(names))) + f" (CUDA {torch.version.cuda})"
    except Exception as err:  # noqa: BLE001 - a broken driver must not break the report
        return f"unknown ({err})"


def hardware() -> dict[str, str]:
    return {
        "host": platform.node(),
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpu": _cpu_model(),
        "logical cores": str(os.cpu_count()),
        "memory": _memory_gib(),
        "gpu": _gpus(),
    }


def dvc_lock_outputs(lock: Path) -> list[dict[str, str]]:
    """Every output recorded in dvc.lock with its hash (stage, path, hash, size, files)."""
    if not lock.is_file():
        return []
    try:
        data = yaml.safe_load(lock.read_text()) or {}
    except yaml.YAMLError as err:
        log.warning("unreadable %s: %s", lock, err)
        return []
    rows = []
    for stage, spec in (data.get("stages") or {}).items():
        for out in (spec or {}).get("outs") or []:
            # DVC 3 writes `hash: md5` (the algorithm) next to `md5: <digest>`
            digest = out.get("md5") or out.get("etag") or out.get("checksum") or "?"
            rows.append(
                {
                    "stage": str(stage),
                    "path": str(out.get("path")),
                    "md5": str(digest),
                    "size": str(out.get("size", "")),
                    "files": str(out.get("nfiles", "")),
                }
            )
    return rows


def _short(digest: str | None) -> str:
    return "–" if not digest else str(digest)[:12]


def run_identity(train_metrics: dict[str, dict | None]) -> list[dict[str, str]]:
    """Per run, what its weights are made of (the identity its train job recorded, see
    ``actionbench.identity``) and the code that trained it; runs with neither: left out."""
    rows = []
    for rid, metrics in train_metrics.items():
        identity, code = (metrics or {}).get("identity"), (metrics or {}).get("code")
        if not identity and not code:
            continue
        identity, code = identity or {}, code or {}
        data, init = identity.get("data") or {}, identity.get("init") or {}
        dirty = code.get("git_dirty")
        commit = str(code.get("git_commit") or "unknown")[:12]
        rows.append(
            {
                "run": rid,
                "identity": str(identity.get("fingerprint") or "not recorded"),
                "settings": _short(identity.get("protocol")),
                "train list": _short(data.get("train_list")),
                "classes": _short(data.get("classes")),
                "initial weights": str(init.get("kind") or "–")
                + ("" if not init.get("sha256") else f" {_short(init['sha256'])}"),
                "final.pt": _short(((metrics or {}).get("final") or {}).get("sha256")),
                "code": f"{code.get('package_version') or '?'} {commit}"
                + (" + uncommitted changes" if dirty else "")
                + (f"; resumed {len(metrics['code_resumes'])}x under other code"
                   if (metrics or {}).get("code_resumes") else ""),
            }
        )  # fmt: skip
    return rows


def file_sha256(path: Path) -> str:
    if not path.is_file():
        return "missing"
    return hashlib.sha256(path.read_bytes()).hexdigest()
