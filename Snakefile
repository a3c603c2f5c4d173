# actionbench workflow: frames -> lists -> mini dataset -> progressive training -> evaluation -> report.
# Thin on purpose: every rule calls the `actionbench` CLI; the logic lives in tested Python.
# Run from the repository root:  snakemake --profile local all   (laptop/CI)
#                                snakemake --profile slurm all   (GPU cluster)
# Console: one line per job by default; ACTIONBENCH_VERBOSE=1 (or --printshellcmds) shows each
# job's shell command and the reason it runs (docs/reruns.md).
import os
import sys

from snakemake.utils import min_version

from actionbench.config import expand_grid
from actionbench.errors import ActionbenchError
from actionbench.planning import resolve_workflow_params, verbose_console

min_version("9.0")  # the profiles set max-checksum-file-size (docs/reruns.md)

# params.yaml is read by actionbench, not by `configfile:`: YAML errors name line and column,
# schema errors name the key (like `actionbench grid`), missing raw data stops planning, and
# --config overrides reach the jobs (they read PARAMS_FILE, the overridden copy when there are
# overrides). Nothing runs and nothing is written before these checks pass.
try:
    _params, PARAMS_FILE = resolve_workflow_params("params.yaml", dict(config))
except ActionbenchError as _err:
    sys.stderr.write(f"actionbench: {_err}\n")
    sys.exit(1)
config.clear()
config.update(_params)

VERBOSE = os.environ.get("ACTIONBENCH_VERBOSE", "0") not in ("", "0", "false", "no")
if VERBOSE:
    verbose_console()
RUNS = expand_grid(config)
RUNS_DIR = config["project"]["runs_dir"]
REPORTS_DIR = config["project"]["reports_dir"]

include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


rule all:
    """The whole study: every enabled run trained and evaluated, and the report."""
    default_target: True
    message:
        None if VERBOSE else "all: study complete"
    input:
        rules.report.output,
        RUN_OUTPUTS,


# A failed run (NaN, OOM, bad data) must not hide the others: with --keep-going every other
# job still finishes, and then a partial report is built anyway: a banner names each run that
# has no current result and why (runs/<run id>/failure.json, or missing). It removes
# reports/complete.json, which `rule all` needs, so the next `snakemake all` runs every missing
# or failed job and then the full report.
onerror:
    shell(f"actionbench report --params {PARAMS_FILE} --out-dir {REPORTS_DIR} > logs/report-after-failure.log 2>&1 || true")
    print(
        f"Some jobs failed or were interrupted; the partial report names them: "
        f"{REPORTS_DIR}/index.html. Run the same command again to run what is missing.",
        file=sys.stderr,
    )
