#!/usr/bin/python3
"""Command-line tests of load's own BMP, TGA and PNM readers (issue 18): files
built at test time from tests/data/photos by Pillow and by ImageMagick
(convert: BMP2, BMP3 and BMP, which writes v5 headers, this ImageMagick
having no BMP4 coder; RLE, TGA origins, plain and raw PNM), and by hand for
what no tool writes (RLE deltas and early ends, OS/2 headers, bitfields,
palette indexes past the end, right-hand TGA origins with RLE). Each must
give Pillow 9.4's Image.open(f).convert(mode) at -c 1/3/4 (16-bit PNM:
-t u2); each file Pillow refuses is refused, named, with a reason; truncated
and corrupt files are refused and skipped under -k.
Run as: /usr/bin/python3 tests/cli_formats_test.py ./parimg [TEST...]
"""
import atexit
import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
import photos  # noqa: E402
from harness import load, loaded, names, ok, run  # noqa: E402

MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
W, H = 61, 47          # odd: BMP rows padded, PBM rows ending mid-byte


# ---------------------------------------------------------------- byte-level files

def bmp(w, h, bits, pixels, palette=b"", comp=0, colors=0, hsize=40, offset=None,
        extra=b"", masks=None):
    """A BMP: HSIZE-byte header (12: OS/2 1.x), EXTRA (v3 bitfield masks)
    and PALETTE after it, the pixels at OFFSET (default: right after)."""
    if hsize == 12:
        hdr = struct.pack("<IHHHH", 12, w, h, 1, bits)
    else:
        hdr = struct.pack("<IiiHHIIiiII", hsize, w, h, 1, bits, comp, len(pixels), 2835, 2835,
                          colors, 0) + bytes(hsize - 40)
        if masks:
            hdr = hdr[:40] + struct.pack("<4I", *masks) + hdr[56:]
    body = hdr + extra + palette
    if offset is None:
        offset = 14 + len(body)
    body += bytes(max(0, offset - 14 - len(body)))
    return b"BM" + struct.pack("<IHHI", 14 + len(body) + len(pixels), 0, 0, offset) + body + pixels


def tga(w, h, itype, depth, data, cmap=None, start=0, mapdepth=0, flags=0, ident=b""):
    size = len(cmap) // max(1, mapdepth // 8) if cmap is not None else 0
    hdr = struct.pack("<BBBHHBHHHHBB", len(ident), cmap is not None, itype, start, size,
                      mapdepth, 0, 0, w, h, depth, flags)
    return hdr + ident + (cmap or b"") + data


def bgrx(colors):
    return b"".join(bytes((b, g, r, 0)) for r, g, b in colors)


PAL4 = bgrx([(10, 20, 30), (200, 100, 50), (0, 255, 128), (90, 60, 30)])
MASK565 = struct.pack("<3I", 0xF800, 0x7E0, 0x1F)


def gradient16(w, h, shift):
    """16-bit words covering every 5/6-bit level."""
    v = np.arange(w * h, dtype=np.uint32) * 2654435761 >> shift
    return (v & 0xFFFF).astype("<u2").tobytes()


def hand_files():
    """{name: bytes} of files no tool here writes, each one Pillow loads."""
    rows8 = (bytes(range(0, 256, 37)) + b"\0") * 4     # 7 indexes a row, padded to 8
    f = {
        # RLE8: runs, an end of line mid-row, a delta (Pillow skips 2 bytes
        # before the 2 it reads), an absolute run of odd length (padded to
        # an even file offset), end of bitmap after the last pixel.
        "rle8_delta": bmp(6, 4, 8, bytes([3, 1, 0, 0, 2, 2, 0, 2, 9, 9, 1, 0, 0, 3, 1, 2, 3, 0x55,
                                          0, 0, 6, 3, 0, 0, 4, 1, 2, 2, 0, 1]), PAL4, comp=1,
                          colors=4),
        # Runs do not wrap: each row ends with an end of line.
        "rle8_topdown": bmp(4, -3, 8, bytes([4, 1, 0, 0, 2, 2, 2, 3, 0, 0, 4, 0, 0, 1]), PAL4,
                            comp=1, colors=4),
        # RLE4: nibble pairs, an absolute run of 5 (two bytes give 4
        # pixels), an end of line padding the last.
        "rle4": bmp(5, 2, 4, bytes([5, 0x12, 0, 5, 0x30, 0x21, 0x00, 0]), PAL4, comp=2, colors=4),
        # Runs past the row's end are cut; the row then ends.
        "rle8_long_run": bmp(3, 2, 8, bytes([9, 1, 0, 0, 3, 2, 0, 1]), PAL4, comp=1, colors=4),
        "os2_v1_p8": bmp(7, 4, 8, rows8, hsize=12,
                         palette=b"".join(bytes((i, 255 - i, i // 2)) for i in range(256))),
        "os2_v2_24": bmp(3, 2, 24, bytes(range(24)), hsize=64),
        "v3_565_palette": bmp(W, 3, 16, gradient16(W, 3, 7) + bytes(2 * 3), palette=PAL4,
                              extra=MASK565, comp=3, colors=4),
        "v5_565": bmp(W, 3, 16, gradient16(W, 3, 9) + bytes(2 * 3), comp=3, hsize=124,
                      masks=(0xF800, 0x7E0, 0x1F, 0)),
        "v3_555": bmp(W, 3, 16, gradient16(W, 3, 5) + bytes(2 * 3)),
        "v3_32_unused_alpha": bmp(2, 2, 32, bytes(range(1, 17))),
        "v4_32_bgra": bmp(2, 2, 32, bytes(range(1, 17)), comp=3, hsize=108,
                          masks=(0xFF0000, 0xFF00, 0xFF, 0xFF000000)),
        "v5_32_xbgr": bmp(2, 2, 32, bytes(range(1, 17)), comp=3, hsize=124,
                          masks=(0xFF000000, 0xFF0000, 0xFF00, 0)),
        "v5_32_rgba": bmp(2, 2, 32, bytes(range(1, 17)), comp=3, hsize=124,
                          masks=(0xFF, 0xFF00, 0xFF0000, 0xFF000000)),
        "p8_index_past_end": bmp(8, 1, 8, bytes([0, 1, 2, 3, 4, 77, 200, 255]), PAL4, colors=4),
        "p8_short_palette": bmp(4, 1, 8, bytes([0, 1, 2, 3]), PAL4[:10], colors=4,
                                offset=14 + 40 + 16),
        "p8_palette_far": bmp(4, 1, 8, bytes([0, 1, 2, 3]), PAL4, colors=4, offset=14 + 40 + 64),
        "p8_offset_forgets_palette": bmp(4, 1, 8, bytes([3, 2, 1, 0]), PAL4, colors=4,
                                         offset=14 + 40),
        "p1_topdown": bmp(9, -2, 1, bytes([0xA5, 0x80, 0, 0, 0x5A, 0x00, 0, 0]),
                          bgrx([(250, 0, 0), (0, 0, 250)]), colors=2),
        "p4_gray_ramp_as_l": bmp(4, 1, 4, bytes([0x12, 0x34, 5, 6]),
                                 bgrx([(i, i, i) for i in range(16)]), colors=16),
        # Rows of 8-bit gray longer than the 4-bit stride: Pillow maps the
        # file and its rows overlap.
        "p4_gray_ramp_wide_as_l": bmp(16, 2, 4, bytes(range(24)),
                                      bgrx([(i, i, i) for i in range(16)]), colors=16),
        "bw_palette_bits4_as_1": bmp(8, 1, 4, bytes([0x10, 0x01, 0x11, 0x00]),
                                     bgrx([(0, 0, 0), (255, 255, 255)]), colors=2),
        # TGA: right-hand origins with RLE (a literal runs on into the next
        # row, as Pillow allows), gray+alpha, 5-5-5, a colour map with a
        # first index, a gray image with a map, no map at all.
        "tga_rle_top_right": tga(3, 2, 10, 24, bytes([0x82, 1, 2, 3, 0x02]) + bytes(range(4, 13)),
                                 flags=0x30),
        "tga_rle_bottom_right": tga(3, 2, 10, 32, bytes([0x03]) + bytes(range(16)) +
                                    bytes([0x81, 9, 8, 7, 6]), flags=0x10),
        "tga_raw_top_right": tga(2, 2, 2, 24, bytes(range(12)), flags=0x30),
        "tga_la": tga(2, 1, 3, 16, bytes([100, 50, 200, 255])),
        "tga_555": tga(3, 1, 2, 16, struct.pack("<3H", 0x8001, 0x03E0, 0x7C1F)),
        "tga_map_start": tga(4, 1, 1, 8, bytes([0, 1, 2, 9]), cmap=struct.pack("<2H", 0x7FFF, 0x0421),
                             mapdepth=16, start=1),
        "tga_gray_with_map": tga(3, 1, 3, 8, bytes([0, 1, 2]), cmap=bytes(range(10, 19)),
                                 mapdepth=24),
        "tga_p_no_map": tga(2, 1, 1, 8, bytes([5, 200])),
        "tga_gray1": tga(9, 1, 3, 1, bytes([0xC1, 0x80])),
        "tga_image_id_rle_map": tga(3, 1, 9, 8, bytes([0x81, 1, 0x00, 2]), ident=b"parimg\0",
                                    cmap=bytes(range(30, 39)), mapdepth=24, flags=0x20),
        # PNM: plain with comments anywhere, maxvals Pillow scales.
        "pnm_p1_comments": b"P1\n# c\n3 2\n1 0#x\n1\n0 1 1\n",
        "pnm_p1_tight": b"P1 3 2 101011",
        "pnm_p2_maxval10": b"P2 4 2 10\n0 1 3 5\n7 9 10 2\n",
        "pnm_p3_maxval7": b"P3 2 1 7 1 2 3 4 5 6",
        "pnm_p5_maxval15": b"P5 4 1 15\n\x00\x03\x0f\x10",
        "pnm_p6_maxval1000": b"P6 2 1 1000\n\x01\x00\x02\x00\x03\xe8\x00\x01\x00\x07\x03\xe7",
        "pnm_header_comment": b"P5\n#c\n2 #a\n1\n255\n\x01\x02",
    }
    return f


# Files Pillow refuses, with the reason parimg gives.
REFUSED = {
    "bmp_header_52": (bmp(1, 1, 24, bytes(4), hsize=52), r"unsupported BMP header type \(52"),
    "bmp_header_56": (bmp(1, 1, 24, bytes(4), hsize=56), r"unsupported BMP header type \(56"),
    "bmp_alphabitfields": (bmp(1, 1, 32, bytes(4), comp=6), r"unsupported BMP compression \(6\)"),
    "bmp_bits2": (bmp(4, 1, 2, bytes(4), PAL4, colors=4), r"unsupported BMP pixel depth \(2\)"),
    "bmp_bitfields_odd": (bmp(1, 1, 16, bytes(4), extra=struct.pack("<3I", 0xF, 0xF0, 0xF00),
                              comp=3), r"unsupported BMP bitfields layout"),
    "bmp_palette_300": (bmp(4, 1, 8, bytes(4), bgrx([(i & 255, 1, 2) for i in range(300)]),
                            colors=300), r"unsupported BMP palette \(300 entries"),
    "bmp_rle8_early_end": (bmp(4, 2, 8, bytes([2, 1, 0, 1]), PAL4, comp=1, colors=4),
                           r"truncated BMP \(RLE data ends after 2 of 8 pixels\)"),
    "bmp_rle8_bw": (bmp(8, 1, 1, bytes([8, 1, 0, 1]), bgrx([(0, 0, 0), (255, 255, 255)]),
                        comp=1, colors=2), r"unsupported BMP \(RLE8 with 1 bits"),
    "bmp_rle_24bit": (bmp(4, 1, 24, bytes([4, 1, 0, 1]), comp=1),
                      r"unsupported BMP \(RLE8 with 24 bits"),
    "tga_rle_run_crosses_row": (tga(2, 2, 10, 24, bytes([0x83, 1, 2, 3])),
                                r"corrupt TGA \(an RLE run crosses a row's end\)"),
    "tga_rgb_with_map": (tga(1, 1, 2, 24, bytes(3), cmap=bytes(6), mapdepth=24),
                         r"unsupported TGA \(a colour map with colour pixels\)"),
    "tga_map_32": (tga(1, 1, 1, 8, bytes(1), cmap=bytes(8), mapdepth=32),
                   r"unsupported TGA \(32-bit colour map\)"),
    "tga_map_300": (tga(1, 1, 1, 8, bytes(1), cmap=bytes(900), mapdepth=24),
                    r"unsupported TGA \(colour map of 300 entries"),
    "tga_rle_1bit": (tga(16, 1, 11, 1, bytes([0x81, 0xF0])), r"unsupported TGA \(1-bit RLE\)"),
    "tga_15bit": (tga(1, 1, 2, 15, bytes(2)), r"not a supported image \(unknown format\)"),
    "pnm_p1_junk": (b"P1 3 2 101011 x", r"corrupt PNM \(\"x\" in its plain data\)"),
    "pnm_p2_above_maxval": (b"P2 2 1 10 1 11", r"corrupt PNM \(sample 11 above maxval 10\)"),
    "pnm_maxval_0": (b"P5 2 1 0\n\x01\x02", r"corrupt PNM header \(maxval 0"),
    "pnm_token_11_digits": (b"P5 00000000002 1 255\n\x01\x02",
                            r"corrupt PNM header \(a number of more than 10 digits\)"),
    "pnm_p7": (b"P7 2 1 255\n\x01\x02", r"not a supported image \(unknown format\)"),
}


# ---------------------------------------------------------------- tool-made files

def magick(src, dst, *args):
    subprocess.run(["convert", src, *args, dst], check=True, capture_output=True)


def tool_files(d):
    """{name: path}: Pillow's and ImageMagick's files of the photos."""
    out = {}
    rgb = photos.crop(photos.photo("chelsea"), W, H)
    rgba = rgb.convert("RGBA")
    rgba.putalpha(photos.crop(photos.photo("camera", "L"), W, H))
    gray = rgb.convert("L")
    pal = photos.crop(photos.photo("coffee"), W, H).quantize(200)

    def save(name, im, fmt, **kw):
        out[name] = os.path.join(d, name)
        im.save(out[name], fmt, **kw)

    for kind, im in (("rgb", rgb), ("rgba", rgba), ("l", gray), ("p", pal), ("1", gray.convert("1"))):
        save("pil_bmp_" + kind, im, "BMP")
    for kind, im in (("rgb", rgb), ("rgba", rgba), ("l", gray), ("la", rgba.convert("LA")),
                     ("p", pal)):
        save("pil_tga_" + kind, im, "TGA")
        save("pil_tga_rle_" + kind, im, "TGA", compression="tga_rle")
        save("pil_tga_top_" + kind, im, "TGA", orientation=1)
    save("pil_ppm", rgb, "PPM")
    save("pil_pgm", gray, "PPM")
    save("pil_pbm", gray.convert("1"), "PPM")
    src = os.path.join(d, "src.png")
    rgba.save(src)
    opaque = os.path.join(d, "opaque.png")
    rgb.save(opaque)
    for name, s, args, fmt in (
            ("im_bmp2", opaque, [], "BMP2"), ("im_bmp3", opaque, [], "BMP3"),
            ("im_bmp5", opaque, [], "BMP"), ("im_bmp5_alpha", src, [], "BMP"),
            ("im_bmp3_p8", opaque, ["-colors", "200"], "BMP3"),
            ("im_bmp3_p4", opaque, ["-colors", "16"], "BMP3"),
            ("im_bmp3_p1", opaque, ["-colors", "2"], "BMP3"),
            ("im_bmp2_p8", opaque, ["-colors", "200"], "BMP2"),
            ("im_bmp3_rle", opaque, ["-colors", "200", "-compress", "RLE"], "BMP3"),
            ("im_bmp5_565", opaque, ["-define", "bmp:subtype=RGB565"], "BMP"),
            ("im_bmp3_gray", opaque, ["-colorspace", "gray"], "BMP3"),
            ("im_tga", opaque, [], "TGA"), ("im_tga_rle", opaque, ["-compress", "RLE"], "TGA"),
            ("im_tga_alpha_rle", src, ["-compress", "RLE"], "TGA"),
            ("im_tga_p", opaque, ["-colors", "100", "-type", "Palette"], "TGA"),
            ("im_tga_p_rle", opaque, ["-colors", "100", "-type", "Palette", "-compress", "RLE"], "TGA"),
            ("im_tga_gray", opaque, ["-colorspace", "gray"], "TGA"),
            ("im_ppm_plain", opaque, ["-compress", "none"], "PPM"),
            ("im_pgm_plain", opaque, ["-compress", "none", "-colorspace", "gray"], "PGM"),
            ("im_pbm_plain", opaque, ["-compress", "none", "-monochrome"], "PBM"),
            ("im_ppm", opaque, [], "PPM"), ("im_pgm", opaque, ["-colorspace", "gray"], "PGM"),
            ("im_pbm", opaque, ["-monochrome"], "PBM"),
            ("im_ppm16", opaque, ["-depth", "16"], "PPM"),
            ("im_ppm16_plain", opaque, ["-depth", "16", "-compress", "none"], "PPM")):
        out[name] = os.path.join(d, name)
        magick(s, fmt + ":" + out[name], *args)
    for orient in ("TopLeft", "TopRight", "BottomLeft", "BottomRight"):
        for rle in ((), ("-compress", "RLE")):
            name = "im_tga_%s%s" % (orient.lower(), "_rle" if rle else "")
            out[name] = os.path.join(d, name)
            magick(src, "TGA:" + out[name], "-orient", orient, *rle)
    return out


_fixtures = None


def fixtures():
    """{name: path} of every file Pillow loads, built once per run."""
    global _fixtures
    if _fixtures is None:
        d = tempfile.mkdtemp(prefix="parimg-formats-")
        atexit.register(shutil.rmtree, d, True)
        _fixtures = tool_files(d)
        for name, data in hand_files().items():
            _fixtures[name] = os.path.join(d, name)
            with open(_fixtures[name], "wb") as f:
                f.write(data)
    return _fixtures


def pillow(path, mode):
    with Image.open(path) as im:
        return np.asarray(im.convert(mode))


def pillow_refuses(path):
    try:
        with Image.open(path) as im:
            im.load()
            im.convert("RGB")
    except Exception:
        return True
    return False


def wide_pgm(path):
    """A PGM of maxval above 255 (Pillow's mode I), which -c 1 -t u1 does not
    compare: Pillow clips mode I to 0..255 there."""
    with Image.open(path) as im:
        return im.mode == "I"


# ---------------------------------------------------------------- Pillow's pixels

def test_tools_wrote_what_the_names_say(d):
    """The fixtures cover what they claim: ImageMagick's RLE BMP is RLE8, its
    BMP2 an OS/2 1.x header, its TGAs the four origins, with RLE."""
    fx = fixtures()
    with open(fx["im_bmp3_rle"], "rb") as f:
        head = f.read(34)
    assert struct.unpack("<I", head[30:34])[0] == 1, "not RLE8"
    for name, size in (("im_bmp2", 12), ("im_bmp3", 40), ("im_bmp5", 124)):
        with open(fx[name], "rb") as f:
            assert struct.unpack("<I", f.read(18)[14:18])[0] == size, (name, size)
    for name, flags in (("topleft", 0x20), ("topright", 0x30), ("bottomleft", 0),
                        ("bottomright", 0x10)):
        for rle in ("", "_rle"):
            with open(fx["im_tga_" + name + rle], "rb") as f:
                head = f.read(18)
            assert head[17] & 0x30 == flags, (name, head[17])
            assert (head[2] >= 8) == bool(rle), (name, head[2])
    with Image.open(fx["im_bmp3_p1"]) as im:
        assert im.mode == "P", im.mode


def test_every_fixture_equals_pillow(d):
    """Every fixture at -c 1, 3 and 4 (u1): Pillow's convert(mode), files of
    one size loaded together (one worker decodes many, -j1)."""
    groups = {}
    for name, path in sorted(fixtures().items()):
        with Image.open(path) as im:
            groups.setdefault(im.size, []).append(name)
    for size, group in sorted(groups.items()):
        paths = [fixtures()[n] for n in group]
        for c, mode in MODES.items():
            ok(load(d, "-c", c, "-j", 1, "--order", "none", *paths))
            a = loaded(d)
            for k, (name, path) in enumerate(zip(group, paths)):
                if c == 1 and wide_pgm(path):
                    continue
                want = pillow(path, mode)
                got = a[k].reshape(want.shape)
                diff = int(np.count_nonzero(got != want))
                assert diff == 0, "%s -c %d: %d samples differ from Pillow's %s" % (
                    name, c, diff, mode)


def test_u2_is_pillow_times_257(d):
    """8-bit files at -t u2: Pillow's samples times 257, as every format."""
    for name, path in sorted(fixtures().items()):
        if name.startswith(("im_ppm16", "pnm_p6_maxval1000")):
            continue
        ok(load(d, "-c", 3, "-t", "u2", path))
        want = pillow(path, "RGB").astype(np.uint16) * 257
        assert (loaded(d)[0] == want).all(), name


def test_16bit_pnm_exact(d):
    """16-bit PGM (raw and plain, maxval 65535 and 1000) at -t u2: Pillow's
    mode I values. 16-bit PPM, which Pillow reduces to 8 bits: at -t u2 the
    samples themselves, at u1 Pillow's RGB."""
    pgms = {
        "p5_65535": b"P5 3 2 65535\n" + struct.pack(">6H", 0x1234, 0xFFFE, 1, 0, 0x8000, 0xFFFF),
        "p5_1000": b"P5 3 1 1000\n" + struct.pack(">3H", 256, 1000, 7),
        "p2_65535": b"P2 3 1 65535\n4660 65534 1\n",
        "p2_1000": b"P2 3 1 1000 256 1000 7",
    }
    for name, data in pgms.items():
        p = os.path.join(d, name + ".pgm")
        with open(p, "wb") as f:
            f.write(data)
        with Image.open(p) as im:
            assert im.mode == "I", im.mode
            want = np.asarray(im)
        ok(load(d, "-c", 1, "-t", "u2", p))
        got = loaded(d)[0]
        assert got.dtype == np.uint16 and np.array_equal(got, want), (name, got, want)
    magick(fixtures()["pil_pgm"], "PGM:" + os.path.join(d, "im16.pgm"), "-depth", "16")
    p = os.path.join(d, "im16.pgm")
    ok(load(d, "-c", 1, "-t", "u2", p))
    with Image.open(p) as im:
        assert np.array_equal(loaded(d)[0], np.asarray(im))
    p = fixtures()["im_ppm16"]
    with open(p, "rb") as f:
        raw = f.read()
    samples = np.frombuffer(raw[-W * H * 6:], ">u2").reshape(H, W, 3)
    ok(load(d, "-c", 3, "-t", "u2", p))
    assert np.array_equal(loaded(d)[0], samples)
    ok(load(d, "-c", 3, fixtures()["im_ppm16_plain"]))
    assert np.array_equal(loaded(d)[0], pillow(fixtures()["im_ppm16_plain"], "RGB"))


def test_16bit_pgm_u1_rounds_as_pillow_ppm(d):
    """-t u1 of a 16-bit PGM: round(v / maxval * 255), half to even, the rule
    Pillow applies to 16-bit PPM (its mode I clips instead, see the man page)."""
    p = os.path.join(d, "a.pgm")
    v = np.array([0, 128, 129, 385, 32767, 32768, 65535], np.uint32)
    with open(p, "wb") as f:
        f.write(b"P5 7 1 65535\n" + v.astype(">u2").tobytes())
    ok(load(d, "-c", 1, p))
    assert np.array_equal(loaded(d)[0, 0], np.round(v / 65535 * 255).astype(np.uint8))


# ---------------------------------------------------------------- refusals

def test_dib_without_file_header_as_pillow(d):
    """Issue 28: a .dib (a BMP without its 14-byte file header, as the
    clipboard holds one) loads as Pillow's DibImageFile reads it, pixels
    right after the header, masks and palette; by content, and listed in a
    directory; check counts it as BMP."""
    cat = photos.crop(photos.photo("chelsea"), 29, 19)
    src = os.path.join(d, "in")
    os.mkdir(src)
    made = []
    for mode in ("1", "L", "P", "RGB", "RGBA"):
        b = io.BytesIO()
        cat.convert(mode).save(b, "BMP")
        dib = os.path.join(src, "clip_%s.dib" % mode)
        with open(dib, "wb") as f:
            f.write(b.getvalue()[14:])
        made.append(dib)
        with Image.open(dib) as im:
            assert im.format == "DIB", im.format
            for c in (1, 3, 4):
                ok(run("load", "-q", "-f", "-c", c, "-o", os.path.join(d, "out.npy"), dib))
                want = np.asarray(im.convert({1: "L", 3: "RGB", 4: "RGBA"}[c]))
                got = np.load(os.path.join(d, "out.npy"))[0].reshape(want.shape)
                assert (got == want).all(), (mode, c)
    ok(run("load", "-q", "-c", 3, "-o", os.path.join(d, "all.npy"), src))
    assert np.load(os.path.join(d, "all.npy")).shape[0] == len(made)
    r = ok(run("check", "--format", "json", src))
    assert '"BMP":%d' % len(made) in r.out.replace(" ", ""), r


def test_pngsuite_tbbn0g04_keyed_as_the_spec_says(d):
    """Issue 28, a deliberate departure: PngSuite's tbbn0g04.png (4-bit
    gray, tRNS key 15) at -c 4 has its white pixels transparent, as the PNG
    specification and libpng have it; Pillow 9.4 leaves every pixel opaque
    (it compares the key 15 with samples scaled to 0..255)."""
    path = os.path.join(harness.PNGSUITE, "primary", "tbbn0g04.png")
    with Image.open(path) as im:
        assert im.info["transparency"] == 15
        pil = np.asarray(im.convert("RGBA"))
        gray = np.asarray(im.convert("L"))
    assert (pil[..., 3] == 255).all()           # Pillow 9.4: all opaque
    ok(run("load", "-q", "-c", 4, "-o", os.path.join(d, "out.npy"), path))
    a = np.load(os.path.join(d, "out.npy"))[0]
    assert (a[..., :3] == pil[..., :3]).all()
    assert ((a[..., 3] == 0) == (gray == 255)).all()
    assert (a[..., 3] == 0).sum() > 0 and ((a[..., 3] == 0) | (a[..., 3] == 255)).all()


def test_refused_like_pillow(d):
    """Each file Pillow refuses: exit 1, its name and the reason on stderr."""
    for name, (data, reason) in sorted(REFUSED.items()):
        p = os.path.join(d, name)
        with open(p, "wb") as f:
            f.write(data)
        assert pillow_refuses(p), "Pillow loads %s" % name
        r = ok(load(d, "-c", 3, p), 1)
        names(r, p, reason)


def test_overlapping_rows_past_the_end_refused(d):
    """A 4-bit BMP with a 16-level gray ramp is 8-bit gray to Pillow, rows
    longer than the stride; Pillow reads its last row past the file's end
    (its memory map's zero fill): refused here rather than read past."""
    p = os.path.join(d, "wide.bmp")
    with open(p, "wb") as f:
        f.write(bmp(16, 1, 4, bytes(8), bgrx([(i, i, i) for i in range(16)]), colors=16))
    names(ok(load(d, "-c", 1, p), 1), p, r"truncated BMP \(16 bytes of pixels expected, 8 present\)")


def test_tool_file_pillow_refuses(d):
    """ImageMagick's BMP3 5-5-5 has BI_BITFIELDS but no masks: refused by
    both."""
    p = os.path.join(d, "im555.bmp")
    magick(fixtures()["pil_bmp_rgb"], "BMP3:" + p, "-define", "bmp:subtype=RGB555")
    if not pillow_refuses(p):
        return      # a later ImageMagick writes it right: nothing to test
    names(ok(load(d, "-c", 3, p), 1), p, r"unsupported BMP bitfields layout")


def broken_files():
    """{name: (bytes, reason)}: good fixtures cut short or with bytes
    changed, which Pillow refuses too."""
    fx = fixtures()

    def data(name):
        with open(fx[name], "rb") as f:
            return f.read()

    out = {}
    for name in ("pil_bmp_rgb", "pil_bmp_p", "im_bmp3_rle", "pil_tga_rgb", "pil_tga_rle_rgb",
                 "im_tga_topright_rle", "pil_ppm", "im_ppm_plain", "im_pbm", "im_pbm_plain",
                 "im_ppm16"):
        b = data(name)
        fmt = "BMP" if "bmp" in name else "TGA" if "tga" in name else "PNM"
        out[name + "_cut"] = (b[:len(b) * 2 // 3], r"truncated %s" % fmt)
        out[name + "_header"] = (b[:16] if fmt != "PNM" else b[:6],
                                 r"truncated|not a supported image|corrupt")
    # An RLE run made to cross its row; an RLE8 pixel count past the data.
    b = bytearray(data("pil_tga_rle_rgb"))
    b[18] = 0xFF
    out["pil_tga_rle_rgb_run"] = (bytes(b), r"corrupt TGA|truncated TGA")
    b = bytearray(data("pil_ppm"))
    b[1] = ord("7")
    out["pil_ppm_magic"] = (bytes(b), r"not a supported image")
    b = bytearray(data("im_ppm_plain"))
    b[len(b) // 2] = ord("z")
    out["im_ppm_plain_letter"] = (bytes(b), r"corrupt PNM")
    return out


def test_broken_refused_and_skipped_with_keep_going(d):
    """Each broken file alone: exit 1 naming it; all of them with a good file
    under -k: exit 3, each named, the good one's row Pillow's, theirs zero."""
    src = os.path.join(d, "in")
    os.makedirs(src)
    good = fixtures()["pil_bmp_rgb"]
    shutil.copy(good, os.path.join(src, "0good.bmp"))
    broken = broken_files()
    for name, (data, reason) in sorted(broken.items()):
        p = os.path.join(src, name + ".img")
        with open(p, "wb") as f:
            f.write(data)
        assert pillow_refuses(p), "Pillow loads %s" % name
        names(ok(load(d, "-c", 3, p), 1), p, reason)
    # By name, as a list (a directory would skip the extension .img).
    inputs = sorted(os.path.join(src, n) for n in os.listdir(src))
    r = ok(load(d, "-c", 3, "-k", "--order", "name", *inputs), 3)
    for name, (_, reason) in broken.items():
        names(r, os.path.join(src, name + ".img"), reason)
    a = loaded(d)
    assert a.shape == (len(inputs), H, W, 3), a.shape
    assert os.path.basename(inputs[0]) == "0good.bmp"
    assert (a[0] == pillow(good, "RGB")).all()
    assert not a[1:].any(), "skipped rows are not zero"


def pillow_overreads(path, data):
    """Whether Pillow 9.4 accepts PATH only by a bug parimg does not copy: a
    plain PNM not ending in whitespace whose last number Pillow repeats to
    fill the image, or a BMP of 8-bit gray rows longer than their stride
    whose last row Pillow reads past the file's end."""
    with Image.open(path) as im:
        if im.format == "PPM":
            return data[:2] in (b"P2", b"P3") and not data[-1:].isspace()
        if im.format == "BMP":
            name, _, _, args = im.tile[0]
            return name == "raw" and args[0] == "L" and args[1] < im.size[0]
    return False


def test_mutations_agree_with_pillow(d):
    """Small files of every kind with bytes changed, cut, inserted or
    deleted (a fixed seed): where Pillow loads one (and not by a bug, see
    pillow_overreads), parimg gives Pillow's RGBA; where Pillow refuses it,
    parimg refuses it."""
    rng = np.random.default_rng(18)
    seeds = list(hand_files().values())
    im = photos.crop(photos.photo("chelsea"), 13, 9)
    for mode in ("RGB", "RGBA", "L", "LA", "P", "1"):
        for fmt, kw in (("BMP", {}), ("TGA", {}), ("TGA", {"compression": "tga_rle"}),
                        ("PPM", {})):
            b = io.BytesIO()
            try:
                im.convert(mode).save(b, fmt, **kw)
            except (OSError, ValueError):
                continue
            seeds.append(b.getvalue())
    p, out = os.path.join(d, "m.img"), os.path.join(d, "out.npy")
    checked = 0
    for n in range(400):
        data = bytearray(seeds[rng.integers(len(seeds))])
        for _ in range(rng.integers(1, 5)):
            k, i = rng.random(), int(rng.integers(len(data) + 1))
            if k < 0.5 and data:
                i = int(rng.integers(min(len(data), 80)))
                data[i] = int(rng.integers(256))
            elif k < 0.7:
                del data[i:]
            elif k < 0.85:
                data[i:i] = rng.integers(0, 256, int(rng.integers(1, 9)), np.uint8).tobytes()
            else:
                del data[i:i + int(rng.integers(1, 9))]
        with open(p, "wb") as f:
            f.write(data)
        try:
            with Image.open(p) as im:
                if im.format not in ("BMP", "TGA", "PPM") or im.size[0] * im.size[1] > 1 << 20:
                    continue
                want = np.asarray(im.convert("RGBA"))
        except Exception:
            want = None
        r = run("load", "-q", "-f", "-c", 4, "-o", out, p)
        assert r.code in (0, 1), "case %d: %r" % (n, r)
        if want is None:
            assert r.code == 1, "case %d: Pillow refuses %r, parimg loads it" % (n, bytes(data))
        elif r.code:
            assert pillow_overreads(p, bytes(data)), "case %d: Pillow loads %r: %r" % (
                n, bytes(data), r)
        else:
            got = np.load(out)[0]
            assert got.shape == want.shape and (got == want).all(), "case %d: %r" % (
                n, bytes(data))
        checked += 1
    assert checked > 300, checked


if __name__ == "__main__":
    harness.main(globals())
