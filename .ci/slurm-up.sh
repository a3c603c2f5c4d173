#!/usr/bin/env bash
# Stand up a one-node SLURM cluster on this machine, for the SLURM integration test.
#
#   sudo bash .ci/slurm-up.sh      # root: installs slurm-wlm + munge (Debian), starts the daemons
#
# What it does (docs/slurm.md, "How CI stands up a cluster"):
#   1. apt-get install slurm-wlm munge, unless slurmctld/slurmd/sbatch/munged are already there;
#   2. a munge key, then munged;
#   3. /etc/slurm/slurm.conf for THIS node (CPUs and memory from `slurmd -C`), no accounting
#      database (AccountingStorageType=accounting_storage/none: no sacct, the executor plugin polls
#      squeue instead), MinJobAge=3600 so finished jobs stay visible to squeue/scontrol for an hour,
#      proctrack/linuxproc + task/none and NO cgroup.conf (Debian's 22.05 has no
#      CgroupPlugin=disabled, and cgroups are not available in every container);
#   4. one partition named `gpu` (the default; CPU only: no GPUs here) standing in for a GPU
#      partition, and a node feature `ci` so --constraint requests can be tested;
#   5. slurmctld + slurmd, then waits (~60 s) for `sinfo` to show the node idle.
# A second call with the cluster up changes nothing. On failure it prints the daemons' logs and
# exits non-zero. `.ci/slurm-down.sh` stops what this started.
set -euo pipefail

PARTITION="${SLURM_CI_PARTITION:-gpu}"
CLUSTER="${SLURM_CI_CLUSTER:-actionbench-ci}"
WAIT_S="${SLURM_CI_WAIT_S:-60}"
FEATURE="${SLURM_CI_FEATURE:-ci}"   # node feature, so --constraint requests can be scheduled
CONF_DIR=/etc/slurm
CONF="$CONF_DIR/slurm.conf"
LOG_DIR=/var/log/slurm
RUN_DIR=/run/slurm
STATE_DIR=/var/spool/slurmctld
SPOOL_DIR=/var/spool/slurmd
MUNGE_KEY=/etc/munge/munge.key
MUNGE_PID=/run/munge/munged.pid
CTLD_PID="$RUN_DIR/slurmctld.pid"
SLURMD_PID="$RUN_DIR/slurmd.pid"

say() { echo "[slurm-up] $*" >&2; }

die() {
  say "ERROR: $*"
  for f in "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" /var/log/munge/munged.log; do
    if [ -f "$f" ]; then
      echo "----- last lines of $f -----" >&2
      tail -n 60 "$f" >&2
    fi
  done
  if command -v sinfo >/dev/null 2>&1; then
    echo "----- sinfo -----" >&2
    sinfo -N -l >&2 || true
    scontrol show node >&2 || true
  fi
  exit 1
}

alive() {  # alive PIDFILE NAME: the pid in PIDFILE is a running NAME (not a reused pid)
  [ -s "$1" ] && [ "$(cat "/proc/$(cat "$1")/comm" 2>/dev/null)" = "$2" ]
}

node_state() {  # state of this cluster's node(s) as sinfo reports it, e.g. "idle"
  sinfo -h -o '%T' 2>/dev/null | head -n 1
}

cluster_ready() {
  alive "$MUNGE_PID" munged && alive "$CTLD_PID" slurmctld && alive "$SLURMD_PID" slurmd || return 1
  case "$(node_state)" in
    idle | mixed | allocated | completing) return 0 ;;
    *) return 1 ;;
  esac
}

[ "$(id -u)" -eq 0 ] || die "must run as root (installs packages, starts munged/slurmctld/slurmd)"

if command -v sinfo >/dev/null 2>&1 && cluster_ready; then
  say "cluster already up: $(sinfo -h -o '%P %D %T' | tr '\n' ' ')"
  exit 0
fi

# 1. packages ----------------------------------------------------------------------------------
need_install=0
for bin in slurmctld slurmd sbatch squeue sinfo scontrol munged; do
  command -v "$bin" >/dev/null 2>&1 || need_install=1
done
if [ "$need_install" -eq 1 ]; then
  say "installing slurm-wlm and munge (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null \
    || die "apt-get install slurm-wlm munge failed"
fi
for bin in slurmctld slurmd sbatch squeue sinfo scontrol munged; do
  command -v "$bin" >/dev/null 2>&1 || die "$bin not found after installation"
done

# 2. munge ---------------------------------------------------------------------------------------
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [ ! -s "$MUNGE_KEY" ]; then
  say "creating a munge key"
  if command -v mungekey >/dev/null 2>&1; then
    mungekey --create --keyfile="$MUNGE_KEY" --force
  else
    dd if=/dev/urandom of="$MUNGE_KEY" bs=1 count=1024 status=none
  fi
fi
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
chmod 0700 /etc/munge /var/lib/munge /var/log/munge
chmod 0755 /run/munge
chmod 0400 "$MUNGE_KEY"
if ! alive "$MUNGE_PID" munged; then
  say "starting munged"
  rm -f "$MUNGE_PID" /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
  runuser -u munge -- /usr/sbin/munged || die "munged did not start"
fi
for _ in $(seq 1 20); do
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
  sleep 0.5
done
munge -n | unmunge >/dev/null 2>&1 || die "munge round trip (munge -n | unmunge) fails"

# 3. slurm.conf for this node ------------------------------------------------------------------------
mkdir -p "$CONF_DIR" "$LOG_DIR" "$RUN_DIR" "$STATE_DIR" "$SPOOL_DIR"
NODE="$(hostname -s)"
# `slurmd -C` prints e.g. "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2
# ThreadsPerCore=1 RealMemory=24000"; keep the hardware fields, leave some memory to the OS.
HW="$(slurmd -C | head -n 1)" || die "slurmd -C failed"
CPUS="$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$HW")"
MEM="$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$HW")"
[ -n "$CPUS" ] && [ -n "$MEM" ] || die "cannot read CPUs/RealMemory from 'slurmd -C': $HW"
TOPO="$(grep -o 'Boards=[0-9]* SocketsPerBoard=[0-9]* CoresPerSocket=[0-9]* ThreadsPerCore=[0-9]*' <<<"$HW" || true)"
MEM=$((MEM * 95 / 100))
ADDR="$(getent hosts "$NODE" | awk '{print $1; exit}')"
ADDR="${ADDR:-127.0.0.1}"

cat >"$CONF.new" <<EOF
# Written by .ci/slurm-up.sh: a one-node cluster for CI (no accounting database, no cgroups).
ClusterName=$CLUSTER
SlurmctldHost=$NODE($ADDR)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
# finished jobs stay in slurmctld (squeue --states=all, scontrol show job) for an hour: the
# executor plugin's squeue status check and the integration test rely on it
MinJobAge=3600
KillWait=30
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=$SPOOL_DIR
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# Feature: lets a job's --constraint be scheduled here (the SLURM test asks for it)
NodeName=$NODE NodeAddr=$ADDR CPUs=$CPUS $TOPO RealMemory=$MEM Feature=$FEATURE State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
if [ -f "$CONF" ] && cmp -s "$CONF" "$CONF.new"; then
  rm -f "$CONF.new"
else
  mv "$CONF.new" "$CONF"
  say "wrote $CONF ($NODE: $CPUS CPUs, $MEM MB, partition $PARTITION)"
  # daemons still running on an older configuration: restart them on this one
  for daemon in slurmd:"$SLURMD_PID" slurmctld:"$CTLD_PID"; do
    pidfile="${daemon#*:}"
    if alive "$pidfile" "${daemon%%:*}"; then
      pid="$(cat "$pidfile")"
      say "configuration changed: stopping pid $pid ($pidfile) to restart it"
      kill -TERM "$pid"
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      rm -f "$pidfile"
    fi
  done
fi
# cgroup.conf would make slurmd load the cgroup plugins, which this setup avoids on purpose
if [ -f "$CONF_DIR/cgroup.conf" ]; then
  mv "$CONF_DIR/cgroup.conf" "$CONF_DIR/cgroup.conf.disabled-by-slurm-up"
  say "moved $CONF_DIR/cgroup.conf aside"
fi

# 4. daemons -------------------------------------------------------------------------------------
if ! alive "$CTLD_PID" slurmctld; then
  # -c: forget jobs saved by an earlier controller (a killed session's jobs would otherwise be
  # recovered, and requeued ones run again in directories that no longer exist)
  say "starting slurmctld"
  rm -f "$CTLD_PID"
  slurmctld -c || die "slurmctld did not start"
fi
for _ in $(seq 1 20); do
  scontrol ping >/dev/null 2>&1 && break
  sleep 0.5
done
if ! alive "$SLURMD_PID" slurmd; then
  say "starting slurmd"
  rm -f "$SLURMD_PID"
  slurmd || die "slurmd did not start"
fi

# 5. wait for the node -----------------------------------------------------------------------------
deadline=$((SECONDS + WAIT_S))
state=""
while [ "$SECONDS" -lt "$deadline" ]; do
  state="$(node_state)"
  case "$state" in
    idle | mixed | allocated | completing)
      say "cluster up: $(sinfo -h -o 'partition %P, %D node(s) %N, %c CPUs, %m MB, %T')"
      exit 0
      ;;
    down* | drain* | drained* | fail*)
      # a node left down by an earlier run comes back once it registers with this config
      scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true
      ;;
  esac
  sleep 1
done
die "node $NODE not idle after ${WAIT_S}s (state: '${state:-none}')"
