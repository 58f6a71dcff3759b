# bench_huge.sh - section q, opt-in (issue 22, "output larger than memory"):
# load an array larger than this machine's RAM onto a real disk (never
# tmpfs, whose pages could not be written back), and compare its time per
# image with a run a tenth its size; print each process's peak RSS. The
# inputs are the photo corpus's 1000 "mixed" JPEGs, listed over and over,
# resized to 512x512 RGB (786,432 bytes a row). Not part of "make bench"'s
# full run, for its size and time:
#   HUGE_DIR=/var/tmp sh scripts/bench/bench.sh huge     (PHOTO_CORPUS=DIR reuses a corpus;
#                                                    HUGE_N=N rows, default RAM x 1.1)
# shellcheck shell=sh disable=SC2154

HD=${HUGE_DIR:-/var/tmp}
PC=${PC:-${PHOTO_CORPUS:-$S/photos}}
if [ ! -f "$PC/.done" ] && [ ! -f "$PC/.mixed" ]; then
	$PY scripts/bench/photo_corpus.py -j2 --only mixed "$PC" | sed 's/^/   corpus: /'
	: >"$PC/.mixed"
fi
row_b=$((512 * 512 * 3))
ram_b=$(awk '/^MemTotal:/ { printf "%.0f", $2 * 1024 }' /proc/meminfo)
HN=${HUGE_N:-$(awk -v r="$ram_b" -v b=$row_b 'BEGIN { printf "%d", r * 1.1 / b + 1 }')}
tenth=$((HN / 10))
echo
echo "q. an output larger than RAM: load -j2 -c 3 --resize 512x512 of $HN JPEGs"
echo "   ($((HN * row_b / 1000000)) MB; RAM $((ram_b / 1000000)) MB) to $HD, against $tenth"
echo "   ($((tenth * row_b / 1000000)) MB); load average $(loadavg)"
fs=$(stat -f -c %T "$HD" 2>/dev/null || echo missing)
free_b=$(df -P -B1 "$HD" 2>/dev/null | awk 'NR == 2 { print $4 }')
if [ "$fs" = tmpfs ] || [ "$fs" = ramfs ] || [ "$fs" = missing ]; then
	skip p "$HD is $fs: HUGE_DIR must be a directory on a real disk"
elif [ "${free_b:-0}" -lt $((HN * row_b + HN * row_b / 10 + 1000000000)) ]; then
	skip p "$HD has $((${free_b:-0} / 1000000)) MB free, needs $(( (HN * row_b * 11 / 10) / 1000000 + 1000 )) MB"
else
	W=$(mktemp -d "$HD/parimg-huge.XXXXXX")
	ls "$PC/mixed" | awk -v d="$PC/mixed" '{ print d "/" $0 }' >"$S/mixed.list"
	# N lines: the corpus over and over.
	list() { awk -v n="$1" '{ p[NR] = $0 } END { for (i = 0; i < n; i++) print p[i % NR + 1] }' "$S/mixed.list"; }
	list "$HN" >"$S/huge.list"
	list "$tenth" >"$S/tenth.list"
	# one LIST N: "WALL_S MS_PER_IMAGE CPU_S PARENT_KIB WORKER_KIB" of one
	# load of LIST's N paths (one run each: whole seconds matter here).
	one() {
		rm -f "$W/o.npy"
		t0=$(date +%s.%N)
		build/rss_tree $PARIMG load -q -j2 -c 3 --resize 512x512 --order none -o "$W/o.npy" - \
			<"$1" 2>"$S/rss" >/dev/null
		t1=$(date +%s.%N)
		awk -v a="$t0" -v b="$t1" -v n="$2" '
			$1 == "parent_kib" { pk = $2; ck = $6 }
			$1 == "parent_cpu_s" { cpu = $2 + $4 }
			END { printf "%.1f %.3f %.1f %s %s\n", b - a, (b - a) * 1000 / n, cpu, pk, ck }' "$S/rss"
	}
	# The tenth three times (its median), then the whole once.
	t=$(for i in 1 2 3; do one "$S/tenth.list" "$tenth"; done | sort -n | sed -n 2p)
	h=$(one "$S/huge.list" "$HN")
	set -- $t
	info "tenth: wall, per image, CPU" "$1 s, $2 ms/image, $3 s"
	info "tenth: peak RSS parent / largest worker" "$4 / $5 KiB"
	set -- $h
	info "whole: wall, per image, CPU" "$1 s, $2 ms/image, $3 s"
	info "whole: peak RSS parent / largest worker" "$4 / $5 KiB"
	info "  (a worker's RSS counts the output's pages it mapped: page cache, shared" ""
	info "   with the file and written back to it, not heap; see docs/performance.md)" ""
	r=$(ratio "$(echo "$h" | cut -d' ' -f2)" "$(echo "$t" | cut -d' ' -f2)")
	info "per image, whole / tenth" "${r}x"
	ls -l "$W/o.npy" | awk '{ printf "   %-42s %s bytes\n", "the output", $5 }'
	rm -rf "$W"
fi
