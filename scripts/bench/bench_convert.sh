# bench_convert.sh - section s: "parimg convert" (issue 27), a smaller copy of
# a dataset. On the photo corpora (1000 500x375 JPEGs, "same"; 1000
# ImageNet-like JPEGs of 300-640 px, "mixed"), --resize 256 (the shorter
# side) to JPEG quality 90, -j2:
#   s1 against the Pool(2) of Pillow open/resize/save users write
#      (scripts/bench/recipes/recipe_convert.py), with the bytes compared;
#   s2 against ImageMagick's mogrify -resize 256x256^ under GNU parallel
#      -j2, and how far its pixels are from Pillow's;
#   s3 parimg's CPU against the floor: TurboJPEG decode, parimg's resampler,
#      TurboJPEG encode, no files (scripts/bench/floors/convert_floor.c);
#   s4 webdataset shards against the tree;
#   s5 passthrough of 100,000 small files into shards against tar cf.
# Sourced by bench.sh, or alone:
#
#   PHOTO_CORPUS=/tmp/pc CONVERT_RUNS=N sh scripts/bench/bench.sh convert
#
# It uses bench.sh's helpers, $S, $PY and $PARIMG.
# shellcheck shell=sh disable=SC2154

CRUNS=${CONVERT_RUNS:-5}
PC=${PHOTO_CORPUS:-$S/photos}
[ -x build/convert_floor ] ||
	cc -O2 -Wall -Isrc -Iscripts/bench/floors -o build/convert_floor \
		scripts/bench/floors/convert_floor.c scripts/bench/floors/floor.c build/libimage.a \
		-lturbojpeg -lm
if [ ! -d "$PC/same" ] || [ ! -d "$PC/mixed" ]; then
	$PY scripts/bench/photo_corpus.py -j2 --only same,mixed "$PC" | sed 's/^/   corpus: /'
fi
CV="--resize 256 --format jpeg --quality 90 -j2"
# mean_diff A B: mean and max absolute sample difference of two trees'
# same-named JPEGs (decoded by Pillow), and how many differ in size.
mean_diff() {
	$PY -c 'import os, sys
import numpy as np
from PIL import Image
tot = n = big = sized = 0
for f in sorted(os.listdir(sys.argv[1])):
    a = np.asarray(Image.open(os.path.join(sys.argv[1], f)).convert("RGB")).astype(int)
    b = np.asarray(Image.open(os.path.join(sys.argv[2], f)).convert("RGB")).astype(int)
    if a.shape != b.shape:
        sized += 1
        continue
    d = np.abs(a - b)
    tot += d.sum(); n += d.size; big = max(big, d.max())
print("mean %.2f, max %d (of 255); %d of different size" % (tot / max(n, 1), big, sized))' "$1" "$2"
}
for corpus in same mixed; do
	echo
	echo "s1. 1000 $corpus JPEGs, convert $CV vs the Pool(2) of Pillow"
	echo "    open/resize/save (recipe_convert.py); $CRUNS runs each, interleaved; load average $(loadavg)"
	SRC=$PC/$corpus
	ls "$SRC"/*.jpg >"$S/conv.list"
	out=$(bt "$CRUNS" "rm -rf $S/cr" "$PY scripts/bench/recipes/recipe_convert.py -j 2 $SRC $S/cr" \
		"rm -rf $S/ct" "$PARIMG convert -q $CV -o $S/ct $SRC" \
		"rm -rf $S/cs" "$PARIMG convert -q $CV --shards $S/cs/%06d.tar --shard-size 500 $SRC" \
		true "build/convert_floor -j2 -s 256 -q 90 -l $S/conv.list")
	rec=$(line "$out" 1) tr=$(line "$out" 2) sh=$(line "$out" 3) fl=$(line "$out" 4)
	row "recipe_convert.py (Pool(2), Pillow)" "$(wall "$rec")" "$(cpu "$rec")"
	row "parimg convert -o (the tree)" "$(wall "$tr")" "$(cpu "$tr")"
	row "parimg convert --shards" "$(wall "$sh")" "$(cpu "$sh")"
	row "convert_floor -j2 (no files)" "$(own "$fl")" "$(owncpu "$fl")"
	rm -rf "$S/cr" "$S/ct"
	$PY scripts/bench/recipes/recipe_convert.py -j 2 "$SRC" "$S/cr" >/dev/null
	$PARIMG convert -q $CV -o "$S/ct" "$SRC"
	if diff -r "$S/cr" "$S/ct" >/dev/null; then same=identical; else same=DIFFERENT; fi
	info "bytes, convert vs the recipe" "$same"
	r=$(ratio "$(first "$rec")" "$(first "$tr")")
	goal "s1-$corpus" ">= 3x faster than Pool(2) of Pillow, same bytes" "${r}x" \
		"$([ "$same" = identical ] && ge "$r" 3 || echo 0)"
	r=$(ratio "$(cpu "$tr")" "$(owncpu "$fl")")
	goal "s3-$corpus" "CPU <= 1.15x the floor (TurboJPEG + resampler)" "${r}x" "$(le "$r" 1.15)"
	r=$(ratio "$(first "$sh")" "$(first "$tr")")
	goal "s4-$corpus" "shards within 1.05x of the tree" "${r}x" "$(le "$r" 1.05)"
	if command -v mogrify >/dev/null && command -v parallel >/dev/null; then
		echo
		echo "s2. 1000 $corpus JPEGs: ImageMagick mogrify -resize 256x256^ -quality 90 under GNU"
		echo "    parallel -j2 vs convert; $CRUNS runs each"
		MOG="parallel -j2 -X -a $S/conv.list mogrify -path $S/cm -resize 256x256^ -quality 90"
		out=$(bt "$CRUNS" "rm -rf $S/cm; mkdir -p $S/cm" "$MOG" \
			"rm -rf $S/ct" "$PARIMG convert -q $CV -o $S/ct $SRC")
		mg=$(line "$out" 1) tr=$(line "$out" 2)
		row "parallel -j2 mogrify" "$(wall "$mg")" "$(cpu "$mg")"
		row "parimg convert -o" "$(wall "$tr")" "$(cpu "$tr")"
		rm -rf "$S/cm" "$S/ct"
		mkdir -p "$S/cm"
		$MOG
		$PARIMG convert -q $CV -o "$S/ct" "$SRC"
		info "mogrify's pixels vs Pillow's (convert's)" "$(mean_diff "$S/cm" "$S/ct")"
		r=$(ratio "$(first "$mg")" "$(first "$tr")")
		goal "s2-$corpus" ">= 2x faster than mogrify under parallel -j2" "${r}x" "$(ge "$r" 2)"
	else
		skip "s2-$corpus" "no mogrify or GNU parallel"
	fi
	rm -rf "$S/cr" "$S/ct" "$S/cs" "$S/cm"
done

echo
echo "s5. 100,000 small PNGs (gen -s 32x32) passed through into shards of 10,000"
echo "    (convert --shards, --format same, no option: bytes copied) vs tar cf; $CRUNS runs"
if [ ! -d "$S/small100k" ]; then
	$PARIMG gen -q -n 100000 -c 3 -s 32x32 -o "$S/small100k"
fi
out=$(bt "$CRUNS" "rm -rf $S/ps" "$PARIMG convert -q -j2 --shards $S/ps/%03d.tar $S/small100k" \
	"rm -f $S/t.tar" "tar cf $S/t.tar -C $S small100k")
cv=$(line "$out" 1) tc=$(line "$out" 2)
row "parimg convert --shards (passthrough)" "$(wall "$cv")" "$(cpu "$cv")"
row "tar cf" "$(wall "$tc")" "$(cpu "$tc")"
info "images per second, convert" "$(awk -v t="$(first "$cv")" 'BEGIN { printf "%.0f", 100000 / t }')"
info "images per second, tar cf" "$(awk -v t="$(first "$tc")" 'BEGIN { printf "%.0f", 100000 / t }')"
rm -rf "$S/ps" "$S/t.tar"
