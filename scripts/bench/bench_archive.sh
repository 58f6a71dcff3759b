# bench_archive.sh - section o of bench.sh: loading straight from archives
# (issue 17) against the extracted folder, -c 3 --resize 224x224 -j2, on the
# 1000 photo JPEGs of photo_corpus.py: a plain tar and a stored zip (read in
# place), a deflated zip (each worker inflating its members), tar.gz and
# tar.zst (decompressed once by the parent into memory); and 100,000
# small PNGs in a tar against their folder. Goals: tar and stored zip within
# 1.05x of the folder, deflated zip 1.15x, tar.gz and tar.zst 1.15x of the
# slower of the folder and the stream's decompression alone (the parent
# decompresses before the workers start: zstd, or libdeflate for gzip,
# so that is the cost to watch). Sourced by
# bench.sh; alone:
#
#   sh scripts/bench/bench.sh archive     (ARCHIVE_RUNS=N, default LONG_RUNS)
# shellcheck shell=sh disable=SC2154

echo
echo "o. archives as inputs vs the extracted folder, -c 3 --resize 224x224 -j2"
ARUNS=${ARCHIVE_RUNS:-$LONG_RUNS}
PC=${PHOTO_CORPUS:-$S/photos}
if [ ! -f "$PC/.done" ]; then
	$PY scripts/bench/photo_corpus.py -j2 "$PC" | sed 's/^/   corpus: /'
	: >"$PC/.done"
fi
A=$S/arch
rm -rf "$A"
mkdir -p "$A"
(cd "$PC/same" && tar cf "$A/p.tar" . && zip -q0r "$A/p0.zip" . && zip -qr "$A/p.zip" . &&
	tar czf "$A/p.tar.gz" . && tar --zstd -cf "$A/p.tar.zst" .)
info "corpus" "$(du -sh "$PC/same" | cut -f1) in $(ls "$PC/same" | wc -l) files; tar.gz $(du -h "$A/p.tar.gz" | cut -f1), tar.zst $(du -h "$A/p.tar.zst" | cut -f1)"
echo "   $ARUNS runs each, interleaved. load average $(loadavg)"
L="$PARIMG load -q -j2 -c 3 --resize 224x224 -o $S/x.npy"
R="rm -f $S/x.npy"
out=$(bt "$ARUNS" "$R" "$L $PC/same" "$R" "$L $A/p.tar" "$R" "$L $A/p0.zip" \
	"$R" "$L $A/p.zip" "$R" "$L $A/p.tar.gz" "$R" "$L $A/p.tar.zst" \
	"" "sh -c 'gzip -dc $A/p.tar.gz >/dev/null'" \
	"" "sh -c 'zstd -qdc $A/p.tar.zst >/dev/null'")
dir=$(line "$out" 1)
row "folder" "$(wall "$dir")" "$(cpu "$dir")"
k=2
for what in tar "stored zip" "deflated zip" tar.gz tar.zst "gzip -d alone" "zstd -d alone"; do
	l=$(line "$out" $k)
	row "$what" "$(wall "$l")" "$(cpu "$l")"
	eval "t$k=\$(first \"\$l\")"
	k=$((k + 1))
done
d=$(first "$dir")
# shellcheck disable=SC2154
{
	r=$(ratio "$t2" "$d")
	goal o1 "tar <= 1.05x folder" "${r}x" "$(le "$r" 1.05)"
	r=$(ratio "$t3" "$d")
	goal o2 "stored zip <= 1.05x folder" "${r}x" "$(le "$r" 1.05)"
	r=$(ratio "$t4" "$d")
	goal o3 "deflated zip <= 1.15x folder" "${r}x" "$(le "$r" 1.15)"
	slow=$d
	[ "$(ge "$t7" "$d")" = 1 ] && slow=$t7
	r=$(ratio "$t5" "$slow")
	goal o4 "tar.gz <= 1.15x max(folder, gzip -d)" "${r}x" "$(le "$r" 1.15)"
	slow=$d
	[ "$(ge "$t8" "$d")" = 1 ] && slow=$t8
	r=$(ratio "$t6" "$slow")
	goal o5 "tar.zst <= 1.15x max(folder, zstd -d)" "${r}x" "$(le "$r" 1.15)"
}
# The memory file holds the image members (a .tar.gz: the whole tar).
info "memory file, tar.zst / tar.gz" "$(du -sh "$PC/same" | cut -f1) / $(du -h "$A/p.tar" | cut -f1)"

# Streamed (issue 30): past the memory budget, a compressed tar is listed
# by decompressing and discarding, then decompressed again by a process of
# its own into a ring of two slots that the workers drain (inputs/stream.c).
# PARIMG_ARCHIVE_MEMORY=8M makes these 23 MB corpora stream through 4 MiB
# slots (6 windows, as a 256 MiB ring does for 768 MB of members); beside
# them, the whole-memory path again, the folder and the decompression
# alone, for the 'same' and the 'mixed' photos, and the whole-memory path
# without the speculators that decode members while the parent lists
# (PARIMG_EARLY=off, cmd/load_early.c). Goal (issue 30): each within 1.05x
# of the slower of the folder and the decompression alone.
for corp in same mixed; do
	if [ ! -d "$PC/$corp" ]; then
		$PY scripts/bench/photo_corpus.py -j2 --only "$corp" "$PC" | sed 's/^/   corpus: /'
	fi
	(cd "$PC/$corp" && tar czf "$A/s.tar.gz" . && tar --zstd -cf "$A/s.tar.zst" .)
	L="$PARIMG load -q -j2 -c 3 --resize 224x224 -o $S/x.npy"
	LS="env PARIMG_ARCHIVE_MEMORY=8M $L"
	echo "   $corp: $ARUNS runs each, interleaved. load average $(loadavg)"
	out=$(bt "$ARUNS" "$R" "$L $PC/$corp" "$R" "$L $A/s.tar.gz" "$R" "$LS $A/s.tar.gz" \
		"$R" "$L $A/s.tar.zst" "$R" "$LS $A/s.tar.zst" \
		"" "sh -c 'gzip -dc $A/s.tar.gz >/dev/null'" \
		"" "sh -c 'zstd -qdc $A/s.tar.zst >/dev/null'" \
		"$R" "env PARIMG_EARLY=off $L $A/s.tar.gz" "$R" "env PARIMG_EARLY=off $L $A/s.tar.zst")
	k=1
	for what in folder "tar.gz, in memory" "tar.gz, streamed" "tar.zst, in memory" \
		    "tar.zst, streamed" "gzip -d alone" "zstd -d alone" \
		    "tar.gz, in memory, no speculators" "tar.zst, in memory, no speculators"; do
		l=$(line "$out" $k)
		row "$corp: $what" "$(wall "$l")" "$(cpu "$l")"
		eval "s$k=\$(first \"\$l\")"
		k=$((k + 1))
	done
	# shellcheck disable=SC2154
	{
		slow=$s1
		[ "$(ge "$s6" "$s1")" = 1 ] && slow=$s6
		r=$(ratio "$s2" "$slow")
		goal "o6-$corp" "tar.gz in memory <= 1.05x max(folder, gzip -d)" "${r}x" "$(le "$r" 1.05)"
		r=$(ratio "$s3" "$slow")
		goal "o7-$corp" "tar.gz streamed <= 1.05x max(folder, gzip -d)" "${r}x" "$(le "$r" 1.05)"
		slow=$s1
		[ "$(ge "$s7" "$s1")" = 1 ] && slow=$s7
		r=$(ratio "$s4" "$slow")
		goal "o8-$corp" "tar.zst in memory <= 1.05x max(folder, zstd -d)" "${r}x" "$(le "$r" 1.05)"
		r=$(ratio "$s5" "$slow")
		goal "o9-$corp" "tar.zst streamed <= 1.05x max(folder, zstd -d)" "${r}x" "$(le "$r" 1.05)"
	}
	rm -f "$A/s.tar.gz" "$A/s.tar.zst"
done

# 100,000 small PNGs: the listing and the per-member cost; then with the
# shape given (-c 3 --resize 64x64, gen's own), so that speculators decode
# members while the parent lists the tar, with and without them.
T=$S/small
rm -rf "$T"
$PARIMG gen -q -n 100000 -o "$T"
(cd "$T" && tar cf "$A/small.tar" .)
L="$PARIMG load -q -j2 -o $S/x.npy"
LC="$L -c 3 --resize 64x64"
out=$(bt "$ARUNS" "$R" "$L $T" "$R" "$L $A/small.tar" "$R" "$LC $T" "$R" "$LC $A/small.tar" \
	"$R" "env PARIMG_EARLY=off $LC $A/small.tar")
a=$(line "$out" 1)
b=$(line "$out" 2)
row "100,000 PNGs, folder" "$(wall "$a")" "$(cpu "$a")"
row "100,000 PNGs, tar" "$(wall "$b")" "$(cpu "$b")"
r=$(ratio "$(first "$b")" "$(first "$a")")
info "100,000 PNGs tar/folder" "${r}x"
a=$(line "$out" 3)
row "100,000 PNGs, -c 3 --resize 64x64, folder" "$(wall "$a")" "$(cpu "$a")"
b=$(line "$out" 4)
row "  tar" "$(wall "$b")" "$(cpu "$b")"
c=$(line "$out" 5)
row "  tar, no speculators" "$(wall "$c")" "$(cpu "$c")"
info "tar/folder, with / without speculators" \
	"$(ratio "$(first "$b")" "$(first "$a")")x / $(ratio "$(first "$c")" "$(first "$a")")x"
echo "   load average now $(loadavg)"
rm -rf "$A" "$T" "$S/x.npy"
