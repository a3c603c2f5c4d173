"""The demo's deterministic results, collected into one JSON and compared with an expected copy.

A refactor must not change what the demo computes (issue 15.5). This collects, from a finished
demo (``snakemake --profile local all``) under ROOT, every run's ``train_metrics.json``,
``history.csv`` and ``eval/metrics.json`` without the wall-clock fields (seconds, clips/s) and
the code provenance, a SHA-256 of each ``eval/predictions.csv`` (per-video logits: bit-identity),
and ``reports/metrics.json``. ``check`` names every value that differs.

    python scripts/demo_metrics.py collect ROOT [--out tests/expected/demo_metrics.json]
    python scripts/demo_metrics.py check ROOT tests/expected/demo_metrics.json

Bit-identity holds on one machine kind only: training runs float kernels that PyTorch (ATen,
oneDNN, MKL) picks for the CPU's instruction sets, and a few ulps of difference grow over 12
epochs into other accuracies. So ``collect`` records the ``machine`` (torch version, the CPU
capability ATen dispatches to, the CPU's vector/matrix instruction sets) and ``check`` compares
every number only when the finished demo ran on the same kind of machine; on another one it
checks the demo's finding instead (:data:`FINDING`: TSN near chance on the temporal classes,
TAM far above it, both good on the spatial classes) and says that it did. Regenerate the
expected file with ``collect`` when a change alters the numbers on purpose.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

VOLATILE_KEYS = ("code", "mlflow_run_id")  # provenance: commit, dirty flag, MLflow run
VOLATILE_SUFFIXES = ("_seconds", "clips_per_s")
# The instruction sets that change which float kernels run (x86 names from /proc/cpuinfo).
ISA_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "avx512_vnni",
             "avx_vnni", "amx_tile", "amx_bf16", "sve", "asimd")  # fmt: skip
# The README's finding, as bounds on clip top-1 (%): (arch, classes) -> (lowest, highest).
# Chance within a forward/reversed pair is 50%.
FINDING = {
    ("tsn", "temporal"): (25.0, 70.0),
    ("tam", "temporal"): (90.0, 100.0),
    ("tsn", "spatial"): (80.0, 100.0),
    ("tam", "spatial"): (80.0, 100.0),
}


def machine() -> dict[str, Any]:
    """What decides the demo's float results besides the code: torch and the CPU's ISA."""
    import platform

    import torch

    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    return {
        "torch": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "isa": sorted(f for f in ISA_FLAGS if f in flags),
        "arch": platform.machine(),
    }


def finding_problems(found: dict[str, Any]) -> list[str]:
    """Where a finished demo's clip top-1 leaves the bounds of :data:`FINDING`."""
    problems = []
    for rid, entry in sorted(found["runs"].items()):
        arch = rid.split("/")[1].split("-")[0]
        for classes in ("temporal", "spatial"):
            low, high = FINDING[(arch, classes)]
            value = (entry.get("eval") or {}).get(f"clip_top1_{classes}")
            if value is None or not low <= value <= high:
                problems.append(
                    f"{rid}: clip top-1 on {classes} classes {value}, expected {low}..{high}"
                )
    return problems


def _stable(obj: Any) -> Any:
    """``obj`` without wall-clock values and provenance, recursively."""
    if isinstance(obj, dict):
        return {
            k: _stable(v)
            for k, v in obj.items()
            if k not in VOLATILE_KEYS and not k.endswith(VOLATILE_SUFFIXES)
        }
    if isinstance(obj, list):
        return [_stable(v) for v in obj]
    return obj


def _history(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return [_stable(row) for row in csv.DictReader(fh)]


def collect(root: Path) -> dict[str, Any]:
    """Every deterministic result of the demo under ``root`` (runs/ and reports/)."""
    runs: dict[str, Any] = {}
    for metrics in sorted((root / "runs").glob("**/train_metrics.json")):
        run_dir = metrics.parent
        rid = run_dir.relative_to(root / "runs").as_posix()
        entry: dict[str, Any] = {"train": _stable(json.loads(metrics.read_text()))}
        if (run_dir / "history.csv").is_file():
            entry["history"] = _history(run_dir / "history.csv")
        eval_dir = run_dir / "eval"
        if (eval_dir / "metrics.json").is_file():
            entry["eval"] = _stable(json.loads((eval_dir / "metrics.json").read_text()))
        if (eval_dir / "predictions.csv").is_file():
            digest = hashlib.sha256((eval_dir / "predictions.csv").read_bytes()).hexdigest()
            entry["predictions_sha256"] = digest
        runs[rid] = entry
    if not runs:
        raise SystemExit(f"{root}/runs holds no train_metrics.json: run the demo first")
    report = root / "reports" / "metrics.json"
    if not report.is_file():
        raise SystemExit(f"{report} does not exist: run the demo to the end (rule all)")
    return {
        "machine": machine(),
        "runs": runs,
        "report": _stable(json.loads(report.read_text())),
    }


def differences(expected: Any, actual: Any, where: str = "") -> list[str]:
    """Human-readable paths of every value that differs (missing and extra keys included)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual), key=str):
            here = f"{where}.{key}" if where else str(key)
            if key not in actual:
                out.append(f"{here}: missing (expected {expected[key]!r})")
            elif key not in expected:
                out.append(f"{here}: unexpected (got {actual[key]!r})")
            else:
                out += differences(expected[key], actual[key], here)
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        out = []
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            out += differences(e, a, f"{where}[{i}]")
        return out
    return [] if expected == actual else [f"{where}: expected {expected!r}, got {actual!r}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_collect = sub.add_parser("collect", help="write the demo's deterministic results as JSON")
    p_collect.add_argument("root", type=Path)
    p_collect.add_argument("--out", type=Path, help="file to write (default: stdout)")
    p_check = sub.add_parser("check", help="compare a finished demo with an expected JSON")
    p_check.add_argument("root", type=Path)
    p_check.add_argument("expected", type=Path)
    args = parser.parse_args(argv)
    found = collect(args.root)
    if args.command == "collect":
        text = json.dumps(found, indent=1, sort_keys=True) + "\n"
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text)
        else:
            sys.stdout.write(text)
        return 0
    expected = json.loads(args.expected.read_text())
    n_runs = len(found["runs"])
    if expected.get("machine") != found["machine"]:
        problems = finding_problems(found)
        for line in problems:
            print(line)
        print(
            f"other machine: {args.expected} was made on {expected.get('machine')}, this demo "
            f"ran on {found['machine']}; numbers cannot be bit-identical across machine kinds, "
            f"so the finding was checked instead: "
            + ("HOLDS" if not problems else "FAILS")
            + f" for {n_runs} runs"
        )
        return 1 if problems else 0
    diffs = differences(expected, found)
    for line in diffs:
        print(line)
    print(
        f"{'DIFFERENT' if diffs else 'identical'}: {n_runs} runs and reports/metrics.json "
        f"against {args.expected} ({len(diffs)} differences)"
    )
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
