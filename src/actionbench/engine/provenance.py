"""Where a job ran and with what: host, device, library versions, DVC experiment.

Every MLflow run carries these as tags, so two runs of one run id can be told apart and a result
can be traced to the machine, the libraries and the code that made it (the code's own version —
package version, git commit, dirty flag — comes from :mod:`actionbench.code_version`).
"""

from __future__ import annotations

import os
import platform
import socket
from typing import Any

import torch


def device_name(device: str | torch.device | None = None) -> str:
    """The accelerator's marketing name (``NVIDIA H100 80GB HBM3``) or the CPU model."""
    dev = torch.device(device) if device is not None else None
    if (dev is None or dev.type == "cuda") and torch.cuda.is_available():
        index = dev.index if dev is not None and dev.index is not None else 0
        return torch.cuda.get_device_name(index)
    if dev is not None and dev.type == "mps":
        return "Apple MPS"
    return cpu_model()


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def runtime_provenance(device: str | torch.device | None = None) -> dict[str, Any]:
    """Host, device and library versions of this process, plus the DVC experiment if any.

    ``DVC_EXP_NAME`` / ``DVC_EXP_BASELINE_REV`` are set by ``dvc exp run`` for the commands of
    its stages; outside an experiment they are absent and so are the keys.
    """
    info: dict[str, Any] = {
        "host": socket.gethostname(),
        "device": str(torch.device(device)) if device is not None else "",
        "device_name": device_name(device),
        "device_count": torch.cuda.device_count() if torch.cuda.is_available() else 0,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda or "none",
        "cudnn": str(torch.backends.cudnn.version() or "none"),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID", ""),
    }
    for env, key in (("DVC_EXP_NAME", "dvc_exp"), ("DVC_EXP_BASELINE_REV", "dvc_baseline_rev")):
        if os.environ.get(env):
            info[key] = os.environ[env]
    return {k: v for k, v in info.items() if v != ""}
