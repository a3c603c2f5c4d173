#!/usr/bin/env bash
# The demo: synthetic videos -> ffmpeg frames -> mini dataset -> TSN/TAM f8 -> f16 -> evaluation
# -> report, scheduled by Snakemake exactly as `snakemake --profile local all`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
snakemake --profile local all "$@"
echo
echo "Report:  $ROOT/reports/index.html  (Markdown: $ROOT/reports/report.md)"
echo "Runs:    mlflow ui   (then open http://127.0.0.1:5000)"
