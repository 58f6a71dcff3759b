# bench_check.sh - section m of bench.sh: "parimg check" (issue 20) against
# load -k on the same files, the TurboJPEG floor's CPU, and the Python loop
# users write (scripts/bench/recipes/recipe_check.py: Pool(2), Image.open(f).load() and an
# MD5 of each file); and on 100,000 small PNGs, what the summary and the
# duplicate search cost over decoding alone; what --near costs on the
# photos (m3), and its grouping alone on a million hashes (m4). Sourced by bench.sh, whose
# helpers, $S, $PY and $PARIMG it uses; to run it alone:
#
#   sh scripts/bench/bench.sh check       (then the summary; CHECK_RUNS=N, default 5)
#
# The photo corpus (scripts/bench/photo_corpus.py's same/, 1000 500x375 JPEGs) is
# made under $S, or taken from $PHOTO_CORPUS when it holds a finished one.
# shellcheck shell=sh disable=SC2154

echo
echo "m. check: decode every file, summary, duplicates; vs load -k, the floor and the recipe"
CRUNS=${CHECK_RUNS:-5}
EXTRA_PKGS="mate-backgrounds libturbojpeg0-dev" sh scripts/deps.sh ||
	echo "bench: could not install the check benchmarks' packages; going on" >&2
[ -x build/jpeg_floor ] ||
	cc -O2 -Wall -Isrc -o build/jpeg_floor scripts/bench/floors/jpeg_floor.c \
		scripts/bench/floors/floor.c build/libimage.a -lturbojpeg -lm
PC=${PHOTO_CORPUS:-$S/photos}
if [ ! -f "$PC/.done" ] && [ ! -f "$PC/same/.done" ]; then
	$PY scripts/bench/photo_corpus.py -j2 --only same "$PC" | sed 's/^/   corpus: /'
	: >"$PC/same/.done"
fi
echo "   $CRUNS runs each, interleaved; timing and CPU as above. load average $(loadavg)"

# ---------------------------------------------------------------- m1
echo
echo "m1. 1000 JPEG photos (500x375): check -j2 vs load -k -j2, jpeg_floor -j2, recipe_check.py"
SAME=$PC/same
ls "$SAME"/*.jpg >"$S/same.list"
out=$(bt "$CRUNS" true "$PARIMG check -q -j2 $SAME" \
	"rm -f $S/o.npy" "$PARIMG load -q -k -j2 -o $S/o.npy $SAME" \
	"rm -f $S/fl.u8" "build/jpeg_floor -j2 -o $S/fl.u8 -l $S/same.list" \
	true "$PY scripts/bench/recipes/recipe_check.py -j 2 $SAME")
ck=$(line "$out" 1) ld=$(line "$out" 2) fl=$(line "$out" 3) rec=$(line "$out" 4)
row "parimg check -j2" "$(wall "$ck")" "$(cpu "$ck")"
row "parimg load -k -j2 (writes the array)" "$(wall "$ld")" "$(cpu "$ld")"
row "jpeg_floor -j2 (TurboJPEG, mapped file)" "$(own "$fl")" "$(owncpu "$fl")"
row "recipe_check.py (Pool(2), load + MD5)" "$(wall "$rec")" "$(cpu "$rec")"
row "  after its imports (its own clock)" "$(own "$rec")"
info "CPU ratio check/load -k, check/floor" "$(ratio "$(cpu "$ck")" "$(cpu "$ld")")x, $(ratio "$(cpu "$ck")" "$(owncpu "$fl")")x"
r=$(ratio "$(first "$ck")" "$(first "$ld")")
goal m1 "check <= 1.05x load -k (wall)" "${r}x" "$(le "$r" 1.05)"
r=$(ratio "$(cpu "$ck")" "$(cpu "$ld")")
goal m1 "check <= 1.05x load -k (CPU)" "${r}x" "$(le "$r" 1.05)"
r=$(ratio "$(first "$rec")" "$(first "$ck")")
goal m1 "check >= 10x faster than recipe_check.py" "${r}x" "$(ge "$r" 10)"
rm -f "$S/o.npy" "$S/fl.u8"

# ---------------------------------------------------------------- m2
echo
echo "m2. 100,000 16x16 gray PNGs: check vs check --no-duplicates vs load -k, -j2;"
echo "    the recipe on a tenth of them (10,000 files), its time scaled by 10"
$PARIMG gen -q -j2 -n 100000 -s 16x16 -o "$S/small"
mkdir "$S/small10k"
find "$S/small" -name "image_[0-9]*.png" | head -n 10000 | xargs cp -t "$S/small10k"
out=$(bt "$CRUNS" true "$PARIMG check -q -j2 $S/small" \
	true "$PARIMG check -q -j2 --no-duplicates $S/small" \
	"rm -f $S/o.npy" "$PARIMG load -q -k -j2 -o $S/o.npy $S/small" \
	true "$PY scripts/bench/recipes/recipe_check.py -j 2 $S/small10k")
ck=$(line "$out" 1) nd=$(line "$out" 2) ld=$(line "$out" 3) rec=$(line "$out" 4)
row "parimg check -j2" "$(wall "$ck")" "$(cpu "$ck")"
row "parimg check -j2 --no-duplicates" "$(wall "$nd")" "$(cpu "$nd")"
row "parimg load -k -j2 (writes the array)" "$(wall "$ld")" "$(cpu "$ld")"
row "recipe_check.py, 10,000 files" "$(wall "$rec")" "$(cpu "$rec")"
r=$(awk -v a="$(first "$rec")" -v b="$(first "$ck")" 'BEGIN { printf "%.1f", 10 * a / b }')
goal m2 "small files: check >= 10x recipe_check.py" "${r}x" "$(ge "$r" 10)"
info "CPU ratio check/--no-duplicates, check/load -k" "$(ratio "$(cpu "$ck")" "$(cpu "$nd")")x, $(ratio "$(cpu "$ck")" "$(cpu "$ld")")x"
# The cost in question is work, so its goals are on CPU (user+sys of the
# process tree), which other load on the machine disturbs less than wall.
r=$(ratio "$(cpu "$ck")" "$(cpu "$nd")")
goal m2 "summary + dups <= 1.05x --no-duplicates (CPU)" "${r}x" "$(le "$r" 1.05)"
r=$(ratio "$(cpu "$ck")" "$(cpu "$ld")")
goal m2 "check <= 1.05x load -k (CPU)" "${r}x" "$(le "$r" 1.05)"
rm -rf "$S/small" "$S/small10k" "$S/o.npy"

# ---------------------------------------------------------------- m3
echo
echo "m3. the same 1000 photos: check --near (dhash, phash, near groups) vs check, -j2"
out=$(bt "$CRUNS" true "$PARIMG check -q -j2 --near $SAME" true "$PARIMG check -q -j2 $SAME")
nr=$(line "$out" 1) ck=$(line "$out" 2)
row "parimg check -j2 --near" "$(wall "$nr")" "$(cpu "$nr")"
row "parimg check -j2" "$(wall "$ck")" "$(cpu "$ck")"
r=$(ratio "$(cpu "$nr")" "$(cpu "$ck")")
info "CPU ratio --near/check" "${r}x (on by default only if <= 1.10x)"
goal m3 "--near <= 1.10x check (CPU), else opt-in" "${r}x" "$(le "$r" 1.10)"

# ---------------------------------------------------------------- m4
echo
echo "m4. near-duplicate grouping alone, one core: 1,000,000 synthetic 64-bit hashes"
echo "    (a tenth planted within T of another), against all pairs on 20,000, projected"
for t in 7 8; do
	o=$(build/near_bench 1000000 $t 20000) || echo "bench: near_bench: a planted pair was missed" >&2
	g=$(echo "$o" | sed 's/.*grouping_s \([0-9.]*\).*/\1/')
	p=$(echo "$o" | sed 's/.*projected_s \([0-9.]*\).*/\1/')
	info "grouping, T=$t, CPU" "$g s"
	info "all pairs, projected to 1,000,000, CPU" "$p s"
	info "planted pairs found / planted" "$(echo "$o" | sed 's/.*planted \([0-9]*\) found \([0-9]*\).*/\2 \/ \1/')"
	[ $t = 7 ] && goal m4 "1,000,000 hashes grouped <= 2 s (T=7, one core)" "$g s" "$(le "$g" 2)"
done
[ -n "${PHOTO_CORPUS:-}" ] || rm -rf "$PC"
