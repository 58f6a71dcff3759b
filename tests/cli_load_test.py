#!/usr/bin/python3
"""Command-line tests for "parimg load": run the real binary on inputs made
here with Pillow and numpy, and check exit status, stderr, and the .npy left
behind against independent oracles (numpy reads the array, Pillow decodes
the inputs). Run as: /usr/bin/python3 tests/cli_load_test.py ./parimg [TEST...]
"""
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import warnings
import zlib

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
from harness import names, ok, pil, png_chunk, run, save_image  # noqa: E402

SRC = os.path.normpath(os.path.join(harness.HERE, "..", "src", "cmd"))


# ---------------------------------------------------------------- helpers

def rng_for(name):
    """A generator seeded from the test's name: same data on every run."""
    return np.random.default_rng(zlib.crc32(name.encode()))


def npy_dtype(path):
    """The descr in the file's header, read with numpy's own parser."""
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        shape, fortran, dtype = np.lib.format._read_array_header(f, version)
    assert not fortran
    return dtype.str, shape


def leftovers(d):
    """Hidden temporary files ('.NAME.PID.N.tmp') left in directory D."""
    return sorted(n for n in os.listdir(d) if n.startswith(".") and n.endswith(".tmp"))


def failed_cleanly(r, d, out="out.npy", code=1):
    """Exit CODE, no OUT, no temporary file in OUT's directory."""
    ok(r, code)
    path = os.path.join(d, out)
    assert not os.path.exists(path), "%s was left behind\n%r" % (out, r)
    tmp = leftovers(os.path.dirname(path))
    assert not tmp, "temporary files left: %s\n%r" % (tmp, r)


def usage(r):
    """A usage error: exit 2, "parimg: ..." and the --help hint."""
    ok(r, 2)
    assert r.err.startswith("parimg: "), r
    assert "Try 'parimg load --help'" in r.err, r
    assert r.out == "", r


def expected_file(arr):
    """What np.save writes for ARR."""
    b = io.BytesIO()
    np.save(b, arr)
    return b.getvalue()


def luma(rgb):
    """ITU-R 601-2 luma in 16.16 fixed point, rounded: Pillow's convert('L')."""
    v = rgb.astype(np.uint32)
    return ((v[..., 0] * 19595 + v[..., 1] * 38470 + v[..., 2] * 7471 + 0x8000) >> 16).astype(rgb.dtype)


def native(path):
    """Pillow's decode split into ('gray'|'color', samples, alpha or None),
    8-bit; palettes and tRNS applied with numpy, not with Pillow's convert."""
    with Image.open(path) as im:
        im.load()
        mode, info = im.mode, dict(im.info)
        a = np.asarray(im)
        pal = im.getpalette() if mode == "P" else None
    trns = info.get("transparency")
    if mode == "L":
        alpha = None if trns is None else np.where(a == trns, 0, 255).astype(np.uint8)
        return "gray", a, alpha
    if mode == "LA":
        return "gray", a[..., 0], a[..., 1]
    if mode == "RGB":
        alpha = None if trns is None else np.where((a == np.array(trns)).all(-1), 0, 255).astype(np.uint8)
        return "color", a, alpha
    if mode == "RGBA":
        return "color", a[..., :3], a[..., 3]
    if mode == "P":
        rgb = np.array(pal, np.uint8).reshape(-1, 3)[a]
        alpha = None
        if isinstance(trns, bytes):
            table = np.full(256, 255, np.uint8)
            table[:len(trns)] = np.frombuffer(trns, np.uint8)
            alpha = table[a]
        elif trns is not None:
            alpha = np.where(a == trns, 0, 255).astype(np.uint8)
        return "color", rgb, alpha
    raise AssertionError("unexpected mode %s for %s" % (mode, path))


def expect_channels(path, c):
    """The array parimg should give for PATH converted to C channels."""
    kind, s, alpha = native(path)
    if alpha is None:
        alpha = np.full(s.shape[:2], 255, np.uint8)
    if kind == "gray":
        g, rgb = s, np.repeat(s[..., None], 3, axis=-1)
    else:
        g, rgb = luma(s), s
    return {1: g, 2: np.dstack([g, alpha]), 3: rgb, 4: np.dstack([rgb, alpha])}[c]


def png_header_only(w, h):
    """A PNG with valid CRCs that claims W x H gray pixels but holds one row."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * (w + 1))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) +
            png_chunk(b"IEND", b""))


def png_raw(path):
    """Decode a non-interlaced PNG of 8- or 16-bit samples with zlib and
    numpy alone: (samples as stored, IHDR fields, tRNS bytes or None)."""
    d = open(path, "rb").read()
    off, idat, trns = 8, b"", None
    while True:
        n, = struct.unpack(">I", d[off:off + 4])
        kind, body = d[off + 4:off + 8], d[off + 8:off + 8 + n]
        off += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"tRNS":
            trns = body
        elif kind == b"IEND":
            break
    assert interlace == 0 and depth in (8, 16), path
    ch = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    bpp = ch * depth // 8
    stride = w * bpp
    z = zlib.decompress(idat)
    prev, out = bytearray(stride), bytearray()
    for y in range(h):
        f = z[y * (stride + 1)]
        line = bytearray(z[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        prev = line
    arr = np.frombuffer(bytes(out), ">u2" if depth == 16 else np.uint8).reshape(h, w, ch)
    return arr.astype(np.uint16 if depth == 16 else np.uint8), (w, h, depth, ctype), trns


def ihdr(path):
    with open(path, "rb") as f:
        head = f.read(29)
    return struct.unpack(">IIBB", head[16:26])    # w, h, depth, colour type


# PngSuite files whose Pillow RGBA needs more than im.convert('RGBA'), and why.
SPECIAL = {}


def pngsuite_rgba(path):
    """Pillow's decode of a PngSuite file as 8-bit RGBA: 16-bit samples
    reduced to their high byte, tRNS keys applied on the stored samples."""
    w, h, depth, ctype = ihdr(path)
    with Image.open(path) as im:
        im.load()
        mode, trns = im.mode, im.info.get("transparency")
        if mode in ("I", "I;16", "I;16B"):
            # 16-bit gray: Pillow keeps it 16-bit; take the high byte ourselves.
            v = np.asarray(im).astype(np.uint32)
            g = (v >> 8).astype(np.uint8)
            alpha = np.full(g.shape, 255, np.uint8) if trns is None else \
                np.where(v == trns, 0, 255).astype(np.uint8)
            SPECIAL[os.path.basename(path)] = "16-bit gray: Pillow mode %s, high byte taken with numpy%s" % (
                mode, "; tRNS key compared on the 16-bit samples" if trns is not None else "")
            return np.dstack([g, g, g, alpha])
        rgba = np.asarray(im.convert("RGBA")).copy()
    if ctype == 0 and trns is not None and depth < 8:
        # Pillow 9 leaves a sub-byte gray tRNS key unapplied (its key is in
        # the file's bit depth, the pixels scaled to 8 bits).
        key = trns * 255 // ((1 << depth) - 1)
        rgba[..., 3] = np.where(rgba[..., 0] == key, 0, 255)
        SPECIAL[os.path.basename(path)] = ("%d-bit gray with tRNS key %d: Pillow's convert('RGBA') "
                                           "ignores it; alpha 0 where the pixel is %d" % (depth, trns, key))
    elif depth == 16 and ctype == 2 and trns is not None:
        # Pillow decodes 16-bit RGB to 8 bits and cannot match the 16-bit
        # key; find the keyed pixels on the stored 16-bit samples.
        raw, _, t = png_raw(path)
        key = np.array(struct.unpack(">HHH", t), np.uint16)
        rgba[..., 3] = np.where((raw == key).all(-1), 0, 255)
        SPECIAL[os.path.basename(path)] = ("16-bit RGB with tRNS key: Pillow gives 8-bit RGB and never "
                                           "matches the key; keyed pixels found with a zlib+numpy decode")
    return rgba


def pngsuite(sub):
    d = os.path.join(harness.PNGSUITE, sub)
    return sorted(os.path.join(d, n) for n in os.listdir(d) if n.endswith(".png"))


def make_gray_dir(d, n, h, w, name="image_%d.png", seed="gray"):
    """N random gray PNGs in D; returns their arrays by index."""
    rng = rng_for(seed)
    os.makedirs(d, exist_ok=True)
    arrs = []
    for k in range(n):
        a = rng.integers(0, 256, (h, w), dtype=np.uint8)
        save_image(os.path.join(d, name % k), a)
        arrs.append(a)
    return arrs


def flat_dir(d, names, h=12, w=16):
    """One flat gray file per name, its value its index + 1 (rows identify
    files); written in the format the extension names."""
    os.makedirs(d, exist_ok=True)
    for k, n in enumerate(names):
        fmt = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "bmp": "BMP", "tga": "TGA",
               "pgm": "PPM", "ppm": "PPM", "pnm": "PPM", "gif": "GIF",
               "webp": "WEBP", "tif": "TIFF", "tiff": "TIFF"}[n.rsplit(".", 1)[1].lower()]
        kw = {"JPEG": {"quality": 100}, "WEBP": {"lossless": True}}.get(fmt, {})
        save_image(os.path.join(d, n), np.full((h, w), 10 * (k + 1), np.uint8), format=fmt, **kw)


def load(d, *args, **kw):
    return run("load", *args, cwd=d, **kw)


def manifest_lines(path):
    with open(path) as f:
        return f.read().splitlines()


# ---------------------------------------------------------------- basic

def test_basic_gray_dir(d):
    rng = rng_for("basic")
    h, w = (int(x) for x in rng.integers(1, 80, 2))
    arrs = make_gray_dir(os.path.join(d, "imgs"), 30, h, w)
    r = ok(load(d, "-o", "out.npy", "imgs"))
    assert r.out == "" and r.err == "", r
    out = os.path.join(d, "out.npy")
    want = np.stack([pil(os.path.join(d, "imgs", "image_%d.png" % k)) for k in range(30)])
    assert (want == np.stack(arrs)).all()   # Pillow reads back what we wrote
    a = np.load(out)
    assert a.shape == (30, h, w) and a.dtype == np.uint8, (a.shape, a.dtype)
    for k in range(30):
        assert (a[k] == want[k]).all(), "row %d is not image_%d" % (k, k)
    m = np.load(out, mmap_mode="r")
    assert m.shape == (30, h, w) and m.dtype == np.uint8 and (m == want).all()
    data = open(out, "rb").read()
    exp = expected_file(want)
    hlen = len(exp) - want.nbytes
    assert data[:hlen] == exp[:hlen], (data[:hlen], exp[:hlen])
    assert data == exp, "file differs from np.save's"
    assert leftovers(d) == []


def test_header_matches_np_save(d):
    # Shapes whose header lengths differ: 3 and 4 axes, 1 to 3 digits of N.
    rng = rng_for("header")
    cases = [(1, 5, 7, 1, "u1"), (120, 2, 3, 1, "u1"), (7, 4, 3, 4, "u1"), (9, 3, 2, 2, "u2"),
             (10, 3, 3, 3, "f4"), (11, 2, 5, 1, "f8")]
    for n, h, w, c, t in cases:
        sub = "in_%d_%d" % (n, c)
        mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[c]
        shape = (h, w) if c == 1 else (h, w, c)
        arrs = []
        for k in range(n):
            a = rng.integers(0, 256, shape, dtype=np.uint8)
            save_image(os.path.join(d, sub, "image_%d.png" % k), a, mode)
            arrs.append(a)
        out = "out_%s.npy" % sub
        ok(load(d, "-o", out, "-t", t, "-c", str(c), sub))
        want = np.stack(arrs)
        want = {"u1": want, "u2": want.astype("<u2") * 257, "f4": want.astype("<f4"),
                "f8": want.astype("<f8")}[t]
        data = open(os.path.join(d, out), "rb").read()
        assert data == expected_file(want), "%s: differs from np.save's %s %s" % (out, want.dtype, want.shape)


# ---------------------------------------------------------------- inputs

def test_dir_filtering(d):
    kept = ["a.png", "b.PNG", "c.jpg", "d.JPEG", "e.bmp", "f.tga", "g.pgm", "h.ppm",
            "i.pnm", "j.Jpg", "k.Bmp", "l.gif", "m.webp", "n.WebP", "o.tif", "p.TIFF"]
    flat_dir(os.path.join(d, "in"), kept)
    junk = b"not an image at all\n"
    # Files that would make the load fail if they were taken.
    for n in (".hidden.png", ".x.jpg", ".x.tif", "x.tif.orig", "y.txt", "noext", "png",
              "z.png.bak"):
        open(os.path.join(d, "in", n), "wb").write(junk)
    Image.new("L", (3, 3)).save(os.path.join(d, "in", "real.tiff.1"), "TIFF")
    save_image(os.path.join(d, "in", "sub", "z.png"), np.zeros((5, 5), np.uint8))
    os.makedirs(os.path.join(d, "in", "dir.png"))     # a directory with an image name
    r = ok(load(d, "-c", "1", "-o", "out.npy", "--manifest", "m.txt", "in"))
    assert r.err == "", r
    got = manifest_lines(os.path.join(d, "m.txt"))
    assert got == ["in/" + n for n in kept], got
    a = np.load(os.path.join(d, "out.npy"))
    assert a.shape == (len(kept), 12, 16) and a.dtype == np.uint8, a.shape
    for k, n in enumerate(kept):
        want = np.asarray(Image.open(os.path.join(d, "in", n)).convert("L"))
        assert (want == 10 * (k + 1)).all(), n
        assert (a[k] == want).all(), "row %d (%s) differs from Pillow's decode" % (k, n)


def test_dir_trailing_slash_and_relative_paths(d):
    flat_dir(os.path.join(d, "in"), ["p1.png", "p2.png"])
    ok(load(d, "-o", "out.npy", "--manifest", "m.txt", "in/"))
    assert manifest_lines(os.path.join(d, "m.txt")) == ["in/p1.png", "in/p2.png"]


def test_explicit_files_and_several_dirs(d):
    arrs = make_gray_dir(os.path.join(d, "A"), 3, 6, 5, "image_%d.png", seed="A")
    brr = make_gray_dir(os.path.join(d, "B"), 3, 6, 5, "image_%d.png", seed="B")
    extra = save_image(os.path.join(d, "C", "one.png"), rng_for("C").integers(0, 256, (6, 5), dtype=np.uint8))
    r = ok(load(d, "-o", "out.npy", "--manifest", "m.txt", "B", "C/one.png", "A"))
    assert r.err == "", r
    want_paths = ["A/image_0.png", "A/image_1.png", "A/image_2.png", "B/image_0.png",
                  "B/image_1.png", "B/image_2.png", "C/one.png"]
    assert manifest_lines(os.path.join(d, "m.txt")) == want_paths
    a = np.load(os.path.join(d, "out.npy"))
    want = np.stack(arrs + brr + [pil(extra)])
    assert a.shape == (7, 6, 5) and (a == want).all()
    # A lone explicit file.
    ok(load(d, "-o", "one.npy", "C/one.png"))
    assert (np.load(os.path.join(d, "one.npy")) == pil(extra)[None]).all()


def test_stdin_list_from_find(d):
    arrs = make_gray_dir(os.path.join(d, "imgs"), 12, 4, 9)
    save_image(os.path.join(d, "imgs", "with space 12.png"), np.full((4, 9), 7, np.uint8))
    open(os.path.join(d, "imgs", "notes.txt"), "w").write("x\n")
    found = subprocess.run(["find", "imgs", "-name", "*.png"], cwd=d, capture_output=True,
                           text=True, check=True).stdout
    lines = found.splitlines()
    assert len(lines) == 13
    # Empty lines anywhere, and no newline after the last path.
    text = "\n\n" + "\n\n".join(lines[:6]) + "\n\n\n" + "\n".join(lines[6:])
    r = ok(load(d, "-o", "out.npy", "--manifest", "m.txt", "-", stdin=text))
    assert r.err == "", r
    want_paths = ["imgs/image_%d.png" % k for k in range(12)] + ["imgs/with space 12.png"]
    assert manifest_lines(os.path.join(d, "m.txt")) == want_paths
    a = np.load(os.path.join(d, "out.npy"))
    assert a.shape == (13, 4, 9)
    assert (a[:12] == np.stack(arrs)).all() and (a[12] == 7).all()


def test_stdin_and_arguments_together(d):
    arrs = make_gray_dir(os.path.join(d, "imgs"), 4, 3, 3)
    r = ok(load(d, "--order", "none", "-o", "out.npy", "--manifest", "m.txt",
                "imgs/image_3.png", "-", "imgs/image_0.png", stdin="imgs/image_2.png\nimgs/image_1.png\n"))
    assert manifest_lines(os.path.join(d, "m.txt")) == [
        "imgs/image_3.png", "imgs/image_2.png", "imgs/image_1.png", "imgs/image_0.png"], r
    a = np.load(os.path.join(d, "out.npy"))
    assert (a == np.stack([arrs[3], arrs[2], arrs[1], arrs[0]])).all()


def test_no_images_in_input(d):
    os.makedirs(os.path.join(d, "empty"))
    open(os.path.join(d, "empty", "readme.txt"), "w").write("x")
    r = load(d, "-o", "out.npy", "empty")
    failed_cleanly(r, d)
    names(r, "empty", "no image files")
    r = load(d, "-o", "out.npy", "-", stdin="\n\n")
    failed_cleanly(r, d)
    assert r.err.startswith("parimg: ") and "no image files" in r.err, r


# ---------------------------------------------------------------- order

ORDER_NAMES = ["b_10.png", "b_9.png", "a_100.png", "a_20.png", "a_3.png", "c_9.png",
               "c_08.png", "c_7.png", "image_2.png", "image_10.png", "image_1.png", "x1y10.png",
               "x1y9.png", "x10y1.png"]
NATURAL = ["a_3.png", "a_20.png", "a_100.png", "b_9.png", "b_10.png", "c_7.png", "c_08.png",
           "c_9.png", "image_1.png", "image_2.png", "image_10.png", "x1y9.png", "x1y10.png",
           "x10y1.png"]


def check_rows(d, out, paths):
    """Rows of OUT are the flat files at PATHS (value = 10 * (index + 1))."""
    a = np.load(os.path.join(d, out))
    assert a.shape[0] == len(paths)
    for k, p in enumerate(paths):
        assert (a[k] == pil(os.path.join(d, p))).all(), "row %d is not %s" % (k, p)


def test_order_natural_default(d):
    flat_dir(os.path.join(d, "in"), ORDER_NAMES)
    ok(load(d, "-o", "out.npy", "--manifest", "m.txt", "in"))
    want = ["in/" + n for n in NATURAL]
    assert manifest_lines(os.path.join(d, "m.txt")) == want
    check_rows(d, "out.npy", want)
    ok(load(d, "--order", "natural", "-o", "out2.npy", "in"))
    assert open(os.path.join(d, "out2.npy"), "rb").read() == open(os.path.join(d, "out.npy"), "rb").read()


def test_order_name(d):
    flat_dir(os.path.join(d, "in"), ORDER_NAMES)
    ok(load(d, "--order", "name", "-o", "out.npy", "--manifest", "m.txt", "in"))
    want = sorted("in/" + n for n in ORDER_NAMES)
    assert want.index("in/image_10.png") < want.index("in/image_2.png")
    assert manifest_lines(os.path.join(d, "m.txt")) == want
    check_rows(d, "out.npy", want)


def test_order_none(d):
    flat_dir(os.path.join(d, "in"), ORDER_NAMES)
    given = ["in/" + n for n in ORDER_NAMES]          # deliberately unsorted
    ok(load(d, "--order", "none", "-o", "a.npy", "--manifest", "a.txt", *given))
    assert manifest_lines(os.path.join(d, "a.txt")) == given
    check_rows(d, "a.npy", given)
    rev = given[::-1]
    ok(load(d, "--order", "none", "-o", "b.npy", "--manifest", "b.txt", "-", stdin="\n".join(rev) + "\n"))
    assert manifest_lines(os.path.join(d, "b.txt")) == rev
    check_rows(d, "b.npy", rev)
    # The same stdin list without --order none comes out natural.
    ok(load(d, "-o", "c.npy", "--manifest", "c.txt", "-", stdin="\n".join(rev) + "\n"))
    assert manifest_lines(os.path.join(d, "c.txt")) == ["in/" + n for n in NATURAL]


def test_manifest_matches_rows(d):
    rng = rng_for("manifest")
    paths = []
    for k in range(17):
        p = "m%d/f_%d.png" % (k % 3, int(rng.integers(0, 1000)) * 100 + k)
        save_image(os.path.join(d, p), rng.integers(0, 256, (5, 6, 3), dtype=np.uint8))
        paths.append(p)
    ok(load(d, "-j", "3", "-o", "out.npy", "--manifest", "rows.txt", "m2", "m0", "m1"))
    lines = manifest_lines(os.path.join(d, "rows.txt"))
    assert sorted(lines) == sorted(paths), lines
    a = np.load(os.path.join(d, "out.npy"))
    assert a.shape == (17, 5, 6, 3)
    for k, p in enumerate(lines):
        assert (a[k] == pil(os.path.join(d, p))).all(), "row %d is not %s" % (k, p)
    raw = open(os.path.join(d, "rows.txt"), "rb").read()
    assert raw.endswith(b"\n") and raw.count(b"\n") == 17


# ---------------------------------------------------------------- channels

def make_sources(d):
    """One PNG per source kind, 23x17, all in D; returns {kind: path}."""
    rng = rng_for("sources")
    h, w = 17, 23
    g = rng.integers(0, 256, (h, w), dtype=np.uint8)
    g[0, :4] = 77                                       # some pixels equal to the key
    alpha = rng.integers(0, 256, (h, w), dtype=np.uint8)
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    idx = rng.integers(0, 200, (h, w), dtype=np.uint8)
    pal = rng.integers(0, 256, 256 * 3, dtype=np.uint8).tolist()
    out = {}
    out["L"] = save_image(os.path.join(d, "L.png"), g)
    out["LA"] = save_image(os.path.join(d, "LA.png"), np.dstack([g, alpha]), "LA")
    out["RGB"] = save_image(os.path.join(d, "RGB.png"), rgb)
    out["RGBA"] = save_image(os.path.join(d, "RGBA.png"), np.dstack([rgb, alpha]), "RGBA")
    p = Image.fromarray(idx, "P")
    p.putpalette(pal)
    out["P"] = os.path.join(d, "P.png")
    p.save(out["P"])
    out["P+tRNS"] = os.path.join(d, "Pt.png")
    p.save(out["P+tRNS"], transparency=bytes(rng.integers(0, 256, 200, dtype=np.uint8).tolist()))
    out["P+key"] = os.path.join(d, "Pk.png")
    p.save(out["P+key"], transparency=int(idx[0, 0]))
    out["L+key"] = os.path.join(d, "Lk.png")
    Image.fromarray(g).save(out["L+key"], transparency=77)
    out["RGB+key"] = os.path.join(d, "RGBk.png")
    Image.fromarray(rgb).save(out["RGB+key"], transparency=tuple(int(x) for x in rgb[3, 3]))
    # Pillow wrote what we meant: the chunks and modes we rely on.
    with Image.open(out["P+tRNS"]) as im:
        assert im.mode == "P" and isinstance(im.info.get("transparency"), bytes)
    with Image.open(out["L+key"]) as im:
        assert im.mode == "L" and im.info.get("transparency") == 77
    return out


# A palette's tRNS makes it RGBA; a gray or RGB colour key leaves the PNG's
# own colour type (Pillow's mode L / RGB too): use -c 2 / -c 4 for its alpha.
# Without -c: 3 channels (ImageFolder's convert("RGB")) unless every image is
# gray; alpha dropped.
DEFAULT_CHANNELS = {"L": 1, "LA": 1, "RGB": 3, "RGBA": 3, "P": 3, "P+tRNS": 3, "P+key": 3,
                    "L+key": 1, "RGB+key": 3}


def test_pillow_luma_formula(d):
    # The oracle's formula is Pillow's RGB->L on this machine, for every colour.
    v = np.arange(1 << 24, dtype=np.uint32)
    rgb = np.stack([v >> 16, (v >> 8) & 255, v & 255], -1).astype(np.uint8).reshape(4096, 4096, 3)
    assert (np.asarray(Image.fromarray(rgb).convert("L")) == luma(rgb)).all()
    rgba = np.dstack([rgb[:64], np.full((64, 4096), 9, np.uint8)])
    la = np.asarray(Image.fromarray(rgba, "RGBA").convert("LA"))
    assert (la[..., 0] == luma(rgb[:64])).all() and (la[..., 1] == 9).all()


def test_channels_conversions(d):
    src = make_sources(d)
    bad = []
    for kind, path in src.items():
        name = os.path.basename(path)
        for c in (1, 2, 3, 4):
            out = "out_%s_%d.npy" % (name, c)
            r = load(d, "-c", str(c), "-o", out, name)
            if r.code != 0:
                bad.append("%s -c %d: %r" % (kind, c, r))
                continue
            a = np.load(os.path.join(d, out))
            want = expect_channels(path, c)
            if a.shape != (1,) + want.shape:
                bad.append("%s -c %d: shape %s, want %s" % (kind, c, a.shape, (1,) + want.shape))
            elif not (a[0] == want).all():
                diff = np.argwhere(a[0] != want)[0]
                bad.append("%s -c %d: differs at %s: %s vs %s" % (
                    kind, c, tuple(diff), a[0][tuple(diff[:2])], want[tuple(diff[:2])]))
    assert not bad, "\n".join(bad)


def test_channels_match_pillow_convert(d):
    # The numpy expectations agree with Pillow's own conversions, where
    # Pillow has one that means the same thing.
    src = make_sources(d)
    warnings.simplefilter("ignore", UserWarning)    # Pillow's advice on P + tRNS
    for kind in ("L", "LA", "RGB", "RGBA", "P", "P+tRNS", "L+key", "RGB+key"):
        with Image.open(src[kind]) as im:
            assert (np.asarray(im.convert("RGBA")) == expect_channels(src[kind], 4)).all(), kind
            assert (np.asarray(im.convert("RGB")) == expect_channels(src[kind], 3)).all(), kind
            assert (np.asarray(im.convert("L")) == expect_channels(src[kind], 1)).all(), kind


def test_channels_default_keeps_colour(d):
    src = make_sources(d)
    for kind, c in DEFAULT_CHANNELS.items():
        out = "out_%s.npy" % kind
        r = ok(load(d, "-o", out, os.path.basename(src[kind])))
        a = np.load(os.path.join(d, out))
        want = expect_channels(src[kind], c)
        assert a.shape == (1,) + want.shape, (kind, a.shape, want.shape)
        assert (a[0] == want).all(), kind
        # A note only when something was converted: alpha dropped here.
        alpha = kind in ("LA", "RGBA", "P+tRNS", "P+key")
        assert ("alpha dropped from 1 image" in r.err) == alpha, (kind, r.err)
    # Mixed inputs, in either order: colour anywhere makes every row RGB,
    # equal to Pillow's convert("RGB"), with one line saying so.
    for first, second in (("L", "RGBA"), ("RGBA", "L"), ("LA", "P+tRNS"), ("RGB", "LA"),
                          ("L", "LA"), ("L", "RGB")):
        os.makedirs(os.path.join(d, "mix"), exist_ok=True)
        for f in os.listdir(os.path.join(d, "mix")):
            os.unlink(os.path.join(d, "mix", f))
        os.link(src[first], os.path.join(d, "mix", "image_1.png"))
        os.link(src[second], os.path.join(d, "mix", "image_2.png"))
        out = "mix_%s_%s.npy" % (first, second)
        r = ok(load(d, "-o", out, "mix"))
        a = np.load(os.path.join(d, out))
        c = 3 if max(DEFAULT_CHANNELS[first], DEFAULT_CHANNELS[second]) == 3 else 1
        want = np.stack([expect_channels(src[first], c), expect_channels(src[second], c)])
        assert a.shape == want.shape and (a == want).all(), (first, second, a.shape)
        mode = "RGB" if c == 3 else "L"
        for k, f in enumerate((src[first], src[second])):
            assert (a[k] == np.asarray(Image.open(f).convert(mode))).all(), (first, second, k)
        gray = sum(DEFAULT_CHANNELS[k] == 1 for k in (first, second)) if c == 3 else 0
        if gray:
            assert r.err.count("\n") == 1 and "3 channels: %d gray image" % gray in r.err \
                and "-c 1 to keep gray" in r.err, r
    # -c as given: no note.
    r = ok(load(d, "-o", "mix_c.npy", "-c", "4", "mix"))
    assert r.err == "", r


def photo_tree(d, names):
    """A class tree under D/train of 40x30 JPEG photos: NAMES maps each
    file's path below train to its mode. Returns the paths in load's order."""
    rng = rng_for("phototree")
    base = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    paths = []
    for k, (name, mode) in enumerate(sorted(names.items())):
        p = os.path.join(d, "train", name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        Image.fromarray(np.roll(base, 7 * k, axis=1)).convert(mode).save(p, quality=90)
        paths.append(p)
    return paths


def test_channels_mixed_photo_tree(d):
    # The case: a class tree of JPEGs, gray ones first or last.
    for tag, cat, dog in (("grayfirst", "L", "RGB"), ("colourfirst", "RGB", "L")):
        shutil.rmtree(os.path.join(d, "train"), ignore_errors=True)
        names = {"cat/a%d.jpg" % i: cat for i in range(4)}
        names.update({"dog/b%d.jpg" % i: dog for i in range(2)})
        paths = photo_tree(d, names)
        for jobs in ("1", "2"):
            out = "x_%s_%s.npy" % (tag, jobs)
            r = ok(load(d, "-j", jobs, "-o", out, "--labels", "y.npy", "-f", "train"))
            a = np.load(os.path.join(d, out))
            assert a.shape == (6, 30, 40, 3), (tag, a.shape)
            for k, p in enumerate(paths):
                assert (a[k] == np.asarray(Image.open(p).convert("RGB"))).all(), (tag, p)
            ngray = 4 if cat == "L" else 2
            assert r.err == ("parimg: %s: 3 channels: %d gray images converted to RGB; "
                             "-c 1 to keep gray\n" % (out, ngray)), r
    # All gray: one channel, no note, Pillow's convert("L").
    shutil.rmtree(os.path.join(d, "train"), ignore_errors=True)
    paths = photo_tree(d, {"cat/a%d.jpg" % i: "L" for i in range(3)})
    r = ok(load(d, "-o", "g.npy", "--labels", "y.npy", "-f", "train"))
    assert r.err == "", r
    a = np.load(os.path.join(d, "g.npy"))
    assert a.shape == (3, 30, 40), a.shape
    for k, p in enumerate(paths):
        assert (a[k] == np.asarray(Image.open(p).convert("L"))).all(), p


def test_channels_guess_again_keeps_outputs_right(d):
    # Gray first, colour last: decoded as gray, then again as RGB. The
    # outputs beside the array (split, stats, manifest) are those of RGB,
    # and under -k a bad file is reported once.
    shutil.rmtree(os.path.join(d, "train"), ignore_errors=True)
    names = {"a/g%d.jpg" % i: "L" for i in range(5)}
    names["b/z.jpg"] = "RGB"
    paths = photo_tree(d, names)
    open(os.path.join(d, "train", "a", "g2b.jpg"), "wb").write(b"not an image\n")
    r = load(d, "-k", "-o", "k.npy", "--stats", "k.json", "--manifest", "k.txt",
             os.path.join("train", "a"), os.path.join("train", "b"))
    assert r.code == 3, r
    assert r.err.count("g2b.jpg") == 1, r
    assert "3 channels: 5 gray images converted to RGB" in r.err, r
    a = np.load(os.path.join(d, "k.npy"))
    assert a.shape == (7, 30, 40, 3), a.shape
    st = json.load(open(os.path.join(d, "k.json")))
    assert st["channels"] == 3, st
    assert len(manifest_lines(os.path.join(d, "k.txt"))) == 7
    rows = [p for p in paths]
    rows.insert(3, None)        # g2b.jpg sorts after g2.jpg
    for k, p in enumerate(rows):
        want = 0 if p is None else np.asarray(Image.open(p).convert("RGB"))
        assert (a[k] == want).all(), (k, p)
    # And with --split: both parts RGB.
    r = ok(load(d, "-o", "s.npy", "--split", "0.5,0.5", "-f", os.path.join("train", "a", "g0.jpg"),
                os.path.join("train", "a", "g1.jpg"), os.path.join("train", "b", "z.jpg"),
                os.path.join("train", "a", "g3.jpg")))
    assert np.load(os.path.join(d, "s.train.npy")).shape[-1] == 3
    assert np.load(os.path.join(d, "s.val.npy")).shape[-1] == 3
    # Shards agree, though only the last one's rows hold colour.
    os.unlink(os.path.join(d, "train", "a", "g2b.jpg"))
    for k in range(2):
        ok(load(d, "--shard", "%d/2" % k, "-o", "p%d.npy" % k, os.path.join("train", "a"),
                os.path.join("train", "b")))
        assert np.load(os.path.join(d, "p%d.npy" % k)).shape[1:] == (30, 40, 3), k


# ---------------------------------------------------------------- dtypes

def make_depth_sources(d):
    """Three 8-bit and three 16-bit gray PNGs, 9x11; returns (8-bit arrays,
    16-bit arrays) as Pillow decodes them."""
    rng = rng_for("depth")
    a8, a16 = [], []
    for k in range(3):
        a = rng.integers(0, 256, (9, 11), dtype=np.uint8)
        a[0, :2] = (0, 255)
        save_image(os.path.join(d, "g8", "image_%d.png" % k), a)
        b = rng.integers(0, 65536, (9, 11), dtype=np.uint16)
        b[0, :4] = (0, 65535, 255, 256)
        p = save_image(os.path.join(d, "g16", "image_%d.png" % k), b, "I;16")
        with Image.open(p) as im:
            assert im.mode in ("I", "I;16") and ihdr(p)[2] == 16, im.mode
        got = pil(p).astype(np.uint16)
        assert (got == b).all()
        a8.append(pil(os.path.join(d, "g8", "image_%d.png" % k)))
        a16.append(got)
    return np.stack(a8), np.stack(a16)


def test_dtypes(d):
    a8, a16 = make_depth_sources(d)
    hi = (a16 >> 8).astype(np.uint8)
    cases = [
        ("g8", [], "|u1", a8),
        ("g8", ["-t", "u1"], "|u1", a8),
        ("g8", ["-t", "u2"], "<u2", a8.astype(np.uint16) * 257),
        ("g8", ["-t", "f4"], "<f4", a8.astype(np.float32)),
        ("g8", ["-t", "f8"], "<f8", a8.astype(np.float64)),
        ("g8", ["-t", "f4", "--scale"], "<f4", (a8 / 255.0).astype(np.float32)),
        ("g8", ["-t", "f8", "--scale"], "<f8", a8 / 255.0),
        ("g16", [], "|u1", hi),
        ("g16", ["-t", "u2"], "<u2", a16),
        ("g16", ["-t", "f4"], "<f4", hi.astype(np.float32)),
        ("g16", ["-t", "f8"], "<f8", hi.astype(np.float64)),
        ("g16", ["-t", "f4", "--scale"], "<f4", (a16 / 65535.0).astype(np.float32)),
        ("g16", ["--scale", "-t", "f8"], "<f8", a16 / 65535.0),
        ("g16", ["-t", "u2", "-c", "3"], "<u2", np.repeat(a16[..., None], 3, -1)),
        ("g8", ["-t", "f8", "--scale", "-c", "2"], "<f8",
         np.stack([a8 / 255.0, np.ones(a8.shape)], -1)),
        ("g16", ["-t", "f8", "--scale", "-c", "4"], "<f8",
         np.concatenate([np.repeat((a16 / 65535.0)[..., None], 3, -1), np.ones(a16.shape + (1,))], -1)),
        ("g16", ["-t", "u2", "-c", "2"], "<u2", np.stack([a16, np.full(a16.shape, 65535, np.uint16)], -1)),
    ]
    bad = []
    for n, (src, args, descr, want) in enumerate(cases):
        out = "out%d.npy" % n
        r = load(d, *args, "-o", out, src)
        if r.code != 0:
            bad.append("%s %s: %r" % (src, args, r))
            continue
        got_descr, shape = npy_dtype(os.path.join(d, out))
        a = np.load(os.path.join(d, out))
        if got_descr != descr or a.shape != want.shape or not np.array_equal(a, want):
            bad.append("%s %s: descr %s shape %s, want %s %s; equal=%s" % (
                src, args, got_descr, a.shape, descr, want.shape,
                a.shape == want.shape and np.array_equal(a, want)))
        if "--scale" in args and not (a.min() >= 0 and a.max() <= 1 and a.max() == 1 and a.min() == 0):
            bad.append("%s %s: not spanning [0,1]: %s..%s" % (src, args, a.min(), a.max()))
    assert not bad, "\n".join(bad)


def test_dtypes_mixed_depths(d):
    # 8- and 16-bit files in one array: each scaled by its own depth.
    a8, a16 = make_depth_sources(d)
    os.makedirs(os.path.join(d, "mix"))
    os.link(os.path.join(d, "g8", "image_0.png"), os.path.join(d, "mix", "image_0.png"))
    os.link(os.path.join(d, "g16", "image_0.png"), os.path.join(d, "mix", "image_1.png"))
    ok(load(d, "-t", "f8", "--scale", "-o", "s.npy", "mix"))
    a = np.load(os.path.join(d, "s.npy"))
    assert np.array_equal(a, np.stack([a8[0] / 255.0, a16[0] / 65535.0])), a
    ok(load(d, "-t", "u2", "-o", "u.npy", "mix"))
    a = np.load(os.path.join(d, "u.npy"))
    assert np.array_equal(a, np.stack([a8[0].astype(np.uint16) * 257, a16[0]]))


def test_scale_needs_float(d):
    make_gray_dir(os.path.join(d, "in"), 2, 3, 3)
    for args in ([], ["-t", "u1"], ["-t", "u2"]):
        r = load(d, *args, "--scale", "-o", "out.npy", "in")
        usage(r)
        assert "--scale" in r.err, r
        assert not os.path.exists(os.path.join(d, "out.npy")) and leftovers(d) == []


def test_recipe_parity_float64_bgr(d):
    # The Python recipe parimg replaces:
    #   np.stack([cv2.imread(p).astype(np.float64) for p in sorted(glob(...))])
    rng = rng_for("recipe")
    for k in range(14):
        save_image(os.path.join(d, "data", "image_%d.png" % k), rng.integers(0, 256, (13, 21), dtype=np.uint8))
    ok(load(d, "-c", "3", "-t", "f8", "--order", "name", "-o", "out.npy", "data"))
    a = np.load(os.path.join(d, "out.npy"))
    files = sorted(os.path.join(d, "data", n) for n in os.listdir(os.path.join(d, "data")))
    want = np.stack([np.repeat(pil(p)[..., None], 3, axis=-1).astype(np.float64) for p in files])
    assert a.dtype == np.float64 and a.shape == (14, 13, 21, 3), (a.dtype, a.shape)
    assert np.array_equal(a, want)
    try:
        import cv2
    except ImportError:
        return
    assert np.array_equal(a, np.stack([cv2.imread(p).astype(np.float64) for p in files]))


# ---------------------------------------------------------------- sizes

def test_sizes_differ(d):
    rng = rng_for("sizes")
    for k in range(8):
        shape = (40, 50) if k in (5, 6) else (100, 100)
        save_image(os.path.join(d, "in", "image_%d.png" % k), rng.integers(0, 256, shape, dtype=np.uint8))
    for j in ("1", "4"):
        r = load(d, "-j", j, "-o", "out.npy", "in")
        failed_cleanly(r, d)
        names(r, "in/image_5.png", r"50x40.*100x100")
        assert "image_6" not in r.err, r
    # The first image sets the size: then the second one differs.
    os.rename(os.path.join(d, "in", "image_5.png"), os.path.join(d, "in", "a_first.png"))
    r = load(d, "-j", "1", "-o", "out.npy", "in")
    failed_cleanly(r, d)
    names(r, "in/image_0.png", r"100x100.*50x40")


def test_sizes_differ_reports_lowest_row_in_parallel(d):
    # Two misfits at the end of worker 0's range and the start of worker 1's:
    # the report must not depend on which worker got there first.
    rng = rng_for("sizes-par")
    n = 200
    for k in range(n):
        shape = (40, 50) if k in (99, 100) else (96, 96)
        save_image(os.path.join(d, "in", "image_%d.png" % k), rng.integers(0, 256, shape, dtype=np.uint8),
                   compress_level=1)
    for j in ("2", "4"):
        r = load(d, "-j", j, "-o", "out.npy", "in")
        failed_cleanly(r, d)
        names(r, "in/image_99.png", r"50x40.*96x96")


def test_resize(d):
    rng = rng_for("resize")
    sizes = [(40, 50), (100, 100), (7, 3), (24, 32), (300, 20)]
    for k, (h, w) in enumerate(sizes):
        save_image(os.path.join(d, "in", "image_%d.png" % k), rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        save_image(os.path.join(d, "flat", "image_%d.png" % k), np.full((h, w), 17 * (k + 1), np.uint8))
    ok(load(d, "--resize", "32x24", "-o", "out.npy", "in"))
    a = np.load(os.path.join(d, "out.npy"))
    assert a.shape == (5, 24, 32, 3) and a.dtype == np.uint8, a.shape
    # An image already 32x24 and a constant image keep their values.
    ok(load(d, "--resize", "32x24", "-o", "flat.npy", "flat"))
    f = np.load(os.path.join(d, "flat.npy"))
    assert f.shape == (5, 24, 32)
    for k in range(5):
        assert (f[k] == 17 * (k + 1)).all(), (k, np.unique(f[k]))
    ok(load(d, "--resize", "32x24", "-t", "f8", "--scale", "-c", "1", "-o", "f8.npy", "flat"))
    g = np.load(os.path.join(d, "f8.npy"))
    assert g.shape == (5, 24, 32) and np.allclose(g, f / 255.0)


def test_max_pixels(d):
    save_image(os.path.join(d, "a.png"), np.zeros((40, 50), np.uint8))
    r = load(d, "--max-pixels", "1999", "-o", "out.npy", "a.png")
    failed_cleanly(r, d)
    names(r, "a.png", "--max-pixels")
    ok(load(d, "--max-pixels", "2000", "-o", "out.npy", "a.png"))
    # Refused before decoding: these files claim more pixels than they hold,
    # so a decode would fail differently (or allocate gigabytes).
    open(os.path.join(d, "huge.png"), "wb").write(png_header_only(16384, 16385))
    open(os.path.join(d, "big.png"), "wb").write(png_header_only(3000, 3000))
    save_image(os.path.join(d, "small.png"), np.zeros((8, 8), np.uint8))
    for args, bad in ((["huge.png"], "huge.png"),                        # default 2^28
                      (["--max-pixels", "1000", "big.png"], "big.png"),
                      (["--resize", "8x8", "--max-pixels", "100000", "--order", "none",
                        "small.png", "big.png"], "big.png"),              # in a worker
                      (["-j", "1", "--resize", "8x8", "--order", "none", "small.png", "huge.png"],
                       "huge.png")):
        r = load(d, "-o", "o2.npy", *args)
        failed_cleanly(r, d, "o2.npy")
        names(r, bad, "--max-pixels")
        assert "corrupt" not in r.err, r


# ---------------------------------------------------------------- PngSuite

def test_pngsuite_rgba(d):
    files = pngsuite("primary") + pngsuite("16bit")
    assert len(files) >= 100, len(files)
    bad = []
    for p in files:
        want = pngsuite_rgba(p)
        r = load(d, "-c", "4", "-f", "-o", "out.npy", p)
        if r.code != 0:
            bad.append("%s: %r" % (os.path.basename(p), r))
            continue
        a = np.load(os.path.join(d, "out.npy"))
        if a.shape != (1,) + want.shape:
            bad.append("%s: shape %s, want %s" % (os.path.basename(p), a.shape, want.shape))
        elif not (a[0] == want).all():
            where = np.argwhere(a[0] != want)
            y, x, c = where[0]
            bad.append("%s: %d samples differ, first at y=%d x=%d: %s vs Pillow %s" % (
                os.path.basename(p), len(where), y, x, a[0][y, x], want[y, x]))
    print("     PngSuite files checked specially:")
    for n in sorted(SPECIAL):
        print("       %s: %s" % (n, SPECIAL[n]))
    assert not bad, "%d of %d files differ:\n%s" % (len(bad), len(files), "\n".join(bad))


def test_pngsuite_16bit_gray_exact(d):
    files = [p for p in pngsuite("16bit") if ihdr(p)[2:] == (16, 0)]
    assert len(files) >= 6, files
    bad = []
    for p in files:
        with Image.open(p) as im:
            want = np.asarray(im).astype(np.uint16)
        r = load(d, "-t", "u2", "-c", "1", "-f", "-o", "out.npy", p)
        if r.code != 0:
            bad.append("%s: %r" % (p, r))
            continue
        if npy_dtype(os.path.join(d, "out.npy"))[0] != "<u2":
            bad.append("%s: descr %s" % (p, npy_dtype(os.path.join(d, "out.npy"))))
        a = np.load(os.path.join(d, "out.npy"))
        if a.shape != (1,) + want.shape or not (a[0] == want).all():
            bad.append("%s: differs from Pillow's 16-bit samples" % p)
    assert not bad, "\n".join(bad)


def test_pngsuite_corrupt_refused(d):
    files = pngsuite("corrupt")
    assert len(files) >= 10, files
    bad = []
    for p in files:
        for j in ("1", "2"):
            r = load(d, "-j", j, "-o", "out.npy", p)
            msg = re.search(r"^parimg: %s: \S.*$" % re.escape(p), r.err, re.M)
            if r.code != 1 or not msg or os.path.exists(os.path.join(d, "out.npy")) or leftovers(d):
                bad.append("%s -j %s: %r" % (os.path.basename(p), j, r))
    assert not bad, "\n".join(bad)
    # The same files among good ones, in a worker's range, are refused too.
    good = pngsuite("primary")[:6]
    for p in files:
        r = load(d, "-j", "2", "--order", "none", "-o", "out.npy", good[0], good[1], p, good[2])
        if r.code != 1 or not re.search(r"^parimg: %s: \S" % re.escape(p), r.err, re.M) or \
                os.path.exists(os.path.join(d, "out.npy")) or leftovers(d):
            bad.append("%s (third of four): %r" % (os.path.basename(p), r))
    assert not bad, "\n".join(bad)


# ---------------------------------------------------------------- bad inputs

def make_bad_inputs(d):
    """{kind: (path, reason regex)}: each is a file (or not) load must refuse."""
    rng = rng_for("bad")
    b = os.path.join(d, "bad")
    os.makedirs(b)
    good = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (12, 16), dtype=np.uint8)).save(good, "PNG")
    png = bytearray(good.getvalue())
    i = png.index(b"IDAT")
    crc = png[:]
    crc[i + 4 + 10] ^= 0x40                           # a byte of IDAT's data
    open(os.path.join(b, "crc.png"), "wb").write(crc)
    open(os.path.join(b, "trunc.png"), "wb").write(png[:len(png) * 2 // 3])
    open(os.path.join(b, "empty.png"), "wb").close()
    open(os.path.join(b, "x.png"), "w").write("hello, this is text\n" * 20)
    os.makedirs(os.path.join(b, "adir.png"))
    os.symlink("no-such-target.png", os.path.join(b, "dangling.png"))
    jpg = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (12, 16), dtype=np.uint8)).save(jpg, "JPEG", quality=90)
    jb = jpg.getvalue()
    open(os.path.join(b, "half.jpg"), "wb").write(jb[:len(jb) // 2])
    return {
        "crc": ("bad/crc.png", "CRC"),
        "truncated": ("bad/trunc.png", "truncated"),
        "zero-byte": ("bad/empty.png", "empty"),
        "text": ("bad/x.png", "not a supported image"),
        "directory": ("bad/adir.png", "Is a directory"),
        "dangling symlink": ("bad/dangling.png", "No such file"),
        "nonexistent": ("bad/nothere.png", "No such file"),
        "half jpeg": ("bad/half.jpg", "[Cc]orrupt|[Tt]runcat"),
    }


def test_bad_inputs(d):
    bads = make_bad_inputs(d)
    make_gray_dir(os.path.join(d, "good"), 10, 12, 16)
    good = ["good/image_%d.png" % k for k in range(10)]
    os.makedirs(os.path.join(d, "out"))
    problems = []
    for kind, (path, reason) in bads.items():
        for j in ("1", "4"):
            for pos in (0, 5, 10):
                paths = good[:pos] + [path] + good[pos:]
                r = load(d, "-j", j, "--order", "none", "-o", "out/OUT.npy", "-",
                         stdin="\n".join(paths) + "\n")
                what = "%s -j %s at row %d" % (kind, j, pos)
                try:
                    failed_cleanly(r, d, "out/OUT.npy")
                    names(r, path, reason)
                    others = [ln for ln in r.err.splitlines() if "good/" in ln]
                    assert not others, "good files blamed: %s" % others
                except AssertionError as e:
                    problems.append("%s: %s" % (what, e))
    assert not problems, "\n".join(problems)


def test_bad_explicit_arguments(d):
    # The same refusals for files named on the command line.
    bads = make_bad_inputs(d)
    make_gray_dir(os.path.join(d, "good"), 3, 12, 16)
    for kind, (path, reason) in bads.items():
        if kind == "directory":
            continue    # a directory argument is read as a directory
        r = load(d, "-o", "out.npy", "good", path)
        failed_cleanly(r, d)
        names(r, path, reason)


# ---------------------------------------------------------------- keep going

def test_keep_going(d):
    bads = make_bad_inputs(d)
    arrs = make_gray_dir(os.path.join(d, "good"), 9, 12, 16)
    good = ["good/image_%d.png" % k for k in range(9)]
    for kind in ("crc", "nonexistent", "half jpeg"):
        path = bads[kind][0]
        for j in ("1", "4"):
            for pos in (0, 4, 9):
                paths = good[:pos] + [path] + good[pos:]
                out = "k_%s_%s_%d.npy" % (kind.replace(" ", "_"), j, pos)
                r = load(d, "-k", "-j", j, "--order", "none", "-o", out, *paths)
                ok(r, 3)
                names(r, path, bads[kind][1])
                assert "1 of 10 rows skipped" in r.err, r
                a = np.load(os.path.join(d, out))
                assert a.shape == (10, 12, 16), a.shape
                assert (a[pos] == 0).all(), "%s: bad row %d not zero" % (out, pos)
                rest = np.delete(a, pos, axis=0)
                assert (rest == np.stack(arrs)).all(), "%s: good rows differ" % out
    assert leftovers(d) == []
    # --keep-going is spelled out too, and a clean run still exits 0.
    ok(load(d, "--keep-going", "-o", "clean.npy", "good"))


def test_keep_going_all_bad(d):
    bads = make_bad_inputs(d)
    r = load(d, "-k", "-o", "out.npy", bads["crc"][0], bads["zero-byte"][0])
    failed_cleanly(r, d)
    assert r.err.startswith("parimg: "), r


# ---------------------------------------------------------------- clobbering

def test_no_clobber(d):
    make_gray_dir(os.path.join(d, "in"), 3, 4, 4)
    precious = b"precious, not an array\n"
    open(os.path.join(d, "out.npy"), "wb").write(precious)
    r = load(d, "-o", "out.npy", "in")
    ok(r, 1)
    names(r, "out.npy", "file exists")
    assert open(os.path.join(d, "out.npy"), "rb").read() == precious
    assert leftovers(d) == []
    # Refused before any input is read: broken inputs are not mentioned.
    open(os.path.join(d, "broken.png"), "wb").write(b"\x89PNG garbage")
    r = load(d, "-o", "out.npy", "broken.png", "missing.png", "-", stdin="nothere.png\n")
    ok(r, 1)
    assert r.err.splitlines() == ["parimg: out.npy: file exists (use -f to replace it)"], r
    assert open(os.path.join(d, "out.npy"), "rb").read() == precious
    # -f replaces it.
    r = ok(load(d, "-f", "-o", "out.npy", "in"))
    assert np.load(os.path.join(d, "out.npy")).shape == (3, 4, 4)
    assert leftovers(d) == []


def test_no_clobber_symlink_target(d):
    # A dangling symlink at OUT exists too: it is not followed nor replaced.
    make_gray_dir(os.path.join(d, "in"), 2, 4, 4)
    os.symlink("elsewhere.npy", os.path.join(d, "out.npy"))
    r = load(d, "-o", "out.npy", "in")
    ok(r, 1)
    names(r, "out.npy", "file exists")
    assert os.path.islink(os.path.join(d, "out.npy")) and not os.path.exists(os.path.join(d, "elsewhere.npy"))


def test_no_clobber_manifest(d):
    make_gray_dir(os.path.join(d, "in"), 3, 4, 4)
    precious = b"keep me\n"
    open(os.path.join(d, "m.txt"), "wb").write(precious)
    r = load(d, "-o", "out.npy", "--manifest", "m.txt", "in")
    failed_cleanly(r, d)
    names(r, "m.txt", "file exists")
    assert open(os.path.join(d, "m.txt"), "rb").read() == precious
    r = load(d, "-o", "out.npy", "--manifest", "m.txt", "nothere.png")
    failed_cleanly(r, d)
    assert r.err.splitlines() == ["parimg: m.txt: file exists (use -f to replace it)"], r
    ok(load(d, "-f", "-o", "out.npy", "--manifest", "m.txt", "in"))
    assert manifest_lines(os.path.join(d, "m.txt")) == ["in/image_%d.png" % k for k in range(3)]
    assert np.load(os.path.join(d, "out.npy")).shape == (3, 4, 4)
    # Both exist: -f replaces both.
    ok(load(d, "-f", "-o", "out.npy", "--manifest", "m.txt", "--order", "none", "in/image_2.png"))
    assert manifest_lines(os.path.join(d, "m.txt")) == ["in/image_2.png"]
    assert np.load(os.path.join(d, "out.npy")).shape == (1, 4, 4)
    assert leftovers(d) == []


def test_failed_run_keeps_existing_outputs(d):
    # -f with a broken input: the old OUT and manifest stay as they were.
    make_gray_dir(os.path.join(d, "in"), 4, 4, 4)
    open(os.path.join(d, "in", "image_9.png"), "wb").write(b"junk")
    open(os.path.join(d, "out.npy"), "wb").write(b"old")
    open(os.path.join(d, "m.txt"), "wb").write(b"old\n")
    r = load(d, "-f", "-j", "2", "-o", "out.npy", "--manifest", "m.txt", "in")
    ok(r, 1)
    names(r, "in/image_9.png")
    assert open(os.path.join(d, "out.npy"), "rb").read() == b"old"
    assert open(os.path.join(d, "m.txt"), "rb").read() == b"old\n"
    assert leftovers(d) == []


# ---------------------------------------------------------------- usage

def test_usage_errors(d):
    make_gray_dir(os.path.join(d, "in"), 2, 3, 3)
    cases = [
        (["in"], "no output"),
        (["-o", "out.npy"], "no input"),
        (["-c", "0", "-o", "out.npy", "in"], "--channels"),
        (["-c", "5", "-o", "out.npy", "in"], "--channels"),
        (["-c", "x", "-o", "out.npy", "in"], "--channels"),
        (["-c", "", "-o", "out.npy", "in"], "--channels"),
        (["--channels=-1", "-o", "out.npy", "in"], "--channels"),
        (["-c", "3x", "-o", "out.npy", "in"], "--channels"),
        (["-t", "u4", "-o", "out.npy", "in"], "--dtype"),
        (["-t", "f2", "-o", "out.npy", "in"], "--dtype"),
        (["--dtype", "U1", "-o", "out.npy", "in"], "--dtype"),
        (["--order", "random", "-o", "out.npy", "in"], "--order"),
        (["--order", "", "-o", "out.npy", "in"], "--order"),
        (["--resize", "0x5", "-o", "out.npy", "in"], "--resize"),
        (["--resize", "10", "-o", "out.npy", "in"], "--resize"),
        (["--resize", "10x", "-o", "out.npy", "in"], "--resize"),
        (["--resize", "x10", "-o", "out.npy", "in"], "--resize"),
        (["--resize", "10x-3", "-o", "out.npy", "in"], "--resize"),
        (["--resize", "16777217x1", "-o", "out.npy", "in"], "--resize"),
        (["--resize", "10x10x", "-o", "out.npy", "in"], "--resize"),
        (["--max-pixels", "0", "-o", "out.npy", "in"], "--max-pixels"),
        (["--max-pixels", "-1", "-o", "out.npy", "in"], "--max-pixels"),
        (["--max-pixels", "abc", "-o", "out.npy", "in"], "--max-pixels"),
        (["--max-pixels", "10k", "-o", "out.npy", "in"], "--max-pixels"),
        (["--max-pixels", "18446744073709551616", "-o", "out.npy", "in"], "--max-pixels"),
        (["-j", "0", "-o", "out.npy", "in"], "--jobs"),
        (["-j", "two", "-o", "out.npy", "in"], "--jobs"),
        (["--schedule", "guided", "-o", "out.npy", "in"], "--schedule"),
        (["--bogus", "-o", "out.npy", "in"], ""),
        (["-Z", "-o", "out.npy", "in"], ""),
        (["-o"], ""),
        (["in", "-o"], ""),
        (["--manifest", "out.npy", "-o", "out.npy", "in"], "--manifest"),
        (["--scale", "-o", "out.npy", "in"], "--scale"),
    ]
    bad = []
    for args, what in cases:
        r = load(d, *args)
        try:
            usage(r)
            assert what in r.err, "%r not in stderr" % what
            assert sorted(os.listdir(d)) == ["in"], "files created: %s" % os.listdir(d)
        except AssertionError as e:
            bad.append("%s: %s\n  %r" % (args, e, r))
    assert not bad, "\n".join(bad)


def test_usage_error_lines(d):
    # Each usage error is one "parimg: ..." line naming the culprit, then
    # the hint: no other line (such as getopt's own "load: ..." message).
    make_gray_dir(os.path.join(d, "in"), 2, 3, 3)
    cases = [(["-c", "9", "-o", "out.npy", "in"], "9"),
             (["--order", "random", "-o", "out.npy", "in"], "random"),
             (["--bogus", "-o", "out.npy", "in"], "--bogus"),
             (["-Z", "-o", "out.npy", "in"], "Z"),
             (["--output"], "output"),
             (["in", "-o"], "o"),
             (["--order", "-o", "out.npy", "in"], "-o"),
             (["--order"], "--order"),
             # A long option given a value it does not take: named as
             # written, not as its short form or its internal code.
             (["--help=yes", "-o", "out.npy", "in"], "--help"),
             (["--keep-going=1", "-o", "out.npy", "in"], "--keep-going"),
             (["--scale=1", "-t", "f4", "-o", "out.npy", "in"], "--scale")]
    bad = []
    for args, culprit in cases:
        r = load(d, *args)
        lines = r.err.splitlines()
        if r.code != 2 or len(lines) != 2 or not lines[0].startswith("parimg: ") or \
                culprit not in lines[0] or not lines[0].isprintable() or \
                not lines[1].startswith("Try 'parimg load --help'"):
            bad.append("%s: %r" % (args, r))
    assert not bad, "\n".join(bad)


def test_output_dir_missing(d):
    make_gray_dir(os.path.join(d, "in"), 2, 3, 3)
    r = load(d, "-o", "nodir/out.npy", "in")
    ok(r, 1)
    names(r, "nodir/out.npy", "No such file or directory")
    assert not os.path.exists(os.path.join(d, "nodir"))
    # A manifest that cannot be written: no OUT either.
    r = load(d, "-o", "out.npy", "--manifest", "nodir/m.txt", "in")
    failed_cleanly(r, d)
    names(r, "nodir/m.txt", "No such file or directory")


# ---------------------------------------------------------------- parallelism

def test_output_identical_across_jobs(d):
    rng = rng_for("jobs")
    for k in range(37):
        save_image(os.path.join(d, "in", "image_%d.png" % k), rng.integers(0, 256, (15, 20, 3), dtype=np.uint8))
    runs = [["-j", "1"], ["-j", "2"], ["-j", "3"], ["-j", "8"], ["-j", "1", "--schedule", "dynamic"],
            ["-j", "3", "--schedule", "dynamic"], ["-j", "8", "--schedule", "dynamic"],
            ["-j", "64"], ["-j", "40", "--schedule", "dynamic"]]
    blobs = []
    for n, args in enumerate(runs):
        r = ok(load(d, *args, "-o", "o%d.npy" % n, "in"))
        assert r.err == "", r
        blobs.append(open(os.path.join(d, "o%d.npy" % n), "rb").read())
    want = np.stack([pil(os.path.join(d, "in", "image_%d.png" % k)) for k in range(37)])
    assert blobs[0] == expected_file(want)
    for args, b in zip(runs, blobs):
        assert b == blobs[0], "%s gives a different file" % args


def test_verbose_reports_workers(d):
    make_gray_dir(os.path.join(d, "in"), 6, 3, 3)
    r = ok(load(d, "-v", "-j", "3", "-o", "out.npy", "in"))
    lines = [ln for ln in r.err.splitlines() if ln.startswith("parimg: worker")]
    assert len(lines) == 3, r


# ---------------------------------------------------------------- help

def long_options():
    """Every long option load accepts, from longopts[] in src/cmd/load.c and
    OPT_COMMON_LONG in src/cmd/opt.h."""
    src = open(os.path.join(SRC, "load.c")).read()
    body = re.search(r"longopts\[\]\s*=\s*\{(.*?)\n\};", src, re.S).group(1)
    opts = re.findall(r'\{\s*"([^"]+)"', body)
    if "OPT_COMMON_LONG" in body:
        hdr = open(os.path.join(SRC, "opt.h")).read()
        macro = re.search(r"#define OPT_COMMON_LONG((?:.*\\\n)*.*)", hdr).group(1)
        opts += re.findall(r'\{\s*"([^"]+)"', macro)
    return opts


def test_help_lists_every_long_option(d):
    opts = long_options()
    assert len(opts) >= 15 and "output" in opts and "jobs" in opts and "schedule" in opts, opts
    for flag in ("--help", "-h"):
        r = ok(load(d, flag))
        assert r.err == "", r
        assert r.out.startswith("usage: parimg load"), r
        missing = [o for o in opts if not re.search(r"--%s\b" % re.escape(o), r.out)]
        assert not missing, "--help does not list: %s" % missing
    # --help wins over other, even bad, options.
    r = ok(load(d, "-o", "x.npy", "--help"))
    assert r.out.startswith("usage: parimg load") and not os.path.exists(os.path.join(d, "x.npy"))


# ---------------------------------------------------------------- gen + load

def test_gen_then_load(d):
    r = run("gen", "-q", "-n", "50", "-s", "20x10", "-c", "3", "-o", "gen", cwd=d)
    ok(r)
    r = ok(load(d, "-o", "out.npy", "--manifest", "m.txt", "gen"))
    assert r.err == "", r
    a = np.load(os.path.join(d, "out.npy"))
    assert a.shape == (50, 10, 20, 3) and a.dtype == np.uint8, a.shape
    assert manifest_lines(os.path.join(d, "m.txt")) == ["gen/image_%d.png" % k for k in range(50)]
    for k in range(50):
        with Image.open(os.path.join(d, "gen", "image_%d.png" % k)) as im:
            assert im.mode == "RGB" and im.size == (20, 10)
            assert (a[k] == np.asarray(im)).all(), "row %d differs from Pillow's decode" % k
    assert len({a[k].tobytes() for k in range(50)}) == 50   # really different images


harness.main(globals())
