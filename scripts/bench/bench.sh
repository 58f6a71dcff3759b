#!/bin/sh
# bench.sh - parimg's benchmarks ("make bench", from the repo root, after make).
# Sections a-i time gen, load and merge; j class folders; k the resampler
# alone; l real photographs (scripts/bench/bench_photos.sh); m check
# (scripts/bench/bench_check.sh), m5-m6 check --all against check and the
# Python pipeline (scripts/bench/bench_checkall.sh); n confined workers
# against unconfined (scripts/bench/bench_sandbox.sh); o archives as inputs
# (scripts/bench/bench_archive.sh); p the parent's share of the CPU
# (scripts/bench/bench_parent.sh); r load's channels without -c
# (scripts/bench/bench_channels.sh); s convert, a smaller copy of a dataset
# (scripts/bench/bench_convert.sh); t labels from a table
# (scripts/bench/bench_labels.sh); u segmentation masks
# (scripts/bench/bench_masks.sh); q, on demand, an output larger than RAM
# (scripts/bench/bench_huge.sh). Within l: l5 load --ragged
# (scripts/bench/bench_ragged.sh), l6 BMP, TGA and PNM (scripts/bench/bench_formats.sh), l7
# tensors for PyTorch (scripts/bench/bench_tensor.sh), l8 TIFF
# (scripts/bench/bench_tiff.sh), l9 --fit cover's partial decode against the
# ML pipelines (scripts/bench/bench_cover.sh).
# Not tests: each goal is printed with its measured number and MET or NOT MET,
# and nothing here fails on speed. The commands of a comparison run
# interleaved (scripts/bench/bench_time.py), so that a noisy machine's slow spells
# fall on all of them alike: read the ratios, not the absolute times.
#
#   RUNS=N LONG_RUNS=M sh scripts/bench/bench.sh      (defaults 11 and 7, at least 5)
#   PHOTO_RUNS=N sh scripts/bench/bench.sh photos     (only section l, real photos)
#   CHECK_RUNS=N sh scripts/bench/bench.sh check      (only section m, parimg check)
#   CHECKALL_RUNS=N sh scripts/bench/bench.sh checkall (only m5, m6: check --all)
#   PHOTO_RUNS=N sh scripts/bench/bench.sh ragged     (only section l5, load --ragged)
#   SANDBOX_RUNS=N sh scripts/bench/bench.sh sandbox  (only section n, the sandbox)
#   ARCHIVE_RUNS=N sh scripts/bench/bench.sh archive  (only section o, archives)
#   PHOTO_RUNS=N sh scripts/bench/bench.sh formats    (only l6: BMP, TGA, PNM)
#   PHOTO_RUNS=N sh scripts/bench/bench.sh tensor     (only l7, tensors for PyTorch)
#   PHOTO_RUNS=N sh scripts/bench/bench.sh tiff       (only l8, TIFF photos)
#   PHOTO_RUNS=N sh scripts/bench/bench.sh cover      (only l9, cover vs the ML pipelines)
#   PHOTO_RUNS=N sh scripts/bench/bench.sh newformats (only l10: JPEG 2000, HEIC, AVIF, JPEG XL)
#   sh scripts/bench/bench.sh parent                  (only p, the parent's share)
#   CHANNELS_RUNS=N sh scripts/bench/bench.sh channels (only r, load's channels)
#   CONVERT_RUNS=N sh scripts/bench/bench.sh convert  (only s, parimg convert)
#   sh scripts/bench/bench.sh labels                  (only t, labels from a table)
#   MASKS_RUNS=N sh scripts/bench/bench.sh masks      (only u, segmentation masks)
#   HUGE_DIR=DIR sh scripts/bench/bench.sh huge       (q alone and only on demand: an
#                                                      output larger than RAM on DIR's disk)
#   HUGE_DIR=DIR sh scripts/bench/bench.sh hugezst    (v alone and only on demand: a
#                                                      32 GB tar.zst streamed, on DIR's disk)
set -eu
cd "$(dirname "$0")/../.."

PY=${PY:-/usr/bin/python3}	# Debian's, with numpy and cv2; not a pyenv python3
RUNS=${RUNS:-11}	# runs of the fast commands
LONG_RUNS=${LONG_RUNS:-7}	# of the slow ones: the recipes, 100,000 images
[ "$RUNS" -ge 5 ] || RUNS=5
[ "$LONG_RUNS" -ge 5 ] || LONG_RUNS=5
N=2000			# the reference workload: N 100x100 gray PNGs, -j2

EXTRA_PKGS="python3-opencv hyperfine mate-backgrounds" sh scripts/deps.sh ||
	echo "bench: could not install python3-opencv, hyperfine and mate-backgrounds; going on without" >&2
[ -x ./parimg ] || { echo "bench: no ./parimg (run make first)" >&2; exit 1; }
mkdir -p build
# The floors that run parimg's own code link its layers' libraries (make
# bench builds them) and the Makefile's LDLIBS.
PARIMG_LIBS="build/libinputs.a build/libengine.a build/libimage.a build/libcodec.a build/libcommon.a"
PARIMG_LDLIBS=$(make -s --no-print-directory print-LDLIBS)
for t in io_floor load_floor; do
	cc -O2 -Wall -o "build/$t" "scripts/bench/floors/$t.c" scripts/bench/floors/floor.c
done
for t in rss_tree fill_floor; do
	cc -O2 -Wall -o "build/$t" "scripts/bench/floors/$t.c"
done
# scan_time runs load's own class-folder scan (src/inputs/dataset.c) alone.
cc -O2 -Wall -Isrc -o build/scan_time scripts/bench/floors/scan_time.c $PARIMG_LIBS $PARIMG_LDLIBS
# The resampler alone, as make built it (its flags: the Makefile's).
cc -O2 -Wall -Isrc -o build/resize_bench scripts/bench/floors/resize_bench.c build/libimage.a -lm
# near_bench runs check --near's grouping (src/inputs/neardup.c) alone.
cc -O2 -Wall -Isrc -o build/near_bench scripts/bench/floors/near_bench.c build/libinputs.a

# Scratch on tmpfs: every file lives in memory, so there are no caches to
# drop (that needs root, and would not apply anyway) and no disk in the
# numbers. The binary is copied there: a rebuild meanwhile cannot mix in.
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
S=$(mktemp -d "$base/parimg-bench.XXXXXX")
trap 'rm -rf "$S"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cp ./parimg "$S/parimg"
PARIMG=$S/parimg
"$PARIMG" gen --help >/dev/null 2>&1 || PARIMG=./parimg	# a noexec mount
fstype=$(stat -f -c %T "$S")

have_np=0 have_cv2=0
$PY -c 'import numpy' 2>/dev/null && have_np=1
$PY -c 'import cv2, numpy' 2>/dev/null && have_cv2=1

# bt RUNS PREPARE CMD [PREPARE CMD ...]: a line per CMD (bench_time.py), of
# which: wall = "median min max", own = the same of the time CMD reports,
# cpu = median CPU seconds of the process tree, owncpu = the CPU it reports.
bt() { $PY scripts/bench/bench_time.py "$@"; }
line() { echo "$1" | sed -n "$2p"; }
wall() { echo "$1" | cut -d' ' -f1-3; }
own() { echo "$1" | cut -d' ' -f4-6; }
cpu() { echo "$1" | cut -d' ' -f7; }
owncpu() { echo "$1" | cut -d' ' -f8; }
first() { echo "$1" | cut -d' ' -f1; }

ms() { awk -v t="$1" 'BEGIN { printf "%.1f ms", t * 1000 }'; }
# row LABEL "median min max" [CPU]: wall median [min .. max], CPU median.
row() {
	cpu_note=${3:+"  cpu $(ms "$3")"}
	# shellcheck disable=SC2086
	set -- "$1" $2
	printf '   %-42s %10s  [%s .. %s]%s\n' "$1" "$(ms "$2")" "$(ms "$3")" "$(ms "$4")" "$cpu_note"
}
info() { printf '   %-42s %s\n' "$1" "$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }' && echo 1 || echo 0; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }' && echo 1 || echo 0; }
# goal ID TEXT MEASURED OK: printed now, and again in the summary.
goal() {
	verdict="NOT MET"
	[ "$4" = 1 ] && verdict=MET
	printf '   goal: %-42s measured %-9s %s\n' "$2" "$3" "$verdict"
	printf '   %s  %-42s %-9s %s\n' "$1" "$2" "$3" "$verdict" >>"$S/goals"
}
skip() {
	printf '   skipped: %s\n' "$2"
	printf '   %s  skipped: %s\n' "$1" "$2" >>"$S/goals"
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
# rss CMD...: "PARENT_KIB MAX_CHILD_KIB", each process's peak RSS (VmHWM) as
# it exits, by rss_tree under ptrace; "- -" where ptrace is not allowed.
rss() {
	if build/rss_tree "$@" >"$S/rss.out" 2>"$S/rss" && grep -q '^parent_kib' "$S/rss"; then
		awk '/^parent_kib/ { print $2, $6 }' "$S/rss"
	else
		echo "- -"
	fi
}
# tree_rss CMD...: GNU time's "Maximum resident set size": the largest
# process of the whole tree, as wait4 folds the children's peak in.
tree_rss() {
	if [ -x /usr/bin/time ] && /usr/bin/time -v "$@" >/dev/null 2>"$S/tv"; then
		awk -F': ' '/Maximum resident/ { print $2 " KiB" }' "$S/tv"
	else
		echo "unavailable"
	fi
}
: >"$S/goals"

echo "parimg benchmarks - not tests: nothing here fails on time"
echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r); load average $(loadavg)"
if [ "$fstype" = tmpfs ]; then
	echo "scratch: $S (tmpfs): files in memory, no caches to drop"
else
	echo "scratch: $S ($fstype, no tmpfs found): warm page cache, not dropped (needs root)"
fi
echo "timing: whole processes, from spawn to exit; median [min .. max] of $RUNS runs"
echo "        ($LONG_RUNS for the slow ones) after a warm-up round, a comparison's commands"
echo "        interleaved. cpu: median user+sys of the process tree, less disturbed"
echo "        by other load. Floors: the wall and CPU time they print for their timed part."

# ---------------------------------------------------------------- photos only
# "sh scripts/bench/bench.sh photos": section l alone (scripts/bench/bench_photos.sh),
# then the summary.
if [ "${1:-}" = photos ] || [ "${1:-}" = tiff ] || [ "${1:-}" = newformats ]; then
	per_img() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.2f ms/image", t * 1000 / n }'; }
	if [ "$1" = photos ]; then
		. scripts/bench/bench_photos.sh
	elif [ "$1" = tiff ]; then
		. scripts/bench/bench_tiff.sh	# l8 alone: "sh scripts/bench/bench.sh tiff"
	else
		. scripts/bench/bench_newformats.sh	# l10: JPEG 2000, HEIC, AVIF, JPEG XL
	fi
	echo
	echo "summary (load average now $(loadavg)):"
	cat "$S/goals"
	exit 0
fi
# "sh scripts/bench/bench.sh formats": section l6 alone (BMP, TGA, PNM).
if [ "${1:-}" = formats ]; then
	PRUNS=${PHOTO_RUNS:-5} PC=${PHOTO_CORPUS:-$S/photos}
	. scripts/bench/bench_formats.sh
	echo
	echo "summary (load average now $(loadavg)):"
	cat "$S/goals"
	exit 0
fi

# "sh scripts/bench/bench.sh check", "checkall", "ragged", "sandbox", "archive",
# "channels", "convert", "labels" and "masks": section m, m5-m6, l5, n, o, r, s, t
# or u alone (scripts/bench/bench_$1.sh).
if [ "${1:-}" = check ] || [ "${1:-}" = checkall ] || [ "${1:-}" = ragged ] ||
	[ "${1:-}" = sandbox ] || [ "${1:-}" = archive ] || [ "${1:-}" = channels ] ||
	[ "${1:-}" = convert ] || [ "${1:-}" = labels ] || [ "${1:-}" = masks ]; then
	. "scripts/bench/bench_$1.sh"
	echo
	echo "summary (load average now $(loadavg)):"
	cat "$S/goals"
	exit 0
fi

# "sh scripts/bench/bench.sh huge" and "hugezst": sections q and v, opt-in (an
# output larger than RAM, a tar.zst larger than RAM, on HUGE_DIR's disk:
# scripts/bench/bench_huge.sh, bench_hugezst.sh); never in the full run.
if [ "${1:-}" = huge ] || [ "${1:-}" = hugezst ]; then
	. "scripts/bench/bench_$1.sh"
	echo
	echo "summary (load average now $(loadavg)):"
	cat "$S/goals"
	exit 0
fi

# "sh scripts/bench/bench.sh parent": section p alone (scripts/bench/bench_parent.sh).
if [ "${1:-}" = parent ]; then
	. scripts/bench/bench_parent.sh
	echo
	echo "summary (load average now $(loadavg)):"
	cat "$S/goals"
	exit 0
fi

# "sh scripts/bench/bench.sh cover": section l9 alone (scripts/bench/bench_cover.sh).
if [ "${1:-}" = cover ]; then
	. scripts/bench/bench_cover.sh
	echo
	echo "summary (load average now $(loadavg)):"
	cat "$S/goals"
	exit 0
fi

# "sh scripts/bench/bench.sh tensor": section l7 alone (scripts/bench/bench_tensor.sh).
if [ "${1:-}" = tensor ]; then
	per_img() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.2f ms/image", t * 1000 / n }'; }
	. scripts/bench/bench_tensor.sh
	echo
	echo "summary (load average now $(loadavg)):"
	cat "$S/goals"
	exit 0
fi

echo "workload: $N 100x100 gray PNGs (gen's defaults: --level 0, stored deflate), -j2"

D2K=$S/d2000
D20K=$S/d20000
$PARIMG gen -q -j2 -n $N -o "$D2K"
$PARIMG gen -q -j2 -n 20000 -o "$D20K"
GEN="$PARIMG gen -q -j2 -n $N -o $S/o"

# ---------------------------------------------------------------- a
echo
echo "a. gen -j2 vs its I/O floor (the same bytes, same names, 2 processes)"
out=$(bt "$RUNS" "rm -rf $S/o" "$GEN" \
	"rm -rf $S/fo" "build/io_floor -j2 $D2K $S/fo" \
	"rm -rf $S/o" "$PARIMG gen -q -j2 -n 0 -o $S/o")
g=$(line "$out" 1)
f=$(line "$out" 2)
row "parimg gen -j2 -n $N" "$(wall "$g")" "$(cpu "$g")"
row "io_floor -j2 (open/write/close)" "$(own "$f")" "$(owncpu "$f")"
row "parimg start-up alone (gen -n 0)" "$(wall "$(line "$out" 3)")" "$(cpu "$(line "$out" 3)")"
info "CPU ratio gen/floor" "$(ratio "$(cpu "$g")" "$(owncpu "$f")")x"
r=$(ratio "$(first "$g")" "$(first "$(own "$f")")")
goal a "gen <= 1.5x its I/O floor" "${r}x" "$(le "$r" 1.5)"

# ---------------------------------------------------------------- b
echo
echo "b. gen -j2 vs the Python recipe (Pool(2).map, np.random.randint, cv2.imwrite)"
if [ "$have_cv2" = 1 ]; then
	out=$(bt "$LONG_RUNS" "rm -rf $S/ro" "$PY scripts/bench/recipes/recipe_gen.py $S/ro $N 2" \
		"rm -rf $S/o" "$GEN")
	rec=$(line "$out" 1)
	g=$(line "$out" 2)
	row "recipe_gen.py" "$(wall "$rec")" "$(cpu "$rec")"
	row "  after its imports (its own clock)" "$(own "$rec")"
	row "parimg gen -j2" "$(wall "$g")" "$(cpu "$g")"
	info "ratio after the recipe's imports" "$(ratio "$(first "$(own "$rec")")" "$(first "$g")")x"
	info "CPU ratio recipe/gen" "$(ratio "$(cpu "$rec")" "$(cpu "$g")")x"
	r=$(ratio "$(first "$rec")" "$(first "$g")")
	goal b "gen >= 20x faster than the recipe" "${r}x" "$(ge "$r" 20)"
else
	skip b "no cv2/numpy for $PY (python3-opencv)"
fi

# ---------------------------------------------------------------- c
echo
echo "c. per-image gen cost (-j2) as N grows, the three interleaved; floor's after"
out=$(bt "$LONG_RUNS" "rm -rf $S/o2000" "$PARIMG gen -q -j2 -n 2000 -o $S/o2000" \
	"rm -rf $S/o20000" "$PARIMG gen -q -j2 -n 20000 -o $S/o20000" \
	"rm -rf $S/o100000" "$PARIMG gen -q -j2 -n 100000 -o $S/o100000")
lo='' hi=''
k=1
for n in 2000 20000 100000; do
	l=$(line "$out" $k)
	k=$((k + 1))
	us=$(awk -v t="$(first "$l")" -v n=$n 'BEGIN { printf "%.1f", t * 1e6 / n }')
	cus=$(awk -v t="$(cpu "$l")" -v n=$n 'BEGIN { printf "%.1f", t * 1e6 / n }')
	# The floor rewrites the files gen left.
	f=$(bt "$LONG_RUNS" "rm -rf $S/fo" "build/io_floor -j2 $S/o$n $S/fo")
	fus=$(awk -v t="$(first "$(own "$f")")" -v n=$n 'BEGIN { printf "%.1f", t * 1e6 / n }')
	fcus=$(awk -v t="$(owncpu "$f")" -v n=$n 'BEGIN { printf "%.1f", t * 1e6 / n }')
	info "gen -n $n: us/image wall, cpu" "$us, $cus    (floor: $fus, $fcus)"
	[ -z "$lo" ] && lo=$us hi=$us
	lo=$(awk -v a="$lo" -v b="$us" 'BEGIN { print (a < b ? a : b) }')
	hi=$(awk -v a="$hi" -v b="$us" 'BEGIN { print (a > b ? a : b) }')
	rm -rf "$S/o$n" "$S/fo"
done
r=$(ratio "$hi" "$lo")
goal c "flat: us/image wall, max/min <= 1.25" "${r}x" "$(le "$r" 1.25)"

# ---------------------------------------------------------------- d
echo
echo "d. -j1 vs -j2 --schedule static vs -j2 --schedule dynamic (the default)"
for n in 2000 20000; do
	out=$(bt "$RUNS" "rm -rf $S/o" "$PARIMG gen -q -j1 -n $n -o $S/o" \
		"rm -rf $S/o" "$PARIMG gen -q -j2 --schedule static -n $n -o $S/o" \
		"rm -rf $S/o" "$PARIMG gen -q -j2 --schedule dynamic -n $n -o $S/o")
	row "gen -n $n -j1" "$(wall "$(line "$out" 1)")" "$(cpu "$(line "$out" 1)")"
	row "gen -n $n -j2 --schedule static" "$(wall "$(line "$out" 2)")" "$(cpu "$(line "$out" 2)")"
	row "gen -n $n -j2 --schedule dynamic" "$(wall "$(line "$out" 3)")" "$(cpu "$(line "$out" 3)")"
done
rm -rf "$S/o"
# Mixed costs: 200 400x400 images first, then 1800 40x40, resized to 64x64.
mixed=$S/mixed
$PARIMG gen -q -n 200 -s 400x400 -p a_ -o "$mixed"
$PARIMG gen -q -n 1800 -s 40x40 -p b_ -o "$mixed"
for d in "$S/d2000" "$S/d20000" "$mixed"; do
	extra=
	[ "$d" = "$mixed" ] && extra="--resize 64x64"
	label="load $(basename "$d")${extra:+ $extra}"
	out=$(bt "$RUNS" "rm -f $S/o.npy" "$PARIMG load -q -j1 $extra -o $S/o.npy $d" \
		"rm -f $S/o.npy" "$PARIMG load -q -j2 --schedule static $extra -o $S/o.npy $d" \
		"rm -f $S/o.npy" "$PARIMG load -q -j2 --schedule dynamic $extra -o $S/o.npy $d")
	row "$label -j1" "$(wall "$(line "$out" 1)")" "$(cpu "$(line "$out" 1)")"
	row "$label -j2 static" "$(wall "$(line "$out" 2)")" "$(cpu "$(line "$out" 2)")"
	row "$label -j2 dynamic" "$(wall "$(line "$out" 3)")" "$(cpu "$(line "$out" 3)")"
done
rm -rf "$S/o.npy" "$mixed"
echo "   (no goal: these are for choosing the default schedule)"

# ---------------------------------------------------------------- e, f
echo
echo "e. load -j2 (defaults: u1, natural order) vs the Python recipe"
echo "   (sorted(glob), RawArray('d', N*H*W*3), Pool(2) doing cv2.imread)"
LOAD="$PARIMG load -q -j2 -o $S/o.npy $D2K"
F8="$PARIMG load -q -j2 -c 3 -t f8 --order name -o $S/o.npy $D2K"
if [ "$have_cv2" = 1 ]; then
	out=$(bt "$LONG_RUNS" true "$PY scripts/bench/recipes/recipe_load.py -j 2 $D2K" \
		"rm -f $S/o.npy" "$LOAD" "rm -f $S/o.npy" "$F8")
	rec=$(line "$out" 1)
	ld=$(line "$out" 2)
	f8=$(line "$out" 3)
	row "recipe_load.py" "$(wall "$rec")" "$(cpu "$rec")"
	row "  after its imports (its own clock)" "$(own "$rec")"
else
	out=$(bt "$LONG_RUNS" "rm -f $S/o.npy" "$LOAD" "rm -f $S/o.npy" "$F8")
	ld=$(line "$out" 1)
	f8=$(line "$out" 2)
fi
row "parimg load -j2" "$(wall "$ld")" "$(cpu "$ld")"
rm -f "$S/o.npy"
# shellcheck disable=SC2046,SC2086
set -- $(rss $LOAD)
pp=$1 pc=$2
info "parimg peak RSS, parent / largest worker" "$pp / $pc KiB (VmHWM at exit)"
rm -f "$S/o.npy"
# shellcheck disable=SC2086
info "  GNU time -v (the whole tree's largest)" "$(tree_rss $LOAD)"
if [ "$have_cv2" = 1 ]; then
	# shellcheck disable=SC2046
	set -- $(rss "$PY" scripts/bench/recipes/recipe_load.py -j 2 "$D2K")
	rp=$1 rc=$2
	info "recipe peak RSS, parent / largest worker" "$rp / $rc KiB"
	info "  its own getrusage, parent / worker" "$(awk '{ print $4 " / " $6 }' "$S/rss.out") KiB"
	info "  GNU time -v (the whole tree's largest)" "$(tree_rss "$PY" scripts/bench/recipes/recipe_load.py -j 2 "$D2K")"
	info "CPU ratio recipe/load" "$(ratio "$(cpu "$rec")" "$(cpu "$ld")")x"
	r=$(ratio "$(first "$rec")" "$(first "$ld")")
	goal e "load >= 40x faster than the recipe" "${r}x" "$(ge "$r" 40)"
	if [ "$pp" != - ] && [ "$rp" != - ]; then
		r=$(ratio "$((pp > pc ? pp : pc))" "$((rp > rc ? rp : rc))")
		goal e "largest process <= 1/10 of the recipe's" "${r}x" "$(le "$r" 0.1)"
	else
		skip e "no per-process peak RSS: rss_tree needs ptrace"
	fi
else
	skip e "no cv2/numpy for $PY (python3-opencv)"
fi

echo
echo "f. load -j2 -c 3 -t f8 --order name (the recipe's very array) vs the recipe"
row "parimg load -j2 -c 3 -t f8 --order name" "$(wall "$f8")" "$(cpu "$f8")"
rm -f "$S/o.npy"
# shellcheck disable=SC2086
info "parimg peak RSS, parent / largest worker" "$(rss $F8 | sed 's| | / |') KiB"
# shellcheck disable=SC2086
[ -f "$S/o.npy" ] || $F8
if [ "$have_cv2" = 1 ]; then
	row "recipe_load.py (from e.)" "$(wall "$rec")" "$(cpu "$rec")"
	$PY scripts/bench/recipes/recipe_load.py -j 2 --save "$S/rec.npy" "$D2K" >/dev/null
	eq=$($PY -c 'import numpy as np, sys
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
print(a.dtype == b.dtype and np.array_equal(a, b))' "$S/o.npy" "$S/rec.npy")
	rm -f "$S/rec.npy"
	info "CPU ratio recipe/load f8" "$(ratio "$(cpu "$rec")" "$(cpu "$f8")")x"
	fl=$(bt 5 true "build/fill_floor $S $((N * 100 * 100 * 3 * 8)) 2")
	row "floor: create + fill the same 480 MB with doubles" "$(own "$fl")"
	r=$(ratio "$(first "$rec")" "$(first "$f8")")
	goal f "load f8 >= 8x faster than the recipe" "${r}x" "$(ge "$r" 8)"
	ok=0
	[ "$eq" = True ] && ok=1
	goal f "same array (np.array_equal, same dtype)" "$eq" "$ok"
else
	skip f "no cv2/numpy for $PY (python3-opencv)"
fi
rm -f "$S/o.npy"

# ---------------------------------------------------------------- g
echo
echo "g. load -j2 vs its floor (read each file, copy its pixels out, 2 processes)"
$PARIMG load -q -j2 --manifest "$S/list" -o "$S/o.npy" "$D2K"
if [ "$have_np" = 1 ]; then
	build/load_floor -j2 -o "$S/fl.u8" -l "$S/list" >/dev/null
	info "floor's pixels == parimg's" "$($PY -c 'import numpy as np, sys
print(np.array_equal(np.load(sys.argv[1]).ravel(), np.fromfile(sys.argv[2], np.uint8)))' \
		"$S/o.npy" "$S/fl.u8")"
fi
out=$(bt "$RUNS" "rm -f $S/o.npy" "$LOAD" "rm -f $S/fl.u8" "build/load_floor -j2 -o $S/fl.u8 -l $S/list")
ld=$(line "$out" 1)
f=$(line "$out" 2)
row "parimg load -j2" "$(wall "$ld")" "$(cpu "$ld")"
row "load_floor -j2 (into a mapped file)" "$(own "$f")" "$(owncpu "$f")"
info "CPU ratio load/floor" "$(ratio "$(cpu "$ld")" "$(owncpu "$f")")x"
r=$(ratio "$(first "$ld")" "$(first "$(own "$f")")")
goal g "load within 2x its floor" "${r}x" "$(le "$r" 2)"

# ---------------------------------------------------------------- h
echo
echo "h. merge of 4 shards of the $N-image load vs cat of the same bytes"
rm -f "$S/o.npy"
$PARIMG load -q -j2 -o "$S/o.npy" "$D2K"
for k in 0 1 2 3; do
	$PARIMG load -q -j2 --shard "$k/4" -o "$S/part-$k.npy" "$D2K"
done
# Each of the 4 parts given 20 times: 80 parts, 400 MB, enough for a
# throughput. (merge takes a part more than once; so does cat.)
big=""
for k in 0 1 2 3; do
	for _ in $(seq 20); do big="$big $S/part-$k.npy"; done
done
# shellcheck disable=SC2086
bytes=$(cat $big | wc -c)
out=$(bt "$RUNS" "rm -f $S/m.npy" "$PARIMG merge -q -j2 -o $S/m.npy$big" \
	"rm -f $S/cat.out" "sh -c 'cat $big > $S/cat.out'")
mg=$(line "$out" 1)
ct=$(line "$out" 2)
row "parimg merge -j2 (80 parts, $((bytes / 1000000)) MB)" "$(wall "$mg")" "$(cpu "$mg")"
row "cat > file (same bytes)" "$(wall "$ct")" "$(cpu "$ct")"
info "merge throughput" "$(awk -v b="$bytes" -v t="$(first "$mg")" 'BEGIN { printf "%.0f MB/s", b / t / 1e6 }')"
info "cat throughput" "$(awk -v b="$bytes" -v t="$(first "$ct")" 'BEGIN { printf "%.0f MB/s", b / t / 1e6 }')"
info "merge / cat (wall)" "$(ratio "$(first "$mg")" "$(first "$ct")")x"
rm -f "$S"/part-*.npy "$S/m.npy" "$S/cat.out" "$S/o.npy"

# ---------------------------------------------------------------- i
echo
echo "i. parimg bench on the same machine (its own table; --dir on the scratch tmpfs)"
$PARIMG bench --dir "$S" -r 5

# ---------------------------------------------------------------- j
# Class folders (load --labels, issue 12). A tree of 100,000 images in 1,000
# class folders: the scan alone (scan_time: listing the folders and sorting
# the files, load's own code) against the labelled load of the tree, and the
# labelled load against the same 100,000 files loaded without labels (the
# 1,000 folders given as 1,000 arguments: the same listing, no labels).
# find(1) over the tree, a whole process, shows what listing alone costs.
# First at the reference size, 100x100; then 32x32, where decoding is
# cheapest and the scan's share the largest (no goal).
echo
echo "j. load --labels on 100,000 gray PNGs in 1,000 class folders (100 each), -j2"
for size in 100x100 32x32; do
	T=$S/tree
	k=0
	while [ $k -lt 1000 ]; do
		$PARIMG gen -q -n 100 -s $size --seed $k -o "$T/c$(printf %03d $k)"
		k=$((k + 1))
	done
	dirs=$(ls -d "$T"/c*)
	out=$(bt "$LONG_RUNS" true "build/scan_time $T" \
		"rm -f $S/x.npy $S/y.npy" "$PARIMG load -q -j2 --labels $S/y.npy -o $S/x.npy $T" \
		"rm -f $S/x.npy" "$PARIMG load -q -j2 -o $S/x.npy $dirs" \
		true "find $T -name *.png")
	sc=$(line "$out" 1)
	lb=$(line "$out" 2)
	ul=$(line "$out" 3)
	row "$size scan (list + sort), in-process" "$(own "$sc")" "$(owncpu "$sc")"
	row "$size find TREE -name '*.png' (a floor)" "$(wall "$(line "$out" 4)")" "$(cpu "$(line "$out" 4)")"
	row "$size load --labels of the tree" "$(wall "$lb")" "$(cpu "$lb")"
	row "$size load of the 1,000 folders" "$(wall "$ul")" "$(cpu "$ul")"
	info "$size CPU ratio labelled/unlabelled" "$(ratio "$(cpu "$lb")" "$(cpu "$ul")")x"
	r=$(ratio "$(first "$(own "$sc")")" "$(first "$lb")")
	r2=$(ratio "$(first "$lb")" "$(first "$ul")")
	if [ "$size" = 100x100 ]; then
		goal j "scan <= 10% of the labelled load" "${r}x" "$(le "$r" 0.10)"
		goal j "labelled <= 1.05x unlabelled (noise)" "${r2}x" "$(le "$r2" 1.05)"
	else
		info "$size scan / labelled load (wall)" "${r}x"
		info "$size labelled / unlabelled (wall)" "${r2}x"
	fi
	rm -rf "$T" "$S/x.npy" "$S/y.npy"
done

# ---------------------------------------------------------------- k
# The resampler alone (issue 11), one core, against Pillow on the same photo.
echo
echo "k. resize alone, one core: parimg's resampler vs Pillow's Image.resize(), same pixels"
photo=$(ls /usr/share/backgrounds/mate/nature/*.jpg 2>/dev/null | head -n 1)
if [ -n "$photo" ]; then
	$PY scripts/bench/recipes/resize_pillow.py photo "$photo" "$S/photo.png" "$S/photo.raw"
	info "input" "$(basename "$photo"): centre, 4:3, at 500x375 RGB (decoded)"
	info "per call, ms: median [min .. max] of 15" "rounds, and CPU; ratio = Pillow / parimg (CPU)"
	for fit in stretch cover; do
		for f in nearest box bilinear hamming bicubic lanczos; do
			p=$(build/resize_bench "$S/photo.raw" 500 375 3 224 224 "$f" "$fit")
			q=$($PY scripts/bench/recipes/resize_pillow.py time "$S/photo.png" 224 224 "$f" "$fit" | cut -d' ' -f2-)
			r=$(ratio "$(echo "$q" | cut -d' ' -f4)" "$(echo "$p" | cut -d' ' -f4)")
			printf '   %-8s %-8s parimg %7.3f [%.3f .. %.3f] cpu %.3f   Pillow %7.3f [%.3f .. %.3f] cpu %.3f   %sx\n' \
				"$fit" "$f" $p $q "$r"
			[ "$fit $f" = "stretch bilinear" ] && rb=$r
		done
	done
	info "cover" "Pillow resizes to 298x224 and crops; parimg computes the 224 columns kept"
	goal k "resize (bilinear) >= 3x faster than Pillow's" "${rb}x" "$(ge "$rb" 3)"
else
	skip k "no photograph (mate-backgrounds) for the resize benchmark"
fi
# Real photographs: scripts/bench/bench_photos.sh (alone: sh scripts/bench/bench.sh photos).
. scripts/bench/bench_photos.sh
# check: scripts/bench/bench_check.sh (alone: sh scripts/bench/bench.sh check).
. scripts/bench/bench_check.sh
# check --all: scripts/bench/bench_checkall.sh (alone: sh scripts/bench/bench.sh checkall).
. scripts/bench/bench_checkall.sh
# Confined workers against unconfined: scripts/bench/bench_sandbox.sh.
. scripts/bench/bench_sandbox.sh
# Archives as inputs: scripts/bench/bench_archive.sh.
. scripts/bench/bench_archive.sh
# The parent's share with many cores in mind: scripts/bench/bench_parent.sh.
. scripts/bench/bench_parent.sh
# Load's channels without -c: scripts/bench/bench_channels.sh.
. scripts/bench/bench_channels.sh
# convert, a smaller copy of a dataset: scripts/bench/bench_convert.sh.
. scripts/bench/bench_convert.sh
# Labels from a table: scripts/bench/bench_labels.sh.
. scripts/bench/bench_labels.sh
# Segmentation masks: scripts/bench/bench_masks.sh.
. scripts/bench/bench_masks.sh

echo
echo "summary (load average now $(loadavg)):"
cat "$S/goals"
