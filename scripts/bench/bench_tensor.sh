# bench_tensor.sh - section l7 of bench_photos.sh (issue "Tensors a model
# takes as they are"): load --layout nchw --normalize imagenet against the
# same load to u1 NHWC, against torchvision's DataLoader recipe
# (scripts/bench/recipes/recipe_torchvision.py), and --stats's cost. Sourced by
# bench_photos.sh (which made $PC) or, alone, by "sh scripts/bench/bench.sh
# tensor" (PHOTO_CORPUS=DIR reuses a finished corpus; PHOTO_RUNS=N, 5).
# shellcheck shell=sh disable=SC2154

PRUNS=${PHOTO_RUNS:-5}
PC=${PC:-${PHOTO_CORPUS:-$S/photos}}
if [ ! -f "$PC/.done" ] && [ ! -f "$PC/.mixed" ]; then
	$PY scripts/bench/photo_corpus.py -j2 --only mixed "$PC" | sed 's/^/   corpus: /'
	: >"$PC/.mixed"
fi
echo
echo "l7. 1000 ImageNet-like JPEGs, -j2 --resize 224x224 --fit cover: float32 NCHW"
echo "    normalised (Resize(224), CenterCrop(224), ToTensor(), Normalize) vs u1 NHWC,"
echo "    vs DataLoader(num_workers=2) into one float32 .npy; load average $(loadavg)"
MIXED=$PC/mixed
nt=$(ls "$MIXED" | wc -l)
LT="$PARIMG load -q -c 3 -j2 --resize 224x224 --fit cover -o $S/o.npy $MIXED"
out=$(bt "$PRUNS" "rm -f $S/o.npy" "$LT" \
	"rm -f $S/o.npy" "$LT --layout nchw --normalize imagenet" \
	"rm -f $S/o.npy" "$LT -t f4 --scale" \
	"rm -f $S/o.npy $S/s.json" "$LT --stats $S/s.json" \
	"rm -f $S/o.npy $S/s.json" "$LT --layout nchw --normalize imagenet --stats $S/s.json" \
	"rm -f $S/t.npy" "$PY scripts/bench/recipes/recipe_torchvision.py -j 2 --size 224 -o $S/t.npy $MIXED")
u1=$(line "$out" 1) nc=$(line "$out" 2) f4=$(line "$out" 3) st=$(line "$out" 4)
ncs=$(line "$out" 5) tv=$(line "$out" 6)
row "load u1 NHWC" "$(wall "$u1")" "$(cpu "$u1")"
row "load --layout nchw --normalize imagenet" "$(wall "$nc")" "$(cpu "$nc")"
row "load -t f4 --scale (NHWC, not normalised)" "$(wall "$f4")" "$(cpu "$f4")"
row "load u1 NHWC --stats" "$(wall "$st")" "$(cpu "$st")"
row "load nchw --normalize imagenet --stats" "$(wall "$ncs")" "$(cpu "$ncs")"
row "recipe_torchvision.py (DataLoader, 2 workers)" "$(wall "$tv")" "$(cpu "$tv")"
row "  after its imports (its own clock)" "$(own "$tv")"
info "per image, CPU: u1, nchw normalised" "$(per_img "$(cpu "$u1")" "$nt"), $(per_img "$(cpu "$nc")" "$nt")"
info "CPU ratios nchw/u1, nchw/f4, stats/u1" "$(ratio "$(cpu "$nc")" "$(cpu "$u1")")x, $(ratio "$(cpu "$nc")" "$(cpu "$f4")")x, $(ratio "$(cpu "$st")" "$(cpu "$u1")")x"
# f4 is 4x u1's bytes: the pages of the mapping, zeroed by the kernel, cost
# the same whatever goes into them.
info "output size: u1, float32" "$((nt * 224 * 224 * 3 / 1000000)) MB, $((nt * 224 * 224 * 12 / 1000000)) MB"
# Both arrays must hold the same floats, or this compares different work.
rm -f "$S/o.npy" "$S/t.npy"
$LT --layout nchw --normalize imagenet
$PY scripts/bench/recipes/recipe_torchvision.py -j 2 --size 224 -o "$S/t.npy" "$MIXED" >/dev/null
info "load's floats vs the DataLoader's" "$($PY -c 'import numpy as np, sys
a, b = (np.load(p, mmap_mode="r") for p in sys.argv[1:])
print("identical" if a.shape == b.shape and np.array_equal(a, b) else "DIFFER")' "$S/o.npy" "$S/t.npy")"
rm -f "$S/o.npy" "$S/t.npy" "$S/s.json"
r=$(ratio "$(first "$nc")" "$(first "$u1")")
goal l7 "nchw normalised <= 1.15x the u1 load" "${r}x" "$(le "$r" 1.15)"
r=$(ratio "$(first "$tv")" "$(first "$nc")")
goal l7 "nchw normalised >= 5x the DataLoader" "${r}x" "$(ge "$r" 5)"
r=$(ratio "$(first "$st")" "$(first "$u1")")
goal l7 "--stats <= 1.03x the load" "${r}x" "$(le "$r" 1.03)"
