# bench_labels.sh - section t (issue 26, labels written down): t1, a
# 1,000,000-row Kaggle-style CSV (ids without extension, 100 string
# classes, rows in a scrambled order) matched to 1,000,000 image names and
# checked, in-process (labels_match: labels.c, the code load runs), against
# the in-memory part of the listing it follows, and the same table read as
# a deflated zip member (--labels-from ZIP:MEMBER); t2, "load --labels-from" of
# the photo corpus (photo_corpus.py's same/, 1000 500x375 JPEGs) against the
# same load without labels. Sourced by bench.sh, or alone:
#   sh scripts/bench/bench.sh labels
# shellcheck shell=sh disable=SC2154

echo
echo "t1. a 1,000,000-row CSV matched to 1,000,000 names, the parent alone; load average $(loadavg)"
cc -O2 -Wall -Isrc -o build/labels_match scripts/bench/floors/labels_match.c $PARIMG_LIBS \
	$PARIMG_LDLIBS
$PY - "$S/labels.csv" <<'PY'
import sys
n = 1000000
with open(sys.argv[1], "w") as f:
    f.write("id,label\n")
    for i in range(n):
        k = (i * 104729) % n
        f.write("img%07d,class%02d\n" % (k, k % 100))
import zipfile
with zipfile.ZipFile(sys.argv[1][:-4] + ".zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.write(sys.argv[1], "train.csv")
PY
out=$(bt "$RUNS" true "build/labels_match 1000000 -" true "build/labels_match 1000000 $S/labels.csv" \
	true "build/labels_match 1000000 $S/labels.zip:train.csv")
li=$(line "$out" 1)
lm=$(line "$out" 2)
lz=$(line "$out" 3)
row "listing's sort of 1,000,000 names" "$(own "$li")" "$(owncpu "$li")"
row "table read, matched, checked, numbered" "$(own "$lm")" "$(owncpu "$lm")"
row "the same, the table a zip member (--labels-from Z:M)" "$(own "$lz")" "$(owncpu "$lz")"
info "labels / listing (wall)" "$(ratio "$(first "$(own "$lm")")" "$(first "$(own "$li")")")x"
info "zip member / file (CPU)" "$(ratio "$(first "$(owncpu "$lz")")" "$(first "$(owncpu "$lm")")")x"
t=$(first "$(own "$lm")")
goal t1 "1M-row table matched + checked <= 1 s" "${t} s" "$(le "$t" 1.0)"
rm -f "$S/labels.csv" "$S/labels.zip"

echo
echo "t2. load --labels-from of 1000 500x375 photo JPEGs against load without labels, -j2"
PC=${PHOTO_CORPUS:-$S/photos}
if [ ! -d "$PC/same" ]; then
	$PY scripts/bench/photo_corpus.py -j2 --only same "$PC" | sed 's/^/   corpus: /'
fi
if [ -d "$PC/same" ]; then
	$PY - "$PC/same" "$S/photos.csv" <<'PY'
import os, sys
names = sorted(os.listdir(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    f.write("id,label\n")
    for k, n in enumerate(reversed(names)):
        f.write("%s,%s\n" % (os.path.splitext(n)[0], "abcdefghij"[k % 10]))
PY
	out=$(bt "${PHOTO_RUNS:-5}" "rm -f $S/x.npy" "$PARIMG load -q -j2 -o $S/x.npy $PC/same" \
		"rm -f $S/x.npy $S/y.npy" \
		"$PARIMG load -q -j2 -o $S/x.npy --labels $S/y.npy --labels-from $S/photos.csv $PC/same")
	pl=$(line "$out" 1)
	lf=$(line "$out" 2)
	row "load (no labels)" "$(wall "$pl")" "$(cpu "$pl")"
	row "load --labels-from" "$(wall "$lf")" "$(cpu "$lf")"
	r=$(ratio "$(first "$lf")" "$(first "$pl")")
	goal t2 "--labels-from <= 1.02x load (noise)" "${r}x" "$(le "$r" 1.02)"
	rm -f "$S/x.npy" "$S/y.npy" "$S/photos.csv"
else
	skip t2 "no photo corpus (mate-backgrounds not installed)"
fi

echo
echo "t3. the table reader against Debian's libcsv, jansson and yajl: 1,000,000 rows (id, label), parsed into both columns"
if EXTRA_PKGS="libcsv-dev libjansson-dev libyajl-dev" sh scripts/deps.sh >/dev/null 2>&1 &&
	cc -O2 -Wall -Isrc -o build/table_libs scripts/bench/floors/table_libs.c $PARIMG_LIBS \
		$PARIMG_LDLIBS -lcsv -ljansson -lyajl; then
	$PY - "$S/t3.csv" "$S/t3.jsonl" <<'PY'
import sys
n = 1000000
with open(sys.argv[1], "w") as f, open(sys.argv[2], "w") as g:
    f.write("id,label\n")
    for i in range(n):
        k = (i * 104729) % n
        f.write("img%07d,class%02d\n" % (k, k % 100))
        g.write('{"id": "img%07d", "label": "class%02d"}\n' % (k, k % 100))
PY
	T=build/table_libs
	out=$(bt "$RUNS" true "$T own $S/t3.csv" true "$T libcsv $S/t3.csv" true "$T libcsv-keep $S/t3.csv" \
		true "$T own $S/t3.jsonl" true "$T jansson $S/t3.jsonl" true "$T yajl $S/t3.jsonl")
	k=1
	for what in "CSV, parimg's reader (cells kept, lines numbered)" "CSV, libcsv (fields counted only)" \
		"CSV, libcsv (the two cells copied out)" "JSON Lines, parimg's reader" \
		"JSON Lines, jansson (json_loadb a line)" "JSON Lines, yajl (yajl_tree_parse a line)"; do
		l=$(line "$out" $k)
		row "$what" "$(wall "$l")" "$(cpu "$l")"
		k=$((k + 1))
	done
	rm -f "$S/t3.csv" "$S/t3.jsonl"
else
	skip t3 "libcsv-dev, libjansson-dev or libyajl-dev could not be installed"
fi
