#!/bin/sh
# Seed corpora for make fuzz: PngSuite, a few images of every format parimg
# writes, the photo fixtures of tests/lib/photos.py for each decoder's target,
# the BMP, TGA and PNM files of tests/cli_formats_test.py, GIFs at every LZW
# code size, edge-sized images and headers of every format, pairs of each
# format's seeds for the two-file targets (fuzz2_*), and numpy-written .npy
# headers. Usage: seeds.sh PARIMG OUTDIR
set -eu
parimg=$1 out=$2
suite=$(dirname "$0")/../tests/data/pngsuite
mkdir -p "$out/row" "$out/npy"
# Each row seed gets a mode byte in front (see fuzz_row.c).
i=0
for f in "$suite"/primary/*.png "$suite"/16bit/*.png "$suite"/corrupt/*.png; do
	[ -f "$f" ] || continue
	i=$((i + 1))
	{ printf "\\$(printf '%03o' $((i % 64)))"; cat "$f"; } > "$out/row/suite-$i"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for fmt in png bmp tga jpg; do
	for c in 1 3; do
		"$parimg" gen -q -n 1 -s 7x5 -c "$c" -F "$fmt" -o "$tmp" -p "$fmt$c-"
		{ printf '\003'; cat "$tmp/$fmt$c-0.$fmt"; } > "$out/row/gen-$fmt$c"
	done
done
printf 'P5\n4 2\n255\nabcdefgh' > "$tmp/p.pgm"
{ printf '\000'; cat "$tmp/p.pgm"; } > "$out/row/pgm"
# Each decoder's seeds (fuzz_decode.c): its photo fixtures, good and broken,
# PngSuite for PNG; a mode byte in front of each.
/usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import photos; photos.build(sys.argv[2])' \
	"$(dirname "$0")/../tests/lib" "$tmp/photos"
for fmt in jpeg png webp gif; do
	mkdir -p "$out/$fmt"
	i=0
	for f in "$tmp"/photos/*_"$fmt"_* "$tmp"/photos/"$fmt"_* "$suite"/*/*.png; do
		[ -f "$f" ] || continue
		case $fmt:$f in
		png:*.png | jpeg:*.jpg | webp:*.webp | gif:*.gif) ;;
		*) continue ;;
		esac
		i=$((i + 1))
		{ printf "\\$(printf '%03o' $((i % 256)))"; cat "$f"; } > "$out/$fmt/seed-$i"
	done
done
# BMP, TGA and PNM: tests/cli_formats_test.py's hand-made files and the ones
# Pillow refuses, and Pillow's of a photo in each mode; by first bytes.
/usr/bin/python3 - "$(dirname "$0")/../tests" "$out" <<'PY'
import io, os, sys
sys.path.insert(0, sys.argv[1])
import cli_formats_test as t  # noqa: E402
import photos  # noqa: E402
files = list(t.hand_files().values()) + [b for b, _ in t.REFUSED.values()]
im = photos.crop(photos.photo("chelsea"), 23, 17)
for mode in ("RGB", "RGBA", "L", "LA", "P", "1"):
    for fmt, kw in (("BMP", {}), ("TGA", {}), ("TGA", {"compression": "tga_rle"}), ("PPM", {})):
        b = io.BytesIO()
        try:
            im.convert(mode).save(b, fmt, **kw)
        except (OSError, ValueError):
            continue
        files.append(b.getvalue())
for k, data in enumerate(files):
    fmt = "bmp" if data[:2] == b"BM" else "pnm" if data[:1] == b"P" else "tga"
    os.makedirs(os.path.join(sys.argv[2], fmt), exist_ok=True)
    with open(os.path.join(sys.argv[2], fmt, "seed-%d" % k), "wb") as f:
        f.write(bytes([k % 256]) + data)    # mode byte first
PY
# Small TIFFs of every kind dec_tiff.c reads, from Pillow and tiffcp, and
# EXIF blocks, raw profile texts and XMP for fuzz_exif (no mode byte).
mkdir -p "$out/tiff" "$out/exif"
/usr/bin/python3 - "$tmp/tiff" "$(dirname "$0")/../tests/data/photos/coffee.png" <<'PY'
import os, sys
import numpy as np
from PIL import Image
d = sys.argv[1]
os.makedirs(d)
im = Image.open(sys.argv[2]).convert("RGB").crop((0, 0, 24, 16))
rgba = im.convert("RGBA")
rgba.putalpha(im.convert("L"))
for name, x, kw in (("rgb", im, {}), ("gray", im.convert("L"), {}), ("bit", im.convert("1"), {}),
                    ("pal", im.quantize(16), {}), ("cmyk", im.convert("CMYK"), {}),
                    ("la", rgba.convert("LA"), {}), ("rgba", rgba, {}),
                    ("lzw", im, {"compression": "tiff_lzw"}), ("jpeg", im, {"compression": "jpeg"}),
                    ("g4", im.convert("1"), {"compression": "group4"}),
                    ("turned", im, {"tiffinfo": {274: 6}}),
                    ("pages", im, {"save_all": True, "append_images": [im.convert("L")]})):
    x.save(os.path.join(d, name + ".tif"), **kw)
g = np.asarray(im.convert("L"))
Image.fromarray(g.astype(np.uint16) * 257, "I;16").save(os.path.join(d, "gray16.tif"))
Image.fromarray(g.astype(np.float32) / 3, "F").save(os.path.join(d, "float.tif"))
Image.fromarray(g.astype(np.int32) * 1000, "I").save(os.path.join(d, "int.tif"))
PY
n=0
for args in "-t -w 16 -l 16" "-p separate -c lzw" "-c zip:2" "-B -c packbits" "-c lzw:2" \
	"-c lzw:2 -t -w 16 -l 16"; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	tiffcp $args "$tmp/tiff/rgba.tif" "$tmp/tiff/cp-$n.tif"
done
tiffcp -c jpeg -r 16 "$tmp/tiff/rgb.tif" "$tmp/tiff/cp-jpeg.tif"
i=0
for f in "$tmp"/tiff/*.tif; do
	i=$((i + 1))
	{ printf "\\$(printf '%03o' $((i % 256)))"; cat "$f"; } > "$out/tiff/seed-$i"
done
# load's path (fuzz_row) gets them too: TIFF's values and orientation.
for f in "$out"/tiff/seed-*; do cp "$f" "$out/row/tiff-${f##*-}"; done
/usr/bin/python3 - "$out/exif" <<'PY'
import struct, sys
def block(o, be):
    f = ">" if be else "<"
    return ((b"MM" if be else b"II") + struct.pack(f + "HIH", 42, 8, 2) +
            struct.pack(f + "HHIHH", 0x0110, 2, 4, 0x4142, 0x4300) +
            struct.pack(f + "HHIHH", 0x0112, 3, 1, o, 0) + struct.pack(f + "I", 0))
b = block(6, True)
seeds = {"be": b, "le": block(3, False), "prefixed": b"Exif\0\0" + block(8, False),
         "profile": ("\nexif\n%8d\n%s\n" % (len(b), b.hex())).encode(),
         "xmp": b'<x:xmpmeta><rdf:Description tiff:Orientation="5"/></x:xmpmeta>'}
for name, data in seeds.items():
    open("%s/%s" % (sys.argv[1], name), "wb").write(data)
PY
# An animated WebP (fuzz_decode's WebP target reads its first frame).
/usr/bin/python3 - "$out/webp" <<'PY'
import io, sys
from PIL import Image
frames = [Image.new("RGBA", (9, 7), (40 * k, 90, 200 - 40 * k, 60 * k)) for k in range(3)]
b = io.BytesIO()
frames[0].save(b, "WEBP", save_all=True, append_images=frames[1:], duration=50)
open(sys.argv[1] + "/anim", "wb").write(b"\x03" + b.getvalue())    # mode byte first
PY
# GIFs at every LZW code size 0 to 12 (issue 32: 12 was the overflow; a
# full table without a clear; the code past the table once at 12), and,
# for every format, images of 1 and 7 pixels a side in each mode Pillow
# writes, and headers whose sizes are 0, 1 or 65535 (no data to match).
/usr/bin/python3 - "$(dirname "$0")/../tests" "$out" <<'PY'
import io, os, random, struct, sys, zlib
sys.path.insert(0, sys.argv[1])
import cli_decode_test as t  # noqa: E402
from PIL import Image  # noqa: E402
out = sys.argv[2]
seeds = {}
rng = random.Random(32)
for mcs in range(13):
    top = 1 << mcs if mcs else 1
    for w, h in ((1, 1), (23, 17), (97, 61)):
        px = [rng.randrange(top) if (k // 40) % 2 else (k // 9) % top for k in range(w * h)]
        seeds[("gif", "mcs%d-%dx%d" % (mcs, w, h))] = t.gif_bytes(w, h, mcs, t.lzw_bits(t.lzw_codes(px, mcs), mcs))
seeds[("gif", "mcs12-past-table-once")] = t.gif_bytes(8, 1, 12, t.lzw_bits(
    [5, 4098, 300, 4098, 4096, 7, 259, 4098, 4097], 12))
# At the table's edge, one bit from the overflow: 4098 then a clear (4096),
# read; 4098 then 4099, refused. Likewise at 11, where the table fills.
seeds[("gif", "mcs12-past-table-then-clear")] = t.gif_bytes(64, 1, 12, t.lzw_bits(
    [5, 4098, 4096] * 21 + [5, 4097], 12))
seeds[("gif", "mcs12-past-table-then-past")] = t.gif_bytes(64, 1, 12, t.lzw_bits(
    [5, 4098, 4099] + [4098] * 40 + [4097], 12))
px = [k % 7 for k in range(40000)]
seeds[("gif", "mcs11-full-table")] = t.gif_bytes(200, 200, 11, t.lzw_bits(t.lzw_codes(px, 11), 11))
im16 = Image.new("P", (64, 1), 16)
im16.putpalette(bytes(range(256)) * 3)
src = Image.open(os.path.join(sys.argv[1], "data", "photos", "coffee.png")).convert("RGB")
fmts = (("png", "PNG", {}), ("jpeg", "JPEG", {}), ("webp", "WEBP", {}), ("webp", "WEBP", {"lossless": True}),
        ("gif", "GIF", {}), ("gif", "GIF", {"interlace": True}), ("bmp", "BMP", {}),
        ("tga", "TGA", {}), ("tga", "TGA", {"compression": "tga_rle"}), ("pnm", "PPM", {}),
        ("tiff", "TIFF", {}), ("tiff", "TIFF", {"compression": "tiff_lzw"}))
for w, h in ((1, 1), (1, 7), (7, 1)):
    base = src.crop((0, 0, w, h))
    for mode in ("1", "L", "LA", "P", "RGB", "RGBA"):
        for fmt, pil, kw in fmts:
            b = io.BytesIO()
            try:
                base.convert(mode).save(b, pil, **kw)
            except (OSError, ValueError, KeyError):
                continue
            seeds[(fmt, "%dx%d-%s-%s-%s" % (w, h, mode, pil, "-".join(map(str, kw.values()))))] = b.getvalue()
b = io.BytesIO()
im16.save(b, "GIF")
seeds[("gif", "index16")] = b.getvalue()
def dims(data, fmt, w, h):
    """DATA with its header's size set to W x H (its pixels left as they are)."""
    d = bytearray(data)
    if fmt == "gif":
        d[6:10] = struct.pack("<HH", w, h)
        at = d.index(b",", 13 + (3 << ((d[10] & 7) + 1) if d[10] & 0x80 else 13))
        d[at + 5:at + 9] = struct.pack("<HH", w, h)
    elif fmt == "png":
        d[16:24] = struct.pack(">II", w, h)
        d[29:33] = struct.pack(">I", zlib.crc32(bytes(d[12:29])))
    elif fmt == "bmp":
        d[18:26] = struct.pack("<ii", w, h)
    elif fmt == "tga":
        d[12:16] = struct.pack("<HH", w, h)
    elif fmt == "pnm":
        part = bytes(d).split(None, 3)      # magic, width, height, the rest
        return part[0] + b"\n%d %d\n" % (w, h) + part[3]
    return bytes(d)
for (fmt, name), data in list(seeds.items()):
    if name.startswith("1x1-RGB-") or name in ("1x1-P-GIF-", "index16"):
        for w, h in ((0, 1), (1, 0), (65535, 1), (1, 65535), (65535, 65535)):
            if fmt in ("gif", "png", "bmp", "tga", "pnm"):
                seeds[(fmt, "%s-as-%dx%d" % (name, w, h))] = dims(data, fmt, w, h)
for k, ((fmt, name), data) in enumerate(sorted(seeds.items())):
    os.makedirs(os.path.join(out, fmt), exist_ok=True)
    with open(os.path.join(out, fmt, "edge-" + name), "wb") as f:
        f.write(bytes([k % 256]) + data)    # mode byte first
PY
# The decoders of issue 28 (JPEG 2000, ...): tests/cli_newformats_test.py's
# fixtures, made by the Debian encoders, each under its decoder's target.
/usr/bin/python3 - "$(dirname "$0")/../tests" "$out" "$tmp/new" <<'PY'
import os, sys
sys.path.insert(0, sys.argv[1])
import cli_newformats_test as t  # noqa: E402
os.makedirs(sys.argv[3])
for k, (name, (path, _, _)) in enumerate(sorted(t.build(sys.argv[3]).items())):
    d = os.path.join(sys.argv[2], t.FUZZ_TARGETS[t.fmt_of(name)])
    os.makedirs(d, exist_ok=True)
    with open(path, "rb") as f, open(os.path.join(d, "new-" + name), "wb") as o:
        o.write(bytes([k % 256]) + f.read())    # mode byte first
PY
# SGI and ICO: tests/cli_icosgi_test.py's files (SGI raw, RLE, 1 and 2
# bytes a sample, RLE quirks; icons of PNG and BMP frames, AND masks,
# 32-bit alpha, Pillow's picks).
/usr/bin/python3 - "$(dirname "$0")/../tests" "$out" <<'PY'
import os, sys
sys.path.insert(0, sys.argv[1])
import cli_icosgi_test as t  # noqa: E402
for fmt, files in (("sgi", [b for b, _ in t.sgi_files().values()]),
                   ("ico", list(t.ico_files().values()))):
    os.makedirs(os.path.join(sys.argv[2], fmt), exist_ok=True)
    for k, data in enumerate(files):
        with open(os.path.join(sys.argv[2], fmt, "seed-%d" % k), "wb") as f:
            f.write(bytes([k % 256]) + data)    # mode byte first
PY
# The two-file targets' seeds: each format's smallest seeds, each after
# itself and after the next, split by fuzz_decode.c's SEPARATOR.
/usr/bin/python3 - "$out" <<'PY'
import os, sys
out = sys.argv[1]
for fmt in ("jpeg", "png", "webp", "gif", "bmp", "tga", "pnm", "tiff", "jp2", "heif", "avif", "jxl",
            "sgi", "ico"):
    d = os.path.join(out, fmt)
    files = sorted(os.listdir(d), key=lambda n: (os.path.getsize(os.path.join(d, n)), n))[:48]
    data = [open(os.path.join(d, n), "rb").read() for n in files]
    if fmt == "gif":        # every code size after the index-16 file, as in issue 32
        data += [open(os.path.join(d, n), "rb").read() for n in sorted(os.listdir(d)) if "mcs" in n]
        first = open(os.path.join(d, "edge-index16"), "rb").read()
    os.makedirs(os.path.join(out, "pair-" + fmt), exist_ok=True)
    for k, a in enumerate(data):
        pairs = [(a, a), (a, data[(k + 1) % len(data)])] + ([(first, a)] if fmt == "gif" else [])
        for j, (x, y) in enumerate(pairs):
            with open(os.path.join(out, "pair-" + fmt, "pair-%d-%d" % (k, j)), "wb") as f:
                f.write(x + b"--parimg-next-file--" + y)
PY
/usr/bin/python3 - "$out/npy" <<'PY'
import sys, numpy as np, io
for i, (dt, shape) in enumerate([("u1", (3, 4, 5)), ("<f8", (2,)), ("<u2", (0, 7, 7, 3)), ("<f4", ())]):
    b = io.BytesIO(); np.save(b, np.zeros(shape, dt)); open("%s/np-%d" % (sys.argv[1], i), "wb").write(b.getvalue()[:128])
PY
# The archive reader's seeds: small tars (ustar, pax, GNU), a tar.gz, zips
# stored and deflated, a class tree and a webdataset shard, a table and a
# metadata file (kept whole while listing).
mkdir -p "$out/archive"
/usr/bin/python3 - "$out/archive" <<'PY'
import gzip, io, sys, tarfile, zipfile
png = b"\x89PNG\r\n\x1a\n" + b"\0" * 40
files = {"cat/a.png": png, "dog/sub/b.jpg": b"\xff\xd8\xff" + b"\0" * 20, ".h.png": png,
         "k1.png": png, "k1.cls": b"3\n", "notes.txt": b"x", "t.csv": b"id,label\nk1,3\n",
         "cat/metadata.jsonl": b'{"file_name": "a.png", "label": 1}\n'}
for fmt, name in ((tarfile.USTAR_FORMAT, "ustar"), (tarfile.PAX_FORMAT, "pax"),
                  (tarfile.GNU_FORMAT, "gnu")):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=fmt) as t:
        for n, d in files.items():
            ti = tarfile.TarInfo(n); ti.size = len(d); t.addfile(ti, io.BytesIO(d))
    open("%s/%s.tar" % (sys.argv[1], name), "wb").write(b.getvalue())
    if name == "pax":
        open("%s/pax.tar.gz" % sys.argv[1], "wb").write(gzip.compress(b.getvalue()))
for method, name in ((zipfile.ZIP_STORED, "stored"), (zipfile.ZIP_DEFLATED, "deflated")):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as z:
        for n, d in files.items():
            z.writestr(n, d)
    open("%s/%s.zip" % (sys.argv[1], name), "wb").write(b.getvalue())
inner = open("%s/ustar.tar" % sys.argv[1], "rb").read()
b = io.BytesIO()
with tarfile.open(fileobj=b, mode="w") as t:
    for n in ("cat.tar", "dog.tgz"):
        d = inner if n.endswith(".tar") else gzip.compress(inner)
        ti = tarfile.TarInfo(n); ti.size = len(d); t.addfile(ti, io.BytesIO(d))
open("%s/nested.tar" % sys.argv[1], "wb").write(b.getvalue())
PY

# The table reader's seeds: CSV (BOM, CRLF, quotes), TSV and JSON Lines.
mkdir -p "$out/table"
printf '\357\273\277id,label,t\r\na,"b,c",1.5\r\n"d\r\ne","f""g",-2e3\r\n' > "$out/table/bom_crlf.csv"
printf 'file_name\tlabel\nx.png\t3\n' > "$out/table/plain.tsv"
printf '{"file_name": "a\\u00e9.png", "label": "x\\ud83d\\ude00", "t": 1, "n": [1, {"a": null}]}\n\n{"id": "b", "label": true}\n' > "$out/table/meta.jsonl"
