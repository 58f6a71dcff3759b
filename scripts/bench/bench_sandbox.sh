# bench_sandbox.sh - section n of bench.sh: what confining the decoding
# workers costs (issue 19): load confined (the default) against
# --sandbox off, on the 1000 500x375 photo JPEGs of photo_corpus.py and on
# 100,000 100x100 gray PNGs in 1,000 class folders (section j's tree).
# Confined, the parent opens every input and hands it over a socket, in
# batches of 32; its CPU per image is the cost to watch. Sourced by bench.sh;
# alone:
#
#   sh scripts/bench/bench.sh sandbox     (SANDBOX_RUNS=N, default LONG_RUNS)
# shellcheck shell=sh disable=SC2154

echo
echo "n. confined workers (--sandbox auto) vs --sandbox off, -j2"
MRUNS=${SANDBOX_RUNS:-$LONG_RUNS}
PC=${PHOTO_CORPUS:-$S/photos}
if [ ! -f "$PC/.done" ]; then
	$PY scripts/bench/photo_corpus.py -j2 "$PC" | sed 's/^/   corpus: /'
	: >"$PC/.done"
fi
T=$S/tree
k=0
while [ $k -lt 1000 ]; do
	$PARIMG gen -q -n 100 --seed $k -o "$T/c$(printf %03d $k)"
	k=$((k + 1))
done
echo "   $MRUNS runs each, interleaved. load average $(loadavg)"
# sandbox_pair ID LABEL ARGS...: confined and unconfined loads of ARGS.
sandbox_pair() {
	id=$1 label=$2
	shift 2
	out=$(bt "$MRUNS" "rm -f $S/x.npy $S/y.npy" "$PARIMG load -q -j2 $* -o $S/x.npy" \
		"rm -f $S/x.npy $S/y.npy" "$PARIMG load -q -j2 --sandbox off $* -o $S/x.npy")
	on=$(line "$out" 1)
	off=$(line "$out" 2)
	row "$label confined" "$(wall "$on")" "$(cpu "$on")"
	row "$label --sandbox off" "$(wall "$off")" "$(cpu "$off")"
	r=$(ratio "$(first "$on")" "$(first "$off")")
	rc=$(ratio "$(cpu "$on")" "$(cpu "$off")")
	info "$label CPU ratio confined/off" "${rc}x"
	goal "$id" "$label: confined <= 1.02x off (wall)" "${r}x" "$(le "$r" 1.02)"
}
sandbox_pair m1 "1000 photo JPEGs" "$PC/same"
sandbox_pair m2 "100,000 PNGs, class folders" "--labels $S/y.npy $T"
echo "   load average now $(loadavg)"
rm -rf "$T" "$S/x.npy" "$S/y.npy"
