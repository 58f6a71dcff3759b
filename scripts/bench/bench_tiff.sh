# bench_tiff.sh - section l8 of bench.sh (issue 18, TIFF): load -c 3 -j2 on
# 300 512x512 RGB photo TIFFs, uncompressed and LZW, against the Pool(2) +
# Pillow recipe (scripts/bench/recipes/recipe_pillow.py). Sourced by bench_photos.sh, or
# alone, with the summary after it:
#
#   sh scripts/bench/bench.sh tiff      (PHOTO_RUNS=N, default 5)
#
# The corpora (scripts/bench/photo_corpus.py --only tiff512,tiff512lzw: crops of
# the mate-backgrounds photographs) are made under $S, or taken from
# $PHOTO_CORPUS when it holds them.
# shellcheck shell=sh disable=SC2154

PRUNS=${PHOTO_RUNS:-5}
TC=${PHOTO_CORPUS:-$S/photos}
if [ ! -f "$TC/.tiff_done" ]; then
	EXTRA_PKGS=mate-backgrounds sh scripts/deps.sh ||
		echo "bench: could not install mate-backgrounds; going on" >&2
	$PY scripts/bench/photo_corpus.py -j2 --only tiff512,tiff512lzw "$TC" | sed 's/^/   corpus: /'
	: >"$TC/.tiff_done"
fi
for kind in tiff512 tiff512lzw; do
	echo
	case $kind in
	tiff512) echo "l8. 300 512x512 RGB photo TIFFs (uncompressed), load -c 3 -j2; load average $(loadavg)" ;;
	*) echo "l8. 300 512x512 RGB photo TIFFs (LZW), load -c 3 -j2; load average $(loadavg)" ;;
	esac
	n=$(ls "$TC/$kind"/*.tif | wc -l)
	out=$(bt "$PRUNS" true "$PY scripts/bench/recipes/recipe_pillow.py -j 2 $TC/$kind" \
		"rm -f $S/o.npy" "$PARIMG load -q -c 3 -j2 -o $S/o.npy $TC/$kind" \
		"rm -f $S/o.npy" "$PARIMG load -q -c 3 -j1 -o $S/o.npy $TC/$kind")
	rec=$(line "$out" 1) ld=$(line "$out" 2) ld1=$(line "$out" 3)
	row "recipe_pillow.py (Pool(2))" "$(wall "$rec")" "$(cpu "$rec")"
	row "  after its imports (its own clock)" "$(own "$rec")"
	row "parimg load -c 3 -j2" "$(wall "$ld")" "$(cpu "$ld")"
	row "parimg load -c 3 -j1" "$(wall "$ld1")" "$(cpu "$ld1")"
	info "per image, CPU: recipe, load -j2" "$(per_img "$(cpu "$rec")" "$n"), $(per_img "$(cpu "$ld")" "$n")"
	info "CPU ratio recipe/load" "$(ratio "$(cpu "$rec")" "$(cpu "$ld")")x"
	# The same array as the recipe's, checked once.
	rm -f "$S/o.npy" "$S/rec.npy"
	$PARIMG load -q -c 3 -j2 -o "$S/o.npy" "$TC/$kind"
	$PY scripts/bench/recipes/recipe_pillow.py -j 2 --save "$S/rec.npy" "$TC/$kind" >/dev/null
	info "parimg's array vs the recipe's" "$($PY -c 'import numpy as np, sys
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
print("identical" if a.shape == b.shape and (a == b).all() else "DIFFERENT")' "$S/o.npy" "$S/rec.npy")"
	rm -f "$S/o.npy" "$S/rec.npy"
	r=$(ratio "$(first "$rec")" "$(first "$ld")")
	goal l8 "$kind: load >= 3x faster than recipe" "${r}x" "$(ge "$r" 3)"
done
[ -n "${PHOTO_CORPUS:-}" ] || rm -rf "$TC/tiff512" "$TC/tiff512lzw" "$TC/.tiff_done"
