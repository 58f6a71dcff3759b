# bench_cover.sh - section l9 of bench_photos.sh (issue 22): --fit cover at
# 224x224 decoding only what the crop reads, against the same load decoding
# every JPEG whole (PARIMG_FULL_DECODE=1: the same pixels), against the
# pipelines ML users run on the same files: torchvision's
# DataLoader(num_workers=2) with Resize(224), CenterCrop(224), PILToTensor
# stacked into one uint8 array (scripts/bench/recipes/recipe_torchvision.py --uint8),
# a Pool(2) of OpenCV's imread + resize + crop (scripts/bench/recipes/recipe_opencv.py),
# and the Pillow recipe (scripts/bench/recipes/recipe_pillow.py, stretched to 224x224:
# it has no cover). On both JPEG corpora: "mixed" (ImageNet-like, short side
# about 300) and "same" (500x375, a quarter of the columns cropped).
# Sourced by bench_photos.sh (which made $PC) or alone:
#   PHOTO_CORPUS=/tmp/pc sh scripts/bench/bench.sh cover     (PHOTO_RUNS=N, default 5)
# shellcheck shell=sh disable=SC2154

PRUNS=${PHOTO_RUNS:-5}
PC=${PC:-${PHOTO_CORPUS:-$S/photos}}
for only in mixed same; do
	if [ ! -f "$PC/.done" ] && [ ! -f "$PC/.$only" ]; then
		$PY scripts/bench/photo_corpus.py -j2 --only "$only" "$PC" | sed 's/^/   corpus: /'
		: >"$PC/.$only"
	fi
done
per_img_ms() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.3f ms/image", t * 1000 / n }'; }
for corpus in mixed same; do
	D=$PC/$corpus
	nc=$(ls "$D" | wc -l)
	echo
	echo "l9. $nc JPEGs ($corpus), -j2 --resize 224x224 --fit cover: partial decode vs whole,"
	echo "    vs torchvision's DataLoader(num_workers=2), OpenCV's Pool(2), Pillow's Pool(2);"
	echo "    load average $(loadavg)"
	LC="$PARIMG load -q -c 3 -j2 --resize 224x224 --fit cover -o $S/o.npy $D"
	out=$(bt "$PRUNS" "rm -f $S/o.npy" "$LC" \
		"rm -f $S/o.npy" "env PARIMG_FULL_DECODE=1 $LC" \
		"rm -f $S/o.npy" "$LC --layout nchw" \
		"rm -f $S/t.npy" "$PY scripts/bench/recipes/recipe_torchvision.py --uint8 -j 2 --size 224 -o $S/t.npy $D" \
		true "$PY scripts/bench/recipes/recipe_opencv.py -j 2 --size 224 $D" \
		true "$PY scripts/bench/recipes/recipe_pillow.py -j 2 --resize 224x224 $D")
	pa=$(line "$out" 1) fu=$(line "$out" 2) nchw=$(line "$out" 3) tv=$(line "$out" 4)
	cv=$(line "$out" 5) pl=$(line "$out" 6)
	row "load (partial decode)" "$(wall "$pa")" "$(cpu "$pa")"
	row "load, every JPEG decoded whole" "$(wall "$fu")" "$(cpu "$fu")"
	row "load --layout nchw (partial decode)" "$(wall "$nchw")" "$(cpu "$nchw")"
	row "torchvision DataLoader(num_workers=2) uint8" "$(wall "$tv")" "$(cpu "$tv")"
	row "OpenCV Pool(2) imread+resize+crop" "$(wall "$cv")" "$(cpu "$cv")"
	row "Pillow Pool(2) open+convert+resize (stretch)" "$(wall "$pl")" "$(cpu "$pl")"
	info "per image, CPU: partial, whole" "$(per_img_ms "$(cpu "$pa")" "$nc"), $(per_img_ms "$(cpu "$fu")" "$nc")"
	# The same array three ways, or this compares different work.
	rm -f "$S/o.npy" "$S/o2.npy" "$S/t.npy"
	$LC
	PARIMG_FULL_DECODE=1 $PARIMG load -q -c 3 -j2 --resize 224x224 --fit cover -o "$S/o2.npy" "$D"
	info "partial vs whole decode" "$(cmp -s "$S/o.npy" "$S/o2.npy" && echo identical || echo DIFFER)"
	rm -f "$S/o.npy"
	$LC --layout nchw
	$PY scripts/bench/recipes/recipe_torchvision.py --uint8 -j 2 --size 224 -o "$S/t.npy" "$D" >/dev/null
	info "load --layout nchw vs the DataLoader's" "$($PY -c 'import numpy as np, sys
a, b = (np.load(p, mmap_mode="r") for p in sys.argv[1:])
print("identical" if a.shape == b.shape and np.array_equal(a, b) else "DIFFER")' "$S/o.npy" "$S/t.npy")"
	rm -f "$S/o.npy" "$S/o2.npy" "$S/t.npy"
	r=$(ratio "$(cpu "$pa")" "$(cpu "$fu")")
	goal "l9 $corpus" "cover CPU <= 0.85x the whole decode's" "${r}x" "$(le "$r" 0.85)"
	r=$(ratio "$(first "$tv")" "$(first "$pa")")
	goal "l9 $corpus" "cover >= 6x the DataLoader (wall)" "${r}x" "$(ge "$r" 6)"
	info "wall ratios: OpenCV/load, Pillow/load" "$(ratio "$(first "$cv")" "$(first "$pa")")x, $(ratio "$(first "$pl")" "$(first "$pa")")x"
done
