#!/usr/bin/python3
"""Command-line tests for "load --ragged": every image at its own size (or
one that keeps its aspect ratio), one 1-D array of samples and an (N, 4)
index of (offset, H, W, C). Oracles: Pillow (Image.open(f).convert(mode)),
torchvision's Resize(S) for the shorter-side sizes, numpy for the arrays,
and a single run of parimg itself for -j, schedules and merged shards.

Run: /usr/bin/python3 tests/cli_ragged_test.py ./parimg [test_name...]
"""
import atexit
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
import photos  # noqa: E402
from harness import listing, names, ok, run  # noqa: E402

MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_fixtures = None


# ---------------------------------------------------------------- helpers

def fixtures():
    """tests/lib/photos.py's fixtures, built once per run."""
    global _fixtures
    if _fixtures is None:
        d = tempfile.mkdtemp(prefix="parimg-photos-")
        atexit.register(shutil.rmtree, d, True)
        _fixtures = photos.build(d)
    return _fixtures


def images(out, index=None):
    """The guide's reader: the list of images of a ragged OUT."""
    x = np.load(out, mmap_mode="r")
    idx = np.load(index or re.sub(r"\.npy$", ".index.npy", out))
    assert idx.dtype == np.int64 and idx.ndim == 2 and idx.shape[1] == 4, idx
    return [x[o:o + h * w * c].reshape(h, w, c) for o, h, w, c in idx], idx


def own_channels(path):
    """The documented rule: gray 1, gray+alpha 2, colour 3, colour+alpha 4;
    palette colour (with alpha when it has transparency); CMYK colour."""
    with Image.open(path) as im:
        mode, info = im.mode, im.info
    if mode in ("1", "L", "I", "I;16", "I;16B", "F"):
        return 1
    if mode in ("LA", "La"):
        return 2
    if mode in ("RGBA", "RGBa", "PA"):
        return 4
    if mode == "P":
        return 4 if "transparency" in info else 3
    return 3            # RGB, CMYK, YCbCr


def pillow(path, c):
    """Image.open(path).convert(mode of C channels), as (H, W, C)."""
    a = photos.pillow_array(path, MODES[c])
    return a.reshape(a.shape[0], a.shape[1], c)


def rnd(seed, h, w, c):
    g = np.random.default_rng(seed)
    return g.integers(0, 256, (h, w, c) if c > 1 else (h, w), dtype=np.uint8)


def mixed_set(d):
    """Small files of every kind and of different sizes; {name: path}."""
    src = os.path.join(d, "mixed")
    os.makedirs(src, exist_ok=True)
    f = {}

    def save(name, im, **kw):
        f[name] = os.path.join(src, name)
        im.save(f[name], **kw)

    cat = photos.photo("chelsea")
    save("a_gray.png", Image.fromarray(rnd(1, 21, 34, 1)))
    save("b_gray_alpha.png", Image.fromarray(rnd(2, 17, 9, 2), "LA"))
    save("c_rgb.png", Image.fromarray(rnd(3, 13, 40, 3)))
    save("d_rgba.png", Image.fromarray(rnd(4, 30, 7, 4)))
    save("e_palette.png", photos.crop(cat, 50, 23).quantize(64))
    pt = photos.crop(cat, 19, 44).quantize(32)
    save("f_palette_trns.png", pt, transparency=5)
    save("g_cmyk.jpg", photos.crop(cat, 45, 31).convert("CMYK"), quality=90)
    save("h_photo.jpg", photos.crop(cat, 64, 48), quality=90)
    save("i_gray.jpg", photos.crop(cat, 33, 65).convert("L"), quality=90)
    save("j_square.png", photos.crop(cat, 40, 40))
    return f


def sixteen_bit(d):
    """A 16-bit gray PNG; its values as Pillow reads them."""
    v = np.random.default_rng(7).integers(0, 65536, (23, 31)).astype(np.uint16)
    path = os.path.join(d, "k_16bit.png")
    Image.fromarray(v).save(path)
    with Image.open(path) as im:
        assert im.mode in ("I", "I;16"), im.mode
    return path, v


def load(d, *args, out="x.npy"):
    return run("load", "-q", "--ragged", "-o", os.path.join(d, out), *args, cwd=d)


def list_input(paths):
    return "".join(p + "\n" for p in paths)


# ------------------------------------------------ each image as Pillow reads it

def test_own_channels_equal_pillow(d):
    """Without -c: each image keeps its own channels by the rule (checked
    against Pillow's mode and codec_probe's count), at its own size."""
    f = mixed_set(d)
    paths = sorted(f.values())
    r = run("load", "-q", "--ragged", "--order", "none", "-o", os.path.join(d, "x.npy"), "-",
            stdin=list_input(paths), cwd=d)
    ok(r)
    ims, idx = images(os.path.join(d, "x.npy"))
    assert len(ims) == len(paths)
    assert idx[0, 0] == 0 and np.load(os.path.join(d, "x.npy")).ndim == 1
    for p, im, row in zip(paths, ims, idx):
        c = own_channels(p)
        assert row[3] == c, (p, row, c)
        want = pillow(p, c)
        assert im.shape == want.shape and np.array_equal(im, want), p
    assert [c for c in idx[:, 3]] == [1, 2, 3, 4, 3, 4, 3, 3, 1, 3], idx[:, 3]


def test_every_photo_fixture(d):
    """The photo fixtures (JPEG kinds, CMYK and YCCK, WebP, GIF, PNG), all
    in one ragged run: own channels and -c 1 to 4 equal Pillow's."""
    good = sorted(photos.good(fixtures()).values())
    ok(load(d, "--order", "none", *good))
    ims, idx = images(os.path.join(d, "x.npy"))
    for p, im in zip(good, ims):
        want = pillow(p, own_channels(p))
        assert im.shape == want.shape and np.array_equal(im, want), p
    for c in (1, 2, 3, 4):
        ok(load(d, "-f", "-c", c, "--order", "none", *good))
        ims, idx = images(os.path.join(d, "x.npy"))
        assert (idx[:, 3] == c).all()
        for p, im in zip(good, ims):
            assert np.array_equal(im, pillow(p, c)), (p, c)


def test_sixteen_bit_and_float_dtypes(d):
    """-t u2 keeps 16-bit samples (8-bit ones x257); f4 and f8 hold the
    values, --scale over their maximum."""
    f = mixed_set(d)
    p16, v16 = sixteen_bit(d)
    paths = sorted(f.values()) + [p16]
    ok(load(d, "-t", "u2", "--order", "none", *paths))
    ims, idx = images(os.path.join(d, "x.npy"))
    assert ims[0].dtype == np.uint16
    for p, im in zip(paths[:-1], ims):
        assert np.array_equal(im, pillow(p, own_channels(p)).astype(np.uint16) * 257), p
    assert idx[-1, 3] == 1 and np.array_equal(ims[-1][:, :, 0], v16)
    for t, typ in (("f4", np.float32), ("f8", np.float64)):
        ok(load(d, "-f", "-t", t, "-c", 3, "--order", "none", *paths[:-1]))
        ims, _ = images(os.path.join(d, "x.npy"))
        for p, im in zip(paths, ims):
            assert im.dtype == typ and np.array_equal(im, pillow(p, 3).astype(typ)), p
        ok(load(d, "-f", "-t", t, "--scale", "--order", "none", p16))
        ims, _ = images(os.path.join(d, "x.npy"))
        assert np.array_equal(ims[0][:, :, 0], v16.astype(typ) / typ(65535)), t


def test_header_past_the_first_read(d):
    """A JPEG whose SOF comes after 130 KB of APP segments: the header
    pass's first read is not enough, and the whole file is read."""
    import struct
    with open(fixtures()["jpeg_baseline"], "rb") as f:
        jpg = f.read()
    seg = b"\xff\xe5" + struct.pack(">H", 65002) + bytes(65000)
    path = os.path.join(d, "far.jpg")
    with open(path, "wb") as f:
        f.write(jpg[:2] + seg + seg + jpg[2:])
    ok(load(d, "-c", 3, path))
    ims, idx = images(os.path.join(d, "x.npy"))
    assert np.array_equal(ims[0], pillow(path, 3))


# ------------------------------------------------ sizes that keep the aspect ratio

def tv_resize(path, c, s, interp="BILINEAR"):
    """torchvision's Resize(S) on Image.open(path).convert(mode)."""
    import torchvision.transforms as T
    with Image.open(path) as im:
        out = T.Resize(s, interpolation=getattr(T.InterpolationMode, interp))(
            im.convert(MODES[c]))
    a = np.asarray(out)
    return a.reshape(a.shape[0], a.shape[1], c)


def test_resize_short_side_is_torchvision(d):
    """--resize S: torchvision's Resize(S) sizes and Pillow's pixels, for
    portrait, landscape and square images, up and down, two filters."""
    f = mixed_set(d)
    paths = sorted(f.values())
    for s, filt, interp in ((16, "bilinear", "BILINEAR"), (37, "bilinear", "BILINEAR"),
                            (25, "bicubic", "BICUBIC"), (80, "lanczos", "LANCZOS")):
        ok(load(d, "-f", "--resize", s, "--filter", filt, "--order", "none", *paths))
        ims, idx = images(os.path.join(d, "x.npy"))
        for p, im in zip(paths, ims):
            want = tv_resize(p, own_channels(p), s, interp)
            assert im.shape == want.shape, (p, s, im.shape, want.shape)
            assert min(im.shape[:2]) == s
            assert np.array_equal(im, want), (p, s, filt)
    # -c 3, and the worked arithmetic: int(S * long / short).
    ok(load(d, "-f", "-c", 3, "--resize", 24, "--order", "none", *paths))
    ims, idx = images(os.path.join(d, "x.npy"))
    for p, im, row in zip(paths, ims, idx):
        with Image.open(p) as pim:
            w, h = pim.size
        sh, lg = min(w, h), max(w, h)
        nl = int(24 * lg / sh)
        assert (row[2], row[1]) == ((24, nl) if w <= h else (nl, 24)), (p, row)
        assert np.array_equal(im, tv_resize(p, 3, 24)), p


def test_max_side(d):
    """--max-side L: images whose longer side is over L shrink to L (the
    other side rounded down, at least 1); the others are byte-identical."""
    f = mixed_set(d)
    paths = sorted(f.values())
    ok(load(d, "--order", "none", *paths, out="plain.npy"))
    plain, _ = images(os.path.join(d, "plain.npy"))
    ok(load(d, "--max-side", 40, "--order", "none", *paths))
    ims, idx = images(os.path.join(d, "x.npy"))
    for p, im, orig in zip(paths, ims, plain):
        with Image.open(p) as pim:
            w, h = pim.size
        if max(w, h) <= 40:
            assert im.shape == orig.shape and np.array_equal(im, orig), p
            continue
        lg, sh = max(w, h), min(w, h)
        ns = max(1, sh * 40 // lg)
        size = (40, ns) if w >= h else (ns, 40)
        with Image.open(p) as pim:
            want = np.asarray(pim.convert(MODES[im.shape[2]]).resize(size, Image.BILINEAR))
        assert im.shape[:2] == (size[1], size[0]), (p, im.shape, size)
        assert np.array_equal(im, want.reshape(im.shape)), p


def test_draft_with_resize_s(d):
    """--draft with --resize S: JPEGs decode at a reduced scale first, as
    Pillow's draft() then resize."""
    p = photos.photo("chelsea")
    path = os.path.join(d, "big.jpg")
    p.save(path, quality=90)
    ok(load(d, "-c", 3, "--resize", 64, "--draft", path))
    ims, idx = images(os.path.join(d, "x.npy"))
    with Image.open(path) as im:
        w, h = im.size
        nl = int(64 * max(w, h) / min(w, h))
        size = (64, nl) if w <= h else (nl, 64)
        im.draft("RGB", size)
        want = np.asarray(im.convert("RGB").resize(size, Image.BILINEAR))
    assert np.array_equal(ims[0], want)


# ------------------------------------------------ the same bytes, however it runs

def test_same_bytes_jobs_schedules_shards(d):
    """-j1, -j2 with both schedules, and 3 shards merged: the same array and
    index bytes."""
    good = sorted(photos.good(fixtures()).values())
    runs = []
    for args in (("-j", 1), ("-j", 2), ("-j", 2, "--schedule", "static"),
                 ("-j", 3, "--schedule", "dynamic")):
        ok(load(d, "-f", "-c", 3, "--max-side", 200, *args, *good))
        runs.append((open(os.path.join(d, "x.npy"), "rb").read(),
                     open(os.path.join(d, "x.index.npy"), "rb").read()))
    assert all(r == runs[0] for r in runs), "outputs differ between runs"
    parts = []
    for k in range(3):
        out = "part-%d.npy" % k
        ok(load(d, "-c", 3, "--max-side", 200, "--shard", "%d/3" % k, *good, out=out))
        parts.append(os.path.join(d, out))
        assert os.path.exists(os.path.join(d, "part-%d.index.npy" % k))
    ok(run("merge", "-q", "--index", os.path.join(d, "m.index.npy"), "-o",
           os.path.join(d, "m.npy"), *parts))
    assert open(os.path.join(d, "m.npy"), "rb").read() == runs[0][0]
    assert open(os.path.join(d, "m.index.npy"), "rb").read() == runs[0][1]


def test_merge_refuses_mixed_parts(d):
    f = mixed_set(d)
    paths = sorted(f.values())
    ok(load(d, "--shard", "0/2", *paths, out="r0.npy"))
    ok(load(d, "--shard", "1/2", *paths, out="r1.npy"))
    ok(load(d, "-t", "u2", "--shard", "1/2", *paths, out="r1u2.npy"))
    ok(run("load", "-q", "-c", 3, "--resize", "8x8", "-o", os.path.join(d, "fixed.npy"),
           *paths))
    m = ["merge", "-q", "--index", os.path.join(d, "m.index.npy"), "-o", os.path.join(d, "m.npy")]
    r = ok(run(*m, os.path.join(d, "r0.npy"), os.path.join(d, "fixed.npy")), 1)
    names(r, os.path.join(d, "fixed.npy"), "fixed-shape|differ")
    r = ok(run(*m, os.path.join(d, "r0.npy"), os.path.join(d, "r1u2.npy")), 1)
    names(r, os.path.join(d, "r1u2.npy"), "dtype")
    r = ok(run("merge", "-q", "-o", os.path.join(d, "m.npy"), os.path.join(d, "r0.npy"),
               os.path.join(d, "r1.npy")), 1)
    names(r, os.path.join(d, "r0.npy"), "ragged part")
    # A damaged index: offsets out of order.
    idx = np.load(os.path.join(d, "r1.index.npy"))
    idx[1, 0] += 1
    np.save(os.path.join(d, "r1.index.npy"), idx)
    r = ok(run(*m, os.path.join(d, "r0.npy"), os.path.join(d, "r1.npy")), 1)
    names(r, os.path.join(d, "r1.npy"), "index")
    assert not os.path.exists(os.path.join(d, "m.npy"))
    assert not os.path.exists(os.path.join(d, "m.index.npy"))


def test_labels_shuffle_split(d):
    """Class folders, --labels --shuffle --split --manifest with --ragged:
    each part's index, labels and manifest line up, every row Pillow's."""
    cat, coffee = photos.photo("chelsea"), photos.photo("coffee")
    root = os.path.join(d, "pets")
    for k in range(14):
        cls = ("cat", "dog", "fish")[k % 3]
        os.makedirs(os.path.join(root, cls), exist_ok=True)
        im = photos.crop(cat if k % 2 else coffee, 20 + 3 * k, 50 - 2 * k)
        if k % 4 == 1:
            im = im.convert("L")
        im.save(os.path.join(root, cls, "im%02d.%s" % (k, "png" if k % 3 else "jpg")))
    ok(run("load", "-q", "--ragged", "--labels", os.path.join(d, "y.npy"), "--shuffle",
           "--seed", 3, "--split", "train=0.6,val=0.4", "--manifest", os.path.join(d, "m.txt"),
           "--classes", os.path.join(d, "classes.txt"), "-o", os.path.join(d, "x.npy"), root))
    classes = open(os.path.join(d, "classes.txt")).read().splitlines()
    assert classes == ["cat", "dog", "fish"]
    seen = []
    for part in ("train", "val"):
        ims, idx = images(os.path.join(d, "x.%s.npy" % part))
        assert os.path.exists(os.path.join(d, "x.%s.index.npy" % part))
        y = np.load(os.path.join(d, "y.%s.npy" % part))
        paths = open(os.path.join(d, "m.%s.txt" % part)).read().splitlines()
        assert len(ims) == len(y) == len(paths) == len(idx)
        for im, lab, p in zip(ims, y, paths):
            assert classes[lab] == os.path.basename(os.path.dirname(p)), (p, lab)
            assert np.array_equal(im, pillow(p, own_channels(p))), p
        seen += paths
    assert sorted(seen) == sorted(os.path.join(root, c, n) for c in classes
                                  for n in os.listdir(os.path.join(root, c)))


def test_shards_with_labels_merged(d):
    """Shards of a --labels --shuffle --ragged load, merged with --labels
    and --index: the bytes of one run; a labels part of another length is
    refused."""
    cat = photos.photo("chelsea")
    root = os.path.join(d, "pets")
    for k in range(10):          # shards of 3, 3 and 4 rows
        os.makedirs(os.path.join(root, "c%d" % (k % 2)), exist_ok=True)
        photos.crop(cat, 10 + k, 30 - k).save(os.path.join(root, "c%d" % (k % 2), "%d.png" % k))
    base = ["load", "-q", "--ragged", "--shuffle", "-c", 3]
    ok(run(*base, "--labels", os.path.join(d, "y.npy"), "-o", os.path.join(d, "x.npy"), root))
    xs, ys = [], []
    for k in range(3):
        xs.append(os.path.join(d, "x-%d.npy" % k))
        ys.append(os.path.join(d, "y-%d.npy" % k))
        ok(run(*base, "--shard", "%d/3" % k, "--labels", ys[-1], "-o", xs[-1], root))
    m = os.path.join(d, "m")
    ok(run("merge", "-q", "--index", m + ".index.npy", "--labels", m + ".y.npy", "-o",
           m + ".npy", *xs, *ys))
    for a, b in (("m.npy", "x.npy"), ("m.index.npy", "x.index.npy"), ("m.y.npy", "y.npy")):
        assert open(os.path.join(d, a), "rb").read() == open(os.path.join(d, b), "rb").read(), a
    r = ok(run("merge", "-q", "-f", "--index", m + ".index.npy", "--labels", m + ".y.npy",
               "-o", m + ".npy", *xs, ys[0], ys[2], ys[1]), 1)
    assert "labels for the" in r.err, r


# ------------------------------------------------ bad files, failures, no leftovers

def test_bad_files_refused_or_skipped(d):
    """Truncated and corrupt files: without -k refused naming the file, no
    output; with -k exit 3, each an index row 0x0, the rest Pillow's."""
    fx = fixtures()
    good = sorted(photos.good(fx).values())[:12]
    bad = sorted(photos.broken(fx).values())
    for b in bad:
        r = ok(load(d, good[0], b, good[1]), 1)
        names(r, b)
        assert listing(d) == [], (b, listing(d))
    ok(load(d, "-k", "--order", "none", *good[:6], *bad, *good[6:]), 3)
    ims, idx = images(os.path.join(d, "x.npy"))
    order = good[:6] + bad + good[6:]
    for p, im, row in zip(order, ims, idx):
        if p in bad:
            assert row[1] == 0 and row[2] == 0 and im.size == 0, (p, row)
        else:
            assert np.array_equal(im, pillow(p, own_channels(p))), p
    assert (np.diff(idx[:, 0]) >= 0).all()


def test_worker_crash_in_the_header_pass(d):
    """A worker that crashes on a file (tests/lib/crash_preload.c's CRASHME,
    as the header pass opens it): without -k the run fails naming the file;
    with -k its index row is 0x0 and the rest is Pillow's."""
    so = os.path.join(d, "crash_preload.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", so, os.path.join(harness.LIB,
                    "crash_preload.c"), "-ldl"], check=True, timeout=60)
    env = dict(os.environ, LD_PRELOAD=so)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":handle_segv=0:handle_abort=0"
    f = mixed_set(d)
    paths = sorted(f.values())
    bad = os.path.join(d, "mixed", "CRASHME.png")
    shutil.copy(paths[2], bad)
    order = paths[:5] + [bad] + paths[5:]
    out = os.path.join(d, "x.npy")
    for jobs in (1, 2):
        for f in ("x.npy", "x.index.npy"):
            if os.path.exists(os.path.join(d, f)):
                os.remove(os.path.join(d, f))
        r = run("load", "-q", "--ragged", "-j", jobs, "--order", "none", "-o", out, *order,
                env=env)
        ok(r, 1)
        names(r, bad, "SIGSEGV")
        assert not os.path.exists(out) and not os.path.exists(os.path.join(d, "x.index.npy"))
        r = run("load", "-q", "-k", "-f", "--ragged", "-j", jobs, "--order", "none", "-o", out,
                *order, env=env)
        ok(r, 3)
        assert "1 of %d rows skipped (index rows 0x0)" % len(order) in r.err, r
        ims, idx = images(out)
        for p, im, row in zip(order, ims, idx):
            if p == bad:
                assert row[1] == row[2] == 0, row
            else:
                assert np.array_equal(im, pillow(p, own_channels(p))), p


def test_max_pixels(d):
    f = mixed_set(d)
    paths = sorted(f.values())
    r = ok(load(d, "--max-pixels", 1000, *paths), 1)
    assert "more than --max-pixels" in r.err, r
    assert listing(d) == ["mixed"]
    r = ok(load(d, "-k", "--max-pixels", 1000, "--order", "none", *paths), 3)
    ims, idx = images(os.path.join(d, "x.npy"))
    for p, im, row in zip(paths, ims, idx):
        with Image.open(p) as pim:
            big = pim.size[0] * pim.size[1] > 1000
        assert (row[1] == 0) == big, (p, row)
    # --resize S may not make an image over --max-pixels either.
    r = ok(load(d, "-f", "--resize", 2000, "--max-pixels", 3000000, paths[0]), 1)
    names(r, paths[0], "max-pixels")


def test_disk_too_small_fails_before_decoding(d):
    """The whole array is reserved before the first decode: under a file
    size limit the run fails at once naming OUT, even though a file that
    only decoding would refuse comes first; nothing is left."""
    fx = fixtures()
    paths = [fx["bad_jpeg_trunc_2thirds"]] + sorted(photos.good(fx).values())[:10]

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200000, 200000))

    out = os.path.join(d, "x.npy")
    p = subprocess.run([harness.BIN, "load", "-q", "--ragged", "--order", "none", "-o", out]
                       + paths, capture_output=True, text=True, preexec_fn=limit, timeout=60)
    assert p.returncode == 1, p
    assert re.match(r"^parimg: %s: File too large\n$" % re.escape(out), p.stderr), p.stderr
    assert listing(d) == [], listing(d)
    # --split: every part is reserved before the first is decoded. Part a
    # (a small file cut short after its header, and a small good one) fits;
    # part b does not, and is named. The same for a fixed-shape load.
    small = os.path.join(d, "..", "small.jpg")
    photos.crop(photos.photo("chelsea"), 40, 30).save(small, quality=90)
    cut = os.path.join(d, "..", "cut.jpg")
    with open(small, "rb") as f, open(cut, "wb") as g:
        g.write(f.read()[:700])
    part_b = sorted(photos.good(fx).values())[:9]
    for args in (["--ragged"], ["-c", 3, "--resize", "100x100"]):
        p = subprocess.run([harness.BIN, "load", "-q", "--order", "none", "--split",
                            "a=0.2,b=0.8", "-o", out] + [str(a) for a in args]
                           + [cut, small] + part_b,
                           capture_output=True, text=True, preexec_fn=limit, timeout=60)
        assert p.returncode == 1, p
        b = os.path.join(d, "x.b.npy")
        assert re.match(r"^parimg: %s: File too large\n$" % re.escape(b), p.stderr), (args, p)
        assert listing(d) == [], listing(d)


def test_refuses_to_overwrite(d):
    f = mixed_set(d)
    p = sorted(f.values())[0]
    idx = os.path.join(d, "x.index.npy")
    open(idx, "w").write("keep")
    r = ok(load(d, p), 1)
    names(r, idx, "exists")
    assert open(idx).read() == "keep" and not os.path.exists(os.path.join(d, "x.npy"))
    ok(load(d, "-f", p))
    ok(load(d, "--index", os.path.join(d, "other.npy"), p, out="y.npy"))
    assert images(os.path.join(d, "y.npy"), os.path.join(d, "other.npy"))[1].shape == (1, 4)


def test_usage_errors(d):
    f = mixed_set(d)
    p = sorted(f.values())[0]
    o = os.path.join(d, "x.npy")
    for args in (["--ragged", "--resize", "8x8"], ["--ragged", "--resize", 8, "--fit", "cover"],
                 ["--ragged", "--pad", 3], ["--resize", 8], ["--max-side", 8],
                 ["--index", "i.npy"], ["--ragged", "--max-side", 0],
                 ["--ragged", "--resize", 8, "--max-side", 9], ["--ragged", "--filter", "box"]):
        r = ok(run("load", "-q", "-o", o, *args, p), 2)
        assert "Try 'parimg load --help'" in r.err, (args, r)
    assert listing(d) == ["mixed"]
    r = ok(run("bench", "--max-side", 8, "-r", 1, p), 2)


def test_bench_ragged(d):
    f = mixed_set(d)
    r = ok(run("bench", "--ragged", "--resize", 20, "-j", "1,2", "-r", 1, "--dir", d,
               *sorted(f.values())))
    assert "own sizes (--ragged" in r.out, r


# ------------------------------------------------ the guide's worked example

def test_readme_ragged_example(d):
    """The guide's ragged example, run as written: its shell block with
    this parimg first on PATH, then its Python block."""
    harness.run_readme_example(d, "ragged example")


def test_channels_first_normalized_and_stats(d):
    """--ragged with --layout nchw: each image C x H x W; with --normalize
    imagenet equal to torchvision's Normalize(ToTensor()) image by image;
    --stats equal to NumPy over every image's samples; -c required for
    --stats and --normalize (channels would vary)."""
    import json
    import torch  # noqa: F401 (torchvision's own dependency)
    import torchvision.transforms as T
    src = os.path.join(ROOT, "tests", "data", "photos")
    files = sorted(os.path.join(src, f) for f in os.listdir(src) if f.endswith(".png"))
    out, st = os.path.join(d, "x.npy"), os.path.join(d, "s.json")
    ok(run("load", "-q", "--ragged", "-c", "3", "--layout", "nchw", "-o", out, *files, cwd=d))
    x, idx = np.load(out), np.load(os.path.join(d, "x.index.npy"))
    for (o, h, w, c), f in zip(idx, files):
        want = np.asarray(Image.open(f).convert("RGB")).transpose(2, 0, 1)
        assert np.array_equal(x[o:o + h * w * c].reshape(c, h, w), want), f
    tf = T.Compose([T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    ok(run("load", "-q", "-f", "--ragged", "-c", "3", "--layout", "nchw", "--normalize",
           "imagenet", "--stats", st, "-o", out, *files, cwd=d))
    x, idx = np.load(out), np.load(os.path.join(d, "x.index.npy"))
    assert x.dtype == np.float32
    pix = []
    for (o, h, w, c), f in zip(idx, files):
        im = Image.open(f).convert("RGB")
        assert np.array_equal(x[o:o + h * w * c].reshape(c, h, w), tf(im).numpy()), f
        pix.append(np.asarray(im).reshape(-1, 3) / 255.0)
    a, s = np.concatenate(pix), json.load(open(st))
    assert np.allclose(s["mean"], a.mean(0), rtol=1e-9, atol=0), (s["mean"], a.mean(0))
    assert np.allclose(s["std"], a.std(0), rtol=1e-9, atol=0), (s["std"], a.std(0))
    for extra in (["--stats", st], ["--normalize", "imagenet"]):
        r = run("load", "-q", "-f", "--ragged", "-o", out, *extra, *files, cwd=d)
        assert r.code == 2 and "needs -c" in r.err, r


harness.main(globals())
