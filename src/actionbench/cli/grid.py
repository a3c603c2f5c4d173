"""`actionbench grid`: what params.yaml expands to (runs, their protocol) — no training."""

from __future__ import annotations

import argparse
import json

from actionbench.cli.args import add_params
from actionbench.cli.helptext import add_command


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "grid",
        help="list the runs the experiment grid expands to",
        text="Expand params.yaml's experiment groups into run ids (progressive ancestors\n"
        "included) without training anything; --show prints one run's resolved config\n"
        "and, under `resources`, what its train and evaluate jobs ask the cluster for.",
        examples=[
            "actionbench grid --params params.yaml --summary",
            "actionbench grid --show mini-synthetic/tam-resnet18/f8",
        ],
    )
    add_params(p)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--list", action="store_true", help="one run id per line (default)")
    mode.add_argument("--summary", action="store_true", help="counts by arch/backbone/tp/frames")
    mode.add_argument(
        "--show",
        metavar="RUN_ID",
        help="print one run's resolved protocol and its jobs' resources (JSON)",
    )
    mode.add_argument(
        "--weights",
        action="store_true",
        help="JSON: the SHA-256 of every ImageNet weights file the grid starts from (DVC's "
        "`check` stage writes it, so replacing a file re-runs the runs made from it)",
    )
    p.add_argument("--all", action="store_true", help="include disabled experiment groups")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from collections import Counter

    from actionbench.config import expand_grid, load_params, run_protocol

    params = load_params(args.params)
    if args.show:
        print(json.dumps(show(params, args.show), indent=2, sort_keys=True))
        return 0
    runs = expand_grid(params, include_disabled=args.all)
    if args.weights:
        from actionbench.identity import file_sha256

        paths = {
            cfg["init"]["path"]
            for cfg in (run_protocol(params, rid, runs) for rid in runs)
            if cfg["init"]["kind"] == "imagenet" and cfg["init"]["path"]
        }
        digests = {path: file_sha256(path) or "missing" for path in sorted(paths)}
        print(json.dumps(digests, indent=2))
        return 0
    if args.summary:
        for field in ("dataset", "arch", "backbone", "temporal_pooling", "frames", "sampling"):
            counts = Counter(getattr(spec, field) for spec in runs.values())
            print(f"{field}: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items(), key=str)))
        print(f"total: {len(runs)} runs")
        return 0
    for rid, spec in runs.items():
        print(rid + ("  (progressive ancestor)" if spec.implicit else ""))
    return 0


def show(params: dict, run_id: str) -> dict:
    """A run's resolved protocol, plus ``resources``: its train and evaluate requests (what the
    Snakefile hands to SLURM; ``estimate`` says what an `auto` value rests on)."""
    from actionbench.cluster.jobs import Requests
    from actionbench.config import expand_grid, run_protocol

    runs = expand_grid(params)
    protocol = run_protocol(params, run_id, runs)
    requests = Requests(params, runs, lambda rid: run_protocol(params, rid, runs))
    resources = {kind: requests.get(run_id, kind).as_dict() for kind in ("train", "evaluate")}
    return {**protocol, "resources": resources}
