# bench_photos.sh - section l of bench.sh: load on real photographs (issues
# "Real photographs" and "Resize like Pillow"), against the Pool(2) + Pillow
# recipe (scripts/bench/recipes/recipe_pillow.py) and the decoders' own floors
# (scripts/bench/floors/jpeg_floor.c, scripts/bench/floors/png_floor.c); l5, load --ragged, is
# scripts/bench/bench_ragged.sh, l6 bench_formats.sh, l7 bench_tensor.sh, l8,
# TIFF, bench_tiff.sh and l9, cover, bench_cover.sh. Sourced by bench.sh, whose
# helpers, $S, $PY and $PARIMG it uses; to run it alone:
#
#   sh scripts/bench/bench.sh photos      (then the summary; PHOTO_RUNS=N, default 5)
#
# The corpora (scripts/bench/photo_corpus.py: 1000 500x375 JPEGs, 1000 ImageNet-like
# JPEGs of 300-640 px, 300 512x512 photo PNGs) are made once per run under $S,
# or taken from $PHOTO_CORPUS when that directory holds a finished one.
# shellcheck shell=sh disable=SC2154

echo
echo "l. load on real photographs vs Pool(2) + Pillow (recipe_pillow.py) and the decoders' floors"
PRUNS=${PHOTO_RUNS:-5}
EXTRA_PKGS="mate-backgrounds libturbojpeg0-dev libpng-dev libspng-dev libstb-dev" \
	sh scripts/deps.sh ||
	echo "bench: could not install the photo benchmarks' packages; going on" >&2
# jpeg_floor -s resizes with parimg's resampler, as make built it (its flags).
cc -O2 -Wall -Isrc -o build/jpeg_floor scripts/bench/floors/jpeg_floor.c \
	scripts/bench/floors/floor.c build/libimage.a -lturbojpeg -lm
cc -O2 -Wall -o build/png_floor scripts/bench/floors/png_floor.c scripts/bench/floors/floor.c \
	-lpng -lspng -lm
PC=${PHOTO_CORPUS:-$S/photos}
if [ ! -f "$PC/.done" ]; then
	$PY scripts/bench/photo_corpus.py -j2 "$PC" | sed 's/^/   corpus: /'
	: >"$PC/.done"
fi
$PARIMG gen -q -j2 -n 300 -s 512x512 -c 3 -o "$S/gen512"
echo "   $PRUNS runs each, interleaved; timing and CPU as above. load average $(loadavg)"
# pct_differ A.npy B.u8: "P% of samples differ, max |d| M" between a .npy
# and a raw file of the same bytes.
pct_differ() {
	[ "$have_np" = 1 ] || { echo "no numpy"; return; }
	$PY -c 'import numpy as np, sys
a = np.load(sys.argv[1], mmap_mode="r").reshape(-1)
b = np.fromfile(sys.argv[2], np.uint8)
if a.size != b.size:
    print("sizes differ"); sys.exit()
d = np.zeros(1, np.int64); n = 0
for i in range(0, a.size, 1 << 26):
    x = np.abs(a[i:i + (1 << 26)].astype(np.int16) - b[i:i + (1 << 26)])
    n += int(np.count_nonzero(x)); d = max(d, x.max(initial=0))
print("%.3f%% of samples differ, max |d| %d" % (100 * n / a.size, int(d)))' "$1" "$2"
}
per_img() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.2f ms/image", t * 1000 / n }'; }

# ---------------------------------------------------------------- l1
echo
echo "l1. 1000 same-size JPEG photos (500x375, q75-95, a fifth progressive), load -c 3"
SAME=$PC/same
ls "$SAME"/*.jpg >"$S/same.list"
ns=$(wc -l <"$S/same.list")
L2="$PARIMG load -q -c 3 -j2 -o $S/o.npy $SAME"
L1="$PARIMG load -q -c 3 -j1 -o $S/o.npy $SAME"
out=$(bt "$PRUNS" true "$PY scripts/bench/recipes/recipe_pillow.py -j 2 $SAME" \
	"rm -f $S/o.npy" "$L2" \
	"rm -f $S/fl.u8" "build/jpeg_floor -j2 -o $S/fl.u8 -l $S/same.list" \
	"rm -f $S/o.npy" "$L1" \
	"rm -f $S/fl.u8" "build/jpeg_floor -j1 -o $S/fl.u8 -l $S/same.list")
rec=$(line "$out" 1) ld=$(line "$out" 2) fl=$(line "$out" 3)
ld1=$(line "$out" 4) fl1=$(line "$out" 5)
row "recipe_pillow.py (Pool(2), no resize)" "$(wall "$rec")" "$(cpu "$rec")"
row "  after its imports (its own clock)" "$(own "$rec")"
row "parimg load -c 3 -j2" "$(wall "$ld")" "$(cpu "$ld")"
row "jpeg_floor -j2 (TurboJPEG, mapped file)" "$(own "$fl")" "$(owncpu "$fl")"
row "parimg load -c 3 -j1" "$(wall "$ld1")" "$(cpu "$ld1")"
row "jpeg_floor -j1" "$(own "$fl1")" "$(owncpu "$fl1")"
info "per image, one core: load, floor" "$(per_img "$(cpu "$ld1")" "$ns"), $(per_img "$(owncpu "$fl1")" "$ns") (CPU)"
rm -f "$S/o.npy" "$S/fl.u8"
$L2
build/jpeg_floor -j2 -o "$S/fl.u8" -l "$S/same.list" >/dev/null
info "parimg vs TurboJPEG's (= Pillow's) pixels" "$(pct_differ "$S/o.npy" "$S/fl.u8")"
rm -f "$S/fl.u8"
info "CPU ratio recipe/load" "$(ratio "$(cpu "$rec")" "$(cpu "$ld")")x"
info "CPU ratio load/floor, -j2 and -j1" "$(ratio "$(cpu "$ld")" "$(owncpu "$fl")")x, $(ratio "$(cpu "$ld1")" "$(owncpu "$fl1")")x"
r=$(ratio "$(first "$rec")" "$(first "$ld")")
goal l1 "photos: load >= 4x faster than the recipe" "${r}x" "$(ge "$r" 4)"
r=$(ratio "$(cpu "$ld")" "$(owncpu "$fl")")
goal l1 "photos: load CPU <= 1.15x TurboJPEG floor" "${r}x" "$(le "$r" 1.15)"
# Memory: one worker (-j1) writes every row, so its peak RSS less the whole
# output it mapped is its own memory; on 1000 images against on 1.
img_kib=$((500 * 375 * 3 / 1024))
# shellcheck disable=SC2046,SC2086
set -- $(rm -f "$S/o.npy"; rss $L1)
big=$2
rm -f "$S/o.npy"
# shellcheck disable=SC2046
set -- $(rss "$PARIMG" load -q -c 3 -j1 -o "$S/o.npy" "$(head -1 "$S/same.list")")
one=$2
rm -f "$S/o.npy"
if [ "$big" != - ] && [ "$one" != - ]; then
	pb=$((big - ns * img_kib)) p1=$((one - img_kib))
	info "worker peak RSS less its output, -j1" "$pb KiB on $ns images, $p1 KiB on 1 (an image: $img_kib KiB)"
	r=$(ratio "$((pb - p1))" "$img_kib")
	goal l1 "photos: worker memory growth <= 2 images" "${r} img" "$(le "$r" 2)"
else
	skip l1 "no per-process peak RSS: rss_tree needs ptrace"
fi

# ---------------------------------------------------------------- l2
echo
echo "l2. 1000 ImageNet-like JPEGs (300-640 px, q75-95, some progressive, some gray),"
echo "    load -c 3 --resize 224x224 -j2; the recipe resizes with BILINEAR"
MIXED=$PC/mixed
ls "$MIXED"/*.jpg >"$S/mixed.list"
nm=$(wc -l <"$S/mixed.list")
# The floors: TurboJPEG's decode (-n: full size; default: --draft's scale;
# -a: any M/8) and parimg's resampler, from 2 processes, nothing else.
LR="$PARIMG load -q -c 3 -j2 --resize 224x224 --filter bilinear -o $S/o.npy $MIXED"
FL="build/jpeg_floor -j2 -s 224x224 -f bilinear -o $S/fl.u8 -l $S/mixed.list"
out=$(bt "$PRUNS" true "$PY scripts/bench/recipes/recipe_pillow.py -j 2 --resize 224x224 $MIXED" \
	true "$PY scripts/bench/recipes/recipe_pillow.py -j 2 --resize 224x224 --draft $MIXED" \
	"rm -f $S/o.npy" "$LR --no-draft" \
	"rm -f $S/fl.u8" "$FL -n" \
	"rm -f $S/o.npy" "$LR --draft" \
	"rm -f $S/fl.u8" "$FL" \
	"rm -f $S/fl.u8" "$FL -a")
rec=$(line "$out" 1) recd=$(line "$out" 2) nd=$(line "$out" 3) fln=$(line "$out" 4)
dr=$(line "$out" 5) fld=$(line "$out" 6) fla=$(line "$out" 7)
row "recipe_pillow.py --resize 224x224" "$(wall "$rec")" "$(cpu "$rec")"
row "recipe_pillow.py --resize 224x224 --draft" "$(wall "$recd")" "$(cpu "$recd")"
row "parimg load --resize 224x224 --no-draft" "$(wall "$nd")" "$(cpu "$nd")"
row "jpeg_floor -s 224x224 -n (full decode)" "$(own "$fln")" "$(owncpu "$fln")"
row "parimg load --resize 224x224 --draft" "$(wall "$dr")" "$(cpu "$dr")"
row "jpeg_floor -s 224x224 (1/8, 1/4, 1/2)" "$(own "$fld")" "$(owncpu "$fld")"
row "jpeg_floor -s 224x224 -a (any M/8)" "$(own "$fla")" "$(owncpu "$fla")"
info "per image, CPU: --draft, its floor" "$(per_img "$(cpu "$dr")" "$nm"), $(per_img "$(owncpu "$fld")" "$nm")"
# The floors must give parimg's very bytes, or they would not be its floors.
rm -f "$S/o.npy" "$S/fl.u8"
$LR --no-draft
$FL -n >/dev/null
info "pixels, --no-draft vs jpeg_floor -n" "$(pct_differ "$S/o.npy" "$S/fl.u8")"
rm -f "$S/o.npy" "$S/fl.u8"
$LR --draft
$FL >/dev/null
info "pixels, --draft vs jpeg_floor" "$(pct_differ "$S/o.npy" "$S/fl.u8")"
info "CPU ratio recipe/load, no draft and draft" "$(ratio "$(cpu "$rec")" "$(cpu "$nd")")x, $(ratio "$(cpu "$recd")" "$(cpu "$dr")")x"
info "floor CPU, any M/8 vs 1/8..1/2 only" "$(ratio "$(owncpu "$fla")" "$(owncpu "$fld")")x"
r=$(ratio "$(first "$rec")" "$(first "$nd")")
goal l2 "resize, no draft: >= 2.5x the recipe" "${r}x" "$(ge "$r" 2.5)"
r=$(ratio "$(cpu "$nd")" "$(owncpu "$fln")")
goal l2 "resize, no draft: CPU <= 1.25x its floor" "${r}x" "$(le "$r" 1.25)"
r=$(ratio "$(first "$rec")" "$(first "$dr")")
goal l2 "resize, draft: >= 4x the recipe" "${r}x" "$(ge "$r" 4)"
r=$(ratio "$(first "$recd")" "$(first "$dr")")
goal l2 "resize, draft: >= 2x the recipe + draft" "${r}x" "$(ge "$r" 2)"
r=$(ratio "$(cpu "$dr")" "$(owncpu "$fld")")
goal l2 "resize, draft: CPU <= 1.25x its floor" "${r}x" "$(le "$r" 1.25)"
rm -f "$S/o.npy" "$S/fl.u8"

# ---------------------------------------------------------------- l3, l4
# pngs ID NAME DIR GOAL_X FLOOR_X: load -j2 vs the recipe and png_floor
# with the decoder png_floor -m finds fastest on DIR.
pngs() {
	ls "$3"/*.png >"$S/png.list"
	n=$(wc -l <"$S/png.list")
	m=$(build/png_floor -m -l "$S/png.list")
	best=$(echo "$m" | awk '/^fastest/ { print $2 }')
	info "decode only, one process, from memory" "$(echo "$m" | awk '/ms\/image/ { printf "%s%s %s ms", s, $1, $3; s = ", " }')"
	out=$(bt "$PRUNS" true "$PY scripts/bench/recipes/recipe_pillow.py -j 2 $3" \
		"rm -f $S/o.npy" "$PARIMG load -q -c 3 -j2 -o $S/o.npy $3" \
		"rm -f $S/fl.u8" "build/png_floor -j2 -d $best -o $S/fl.u8 -l $S/png.list")
	rec=$(line "$out" 1) ld=$(line "$out" 2) fl=$(line "$out" 3)
	row "recipe_pillow.py" "$(wall "$rec")" "$(cpu "$rec")"
	row "parimg load -c 3 -j2" "$(wall "$ld")" "$(cpu "$ld")"
	row "png_floor -j2 -d $best" "$(own "$fl")" "$(owncpu "$fl")"
	info "per image, CPU: load, floor" "$(per_img "$(cpu "$ld")" "$n"), $(per_img "$(owncpu "$fl")" "$n")"
	info "CPU ratio recipe/load, load/floor" "$(ratio "$(cpu "$rec")" "$(cpu "$ld")")x, $(ratio "$(cpu "$ld")" "$(owncpu "$fl")")x"
	r=$(ratio "$(first "$rec")" "$(first "$ld")")
	goal "$1" "$2: load >= ${4}x faster than recipe" "${r}x" "$(ge "$r" "$4")"
	r=$(ratio "$(first "$ld")" "$(first "$(own "$fl")")")
	goal "$1" "$2: load <= ${5}x the $best floor" "${r}x" "$(le "$r" "$5")"
	rm -f "$S/o.npy" "$S/fl.u8"
}
echo
echo "l3. 300 512x512 RGB photo PNGs (zlib level 6), load -c 3 -j2"
pngs l3 png512 "$PC/png512" 3.5 1.2
echo
echo "l4. 300 PNGs of gen -s 512x512 -c 3 (noise, stored deflate), load -c 3 -j2"
pngs l4 gen512 "$S/gen512" 5 1.3
rm -rf "$S/gen512"
# l5: images at their own sizes (load --ragged), on the mixed corpus.
. scripts/bench/bench_ragged.sh
# l6: BMP, TGA and PNM (alone: sh scripts/bench/bench.sh formats).
. scripts/bench/bench_formats.sh
# l7: tensors for PyTorch (scripts/bench/bench_tensor.sh; alone: sh scripts/bench/bench.sh tensor).
. scripts/bench/bench_tensor.sh
# l8: TIFF (alone: sh scripts/bench/bench.sh tiff).
. scripts/bench/bench_tiff.sh
# l9: --fit cover's partial decode vs the ML pipelines (alone: sh scripts/bench/bench.sh cover).
. scripts/bench/bench_cover.sh
. scripts/bench/bench_newformats.sh
[ -n "${PHOTO_CORPUS:-}" ] || rm -rf "$PC"

