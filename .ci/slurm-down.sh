#!/usr/bin/env bash
# Stop the one-node SLURM cluster that .ci/slurm-up.sh started (slurmd, slurmctld, munged).
# Stops each daemon by the pid in its pid file -- never by process name. Installed packages,
# /etc/slurm/slurm.conf and the munge key stay, so the next slurm-up.sh is quick.
# Running it with nothing up is fine.
set -euo pipefail

say() { echo "[slurm-down] $*" >&2; }

stop() {  # stop NAME PIDFILE: SIGTERM, wait up to 15 s, then SIGKILL
  local name="$1" pidfile="$2" pid
  if [ ! -s "$pidfile" ]; then
    say "$name: not running (no $pidfile)"
    return 0
  fi
  pid="$(cat "$pidfile")"
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "$name" ]; then
    say "$name: not running (stale pid file $pidfile: pid $pid is not $name)"
    rm -f "$pidfile"
    return 0
  fi
  say "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

[ "$(id -u)" -eq 0 ] || { say "must run as root"; exit 1; }

stop slurmd /run/slurm/slurmd.pid
stop slurmctld /run/slurm/slurmctld.pid
stop munged /run/munge/munged.pid
say "done"
