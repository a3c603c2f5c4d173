# actionbench workflow: frames -> lists -> mini dataset -> progressive training -> evaluation -> report.
# Thin on purpose: every rule calls the `actionbench` CLI; the logic lives in tested Python.
# Run from the repository root:  snakemake --profile local all   (laptop/CI)
#                                snakemake --profile slurm all   (GPU cluster)
import sys

from snakemake.utils import min_version, validate

from actionbench.config import validate_params, expand_grid

min_version("8.0")

configfile: "params.yaml"

PARAMS_FILE = "params.yaml"
SCHEMA = "workflow/schemas/params.schema.yaml"

# Stop before any job starts on an unknown key or a bad value, naming it.
validate(config, SCHEMA)
validate_params(config, __import__("yaml").safe_load(open(SCHEMA)), source=PARAMS_FILE)

RUNS = expand_grid(config)
RUNS_DIR = config["project"]["runs_dir"]
REPORTS_DIR = config["project"]["reports_dir"]

include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        rules.report.output,


# A failed run (NaN, OOM, bad data) must not hide the others: with --keep-going every other
# job still finishes, and then the report is built anyway, listing the failed runs with the
# reason each job left in runs/<run id>/failure.json.
onerror:
    shell(f"actionbench report --params {PARAMS_FILE} --out-dir {REPORTS_DIR} > logs/report-after-failure.log 2>&1 || true")
    print(f"Some jobs failed; the report lists them: {REPORTS_DIR}/index.html", file=sys.stderr)
