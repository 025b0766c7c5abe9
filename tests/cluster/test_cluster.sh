#!/usr/bin/env bash
# `make test-cluster`: a single-node SLURM on localhost (Debian's munge, slurmctld, slurmd), a small `power` grid
# run through Snakemake's SLURM executor (workflow/profiles/slurm) end to end, its tables compared byte for byte
# with a local run, and every daemon this script started stopped by its pid.
#
# Needs root (the daemons run as root: SlurmUser=root, no systemd). Installs the Debian packages when missing.
# Everything else lives in a temporary directory: its own slurm.conf (SLURM_CONF), munge key and socket, spool,
# state and logs, and ports chosen free. In /etc only what srun inside a job needs, and only while the test runs:
# a link /etc/slurm/slurm.conf to that file when there is none, and a hosts line if the host name does not resolve.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
SNAKEMAKE="$VENV/bin/snakemake"
T0=$(date +%s)
say() { echo "[test-cluster $(( $(date +%s) - T0 ))s] $*"; }

if [ "$(id -u)" != 0 ]; then echo "test-cluster: needs root (it starts munged, slurmctld and slurmd)"; exit 1; fi

# ------------------------------------------------------------------------------------------ packages
missing=""
for pc in munge:munged slurmctld:slurmctld slurmd:slurmd slurm-client:sbatch; do
  command -v "${pc##*:}" >/dev/null 2>&1 || [ -x "/usr/sbin/${pc##*:}" ] || missing="$missing ${pc%%:*}"
done
if [ -n "$missing" ]; then
  say "installing$missing"
  # no service starts from the packages' install scripts (policy-rc.d 101): the only daemons are the ones below
  POLICY=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && POLICY=1
  fi
  rc=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends $missing >/dev/null; } || rc=$?
  [ -z "$POLICY" ] || rm -f /usr/sbin/policy-rc.d
  [ "$rc" = 0 ] || { echo "test-cluster: apt-get install$missing failed"; exit "$rc"; }
fi
export PATH="/usr/sbin:$PATH"

# ------------------------------------------------------------------------------------------ layout
W="$(mktemp -d /tmp/compval-cluster.XXXXXX)"
mkdir -p "$W/munge" "$W/state" "$W/spool" "$W/log"
chmod 700 "$W" "$W/munge"
HOST="$(hostname -s)"
HOSTS_LINE=""
if ! getent hosts "$HOST" >/dev/null; then
  HOSTS_LINE="127.0.0.1 $HOST # compval test-cluster $$"
  echo "$HOSTS_LINE" >> /etc/hosts
fi
PIDS=()

cleanup() {
  set +e
  if [ -n "${SLURM_CONF:-}" ] && [ -f "$W/slurmctld.pid" ]; then
    scancel --quiet --user=root 2>/dev/null
  fi
  # stop the daemons we started, newest first, by pid (munged last: slurm needs it to shut down cleanly)
  for name in slurmd slurmctld munged; do
    f="$W/$name.pid"
    [ -f "$f" ] || continue
    pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
      say "stopped $name (pid $pid)"
    fi
  done
  if [ -n "${ETC_LINK:-}" ] && [ -L "$ETC_LINK" ]; then rm -f "$ETC_LINK"; fi
  if [ -n "$HOSTS_LINE" ]; then
    grep -vxF "$HOSTS_LINE" /etc/hosts > "$W/hosts" && cat "$W/hosts" > /etc/hosts
  fi
  if [ "${KEEP_CLUSTER_DIR:-0}" = 1 ]; then say "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
CTLD_PORT=$(free_port)
SLURMD_PORT=$(free_port)
while [ "$SLURMD_PORT" = "$CTLD_PORT" ]; do SLURMD_PORT=$(free_port); done
CPUS=$(nproc)
MEM_MB=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 8 / 10 ))

# ------------------------------------------------------------------------------------------ munge
dd if=/dev/urandom of="$W/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$W/munge/munge.key"
munged --force --socket="$W/munge/munge.socket" --key-file="$W/munge/munge.key" --pid-file="$W/munged.pid" \
  --log-file="$W/log/munged.log" --seed-file="$W/munge/munge.seed"
for _ in $(seq 50); do [ -S "$W/munge/munge.socket" ] && break; sleep 0.1; done
say "munged pid $(cat "$W/munged.pid")"

# ------------------------------------------------------------------------------------------ slurm
export SLURM_CONF="$W/slurm.conf"
cat > "$SLURM_CONF" <<EOF
ClusterName=compvaltest
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$W/munge/munge.socket
CredType=cred/munge
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool
SlurmctldPidFile=$W/slurmctld.pid
SlurmdPidFile=$W/slurmd.pid
SlurmctldLogFile=$W/log/slurmctld.log
SlurmdLogFile=$W/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=500
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
SlurmdTimeout=60
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
# srun inside a batch job (the plugin's job step) reads the default /etc/slurm/slurm.conf, not SLURM_CONF: point it
# at ours while the test runs (removed at the end). A link left by an earlier run of this test that was killed before
# its cleanup (its controller no longer running) is replaced; any other slurm.conf stops the test, since srun would
# talk to that cluster instead.
ETC_LINK=""
ETC_CONF=/etc/slurm/slurm.conf
if [ -L "$ETC_CONF" ]; then
  old="$(readlink "$ETC_CONF")"
  old_dir="$(dirname "$old")"
  case "$old_dir" in
    /tmp/compval-cluster.*)
      old_pid="$(cat "$old_dir/slurmctld.pid" 2>/dev/null || true)"
      if [ -n "$old_pid" ] && kill -0 "$old_pid" 2>/dev/null; then
        echo "test-cluster: $ETC_CONF points at $old, whose slurmctld (pid $old_pid) is still running;" \
          "expected no other test-cluster run at the same time"
        exit 1
      fi
      say "replacing $ETC_CONF -> $old, left by an earlier run that was stopped before its cleanup"
      rm -f "$ETC_CONF"
      [ "${KEEP_CLUSTER_DIR:-0}" = 1 ] || rm -rf "$old_dir"
      ;;
  esac
fi
if [ -e "$ETC_CONF" ] || [ -L "$ETC_CONF" ]; then
  echo "test-cluster: $ETC_CONF already exists ($(readlink -f "$ETC_CONF" 2>/dev/null || echo "$ETC_CONF"));" \
    "srun inside a job would read it instead of this test's configuration; expected no slurm.conf there"
  exit 1
fi
mkdir -p /etc/slurm && ln -s "$SLURM_CONF" "$ETC_CONF" && ETC_LINK="$ETC_CONF"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 100); do
  state="$(sinfo -h -N -o '%t' 2>/dev/null | head -1)"
  [ "$state" = idle ] && break
  sleep 0.3
done
say "slurmctld pid $(cat "$W/slurmctld.pid"), slurmd pid $(cat "$W/slurmd.pid"); node $HOST: $(sinfo -h -N -o '%t %c CPUs %m MB')"
[ "$state" = idle ] || { echo "the SLURM node did not become idle"; tail -20 "$W/log/slurmctld.log" "$W/log/slurmd.log"; exit 1; }

# ------------------------------------------------------------------------------------------ the runs
mkdir -p "$W/local" "$W/cluster"
for d in local cluster; do "$PY" "$ROOT/tests/cluster/make_project.py" "$W/$d" >/dev/null; done
export COMPVAL_TEST_KEY=cluster-test-key SOURCE_DATE_EPOCH=0

say "local run (2 cores)"
"$SNAKEMAKE" power -s "$ROOT/Snakefile" --directory "$W/local" --configfile "$W/local/config/config.yaml" \
  --cores 2 > "$W/log/local.log" 2>&1 || { tail -40 "$W/log/local.log"; exit 1; }

say "cluster run (SLURM executor, workflow/profiles/slurm)"
"$SNAKEMAKE" power -s "$ROOT/Snakefile" --directory "$W/cluster" --configfile "$W/cluster/config/config.yaml" \
  --workflow-profile "$ROOT/workflow/profiles/slurm" --jobs 4 --slurm-no-account \
  --slurm-status-command squeue --slurm-init-seconds-before-status-checks 5 --verbose \
  > "$W/log/cluster.log" 2>&1 || { tail -60 "$W/log/cluster.log"; tail -20 "$W/log/slurmctld.log"; exit 1; }

echo "---- jobs submitted through sbatch (from the Snakemake log):"
grep -E "sbatch call|submitted with SLURM jobid" "$W/log/cluster.log" | sed -E 's/(sbatch call: .{0,160}).*/\1 .../'
n_sbatch=$(grep -c "submitted with SLURM jobid" "$W/log/cluster.log" || true)
[ "$n_sbatch" -ge 6 ] || { echo "expected at least 6 jobs submitted through sbatch, found $n_sbatch"; exit 1; }

fail=0
for f in power cutoffs parameters convergence smallest_n replications population_values; do
  if cmp -s "$W/local/results/power/$f.csv" "$W/cluster/results/power/$f.csv"; then
    echo "identical: results/power/$f.csv"
  else
    echo "DIFFERENT: results/power/$f.csv"; fail=1
  fi
done
[ "$fail" = 0 ] || exit 1
say "test-cluster passed: $n_sbatch jobs submitted through sbatch; tables identical to the local run"
