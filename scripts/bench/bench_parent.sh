# bench_parent.sh - section p (issue 22, "ready for many cores, measured on
# two"): what would stop one parent from feeding 64 workers, on the
# 100,000-PNG class-folder load of section j (100x100 gray, 1,000 folders):
# the parent's CPU time per image dispatched as a share of the workers'
# (each process's own user + system time as it exits, by rss_tree), the
# messages per image between parent and workers (sendmsg/sendto calls
# counted by strace -f -c, both directions), and the page faults per page
# of the output (the workers' minor faults over the .npy's pages; load
# populates each chunk's rows with one MADV_POPULATE_WRITE, which the kernel
# still counts a fault a page). Confined workers (the default, the parent
# opens every input and passes its descriptor) against --sandbox off (the
# workers open their own), and the scan alone (scan_time), which the parent
# does before any worker starts. Since issue 30: the time before the first
# decode and the parent's CPU before and after it (first_decode.py, from
# load's PARIMG_TIMING), the listing on one thread against the default
# (PARIMG_LIST_THREADS), confined against --sandbox off in wall and CPU
# (interleaved), and parimg bench's serial share and Amdahl projection.
# Sourced by bench.sh, or alone:
#   sh scripts/bench/bench.sh parent
# shellcheck shell=sh disable=SC2154

echo
echo "p. the parent's share: load --labels -j2 of 100,000 100x100 gray PNGs in 1,000"
echo "   class folders; load average $(loadavg)"
T=$S/ptree
k=0
while [ $k -lt 1000 ]; do
	$PARIMG gen -q -n 100 -s 100x100 --seed $k -o "$T/c$(printf %03d $k)"
	k=$((k + 1))
done
n=100000
pages=$(( (n * 100 * 100 + 4095) / 4096 ))
# parent_cpu children_cpu children_minflt of one run of load with ARGS.
share() {
	rm -f "$S/x.npy" "$S/y.npy"
	build/rss_tree $PARIMG load -q -j2 "$@" --labels "$S/y.npy" -o "$S/x.npy" "$T" 2>"$S/rss" >/dev/null
	awk '/^parent_cpu_s/ { print $2, $4, $8 }' "$S/rss"
}
for mode in auto off; do
	# The median of 5 runs by the parent's CPU.
	runs=$(for i in 1 2 3 4 5; do share --sandbox $mode; done | sort -n)
	set -- $(echo "$runs" | sed -n 3p)
	if [ $# -lt 3 ]; then
		skip o "rss_tree could not trace (ptrace not allowed?)"
		break
	fi
	info "--sandbox $mode: parent, workers CPU" "$1 s, $2 s ($(awk -v p="$1" -v w="$2" -v n=$n 'BEGIN { printf "%.2f us, %.2f us an image", p * 1e6 / n, w * 1e6 / n }'))"
	r=$(awk -v p="$1" -v w="$2" 'BEGIN { printf "%.3f", p / w }')
	info "--sandbox $mode: parent / workers" "$(awk -v r="$r" 'BEGIN { printf "%.1f%%", r * 100 }')"
	info "--sandbox $mode: faults per output page" "$(awk -v f="$3" -v p=$pages 'BEGIN { printf "%.2f", f / p }')"
	[ $mode = auto ] && goal p "parent CPU <= 1% of the workers' (confined)" "$(awk -v r="$r" 'BEGIN { printf "%.1f%%", r * 100 }')" "$(le "$r" 0.01)"
	[ $mode = auto ] && goal p2 "parent CPU <= 5% of the workers' (issue 30)" "$(awk -v r="$r" 'BEGIN { printf "%.1f%%", r * 100 }')" "$(le "$r" 0.05)"
	[ $mode = off ] && info "--sandbox off: parent / workers (goal 1%)" "$(awk -v r="$r" 'BEGIN { printf "%.1f%%", r * 100 }')"
done
out=$(bt 5 true "build/scan_time $T")
info "the scan alone, in-process (CPU)" "$(owncpu "$out") s ($(awk -v c="$(owncpu "$out")" -v n=$n 'BEGIN { printf "%.2f us an image", c * 1e6 / n }'))"
if command -v strace >/dev/null; then
	for mode in auto off; do
		rm -f "$S/x.npy" "$S/y.npy"
		strace -f -c -o "$S/strace" $PARIMG load -q -j2 --sandbox $mode --labels "$S/y.npy" -o "$S/x.npy" "$T" >/dev/null 2>&1 || true
		# Columns: % time, seconds, usecs/call, calls, [errors,] syscall.
		m=$(awk '$NF == "sendmsg" || $NF == "sendto" { c += $4 } END { print c + 0 }' "$S/strace")
		o=$(awk '$NF == "openat" { print $4 }' "$S/strace")
		info "--sandbox $mode: messages per image" "$(awk -v m="$m" -v n=$n 'BEGIN { printf "%.4f (%d messages)", m / n, m }')"
		info "--sandbox $mode: openat calls (all processes)" "$o"
	done
else
	skip o "no strace: messages per image not counted"
fi
# Before the first decode: the medians of 5 (by the time to the first
# decode) of first_decode.py's four numbers, listing on one thread and on
# the default (the processors online, at most 16).
for mode in auto off; do
	for th in 1 default; do
		runs=$(for i in 1 2 3 4 5; do
			rm -f "$S/x.npy" "$S/y.npy"
			if [ $th = 1 ]; then
				PARIMG_LIST_THREADS=1 $PY scripts/bench/first_decode.py "$S/timing" $PARIMG load -q -j2 --sandbox $mode --labels "$S/y.npy" -o "$S/x.npy" "$T"
			else
				$PY scripts/bench/first_decode.py "$S/timing" $PARIMG load -q -j2 --sandbox $mode --labels "$S/y.npy" -o "$S/x.npy" "$T"
			fi
		done | sort -k2 -n)
		set -- $(echo "$runs" | sed -n 3p)
		info "--sandbox $mode, $th listing thread(s): first decode at" "$(ms "$2") (parent CPU $(ms "$4") before, $(ms "$6") after; tree $(awk -v c="$8" 'BEGIN { printf "%.2f s", c }'))"
	done
done
out=$(bt 5 true "env PARIMG_LIST_THREADS=1 build/scan_time $T" true "build/scan_time $T")
a=$(line "$out" 1) b=$(line "$out" 2)
info "the scan alone, 1 thread (wall, CPU)" "$(ms "$(first "$(own "$a")")"), $(ms "$(owncpu "$a")")"
info "the scan alone, default threads" "$(ms "$(first "$(own "$b")")"), $(ms "$(owncpu "$b")") ($(ratio "$(first "$(own "$a")")" "$(first "$(own "$b")")")x faster)"
# Confined against --sandbox off, interleaved (issue 30's 1.05x goal).
prep="rm -f $S/x.npy $S/y.npy"
out=$(bt "$LONG_RUNS" "$prep" "$PARIMG load -q -j2 --labels $S/y.npy -o $S/x.npy $T" \
	"$prep" "$PARIMG load -q -j2 --sandbox off --labels $S/y.npy -o $S/x.npy $T")
a=$(line "$out" 1) b=$(line "$out" 2)
row "confined" "$(wall "$a")" "$(cpu "$a")"
row "--sandbox off" "$(wall "$b")" "$(cpu "$b")"
r=$(ratio "$(first "$a")" "$(first "$b")")
goal p3 "confined wall <= 1.05x --sandbox off" "${r}x" "$(le "$r" 1.05)"
r=$(ratio "$(cpu "$a")" "$(cpu "$b")")
goal p4 "confined CPU <= 1.05x --sandbox off" "${r}x" "$(le "$r" 1.05)"
# parimg bench's own account: the serial share and Amdahl's projection.
rm -f "$S/x.npy" "$S/y.npy"
mkdir -p "$S/bench"
$PARIMG bench --labels -j 1,2 -r 3 --dir "$S/bench" "$T" >"$S/bench.out" 2>&1 || true
sed -n 's/^/   /; /serial share\|projection/p' "$S/bench.out"
rm -rf "$T" "$S/x.npy" "$S/y.npy" "$S/bench"
