"""`actionbench launch`: start a training command as one process, under torchrun, or on N nodes."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import shutil

from actionbench.cli.helptext import add_command

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub,
        "launch",
        help="start a command with the processes of a train job (the train rule calls it)",
        text="Start COMMAND as the train rule's job asks: itself (1 process), under torchrun\n"
        "(--procs-per-agent > 1, one node) or, with --agents > 1, through srun as one\n"
        "torchrun agent per node with a c10d rendezvous on the first node (docs/slurm.md\n"
        '"Multi-GPU and multi-node training" shows the multi-node form).',
        examples=[
            "actionbench launch --agents 1 --procs-per-agent 2 -- actionbench train --params "
            "params.yaml --run mini-synthetic/tsn-resnet18/f8",
        ],
    )
    p.add_argument("--agents", type=int, default=1, help="torchrun agents = SLURM tasks (1)")
    p.add_argument("--nodes", type=int, default=1, help="nodes the agents spread over (1)")
    p.add_argument("--procs-per-agent", type=int, default=1, help="processes per agent (1)")
    p.add_argument("--gpus-per-agent", type=int, default=0, help="GPUs per agent (0: CPU)")
    p.add_argument("--cpus-per-agent", type=int, default=1, help="CPUs per SLURM task (1)")
    p.add_argument(
        "--agent", action="store_true", help="inside srun: be one torchrun agent (internal)"
    )
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from actionbench.engine.launch import launch_argv
    from actionbench.errors import ConfigError

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    argv = launch_argv(
        command,
        agents=args.agents,
        nodes=args.nodes,
        procs=args.procs_per_agent,
        gpus_per_agent=args.gpus_per_agent,
        cpus=args.cpus_per_agent,
        agent=args.agent,
    )
    exe = shutil.which(argv[0])
    if exe is None:
        raise ConfigError(f"`{argv[0]}` not found on PATH (needed to run: {shlex.join(argv)})")
    log.info("exec %s", shlex.join(argv))
    logging.shutdown()
    os.execv(exe, argv)
    return 0  # pragma: no cover - execv does not return
