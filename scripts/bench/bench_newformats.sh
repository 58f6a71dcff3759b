# bench_newformats.sh - section l10 of bench.sh (issue 28): load -c 3 -j2 on
# 300 512x512 photos in each of JPEG 2000, HEIC, AVIF and JPEG XL, against
# the libraries' own decode into memory as parimg calls them
# (scripts/bench/floors/codec_floor.c: parimg's codec layer in 2 forked
# workers, no pipeline, array or sandbox) and against the Python loop users
# write without a Pillow plugin: the reference tool to a PNG, then Pillow
# (scripts/bench/recipes/recipe_tool.py, Pool(2)). Run alone, with the
# summary after it:
#
#   sh scripts/bench/bench.sh newformats      (PHOTO_RUNS=N, default 5)
#
# The photos (scripts/bench/photo_corpus.py --only png512) are encoded here
# by opj_compress -r 20, heif-enc -q 80, avifenc (quantizer 20-30, speed 8)
# and cjxl -d 1 -e 4, two at a time.
# shellcheck shell=sh disable=SC2154

PRUNS=${PHOTO_RUNS:-5}
TC=${PHOTO_CORPUS:-$S/photos}
if [ ! -f "$TC/.png512_done" ]; then
	EXTRA_PKGS=mate-backgrounds sh scripts/deps.sh ||
		echo "bench: could not install mate-backgrounds; going on" >&2
	$PY scripts/bench/photo_corpus.py -j2 --only png512 "$TC" | sed 's/^/   corpus: /'
	: >"$TC/.png512_done"
fi
cc -O2 -Wall -Isrc -o build/codec_floor scripts/bench/floors/codec_floor.c \
	scripts/bench/floors/floor.c build/libcodec.a build/libcommon.a $PARIMG_LDLIBS
for fmt in jp2 heic avif jxl; do
	dir=$TC/nf_$fmt
	if [ ! -f "$dir/.done" ]; then
		rm -rf "$dir" && mkdir -p "$dir"
		for f in "$TC"/png512/*.png; do
			b=$(basename "$f" .png)
			case $fmt in
			jp2) echo "opj_compress -r 20 -i $f -o $dir/$b.jp2" ;;
			heic) echo "heif-enc -q 80 -o $dir/$b.heic $f" ;;
			avif) echo "avifenc -j 1 -s 8 --min 20 --max 30 $f $dir/$b.avif" ;;
			jxl) echo "cjxl -d 1 -e 4 $f $dir/$b.jxl" ;;
			esac
		done | xargs -P 2 -I CMD sh -c 'CMD >/dev/null 2>&1'
		: >"$dir/.done"
	fi
	n=$(ls "$dir" | wc -l)
	ls "$dir"/* >"$S/nf_list"
	echo
	echo "l10. $n 512x512 photos as $fmt, load -c 3 -j2; load average $(loadavg)"
	out=$(bt "$PRUNS" true "$PY scripts/bench/recipes/recipe_tool.py -j 2 $dir" \
		"rm -f $S/o.npy" "$PARIMG load -q -c 3 -j2 -o $S/o.npy $dir" \
		"rm -f $S/f.bin" "build/codec_floor -j2 -o $S/f.bin -l $S/nf_list")
	rec=$(line "$out" 1) ld=$(line "$out" 2) fl=$(line "$out" 3)
	row "recipe_tool.py (tool to PNG, Pillow; Pool(2))" "$(wall "$rec")" "$(cpu "$rec")"
	row "parimg load -c 3 -j2" "$(wall "$ld")" "$(cpu "$ld")"
	row "codec_floor -j2 (the decode alone)" "$(own "$fl")" "$(owncpu "$fl")"
	info "per image, CPU: recipe, load, floor" "$(per_img "$(cpu "$rec")" "$n"), $(per_img "$(cpu "$ld")" "$n"), $(per_img "$(owncpu "$fl")" "$n")"
	rm -f "$S/o.npy" "$S/rec.npy"
	$PARIMG load -q -c 3 -j2 -o "$S/o.npy" "$dir"
	$PY scripts/bench/recipes/recipe_tool.py -j 2 --save "$S/rec.npy" "$dir" >/dev/null
	info "parimg's array vs the recipe's" "$($PY -c 'import numpy as np, sys
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
print("identical" if a.shape == b.shape and (a == b).all() else
      "%d of %d samples differ" % ((a != b).sum(), a.size) if a.shape == b.shape else "DIFFERENT")' "$S/o.npy" "$S/rec.npy")"
	rm -f "$S/o.npy" "$S/rec.npy" "$S/f.bin"
	r=$(ratio "$(cpu "$ld")" "$(owncpu "$fl")")
	goal l10 "$fmt: load CPU <= 1.10x the library's decode" "${r}x" "$(le "$r" 1.10)"
	r=$(ratio "$(first "$rec")" "$(first "$ld")")
	goal l10 "$fmt: load >= 3x faster than the tool loop" "${r}x" "$(ge "$r" 3)"
done
[ -n "${PHOTO_CORPUS:-}" ] || rm -rf "$TC"/nf_*
