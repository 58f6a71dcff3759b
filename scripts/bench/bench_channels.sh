# bench_channels.sh - section r of bench.sh: what load's choice of channels
# without -c (issue 31: 3 unless every image is gray) costs against the same
# load with -c given, which writes the very same bytes: on the photo corpus
# (1000 500x375 colour JPEGs: the first image decides) and on 100,000 small
# gray PNGs (every image decoded as gray on the guess, nothing read twice),
# then on gray-first mixed sets, where the rows are decoded again as RGB.
# Sourced by bench.sh, whose helpers, $S, $PY and $PARIMG it uses; alone:
#
#   sh scripts/bench/bench.sh channels     (CHANNELS_RUNS=N, default 7)
#
# The photo corpus (photo_corpus.py's same/) is made under $S, or taken from
# $PHOTO_CORPUS when it holds a finished one.
# shellcheck shell=sh disable=SC2154

echo
echo "r. load's channels without -c (3 unless all gray) vs -c given (the same bytes)"
RRUNS=${CHANNELS_RUNS:-7}
PC=${PHOTO_CORPUS:-$S/photos}
if [ ! -f "$PC/.done" ] && [ ! -f "$PC/same/.done" ]; then
	EXTRA_PKGS="mate-backgrounds" sh scripts/deps.sh ||
		echo "bench: could not install mate-backgrounds; going on" >&2
	$PY scripts/bench/photo_corpus.py -j2 --only same "$PC" | sed 's/^/   corpus: /'
	: >"$PC/same/.done"
fi
[ -d "$S/small100k" ] || "$PARIMG" gen -q -n 100000 -s 32x32 -c 1 -o "$S/small100k"
# A gray-first mixed set: the first 10 of 1000 photos gray, the rest colour.
if [ ! -d "$S/grayfirst" ]; then
	mkdir -p "$S/grayfirst"
	$PY -c 'import os, sys
from PIL import Image
src, dst = sys.argv[1], sys.argv[2]
for k, f in enumerate(sorted(f for f in os.listdir(src) if f.endswith(".jpg"))):
    im = Image.open(os.path.join(src, f))
    (im.convert("L") if k < 10 else im).save(os.path.join(dst, "%04d.jpg" % k), quality=90)' \
		"$PC/same" "$S/grayfirst"
fi
echo "   $RRUNS runs each, interleaved; wall and CPU (user+sys) medians; load average $(loadavg)"
# chan NAME DIR C: load DIR without -c against -c C; sets rc to the ratio
# of their CPU medians.
chan() {
	out=$(bt "$RRUNS" "rm -f $S/c1.npy" "$PARIMG load -q -j2 -c $3 -o $S/c1.npy $2" \
		"rm -f $S/c0.npy" "$PARIMG load -q -j2 -o $S/c0.npy $2")
	given=$(line "$out" 1) chosen=$(line "$out" 2)
	row "$1: -c $3" "$(wall "$given")" "$(cpu "$given")"
	row "$1: no -c" "$(wall "$chosen")" "$(cpu "$chosen")"
	cmp -s "$S/c0.npy" "$S/c1.npy" && same=identical || same=DIFFERENT
	info "$1: bytes, no -c vs -c $3" "$same"
	rc=$(ratio "$(cpu "$chosen")" "$(cpu "$given")")
	info "$1: no -c / -c, wall and CPU" "$(ratio "$(first "$chosen")" "$(first "$given")")x  ${rc}x"
}
chan "r1. 1000 colour photos" "$PC/same" 3
goal r1 "no -c on photos <= 1.03x of -c 3 (CPU)" "${rc}x" "$(le "$rc" 1.03)"
chan "r2. 100,000 32x32 gray PNGs" "$S/small100k" 1
goal r2 "no -c on 100k gray PNGs <= 1.03x of -c 1 (CPU)" "${rc}x" "$(le "$rc" 1.03)"
chan "r3. 10 gray, then 990 colour photos" "$S/grayfirst" 3
info "r3: the price of a wrong guess" "rows decoded as gray until a worker meets colour, then all as RGB"
rm -rf "$S/c0.npy" "$S/c1.npy" "$S/small100k" "$S/grayfirst"
