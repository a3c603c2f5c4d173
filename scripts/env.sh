#!/usr/bin/env bash
# Create or reuse the project's virtual environment, install actionbench into it and put it on
# PATH. Sourced by scripts/demo.sh and scripts/test.sh (and so by .ci/run); users may source it
# too (`source scripts/env.sh`): it changes neither the caller's directory nor its shell options.
# Needs only python3 >= 3.10. Re-installs only when pyproject.toml changed since the last install.
_actionbench_env() {
  local root venv python stamp want
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || return 1
  venv="${ACTIONBENCH_VENV:-$root/.venv}"
  python="${PYTHON:-python3}"
  if [ ! -x "$venv/bin/python" ]; then
    echo "[actionbench] creating virtual environment in $venv" >&2
    "$python" -m venv "$venv" || return 1
  fi
  stamp="$venv/.actionbench-installed"
  want="$(sha256sum "$root/pyproject.toml" | cut -d' ' -f1)" || return 1
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] \
      || ! "$venv/bin/python" -c "import actionbench" 2>/dev/null; then
    echo "[actionbench] installing actionbench and its dependencies (first run: a few minutes)" >&2
    "$venv/bin/python" -m pip install --quiet --upgrade pip || return 1
    "$venv/bin/python" -m pip install --quiet -e "$root[dev]" || return 1
    echo "$want" > "$stamp"
  fi
  ROOT="$root"
  export PATH="$venv/bin:$PATH"
  export VIRTUAL_ENV="$venv"
}
_actionbench_env || { echo "[actionbench] environment setup failed" >&2; return 1 2>/dev/null || exit 1; }
unset -f _actionbench_env
