# bench_hugezst.sh - section v, opt-in (issue 30, "a compressed tar larger
# than RAM"): a tar.zst of HUGEZST_MB (default 32000) MB of JPEGs on a real
# disk (HUGE_DIR, never tmpfs), the photo corpus's 1000 "mixed" JPEGs
# under new names over and over, loaded (-c 3 --resize HUGEZST_SIZE, default
# 64x64, --draft: a cheap decode, so that the stream's own cost shows, and
# an output that fits beside the archive) with PARIMG_ARCHIVE_MEMORY=256M
# (so that it streams through a ring of 256 MiB whatever the machine's
# memory; an archive larger than the budget streams from its first byte),
# against a tar.zst a tenth its size loaded the same way. Prints the time per image of each (goal:
# the whole within 1.10x of the tenth), each process's peak RSS (rss_tree)
# and the machine's peak Shmem rise, where the ring lives (goal: at most
# 256 MiB plus twice the largest member, with 32 MiB of slack for others).
# Not part of "make bench"'s full run, for its size and time:
#   HUGE_DIR=/var/tmp sh scripts/bench/bench.sh hugezst
#   (HUGEZST_MB=N, HUGEZST_SIZE=WxH; PHOTO_CORPUS=DIR)
# shellcheck shell=sh disable=SC2154,SC2086

HD=${HUGE_DIR:-/var/tmp}
PC=${PC:-${PHOTO_CORPUS:-$S/photos}}
MB=${HUGEZST_MB:-32000}
SZ=${HUGEZST_SIZE:-64x64}
LOADARGS="-c 3 --resize $SZ --draft"
row_b=$(echo "$SZ" | awk -F x '{ print $1 * $2 * 3 }')
if [ ! -f "$PC/.done" ] && [ ! -f "$PC/.mixed" ]; then
	$PY scripts/bench/photo_corpus.py -j2 --only mixed "$PC" | sed 's/^/   corpus: /'
	: >"$PC/.mixed"
fi
corpus_b=$(du -sb "$PC/mixed" | cut -f1)
copies=$((MB * 1000000 / corpus_b + 1))
echo
echo "v. a compressed tar larger than RAM: load -j2 $LOADARGS of a $MB MB"
echo "   tar.zst ($copies copies of the 1000 mixed JPEGs) on $HD, against a tenth;"
echo "   load average $(loadavg)"
fs=$(stat -f -c %T "$HD" 2>/dev/null || echo missing)
free_b=$(df -P -B1 "$HD" 2>/dev/null | awk 'NR == 2 { print $4 }')
need=$((MB * 1100000 + copies * 1000 * row_b * 11 / 10 + 1000000000))
if [ "$fs" = tmpfs ] || [ "$fs" = ramfs ] || [ "$fs" = missing ]; then
	skip v "$HD is $fs: HUGE_DIR must be a directory on a real disk"
elif [ "${free_b:-0}" -lt "$need" ]; then
	skip v "$HD has $((${free_b:-0} / 1000000)) MB free, needs $((need / 1000000)) MB"
else
	W=$(mktemp -d "$HD/parimg-hugezst.XXXXXX")
	# make N OUT: a tar.zst of N copies, copy k's members under kNNNNNN/.
	make_tzst() {
		$PY - "$PC/mixed" "$1" <<'PY' | zstd -q -T2 -3 -o "$2"
import os, sys, tarfile
src, n = sys.argv[1], int(sys.argv[2])
names = sorted(os.listdir(src))
with tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.USTAR_FORMAT) as t:
    for k in range(n):
        for f in names:
            t.add(os.path.join(src, f), "k%06d/%s" % (k, f))
PY
	}
	make_tzst "$copies" "$W/whole.tar.zst"
	make_tzst $((copies / 10 + 1)) "$W/tenth.tar.zst"
	# one TAR N [ENV...]: "WALL_S MS_PER_IMAGE PARENT_KIB WORKER_KIB SHMEM_RISE_KIB"
	one() {
		rm -f "$W/o.npy"
		base=$(awk '/^Shmem:/ { print $2 }' /proc/meminfo)
		(peak=0; while :; do
			s=$(awk '/^Shmem:/ { print $2 }' /proc/meminfo)
			[ "$s" -gt "$peak" ] && peak=$s && echo "$peak" >"$S/shmem"
			sleep 0.2
		done) &
		sampler=$!
		echo "$base" >"$S/shmem"
		t0=$(date +%s.%N)
		env "$3" build/rss_tree $PARIMG load -q -j2 $LOADARGS -o "$W/o.npy" "$1" \
			2>"$S/rss" >/dev/null
		t1=$(date +%s.%N)
		kill "$sampler"
		awk -v a="$t0" -v b="$t1" -v n="$2" -v base="$base" -v peak="$(cat "$S/shmem")" '
			$1 == "parent_kib" { pk = $2; ck = $6 }
			END { printf "%.1f %.3f %s %s %d\n", b - a, (b - a) * 1000 / n, pk, ck, peak - base }' "$S/rss"
	}
	t=$(one "$W/tenth.tar.zst" $(((copies / 10 + 1) * 1000)) PARIMG_ARCHIVE_MEMORY=256M)
	h=$(one "$W/whole.tar.zst" $((copies * 1000)) PARIMG_ARCHIVE_MEMORY=256M)
	set -- $t
	info "tenth: wall, per image" "$1 s, $2 ms/image"
	info "tenth: peak RSS parent / largest worker" "$3 / $4 KiB; Shmem rise $5 KiB"
	set -- $h
	info "whole: wall, per image" "$1 s, $2 ms/image"
	info "whole: peak RSS parent / largest worker" "$3 / $4 KiB; Shmem rise $5 KiB"
	big=$(find "$PC/mixed" -type f -printf '%s\n' | sort -n | tail -1)
	bound=$(( (256 << 10) + 2 * big / 1024 + (32 << 10) ))
	goal v1 "whole's Shmem rise <= ${bound} KiB" "$5" "$(le "$5" "$bound")"
	r=$(ratio "$(echo "$h" | cut -d' ' -f2)" "$(echo "$t" | cut -d' ' -f2)")
	goal v2 "per image, whole <= 1.10x tenth" "${r}x" "$(le "$r" 1.10)"
	rm -rf "$W"
fi
