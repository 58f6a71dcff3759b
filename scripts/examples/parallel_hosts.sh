#!/bin/sh
# parallel_hosts.sh - make and load an image dataset across several hosts with
# GNU parallel: one "parimg gen --shard K/N" and one "parimg load --shard K/N"
# per shard, spread over the hosts, then "parimg merge" of the parts in shard
# order into a single .npy, byte for byte what one load would write.
#
# Usage:
#   sh scripts/examples/parallel_hosts.sh
#       Try it on this machine alone (GNU parallel's "-S :"): a small dataset
#       in a temporary directory, then a check with cmp that the merged
#       array equals a single-run load, and that the sharded gen wrote the
#       same files as a single gen. Exit 0 when both hold.
#   sh scripts/examples/parallel_hosts.sh -S host1,host2 -d /shared/work [options]
#   sh scripts/examples/parallel_hosts.sh -F hosts.txt -d /shared/work [options]
#       Run on the hosts (GNU parallel --sshlogin / --sshloginfile; ":" is
#       the local machine). WORK must be on a filesystem every host mounts
#       at the same path, and parimg must be on each host's PATH (or give
#       its path with PARIMG=...). Writes WORK/data/, WORK/parts/ and
#       WORK/dataset.npy (rows) with WORK/dataset.txt (one path per row).
# Options:
#   -N SHARDS   number of shards (default 8)
#   -n COUNT    images (default 200 locally, 100000 on hosts)
#   -s WxH      image size (default 32x32 locally, 100x100 on hosts)
#   -j JOBS     shards run at once on each host (default 1: each parimg
#               already uses all of its host's CPUs)
#   -c          check against single runs even on hosts (reads everything
#               again on this machine)
# Requires GNU parallel (Debian package "parallel") and ssh keys for the hosts.

set -eu

die() {
	echo "parallel_hosts: $*" >&2
	exit 1
}

logins= loginfile= work= shards=8 count= size= jobs=1 check=
while getopts cd:F:j:N:n:S:s: opt; do
	case $opt in
	c) check=1 ;;
	d) work=$OPTARG ;;
	F) loginfile=$OPTARG ;;
	j) jobs=$OPTARG ;;
	N) shards=$OPTARG ;;
	n) count=$OPTARG ;;
	S) logins=$OPTARG ;;
	s) size=$OPTARG ;;
	*) echo "usage: sh $0 [-S host1,host2 | -F hostfile] [-d WORK] [-N SHARDS] [-n COUNT] [-s WxH] [-j JOBS] [-c]" >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || die "unexpected argument '$1'"

command -v parallel >/dev/null || die "GNU parallel not found (apt-get install parallel)"

# Where the binary is: PARIMG, else parimg on PATH, else this checkout's.
if [ -z "${PARIMG:-}" ]; then
	if command -v parimg >/dev/null; then
		PARIMG=parimg
	else
		PARIMG=$(cd "$(dirname "$0")/../.." && pwd)/parimg
		[ -x "$PARIMG" ] || die "parimg not found: build it (make) or set PARIMG"
	fi
fi

if [ -z "$logins$loginfile" ]; then
	# Local try-out: this machine only, a scratch directory, and the check.
	logins=:
	check=1
	count=${count:-200}
	size=${size:-32x32}
	if [ -z "$work" ]; then
		work=$(mktemp -d "${TMPDIR:-/tmp}/parallel_hosts.XXXXXX")
		trap 'rm -rf "$work"' EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
	fi
else
	[ -n "$work" ] || die "-d WORK is needed with hosts: a directory on their shared filesystem"
	count=${count:-100000}
	size=${size:-100x100}
fi
case $work in /*) ;; *) work=$(pwd)/$work ;; esac

# The hosts, for parallel: a list, or a file of them.
if [ -n "$loginfile" ]; then
	set -- --sshloginfile "$loginfile"
else
	set -- --sshlogin "$logins"
fi

mkdir -p "$work/parts"
shardlist=$(seq 0 $((shards - 1)))

# parallel -q quotes each word, so paths with spaces survive the remote
# shell; {} is the shard number. --halt stops everything at the first
# failed shard.
echo "parallel_hosts: gen $count images of $size in $shards shards into $work/data" >&2
parallel --will-cite "$@" -j "$jobs" --halt now,fail=1 -q \
	"$PARIMG" gen -q -f -n "$count" -s "$size" -o "$work/data" --shard "{}/$shards" \
	::: $shardlist

# Every gen shard is done before any load shard starts: a load shard is a
# slice of the sorted list of all the files.
echo "parallel_hosts: load in $shards shards into $work/parts" >&2
parallel --will-cite "$@" -j "$jobs" --halt now,fail=1 -q \
	"$PARIMG" load -q -f --shard "{}/$shards" --manifest "$work/parts/part-{}.txt" \
	-o "$work/parts/part-{}.npy" "$work/data" \
	::: $shardlist

# Merge in shard order: part-0 part-1 ... part-9 part-10, as seq lists them
# (a shell glob would put part-10 before part-2).
set --
for k in $shardlist; do
	set -- "$@" "$work/parts/part-$k.npy"
done
"$PARIMG" merge -q -f -o "$work/dataset.npy" "$@"
for k in $shardlist; do
	cat "$work/parts/part-$k.txt"
done >"$work/dataset.txt"
echo "parallel_hosts: $work/dataset.npy written from $shards parts" >&2

if [ -n "$check" ]; then
	"$PARIMG" gen -q -f -n "$count" -s "$size" -o "$work/single-data"
	for f in "$work"/single-data/*; do
		cmp "$f" "$work/data/${f##*/}" || die "sharded gen differs from a single gen: ${f##*/}"
	done
	[ "$(ls "$work/data" | wc -l)" -eq "$(ls "$work/single-data" | wc -l)" ] ||
		die "sharded gen wrote other files than a single gen"
	"$PARIMG" load -q -f --manifest "$work/single.txt" -o "$work/single.npy" "$work/data"
	cmp "$work/dataset.npy" "$work/single.npy" || die "merged array differs from a single load"
	cmp "$work/dataset.txt" "$work/single.txt" || die "merged manifest differs from a single load's"
	echo "parallel_hosts: ok: the merged array equals a single-run load ($count images, $shards shards)"
fi
