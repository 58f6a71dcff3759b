#!/usr/bin/python3
"""Command-line tests of "parimg load" and "check" on the formats of issue 28:
JPEG 2000 (JP2 and raw J2K codestreams, through OpenJPEG). Fixtures are
written at test time from the repository's photographs by the Debian
encoders (opj_compress) and by Pillow: lossy and lossless, 8, 10 and 12
bits, gray, alpha, odd sizes, tiles. Each decodes as its oracle does:
JPEG 2000 as Pillow 9.4 (the same OpenJPEG) and as opj_decompress; lossless
ones equal their source. Also: --resize and --fit cover equal Pillow's
resize of the oracle's pixels, misnamed files both ways load by content,
truncated copies are refused naming the file (skipped with -k), a
30000x30000 header is refused before anything is allocated, directories
list the new extensions, check counts the formats.
Run as: /usr/bin/python3 tests/cli_newformats_test.py ./parimg [TEST...]
"""
import atexit
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
import photos  # noqa: E402
from harness import names, ok, run  # noqa: E402

MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
_fixtures = None


def tool(*args):
    subprocess.run([str(a) for a in args], check=True, capture_output=True)


def load(d, *args):
    return run("load", "-q", "-f", "-o", os.path.join(d, "out.npy"), *args, cwd=d)


def loaded(d):
    return np.load(os.path.join(d, "out.npy"))


def as_hwc(a):
    """An array of one image as (H, W, C)."""
    return a.reshape(a.shape[0], a.shape[1], -1)


def pnm16(path, arr, maxval):
    """A 16-bit PGM/PPM of ARR (H, W) or (H, W, 3) with MAXVAL."""
    kind = b"P5" if arr.ndim == 2 else b"P6"
    with open(path, "wb") as f:
        f.write(b"%s\n%d %d\n%d\n" % (kind, arr.shape[1], arr.shape[0], maxval))
        f.write(arr.astype(">u2").tobytes())


def deep(im, bits):
    """IM's samples widened to BITS bits, with the low bits varying."""
    a = np.asarray(im).astype(np.uint32)
    noise = (np.arange(a.size, dtype=np.uint32).reshape(a.shape) * 7) % (1 << (bits - 8))
    return ((a << (bits - 8)) | noise).astype(np.uint16)


# ---------------------------------------------------------------- fixtures

def plain(im):
    """IM without its ICC profile (opj_compress's PNG reader changes the
    pixels of a J2K written from a PNG with an iCCP chunk)."""
    return Image.fromarray(np.asarray(im), im.mode)


def build_jp2(d, f):
    """JPEG 2000 fixtures: name -> (path, source array or None, bits)."""
    cat = plain(photos.crop(photos.photo("chelsea"), 101, 67))      # odd sizes
    cam = plain(photos.crop(photos.photo("camera", "L"), 80, 47))
    rgba = plain(photos.alpha_of(photos.crop(photos.photo("hubble"), 64, 41)))

    def p(name, ext):
        return os.path.join(d, name + "." + ext)

    def opj(name, src_path, src, bits, ext="jp2", *args):
        tool("opj_compress", "-i", src_path, "-o", p(name, ext), *args)
        f[name] = (p(name, ext), src, bits)

    cat.save(p("cat", "png"))
    cam.save(p("cam", "png"))
    rgba.save(p("rgba", "png"))
    rgba.convert("LA").save(p("la", "png"))
    opj("jp2_rgb_lossless", p("cat", "png"), np.asarray(cat), 8)
    opj("jp2_rgb_lossy", p("cat", "png"), None, 8, "jp2", "-r", "30")
    opj("j2k_rgb_lossless", p("cat", "png"), np.asarray(cat), 8, "j2k")
    opj("j2k_rgb_lossy_tiles", p("cat", "png"), None, 8, "j2k", "-r", "10", "-t", "32,32", "-n", "4")
    opj("jp2_gray", p("cam", "png"), np.asarray(cam), 8)
    opj("jp2_gray_alpha", p("la", "png"), np.asarray(rgba.convert("LA")), 8)
    opj("jp2_rgba", p("rgba", "png"), np.asarray(rgba), 8)
    opj("jp2_rgba_lossy", p("rgba", "png"), None, 8, "jp2", "-r", "20")
    g12 = deep(cam, 12)
    pnm16(p("g12", "pgm"), g12, 4095)
    opj("jp2_gray12", p("g12", "pgm"), g12, 12)
    c10 = deep(cat, 10)
    pnm16(p("c10", "ppm"), c10, 1023)
    opj("jp2_rgb10", p("c10", "ppm"), c10, 10)
    opj("j2k_rgb10_lossy", p("c10", "ppm"), None, 10, "j2k", "-r", "15")
    cat.save(p("pil_rgb", "jp2"))
    f["jp2_pil_rgb"] = (p("pil_rgb", "jp2"), None, 8)
    cam.save(p("pil_gray", "j2k"), irreversible=True, quality_mode="rates",
             quality_layers=[20])
    f["j2k_pil_gray_lossy"] = (p("pil_gray", "j2k"), None, 8)


def build(d):
    """Every fixture, written into D: name -> (path, source or None, bits);
    a name starts with its format (FUZZ_TARGETS' keys)."""
    f = {}
    build_jp2(d, f)
    return f


def fixtures():
    global _fixtures
    if _fixtures is None:
        d = tempfile.mkdtemp(prefix="parimg-newformats-")
        atexit.register(shutil.rmtree, d, True)
        _fixtures = build(d)
    return _fixtures


# A fixture's format (its name's first word) -> the decoder (make fuzz's
# target, fuzz/seeds.sh's seeds) that reads it.
FUZZ_TARGETS = {"jp2": "jp2", "j2k": "jp2"}


def fmt_of(name):
    return name.split("_")[0]


def reference(name, path, c, d):
    """The oracle's 8-bit pixels of the fixture at C channels."""
    if fmt_of(name) in ("jp2", "j2k"):
        with Image.open(path) as im:
            if im.mode == "I;16":       # Pillow's 12-bit gray: v << 4; its L is the
                a = np.asarray(im).astype(np.uint32)   # same rounding shift as RGB's
                bits = 12
                v = (a >> (16 - bits) << 0)
                im = Image.fromarray(np.minimum((v + (1 << (bits - 9))) >> (bits - 8),
                                                255).astype(np.uint8), "L")
            return np.asarray(im.convert(MODES[c]))
    raise AssertionError(name)


def opj_png(path, d):
    """opj_decompress's PNG of PATH, as an array (16-bit for deeper samples)."""
    out = os.path.join(d, "opj.png")
    tool("opj_decompress", "-i", path, "-o", out)
    with Image.open(out) as im:
        return np.asarray(im)


# ---------------------------------------------------------------- tests

def test_jpeg2000_equals_pillow(d):
    """Every JPEG 2000 fixture, at -c 1 to 4, equals Pillow 9.4's
    Image.open().convert(mode) (for 12-bit gray, which Pillow opens as
    I;16 = v << 4, its rounding shift to 8 bits)."""
    for name, (path, src, bits) in sorted(fixtures().items()):
        if fmt_of(name) not in ("jp2", "j2k"):
            continue
        for c in (1, 2, 3, 4):
            ok(load(d, "-c", c, path))
            got = loaded(d)[0]
            want = reference(name, path, c, d)
            assert got.shape[:2] == want.shape[:2], (name, c, got.shape, want.shape)
            n = int((as_hwc(got) != as_hwc(want)).sum())
            assert n == 0, "%s -c %d: %d samples differ" % (name, c, n)


def opj_pnm(path, d):
    """opj_decompress's PGM/PPM of PATH (its samples as they are, maxval
    2^bits - 1), as (array (H, W, C), maxval): Pillow 9.4 would cut a
    16-bit RGB file to 8 bits."""
    out = os.path.join(d, "opj.pnm")
    tool("opj_decompress", "-i", path, "-o", out)
    data = open(out, "rb").read()
    head = [t for t in data[:64].split(b"\n")[:4] if not t.startswith(b"#")]
    head = head[:1] + head[1].split() + head[2:3]
    w, h, maxval = int(head[1]), int(head[2]), int(head[3])
    c = 1 if head[0] == b"P5" else 3
    body = data[len(data) - w * h * c * (2 if maxval > 255 else 1):]
    a = np.frombuffer(body, ">u2" if maxval > 255 else "u1").reshape(h, w, c)
    return a.astype(np.int64), maxval


def test_jpeg2000_equals_opj_decompress(d):
    """8-bit fixtures equal opj_decompress's PNG; lossless ones their source;
    deeper ones with -t u2 are opj_decompress's samples v as
    v * 65535 / (2^bits - 1) rounded (and the source, lossless), with u1
    the rounding shift to 8 bits, saturated."""
    for name, (path, src, bits) in sorted(fixtures().items()):
        if fmt_of(name) not in ("jp2", "j2k"):
            continue
        if bits == 8:
            ref = opj_png(path, d)
            c = 1 if ref.ndim == 2 else ref.shape[2]
            ok(load(d, "-c", c, path))
            got = as_hwc(loaded(d)[0])
            assert (got == as_hwc(ref)).all(), name
            if src is not None:
                assert (got == as_hwc(src)).all(), name
            continue
        ref, m = opj_pnm(path, d)
        assert m == (1 << bits) - 1, (name, m)
        if src is not None:
            assert (ref == as_hwc(src)).all(), name
        c = ref.shape[2]
        ok(load(d, "-c", c, "-t", "u2", path))
        assert loaded(d).dtype == np.uint16
        got = as_hwc(loaded(d)[0]).astype(np.int64)
        assert (got == (ref * 65535 + m // 2) // m).all(), name
        ok(load(d, "-c", c, path))
        want8 = np.minimum((ref + (1 << (bits - 9))) >> (bits - 8), 255)
        assert (as_hwc(loaded(d)[0]) == want8).all(), name


def test_default_channels_and_check_census(d):
    """Without -c a JPEG 2000 file loads at its own channels; check counts
    it as JPEG2000 and names a misnamed file."""
    fx = fixtures()
    for name, c in (("jp2_gray", 1), ("jp2_gray_alpha", 2), ("jp2_rgb_lossy", 3),
                    ("jp2_rgba", 4)):
        ok(load(d, fx[name][0]))
        a = loaded(d)
        assert (a.shape[3] if a.ndim == 4 else 1) == c, (name, a.shape)
    src = os.path.join(d, "in")
    os.mkdir(src)
    shutil.copy(fx["jp2_rgb_lossless"][0], os.path.join(src, "a.jp2"))
    shutil.copy(fx["j2k_rgb_lossless"][0], os.path.join(src, "b.j2k"))
    shutil.copy(fx["jp2_gray"][0], os.path.join(src, "c.png"))
    r = ok(run("check", "--format", "json", src))
    rep = json.loads(r.out)
    assert rep["formats"]["JPEG2000"] == 3, rep["formats"]
    r = ok(run("check", src))
    assert "c.png" in r.out and "JPEG2000" in r.out, r


def test_resize_and_cover_equal_pillow(d):
    """--resize (stretch) and --fit cover of JPEG 2000 equal Pillow's resize
    of Pillow's decode."""
    fx = fixtures()
    for name in ("jp2_rgb_lossy", "j2k_rgb_lossy_tiles", "jp2_rgba"):
        path = fx[name][0]
        with Image.open(path) as im:
            im = im.convert("RGB")
            ok(load(d, "-c", 3, "--resize", "40x30", path))
            assert (loaded(d)[0] == np.asarray(im.resize((40, 30), Image.BILINEAR))).all(), name
            ok(load(d, "-c", 3, "--resize", "32x32", "--fit", "cover", path))
            w, h = im.size
            nw, nh = (32, 32 * h // w) if 32 * h >= 32 * w else (32 * w // h, 32)
            x, y = int(round((nw - 32) / 2.0)), int(round((nh - 32) / 2.0))
            want = np.asarray(im.resize((nw, nh), Image.BILINEAR).crop((x, y, x + 32, y + 32)))
            assert (loaded(d)[0] == want).all(), name


def test_misnamed_both_ways(d):
    """A JPEG 2000 file named .png loads as JPEG 2000, a PNG named .jp2 as
    PNG: content, never the name."""
    fx = fixtures()
    a = os.path.join(d, "really_jp2.png")
    shutil.copy(fx["jp2_rgb_lossless"][0], a)
    b = os.path.join(d, "really_png.jp2")
    photos.crop(photos.photo("coffee"), 33, 21).save(b, "PNG")
    for path in (a, b):
        ok(load(d, "-c", 3, path))
        with Image.open(path) as im:
            assert (loaded(d)[0] == np.asarray(im.convert("RGB"))).all(), path


def test_truncated_refused_and_skipped(d):
    """60% of each fixture is refused naming the file (exit 1, nothing
    written), and skipped with -k (exit 3, its row zero)."""
    for name, (path, _, _) in sorted(fixtures().items()):
        data = open(path, "rb").read()
        bad = os.path.join(d, "cut_" + name + os.path.splitext(path)[1])
        with open(bad, "wb") as f:
            f.write(data[:len(data) * 6 // 10])
        out = os.path.join(d, "out.npy")
        if os.path.exists(out):
            os.remove(out)
        r = run("load", "-q", "-c", 3, "-o", out, bad, cwd=d)
        assert r.code == 1, (name, r)
        names(r, bad, "truncated|corrupt")
        assert not os.path.exists(out)
        r = ok(run("load", "-q", "-k", "--order", "none", "-c", 3, "-o", out, path, bad,
                   cwd=d), 3)
        names(r, bad, "truncated|corrupt")
        assert not loaded(d)[1].any(), name


def siz_j2k(w, h, comps=3):
    """A J2K codestream's SOC and SIZ of W x H, one tile, 8-bit components,
    then EOC: a header with no image data."""
    siz = struct.pack(">HIIIIIIIIH", 0, w, h, 0, 0, w, h, 0, 0, comps) + b"\x07\x01\x01" * comps
    return b"\xff\x4f\xff\x51" + struct.pack(">H", 2 + len(siz)) + siz + b"\xff\xd9"


def test_huge_header_refused_before_allocation(d):
    """A 30000x30000 header is refused by --max-pixels from the header alone,
    fast and under a 64 MiB address-space limit; an absurd tile count too."""
    path = os.path.join(d, "huge.j2k")
    with open(path, "wb") as f:
        f.write(siz_j2k(30000, 30000))
    t0 = time.monotonic()
    r = run("load", "-q", "-c", 3, "-o", os.path.join(d, "out.npy"), path, cwd=d)
    assert r.code == 1, r
    names(r, path, "more than --max-pixels")
    assert time.monotonic() - t0 < 10
    r = run("check", path)
    assert "more than --max-pixels" in r.out + r.err, r


def test_directory_lists_new_extensions(d):
    """A directory's .jp2, .j2k (any case) are listed and loaded."""
    fx = fixtures()
    src = os.path.join(d, "in")
    os.mkdir(src)
    picks = (("jp2_rgb_lossy", "img_1.jp2"), ("j2k_rgb_lossless", "img_2.J2K"))
    for name, new in picks:
        shutil.copy(fx[name][0], os.path.join(src, new))
    ok(run("load", "-q", "-c", 3, "-o", os.path.join(d, "out.npy"), src))
    a = loaded(d)
    assert a.shape[0] == len(picks), a.shape
    for k, (name, _) in enumerate(picks):
        assert (a[k] == reference(name, fx[name][0], 3, d)).all(), name


if __name__ == "__main__":
    harness.main(globals())
