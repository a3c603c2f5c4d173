"""``actionbench train`` and ``actionbench evaluate``.

Either ``--params params.yaml --run RUN_ID`` (the config is resolved from params.yaml by
``actionbench.config.resolve_run``) or ``--config run.json`` (an already resolved run config:
tests, torchrun launches, re-running exactly what a previous job ran).

Exit codes: 0 done; 2 a user-fixable error (config, data, model, NaN loss);
75 pre-empted after saving a checkpoint -- rerun the same command to resume.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
from datetime import datetime, timezone
from pathlib import Path

from actionbench.cli.helptext import add_command

log = logging.getLogger("actionbench.train")


def _add_source(parser: argparse.ArgumentParser) -> None:
    source = parser.add_argument_group("run config (give --params and --run, or --config)")
    source.add_argument("--params", help="params.yaml to resolve the run from")
    source.add_argument("--run", dest="run_id", help="run id, e.g. mini-ssv2/tam-resnet50/f8")
    source.add_argument("--config", help="a resolved run config JSON file")


def _resolve(args: argparse.Namespace) -> dict:
    from actionbench.errors import ConfigError

    if args.config:
        if args.params or args.run_id:
            raise ConfigError("give either --config or --params/--run, not both")
        from actionbench.engine.runcfg import load_run_config

        return load_run_config(args.config)
    if not (args.params and args.run_id):
        raise ConfigError("need --params PARAMS.yaml --run RUN_ID, or --config RUN.json")
    from actionbench.config import resolve_run

    return resolve_run(args.params, args.run_id)


@contextlib.contextmanager
def _failure_record(cfg: dict, stage: str):
    """Leave ``<output_dir>/failure.json`` (stage, reason) when a job fails, for the report.

    In a 300-run grid one run failing (NaN, OOM, a bad video set) must not vanish: Snakemake
    goes on with the others (--keep-going) and the report lists this run with the reason.
    A later success removes the record. Only the main process writes it.
    """
    import os

    from actionbench.engine.checkpoint import atomic_write_bytes
    from actionbench.engine.distributed import env_from
    from actionbench.engine.preemption import Preempted

    record = Path(cfg["output_dir"]) / "failure.json"
    main = env_from(os.environ).is_main  # torchrun's RANK or srun's SLURM_PROCID
    try:
        yield
    except Preempted:  # not a failure: the rerun resumes
        if main:
            record.unlink(missing_ok=True)
        raise
    except Exception as err:
        if main:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            payload = {
                "stage": stage,
                "reason": reason,
                "error": type(err).__name__,
                "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            }
            atomic_write_bytes(record, json.dumps(payload, indent=2).encode())
        raise
    if main:
        record.unlink(missing_ok=True)


def _train(args: argparse.Namespace) -> int:
    from actionbench.engine.preemption import Preempted
    from actionbench.engine.train import train

    cfg = _resolve(args)
    try:
        with _failure_record(cfg, "train"):
            result = train(cfg)
    except Preempted as stop:
        log.warning("%s", stop)
        return stop.exit_code
    log.info("final metrics: %s", json.dumps(result, sort_keys=True))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from actionbench.engine.evaluate import evaluate
    from actionbench.measure.profiling import run_cost

    cfg = _resolve(args)
    with _failure_record(cfg, "evaluate"):
        result = evaluate(cfg, checkpoint=args.checkpoint, model_cost=run_cost)
    if result:
        log.info("metrics: %s", json.dumps(result, sort_keys=True))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    train = add_command(
        subparsers,
        "train",
        help="train one run (resumes from its last checkpoint)",
        text="Train one run of the experiment grid; resumes from\n"
        "<output_dir>/checkpoints/last.pt when present. Exit 75 = pre-empted, rerun to resume.",
        examples=[
            "actionbench train --params params.yaml --run mini-synthetic/tam-resnet18/f8",
        ],
    )
    _add_source(train)
    train.set_defaults(func=_train)

    evaluate = add_command(
        subparsers,
        "evaluate",
        help="clip- and video-level evaluation of a trained run",
        text="Evaluate a trained run on its validation list (clips x crops of its eval\n"
        "settings); writes <output_dir>/eval/.",
        examples=[
            "actionbench evaluate --params params.yaml --run mini-synthetic/tam-resnet18/f8",
        ],
    )
    _add_source(evaluate)
    evaluate.add_argument(
        "--checkpoint", help="weights to evaluate (default: <output_dir>/final.pt)"
    )
    evaluate.set_defaults(func=_evaluate)
