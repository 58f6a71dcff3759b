#!/bin/sh
# slurm_local.sh - a throwaway Slurm cluster of one node on this machine, to
# try scripts/examples/slurm_array.sbatch (and to test it: tests/cli_slurm_test.py).
#
#   sh scripts/slurm_local.sh start DIR    # as root; prints the line below
#   export SLURM_CONF=DIR/slurm.conf       # sbatch, squeue... now use it
#   sh scripts/slurm_local.sh stop DIR
#
# start runs munged, slurmctld and slurmd (Debian's munge, slurmctld, slurmd
# and slurm-client packages; make deps installs them) with everything under
# DIR: a new munge key and socket, slurm.conf, state, spool, logs, and the
# pid of each daemon as started. Its ports are picked free ones, and the
# daemons listen on 127.0.0.1 only. The node has this machine's CPUs (or
# fewer: NODE_CPUS=N), and it is idle when start returns. start needs root,
# as slurmd does to start jobs as their user, and no systemd or cgroups.
#
# stop cancels every job, stops the daemons by those pids (SIGTERM, then
# SIGKILL after a grace period), waits for the slurmstepd processes that
# outlive their job by a second, and fails if any of them is still running.
# DIR is left as it is, logs included; remove it afterwards.
# shellcheck disable=SC2016 # wait_for's first argument is for eval
set -eu

die() {
	echo "slurm_local: $*" >&2
	exit 1
}

usage() {
	echo "usage: sh $0 start|stop DIR" >&2
	exit 2
}

ports=
# A random TCP port below the ephemeral range that no socket uses now.
free_port() {
	while :; do
		p=$(($(od -An -N2 -tu2 /dev/urandom) % 20000 + 10000))
		hex=$(printf ':%04X ' "$p")
		case " $ports " in *" $p "*) continue ;; esac
		cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q "$hex" || break
	done
	ports="$ports $p"
	echo "$p"
}

# The processes left of this cluster: its daemons, and the slurmstepd
# processes slurmd starts, work in $dir/run; its jobs' processes have this
# SLURM_CONF, and SLURMD_NODENAME, in their environment.
marked() {
	envs=$(grep -lzxF "SLURM_CONF=$dir/slurm.conf" /proc/[0-9]*/environ 2>/dev/null) || :
	{
		find /proc -mindepth 2 -maxdepth 2 -name cwd -lname "$dir/run" 2>/dev/null || :
		# shellcheck disable=SC2086
		[ -z "$envs" ] || grep -lz '^SLURMD_NODENAME=' $envs 2>/dev/null || :
	} | cut -d/ -f3 | sort -un
}

alive() {
	kill -0 "$1" 2>/dev/null
}

# Wait up to $2 tenths of a second for "$1" (a command) to succeed.
wait_for() {
	i=0
	until eval "$1"; do
		i=$((i + 1))
		[ "$i" -le "$2" ] || return 1
		sleep 0.1
	done
}

# Start "$@" as daemon $name in a session of its own and record its pid.
launch() {
	name=$1
	shift
	(cd "$dir/run" && exec setsid "$@" </dev/null >>"$dir/log/$name.out" 2>&1) &
	echo $! >"$dir/run/$name.pid"
}

# A daemon that died, named with the end of its log.
check_alive() {
	for name in "$@"; do
		alive "$(cat "$dir/run/$name.pid")" && continue
		tail -n 5 "$dir/log/$name.out" "$dir/log/$name.log" >&2 2>/dev/null || true
		(stop_all) >/dev/null 2>&1 || true
		die "$name exited while starting (its log is in $dir/log)"
	done
}

write_conf() {
	cat >"$dir/slurm.conf" <<EOF
# A one-node cluster written by scripts/slurm_local.sh for $dir
ClusterName=local$ctld_port
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.daemon.pid
SlurmdPidFile=$dir/run/slurmd.daemon.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=batch_sched_delay=0
MailProg=/bin/true
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=100 State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
	[ "$(id -u)" -eq 0 ] ||
		die "needs root: slurmd starts each job as its user (run it as root, or: sudo sh $0 start DIR)"
	for c in munged slurmctld slurmd sinfo; do
		command -v "$c" >/dev/null ||
			die "$c not found: install munge, slurmctld, slurmd and slurm-client (make deps does)"
	done
	[ -e "$dir/slurm.conf" ] && die "$dir: holds a cluster already (stop it and remove the directory)"
	cpus=${NODE_CPUS:-$(nproc)}
	[ "$cpus" -ge 1 ] 2>/dev/null && [ "$cpus" -le "$(nproc)" ] ||
		die "NODE_CPUS=$cpus: not a number from 1 to $(nproc), this machine's CPUs"
	mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log" "$dir/run"
	# munged wants every directory above its socket searchable by all.
	chmod 755 "$dir" "$dir/munge"
	d=$dir
	while [ "$d" != / ]; do
		d=$(dirname "$d")
		[ -n "$(find "$d" -maxdepth 0 -perm -001)" ] ||
			die "$d: not searchable by others, which munged requires above its socket"
	done
	# A key of this cluster's own, which munged wants readable by it alone.
	(umask 077 && dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null)
	chmod 400 "$dir/munge/munge.key"

	export SLURM_CONF="$dir/slurm.conf"
	launch munged munged -F --socket="$dir/munge/munge.socket" \
		--key-file="$dir/munge/munge.key" --pid-file="$dir/run/munged.daemon.pid" \
		--log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed"
	wait_for '[ -S "$dir/munge/munge.socket" ] || ! alive "$(cat "$dir/run/munged.pid")"' 100 || true
	check_alive munged

	ctld_port=$(free_port)
	slurmd_port=$(free_port)
	write_conf
	launch slurmctld slurmctld -D -f "$dir/slurm.conf"
	launch slurmd slurmd -D -N localhost -f "$dir/slurm.conf"
	# Idle in sinfo: slurmd registered and the node takes jobs.
	idle='check_alive slurmctld slurmd; [ "$(sinfo -h -n localhost -o %T 2>/dev/null)" = idle ]'
	if ! wait_for "$idle" 300; then
		sinfo -N >&2 || true
		(stop_all) >/dev/null 2>&1 || true
		die "the node did not become idle in 30 s (logs in $dir/log)"
	fi
	# The pids recorded are the daemons' own (setsid did not fork).
	for name in munged slurmctld slurmd; do
		started=$(cat "$dir/run/$name.pid") own=$(cat "$dir/run/$name.daemon.pid")
		[ "$started" = "$own" ] && continue
		(stop_all) >/dev/null 2>&1 || true
		kill "$own" 2>/dev/null || true
		die "$name: started as pid $started, runs as $own"
	done
	echo "export SLURM_CONF=$dir/slurm.conf"
}

# The pid daemon $1 was started with, if it is still running.
daemon_pid() {
	f=$dir/run/$1.pid
	[ -f "$f" ] || return 0
	p=$(cat "$f")
	if alive "$p" && grep -q "$1" "/proc/$p/cmdline" 2>/dev/null; then
		echo "$p"
	fi
}

# SIGTERM to the daemons named after $1, SIGKILL to those still running
# $1 tenths of a second later.
stop_daemons() {
	grace=$1
	shift
	pids=
	for name in "$@"; do
		pids="$pids $(daemon_pid "$name")"
	done
	# shellcheck disable=SC2086
	[ -z "${pids% }" ] || kill -TERM $pids 2>/dev/null || true
	if ! wait_for 'none_alive $pids' "$grace"; then
		echo "slurm_local: $* ignored SIGTERM for $((grace / 10)) s, killed" >&2
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null || true
		wait_for 'none_alive $pids' 20 || true
	fi
	for name in "$@"; do
		rm -f "$dir/run/$name.pid"
	done
}

none_alive() {
	for p in "$@"; do
		! alive "$p" || return 1
	done
}

stop_all() {
	export SLURM_CONF="$dir/slurm.conf"
	# Jobs first, while slurmd can still end their steps (slurmd itself
	# ignores SIGTERM for a long while once slurmctld has gone).
	if [ -f "$dir/run/slurmctld.pid" ] && alive "$(cat "$dir/run/slurmctld.pid")"; then
		jobs=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ') || jobs=
		# shellcheck disable=SC2086
		[ -z "$jobs" ] || scancel $jobs 2>/dev/null || true
		wait_for '[ -z "$(squeue -h -o %A 2>/dev/null)" ]' 100 || true
	fi
	stop_daemons 100 slurmd
	stop_daemons 100 slurmctld munged
	# slurmstepd outlives its job by about a second.
	if ! wait_for '[ -z "$(marked)" ]' 50; then
		left=$(marked | tr '\n' ' ')
		echo "slurm_local: killing what is left of the cluster: $left" >&2
		# shellcheck disable=SC2086
		kill -KILL $left 2>/dev/null || true
		wait_for '[ -z "$(marked)" ]' 20 || true
	fi
	left=$(marked | tr '\n' ' ')
	[ -z "$left" ] || die "still running after SIGKILL: $left"
}

[ $# -eq 2 ] || usage
case $2 in
/*) dir=$2 ;;
*) dir=$(pwd)/$2 ;;
esac
dir=${dir%/}
case $1 in
start) start ;;
stop)
	[ -d "$dir/run" ] || die "$dir: no cluster of slurm_local.sh there"
	stop_all
	;;
*) usage ;;
esac
