# bench_formats.sh - section l6 of bench.sh: BMP, TGA and PNM (issue 18),
# parimg's own readers against stb_image 2.27, which decoded them before.
# Sourced by bench_photos.sh (or alone: sh scripts/bench/bench.sh formats), whose
# $PC, $PRUNS and helpers it uses; makes $PC/png512 when it is missing.
# shellcheck shell=sh disable=SC2154
# ---------------------------------------------------------------- l6
# BMP, TGA and PNM (issue 18): parimg's own readers, one core, per image,
# against stb_image 2.27 (scripts/bench/floors/stb_floor.c: read, decode to RGB, nothing
# else), which decoded them before: load -j1 whole, and the two decoders
# alone (stb_floor, stb_floor -p). The photo PNGs of l3 converted
# by Pillow, and gen's own BMP and TGA.
if [ ! -d "$PC/png512" ]; then
	$PY scripts/bench/photo_corpus.py -j2 --only png512 "$PC" | sed 's/^/   corpus: /'
fi
echo
echo "l6. BMP, TGA and PPM: load -c 3 -j1 vs stb_image 2.27's decode (stb_floor -j1), 300 each"
# stb_floor -p decodes with parimg's readers as make built them (codec/ and
# what its decoders call: EXIF, the JPEG window, TIFF's LZW, orientation).
cc -O2 -Wall -Isrc -o build/stb_floor scripts/bench/floors/stb_floor.c \
	scripts/bench/floors/floor.c $PARIMG_LIBS $PARIMG_LDLIBS
per_img() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.2f ms/image", t * 1000 / n }'; }
FM=$S/fmt
mkdir -p "$FM"
$PY - "$PC/png512" "$FM" <<'PY'
import glob, os, sys
from PIL import Image
for ext in ("bmp", "tga", "ppm"):
    os.makedirs(os.path.join(sys.argv[2], ext), exist_ok=True)
for p in sorted(glob.glob(sys.argv[1] + "/*.png")):
    im = Image.open(p).convert("RGB")
    base = os.path.splitext(os.path.basename(p))[0]
    for ext in ("bmp", "tga", "ppm"):
        im.save(os.path.join(sys.argv[2], ext, base + "." + ext))
PY
$PARIMG gen -q -j2 -n 300 -s 512x512 -c 3 -F bmp -o "$FM/genbmp"
$PARIMG gen -q -j2 -n 300 -s 512x512 -c 3 -F tga -o "$FM/gentga"
# The stb-era ratios, load/stb_floor CPU when load still decoded BMP and TGA
# with stb_image (and PPM with its old reader), measured 2026-12-01 at load
# average 0.3 with this very section (load -j1: 1.14, 0.62, 2.91, 1.41 and
# 0.56 ms/image): the goal is a ratio no higher, per format.
for k in bmp:1.44 tga:2.74 ppm:22.53 genbmp:1.92 gentga:2.73; do
	old=${k#*:} k=${k%:*}
	ls "$FM/$k"/* >"$S/fmt.list"
	n=$(wc -l <"$S/fmt.list")
	out=$(bt "$PRUNS" "rm -f $S/o.npy" "$PARIMG load -q -c 3 -j1 -o $S/o.npy $FM/$k" \
		true "build/stb_floor -j1 -l $S/fmt.list" true "build/stb_floor -p -j1 -l $S/fmt.list")
	ld=$(line "$out" 1) st=$(line "$out" 2) pd=$(line "$out" 3)
	info "$k: load -j1; decode alone: stb, parimg" "$(per_img "$(cpu "$ld")" "$n"); $(per_img "$(owncpu "$st")" "$n"), $(per_img "$(owncpu "$pd")" "$n") (CPU)"
	r=$(ratio "$(cpu "$ld")" "$(owncpu "$st")")
	goal l6 "$k: load/stb CPU <= stb-era ${old}x" "${r}x" "$(le "$r" "$old")"
	r=$(ratio "$(owncpu "$pd")" "$(owncpu "$st")")
	goal l6 "$k: decode alone, parimg/stb CPU <= 1" "${r}x" "$(le "$r" 1)"
done
rm -rf "$FM" "$S/o.npy"
