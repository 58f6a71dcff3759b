# bench_ragged.sh - section l5 of bench_photos.sh: "load --ragged" (images at
# their own sizes) on the mixed corpus (1000 ImageNet-like JPEGs, 300-640 px)
# against the recipe's list method (scripts/bench/recipes/recipe_ragged.py: processes
# appending cv2.imread results to a Manager().list()) and TurboJPEG's floor
# (scripts/bench/floors/jpeg_floor.c -r). Sourced by bench_photos.sh, or alone:
#
#   PHOTO_CORPUS=/tmp/pc sh scripts/bench/bench.sh ragged     (PHOTO_RUNS=N, default 5)
#
# It uses bench.sh's helpers, $S, $PY and $PARIMG.
# shellcheck shell=sh disable=SC2154

PRUNS=${PHOTO_RUNS:-5}
PC=${PHOTO_CORPUS:-$S/photos}
[ -x build/jpeg_floor ] ||
	cc -O2 -Wall -Isrc -o build/jpeg_floor scripts/bench/floors/jpeg_floor.c \
		scripts/bench/floors/floor.c build/libimage.a -lturbojpeg -lm
if [ ! -d "$PC/mixed" ]; then
	$PY scripts/bench/photo_corpus.py -j2 --only mixed "$PC" | sed 's/^/   corpus: /'
fi
# rss_sum CMD...: every process's peak RSS added up (rss_tree), KiB, or "-".
rss_sum() {
	if build/rss_tree "$@" >/dev/null 2>"$S/rss" && grep -q '^parent_kib' "$S/rss"; then
		awk '/^parent_kib/ { print $8 }' "$S/rss"
	else
		echo "-"
	fi
}
# same_data A.npy B.u8: whether a .npy's data are the raw file's bytes.
same_data() {
	$PY -c 'import numpy as np, sys
a = np.load(sys.argv[1], mmap_mode="r").reshape(-1).view(np.uint8)
b = np.fromfile(sys.argv[2], np.uint8)
print("identical" if a.size == b.size and np.array_equal(a, b) else "DIFFERENT")' "$1" "$2"
}
echo
echo "l5. 1000 ImageNet-like JPEGs at their own sizes: load --ragged -c 3 -j2 vs the"
echo "    recipe's list method (recipe_ragged.py) and TurboJPEG's floor (jpeg_floor -r);"
echo "    $PRUNS runs each, interleaved; load average $(loadavg)"
MIXED=$PC/mixed
ls "$MIXED"/*.jpg >"$S/mixed.list"
LG="$PARIMG load -q --ragged -c 3 -j2 -o $S/o.npy $MIXED"
out=$(bt "$PRUNS" true "$PY scripts/bench/recipes/recipe_ragged.py -j 2 $MIXED" \
	"rm -f $S/o.npy $S/o.index.npy" "$LG" \
	"rm -f $S/fl.u8" "build/jpeg_floor -r -j2 -o $S/fl.u8 -l $S/mixed.list")
rec=$(line "$out" 1) ld=$(line "$out" 2) fl=$(line "$out" 3)
row "recipe_ragged.py (Manager().list(), -j 2)" "$(wall "$rec")" "$(cpu "$rec")"
row "  after its imports (its own clock)" "$(own "$rec")"
row "parimg load --ragged -c 3 -j2" "$(wall "$ld")" "$(cpu "$ld")"
row "jpeg_floor -r -j2 (TurboJPEG, mapped file)" "$(own "$fl")" "$(owncpu "$fl")"
# The floor must write load's very bytes, or it would not be its floor.
rm -f "$S/o.npy" "$S/o.index.npy" "$S/fl.u8"
$LG
build/jpeg_floor -r -j2 -o "$S/fl.u8" -l "$S/mixed.list" >/dev/null
info "pixels, load --ragged vs jpeg_floor -r" "$(same_data "$S/o.npy" "$S/fl.u8")"
rm -f "$S/fl.u8"
# The header pass: -v prints each worker's time, the header pass's pool
# first (one line a worker), then the decoding pool's.
hp=$(rm -f "$S/o.npy" "$S/o.index.npy"; $PARIMG load --ragged -c 3 -j2 -v -o "$S/o.npy" "$MIXED" 2>&1 |
	awk '/worker [0-9]+:/ { n++; t = $(NF - 1); if (n <= 2 && t > h) h = t; if (n > 2 && t > d) d = t }
	     END { printf "%s %s", h, d }')
set -- $hp
info "header pass, decode pass (slowest worker)" "$(ms "$1"), $(ms "$2")"
r=$(awk -v h="$1" -v w="$(first "$ld")" 'BEGIN { printf "%.1f", 100 * h / w }')
goal l5 "ragged: header pass <= 10% of the load" "${r}%" "$(le "$r" 10)"
r=$(ratio "$(first "$rec")" "$(first "$ld")")
goal l5 "ragged: load >= 5x faster than the recipe" "${r}x" "$(ge "$r" 5)"
r=$(ratio "$(cpu "$ld")" "$(owncpu "$fl")")
goal l5 "ragged: load CPU <= 1.10x TurboJPEG floor" "${r}x" "$(le "$r" 1.10)"
# Memory: every process's peak RSS added up (rss_tree). parimg's workers
# map OUT and touch its pages once in all; those are the output file's
# (page cache, on a disk written back), so they are counted apart.
set -- $(rss_sum "$PY" scripts/bench/recipes/recipe_ragged.py -j 2 "$MIXED")
recm=$1
rm -f "$S/o.npy" "$S/o.index.npy"
set -- $(rss_sum $LG)
ldm=$1
outk=$(($(stat -c %s "$S/o.npy") / 1024))
if [ "$recm" != - ] && [ "$ldm" != - ]; then
	own_k=$((ldm - outk))
	info "peak RSS, all processes: recipe, load" "$recm KiB, $ldm KiB (of which OUT's pages $outk KiB)"
	r=$(ratio "$own_k" "$recm")
	goal l5 "ragged: load memory <= 1/20 of recipe's" "$own_k KiB, ${r}x" "$(le "$r" 0.05)"
else
	skip l5 "no per-process peak RSS: rss_tree needs ptrace"
fi
rm -f "$S/o.npy" "$S/o.index.npy"
