# bench_checkall.sh - sections m5 and m6 of bench.sh: "parimg check --all" (issue 29:
# near-duplicates, pixel duplicates, leakage and cleanvision's quality flags
# at once). m5: its CPU against plain check's and each opt-in analysis
# alone, on the 1000-photo corpora same/ (500x375) and mixed/ (ImageNet-like);
# m6: against the Python pipeline users run (scripts/bench/recipes/recipe_near.py:
# Pool(2), imagehash's dhash and phash by its definitions with Pillow and
# SciPy, cleanvision's per-image properties), and whether every hash is the
# same. Sourced by bench.sh, whose helpers, $S, $PY and $PARIMG it uses; to
# run it alone:
#
#   sh scripts/bench/bench.sh checkall     (then the summary; CHECKALL_RUNS=N, default 5)
#
# The corpora (scripts/bench/photo_corpus.py) are made under $S, or taken
# from $PHOTO_CORPUS when it holds finished ones.
# shellcheck shell=sh disable=SC2154

echo
echo "s. check --all (near, pixel, leaks, quality) vs check, and vs the Python pipeline"
ARUNS=${CHECKALL_RUNS:-5}
EXTRA_PKGS="mate-backgrounds" sh scripts/deps.sh ||
	echo "bench: could not install mate-backgrounds; going on" >&2
PC=${PHOTO_CORPUS:-$S/photos}
for corpus in same mixed; do
	if [ ! -f "$PC/.done" ] && [ ! -f "$PC/$corpus/.done" ]; then
		$PY scripts/bench/photo_corpus.py -j2 --only $corpus "$PC" | sed 's/^/   corpus: /'
		: >"$PC/$corpus/.done"
	fi
done
echo "   $ARUNS runs each, interleaved; timing and CPU as above. load average $(loadavg)"

# ---------------------------------------------------------------- m5
for corpus in same mixed; do
	echo
	echo "m5. 1000 photos ($corpus/): check -j2 --all vs --near, --quality, and check alone"
	out=$(bt "$ARUNS" true "$PARIMG check -q -j2 --all $PC/$corpus" \
		true "$PARIMG check -q -j2 --near $PC/$corpus" \
		true "$PARIMG check -q -j2 --quality $PC/$corpus" \
		true "$PARIMG check -q -j2 $PC/$corpus")
	al=$(line "$out" 1) nr=$(line "$out" 2) ql=$(line "$out" 3) ck=$(line "$out" 4)
	row "parimg check -j2 --all" "$(wall "$al")" "$(cpu "$al")"
	row "parimg check -j2 --near" "$(wall "$nr")" "$(cpu "$nr")"
	row "parimg check -j2 --quality" "$(wall "$ql")" "$(cpu "$ql")"
	row "parimg check -j2" "$(wall "$ck")" "$(cpu "$ck")"
	info "CPU ratio --near/check, --quality/check" "$(ratio "$(cpu "$nr")" "$(cpu "$ck")")x, $(ratio "$(cpu "$ql")" "$(cpu "$ck")")x"
	r=$(ratio "$(cpu "$al")" "$(cpu "$ck")")
	goal m5 "--all <= 1.10x check (CPU, $corpus)" "${r}x" "$(le "$r" 1.10)"
done

# ---------------------------------------------------------------- m6
for corpus in same mixed; do
	echo
	echo "m6. 1000 photos ($corpus/): check -j2 --all vs recipe_near.py (Pool(2), Pillow, SciPy)"
	out=$(bt "$ARUNS" true "$PARIMG check -q -j2 --all $PC/$corpus" \
		true "$PY scripts/bench/recipes/recipe_near.py -j 2 $PC/$corpus")
	al=$(line "$out" 1) rec=$(line "$out" 2)
	row "parimg check -j2 --all" "$(wall "$al")" "$(cpu "$al")"
	row "recipe_near.py -j 2" "$(wall "$rec")" "$(cpu "$rec")"
	row "  after its imports (its own clock)" "$(own "$rec")"
	info "CPU ratio recipe/check --all" "$(ratio "$(cpu "$rec")" "$(cpu "$al")")x"
	r=$(ratio "$(first "$rec")" "$(first "$al")")
	goal m6 "check --all >= 10x faster than the recipe ($corpus)" "${r}x" "$(ge "$r" 10)"
	# The hashes: check's CSV against the recipe's, file by file.
	$PARIMG check -q -j2 --all --format csv "$PC/$corpus" >"$S/all.csv" || true
	$PY scripts/bench/recipes/recipe_near.py -j 2 --hashes "$S/rec.hashes" "$PC/$corpus" >/dev/null
	d=$($PY -c 'import csv, sys
c = {r["path"]: (r["dhash"], r["phash"]) for r in csv.DictReader(open(sys.argv[1]))
     if r["status"] == "ok"}
p = {l.split()[0]: tuple(l.split()[1:]) for l in open(sys.argv[2])}
print(sum(c.get(k) != v for k, v in p.items()) + len(set(c) ^ set(p)), len(p))' \
		"$S/all.csv" "$S/rec.hashes")
	info "files whose dhash or phash differ / files" "$(echo "$d" | tr ' ' /)"
	goal m6 "identical dhash and phash ($corpus)" "${d%% *} differ" "$([ "${d%% *}" = 0 ] && echo 1 || echo 0)"
	rm -f "$S/all.csv" "$S/rec.hashes"
done
[ -n "${PHOTO_CORPUS:-}" ] || rm -rf "$PC"
