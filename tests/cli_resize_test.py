#!/usr/bin/python3
"""Command-line tests for "parimg load --resize": every filter and channel
count against Pillow's Image.resize() on crops of real photographs
(tests/data/photos) and on synthetic edge patterns, array for array;
--fit cover and contain against a Python reference of torchvision's and the
letterbox's arithmetic and Pillow's pixels; 16-bit samples against a numpy
float64 reference of the rules the man page states; and the usage errors.
Run as: /usr/bin/python3 tests/cli_resize_test.py ./parimg [TEST...]
"""
import math
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
from harness import contain, cover, ok, png_chunk, run, save_image  # noqa: E402

PHOTOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "photos")
FILTERS = {"nearest": Image.NEAREST, "box": Image.BOX, "bilinear": Image.BILINEAR,
           "hamming": Image.HAMMING, "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS}
MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


# ---------------------------------------------------------------- inputs

_photos = []


def photos():
    """Three colour photographs of the repository's (public domain, CC0)."""
    if not _photos:
        for n in ("astronaut.png", "chelsea.png", "coffee.png"):
            with Image.open(os.path.join(PHOTOS, n)) as im:
                _photos.append(im.convert("RGB"))
    return _photos


def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def photo_rgba(rng, w, h):
    """A W x H crop of a photograph as RGBA: colour from one photograph,
    alpha from another's luma, with opaque and transparent bands."""
    ims = photos()
    out = []
    for im in ims[:2]:
        f = min(4.0, im.width / w, im.height / h)     # a crop of the target's shape
        cw, ch = max(1, int(w * f)), max(1, int(h * f))
        x, y = int(rng.integers(0, im.width - cw + 1)), int(rng.integers(0, im.height - ch + 1))
        out.append(im.crop((x, y, x + cw, y + ch)).resize((w, h), Image.BOX))
    rgb = np.asarray(out[0])
    alpha = np.asarray(out[1].convert("L")).copy()
    alpha[: h // 4] = 255
    alpha[h // 4: h // 3] = 0
    alpha[:, : w // 5] = (alpha[:, : w // 5] // 16)      # faint alpha: large un-premultiplied values
    return np.dstack([rgb, alpha])


def synthetic(rng, w, h):
    """Edge patterns as RGBA: a checkerboard of 0 and 255 (lanczos and
    bicubic overshoot and clip), stripes, a random alpha."""
    y, x = np.mgrid[0:h, 0:w]
    a = np.empty((h, w, 4), np.uint8)
    a[..., 0] = np.where((x + y) % 2, 255, 0)
    a[..., 1] = np.where(x % 3 == 0, 255, 0)
    a[..., 2] = (x * 255 // max(w - 1, 1)).astype(np.uint8)
    a[..., 3] = rng.integers(0, 256, (h, w), dtype=np.uint8)
    a[::3, :, 3] = 255
    return a


def as_mode(rgba, c):
    """An RGBA array as a Pillow image with C channels."""
    im = Image.fromarray(rgba, "RGBA")
    if c == 4:
        return im
    if c == 3:
        return im.convert("RGB")
    gray = np.asarray(im.convert("RGB").convert("L"))
    if c == 1:
        return Image.fromarray(gray, "L")
    return Image.fromarray(np.dstack([gray, rgba[..., 3]]), "LA")


# (w, h) of the sources: reductions by integer (96x72, 64x48) and odd
# ratios, more than 8x (500x375, 300x17), enlargements, 1xN, Nx1, 1x1.
SOURCES = [(500, 375), (96, 72), (64, 48), (37, 29), (16, 12), (13, 200), (1, 40), (40, 1),
           (1, 1), (300, 17), (33, 25), (64, 300)]
# Targets: 32x24 (2x, 3x, odd, 15x reductions; 2x enlargement of 16x12),
# 64x48 (identity for 64x48, a vertical pass alone for 64x300), 128x96,
# odd sizes, one pixel, 1xN and Nx1.
TARGETS = [(32, 24), (64, 48), (128, 96), (7, 5), (1, 1), (1, 30), (30, 1), (45, 17)]


def write_sources(d, name, c, sources):
    """Save SOURCES (Pillow images) as PNGs under D/NAME; their paths."""
    paths = []
    for k, im in enumerate(sources):
        p = os.path.join(d, name, "s%02d.png" % k)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        im.save(p, compress_level=1)
        paths.append(p)
    return paths


def load(d, *args):
    return run("load", "-q", *args, cwd=d)


def loaded(d, paths, *args):
    """parimg load of PATHS, in that order, with ARGS: the array."""
    out = os.path.join(d, "out.npy")
    ok(load(d, "-f", "--order", "none", "-o", out, *args, *paths))
    return np.load(out)


def diff(got, want, what):
    assert got.shape == want.shape, "%s: shape %s, Pillow %s" % (what, got.shape, want.shape)
    bad = got != want
    if bad.any():
        where = np.argwhere(bad)[0]
        raise AssertionError("%s: %d of %d samples differ (max %d), first at %s: %s, Pillow %s" % (
            what, bad.sum(), bad.size, np.abs(got.astype(int) - want.astype(int)).max(),
            tuple(where), got[tuple(where)], want[tuple(where)]))


# ---------------------------------------------------------------- stretch

def test_every_filter_and_channel_count_matches_pillow(d):
    rng = rng_for("pillow")
    rgba = [photo_rgba(rng, w, h) for w, h in SOURCES] + [synthetic(rng, 20, 20), synthetic(rng, 31, 7)]
    checked = 0
    for c in (1, 2, 3, 4):
        ims = [as_mode(a, c) for a in rgba]
        assert all(im.mode == MODES[c] for im in ims)
        paths = write_sources(d, "c%d" % c, c, ims)
        for tw, th in TARGETS:
            for name, f in FILTERS.items():
                got = loaded(d, paths, "-c", c, "--resize", "%dx%d" % (tw, th), "--filter", name)
                for k, im in enumerate(ims):
                    want = np.asarray(im.resize((tw, th), f))
                    diff(got[k], want, "%s %dx%d -> %dx%d %s" % (im.mode, im.width, im.height, tw, th, name))
                    checked += 1
    assert checked == 4 * len(TARGETS) * len(FILTERS) * (len(SOURCES) + 2)


def test_default_filter_is_bilinear(d):
    rng = rng_for("default")
    im = Image.fromarray(photo_rgba(rng, 150, 100)[..., :3])
    paths = write_sources(d, "in", 3, [im])
    got = loaded(d, paths, "--resize", "64x64")
    diff(got[0], np.asarray(im.resize((64, 64), Image.BILINEAR)), "default filter")
    assert (got[0] != np.asarray(im.resize((64, 64), Image.BICUBIC))).any()


def test_same_size_images_reuse_one_plan(d):
    # Many images of one size and a few of another, interleaved, in one
    # worker: the cached plans must not mix.
    rng = rng_for("plans")
    ims = []
    for k in range(40):
        w, h = [(60, 40), (40, 60), (61, 41), (3, 90), (90, 3), (7, 7), (8, 9), (9, 8), (10, 10), (11, 12)][k % 10]
        ims.append(Image.fromarray(photo_rgba(rng, w, h)))
    paths = write_sources(d, "in", 4, ims)
    for j in ("1", "2"):
        got = loaded(d, paths, "-c", "4", "-j", j, "--resize", "23x17", "--filter", "lanczos")
        for k, im in enumerate(ims):
            diff(got[k], np.asarray(im.resize((23, 17), Image.LANCZOS)), "image %d, -j %s" % (k, j))


def test_float_dtypes_hold_the_resized_values(d):
    rng = rng_for("float")
    im = Image.fromarray(photo_rgba(rng, 80, 60)[..., :3])
    paths = write_sources(d, "in", 3, [im])
    want = np.asarray(im.resize((33, 21), Image.HAMMING))
    for t in ("f4", "f8"):
        got = loaded(d, paths, "-t", t, "--resize", "33x21", "--filter", "hamming")
        assert (got[0] == want).all()
        got = loaded(d, paths, "-t", t, "--scale", "--resize", "33x21", "--filter", "hamming")
        assert np.allclose(got[0], want / 255.0, rtol=0, atol=1e-7)


# ---------------------------------------------------------------- cover, contain

def torchvision_cover(w, h, s):
    """torchvision Resize(s) then CenterCrop(s) on a w x h PIL image: the
    resized size and the crop's (left, top), in its own arithmetic."""
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = s, int(s * long / short)
    nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)
    return (nw, nh), (int(round((nw - s) / 2.0)), int(round((nh - s) / 2.0)))


def test_cover_geometry_is_torchvisions(d):
    for w in range(1, 60):
        for h in range(1, 60):
            for s in (1, 7, 32, 33):
                assert cover(w, h, s, s) == torchvision_cover(w, h, s), (w, h, s)
    # And the odd margins go where Python's round puts them.
    assert cover(301, 224, 224, 224) == ((301, 224), (38, 0))     # 77 = 2 * 38 + 1: 38 even
    assert cover(299, 224, 224, 224) == ((299, 224), (38, 0))     # 75: 37 odd, so 38
    assert torchvision_cover(500, 375, 224) == ((298, 224), (37, 0))


def test_cover_matches_resize_then_center_crop(d):
    rng = rng_for("cover")
    sizes = [(500, 375), (375, 500), (301, 224), (299, 224), (224, 500), (37, 29), (5, 90), (90, 5), (64, 48)]
    targets = [(224, 224), (32, 32), (33, 33), (40, 24), (24, 40), (1, 1)]
    for c in (3, 4):
        ims = [as_mode(photo_rgba(rng, w, h), c) for w, h in sizes]
        paths = write_sources(d, "c%d" % c, c, ims)
        for tw, th in targets:
            for name in ("bilinear", "bicubic", "nearest"):
                got = loaded(d, paths, "-c", c, "--resize", "%dx%d" % (tw, th), "--fit", "cover",
                             "--filter", name)
                for k, im in enumerate(ims):
                    (nw, nh), (x, y) = cover(im.width, im.height, tw, th)
                    if tw == th:
                        assert ((nw, nh), (x, y)) == torchvision_cover(im.width, im.height, tw)
                    want = np.asarray(im.resize((nw, nh), FILTERS[name]).crop((x, y, x + tw, y + th)))
                    diff(got[k], want, "cover %dx%d -> %dx%d %s" % (im.width, im.height, tw, th, name))


def test_contain_matches_resize_then_pad(d):
    rng = rng_for("contain")
    sizes = [(500, 375), (375, 500), (224, 224), (301, 100), (1, 40), (40, 1), (7, 3)]
    targets = [(224, 224), (33, 32), (32, 33), (5, 5)]
    for c, pad in ((1, 0), (3, 114), (4, 255)):
        ims = [as_mode(photo_rgba(rng, w, h), c) for w, h in sizes]
        paths = write_sources(d, "c%d" % c, c, ims)
        for tw, th in targets:
            got = loaded(d, paths, "-c", c, "--resize", "%dx%d" % (tw, th), "--fit", "contain",
                         "--pad", pad, "--filter", "lanczos")
            for k, im in enumerate(ims):
                (nw, nh), (x, y) = contain(im.width, im.height, tw, th)
                canvas = Image.new(im.mode, (tw, th), (pad,) * c if c > 1 else pad)
                canvas.paste(im.resize((nw, nh), Image.LANCZOS), (x, y))
                diff(got[k], np.asarray(canvas), "contain %dx%d -> %dx%d" % (im.width, im.height, tw, th))
    # The default margin is 0, and an odd margin's extra pixel goes right.
    paths = write_sources(d, "one", 1, [Image.new("L", (10, 3), 200)])
    got = loaded(d, paths, "--resize", "7x4", "--fit", "contain")
    assert got.shape == (1, 4, 7)
    # 10x3 -> 7x2 (7 * 3 // 10), rows 1-2 of 4.
    assert (got[0, 1:3] == 200).all() and (got[0, 0] == 0).all() and (got[0, 3] == 0).all()


def test_cover_of_a_sliver_is_refused(d):
    # 2048 * 2^20 / 1 = 2^31 columns before the crop: out of range, an
    # error naming the file (and -k goes on without it).
    save_image(os.path.join(d, "in", "a.png"), np.zeros((1, 1 << 20), np.uint8))
    save_image(os.path.join(d, "in", "b.png"), np.full((8, 8), 7, np.uint8))
    r = load(d, "--resize", "2048x2048", "--fit", "cover", "-o", "out.npy", "in")
    ok(r, 1)
    harness.names(r, "in/a.png", "cannot resize: scaled size out of range")
    assert not os.path.exists(os.path.join(d, "out.npy"))
    r = ok(load(d, "-k", "--resize", "16x16", "--fit", "contain", "-o", "k.npy", "in"))
    r = load(d, "-k", "-f", "--resize", "2048x2048", "--fit", "cover", "-o", "k.npy", "in")
    ok(r, 3)
    a = np.load(os.path.join(d, "k.npy"))
    assert (a[0] == 0).all() and (a[1] == 7).all()


# ---------------------------------------------------------------- 16-bit

def png16(path, arr):
    """Write ARR (h, w[, c]) of uint16 as a 16-bit PNG (gray, gray+alpha,
    RGB or RGBA); Pillow writes 16-bit gray only."""
    a = arr if arr.ndim == 3 else arr[..., None]
    h, w, c = a.shape
    ctype = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    raw = b"".join(b"\0" + a[y].astype(">u2").tobytes() for y in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, ctype, 0, 0, 0))
                + png_chunk(b"IDAT", zlib.compress(raw, 1)) + png_chunk(b"IEND", b""))


SUPPORT = {"box": 0.5, "bilinear": 1.0, "hamming": 1.0, "bicubic": 2.0, "lanczos": 3.0}
F32_054, F32_046 = float(np.float32(0.54)), float(np.float32(0.46))   # Pillow's 0.54f, 0.46f


def kernel(name, x):
    """The filters as the man page names them (Pillow's definitions)."""
    if name == "box":
        return 1.0 if -0.5 < x <= 0.5 else 0.0
    if name == "lanczos":
        def sinc(v):
            return 1.0 if v == 0.0 else math.sin(v * math.pi) / (v * math.pi)
        return sinc(x) * sinc(x / 3) if -3.0 <= x < 3.0 else 0.0
    x = abs(x)
    if name == "bilinear":
        return 1.0 - x if x < 1.0 else 0.0
    if name == "hamming":
        if x == 0.0:
            return 1.0
        if x >= 1.0:
            return 0.0
        x *= math.pi
        return math.sin(x) / x * (F32_054 + F32_046 * math.cos(x))
    a = -0.5
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1
    return (((x - 5) * x + 8) * x - 4) * a if x < 2.0 else 0.0


def windows(name, n_in, n_out):
    """Per output: (first source index, normalised weights), Pillow's
    windows, the weights summed in order."""
    scale = n_in / n_out
    fscale = max(scale, 1.0)
    support, ss = SUPPORT[name] * fscale, 1.0 / fscale
    out = []
    for i in range(n_out):
        center = (i + 0.5) * scale
        lo, hi = max(int(center - support + 0.5), 0), min(int(center + support + 0.5), n_in)
        k = [kernel(name, (x - center + 0.5) * ss) for x in range(lo, hi)]
        total = 0.0
        for v in k:
            total += v
        out.append((lo, [v / total for v in k] if total != 0.0 else k))
    return out


def resize16(a, tw, th, name):
    """numpy float64 reference of the man page's 16-bit rules, each sum
    taken tap by tap in order (so that ties round the same way)."""
    h, w, c = a.shape
    if (w, h) == (tw, th):
        return a.copy()
    x = a.astype(np.uint64)
    if c in (2, 4):
        x[..., :-1] = (x[..., :-1] * x[..., -1:] + 32767) // 65535
    x = x.astype(np.float64)

    def rnd(v):
        return np.clip(np.floor(v + 0.5), 0, 65535)
    if tw != w:
        cols = []
        for lo, k in windows(name, w, tw):
            acc = np.zeros((x.shape[0], c))
            for j, kj in enumerate(k):
                acc = acc + x[:, lo + j] * kj
            cols.append(rnd(acc))
        x = np.stack(cols, 1)
    if th != h:
        rows = []
        for lo, k in windows(name, h, th):
            acc = np.zeros((x.shape[1], c))
            for j, kj in enumerate(k):
                acc = acc + x[lo + j] * kj
            rows.append(rnd(acc))
        x = np.stack(rows, 0)
    x = x.astype(np.uint64)
    if c in (2, 4):
        al = x[..., -1:]
        un = np.minimum(x[..., :-1] * 65535 // np.maximum(al, 1), 65535)
        x[..., :-1] = np.where((al == 0) | (al == 65535), x[..., :-1], un)
    return x.astype(np.uint16)


def test_16bit_matches_numpy_reference(d):
    rng = rng_for("16bit")
    sizes = [(50, 37), (8, 9), (1, 20), (23, 1)]
    targets = [(16, 12), (64, 5), (1, 1), (8, 9)]
    for c in (1, 2, 3, 4):
        srcs, paths = [], []
        for k, (w, h) in enumerate(sizes):
            rgba = photo_rgba(rng, w, h)
            base = rgba[..., {1: [0], 2: [0, 3], 3: [0, 1, 2], 4: [0, 1, 2, 3]}[c]].astype(np.uint16)
            a = base * 256 + rng.integers(0, 256, base.shape).astype(np.uint16)
            if c in (2, 4):     # opaque and transparent as such
                a[..., -1] = np.where(base[..., -1] == 255, 65535, np.where(base[..., -1] == 0, 0, a[..., -1]))
            p = os.path.join(d, "c%d" % c, "s%d.png" % k)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            png16(p, a)
            srcs.append(a)
            paths.append(p)
        for tw, th in targets:
            for name in ("box", "bilinear", "hamming", "bicubic", "lanczos"):
                got = loaded(d, paths, "-c", c, "-t", "u2", "--resize", "%dx%d" % (tw, th),
                             "--filter", name)
                for k, a in enumerate(srcs):
                    want = resize16(a, tw, th, name)
                    diff(got[k].reshape(want.shape), want,
                         "16-bit c=%d %s -> %dx%d %s" % (c, a.shape[:2], tw, th, name))


def test_16bit_scale_keeps_precision(d):
    a = (np.arange(40 * 30, dtype=np.uint16).reshape(30, 40) * 53)
    png16(os.path.join(d, "g.png"), a)
    got = loaded(d, [os.path.join(d, "g.png")], "-t", "f8", "--scale", "--resize", "20x15", "--filter", "box")
    want = resize16(a[..., None], 20, 15, "box")[..., 0] / 65535.0
    assert np.abs(got[0] - want).max() <= 1 / 65535.0 + 1e-12


# ---------------------------------------------------------------- usage

def test_bad_values_are_usage_errors(d):
    save_image(os.path.join(d, "in", "a.png"), np.zeros((4, 4), np.uint8))
    for args, what in ((["--resize", "0x5"], "--resize"),
                       (["--resize", "5x5", "--filter", "cubic"], "--filter"),
                       (["--resize", "5x5", "--filter", ""], "--filter"),
                       (["--resize", "5x5", "--fit", "fill"], "--fit"),
                       (["--resize", "5x5", "--fit", "contain", "--pad", "256"], "--pad"),
                       (["--resize", "5x5", "--fit", "contain", "--pad", "-1"], "--pad"),
                       (["--resize", "5x5", "--pad", "3"], "--pad needs --fit contain"),
                       (["--resize", "5x5", "--fit", "cover", "--pad", "3"], "--pad needs --fit contain"),
                       (["--filter", "box"], "--filter needs --resize"),
                       (["--fit", "cover"], "--fit needs --resize"),
                       (["--fit", "contain", "--pad", "1"], "needs --resize")):
        r = load(d, *args, "-o", "out.npy", "in")
        ok(r, 2)
        assert r.err.startswith("parimg: ") and what in r.err, (args, r)
        assert "Try 'parimg load --help'" in r.err, r
        assert not os.path.exists(os.path.join(d, "out.npy"))


harness.main(globals())
