#!/usr/bin/env bash
# The test suite (fast, CPU-only default set). Extra arguments go to pytest,
# e.g. `bash scripts/test.sh -m slow` for the slow tests.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
if [ "$#" -eq 0 ]; then
  set -- -m "not slow"
fi
exec python -m pytest "$@"
