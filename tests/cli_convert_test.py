#!/usr/bin/python3
"""Command-line tests for "parimg convert": images resized and re-encoded
into a tree or webdataset shards. Oracles: Pillow's resize() and save()
(JPEG bytes identical; PNG and lossless WebP pixels), sha256 of the sources
for passthrough, "parimg load" for the class tree and shards read back,
tarfile for the shards.

Run: /usr/bin/python3 tests/cli_convert_test.py ./parimg [test_name...]
"""
import glob
import hashlib
import io
import os
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import time

import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
import photos  # noqa: E402
from harness import names, ok, run  # noqa: E402


# ---------------------------------------------------------------- helpers

def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tree(d):
    """{relative path: bytes} of every file under D."""
    out = {}
    for root, _, files in os.walk(d):
        for f in files:
            p = os.path.join(root, f)
            out[os.path.relpath(p, d)] = open(p, "rb").read()
    return out


def short_side(size, s):
    """torchvision's Resize(S) size, as load --ragged --resize S."""
    w, h = size
    return (s, int(s * h / w)) if w <= h else (int(s * w / h), s)


def max_side(size, m):
    w, h = size
    if max(w, h) <= m:
        return size
    if w >= h:
        return (m, max(1, h * m // w))
    return (max(1, w * m // h), m)


def pil_save(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def make_sources(d, n_rgb=3, n_gray=2):
    """Photos as PNG and JPEG sources, RGB and gray, of several sizes."""
    src = os.path.join(d, "src")
    os.makedirs(src)
    names_ = photos.RGB_PHOTOS[:n_rgb]
    for k, name in enumerate(names_):
        im = photos.photo(name).resize((300 + 17 * k, 220 + 9 * k))
        im.save(os.path.join(src, "rgb%d.png" % k))
        im.save(os.path.join(src, "rgbj%d.jpg" % k), quality=92)
    for k in range(n_gray):
        im = photos.photo("camera", "L").resize((250 + 13 * k, 310))
        im.save(os.path.join(src, "gray%d.png" % k))
    return src


def class_tree(d, per=3):
    root = os.path.join(d, "classes")
    for c, name in enumerate(("bird", "cat", "dog")):
        os.makedirs(os.path.join(root, name))
        for k in range(per):
            im = photos.photo(photos.RGB_PHOTOS[(c + k) % 5]).resize((64 + 8 * k, 48 + 4 * c))
            im.save(os.path.join(root, name, "%s%d.png" % (name, k)))
    return root


# ---------------------------------------------------------------- pixels

def test_jpeg_bytes_equal_pillow(d):
    """JPEG output is byte for byte Pillow's im.save(f, "JPEG", quality=Q)
    of the same resized pixels: RGB and gray, quality 75, 90 and 95, each
    geometry."""
    src = make_sources(d)
    geoms = {
        "none": ([], lambda im: im),
        "short": (["--resize", "128"], lambda im: im.resize(short_side(im.size, 128),
                                                            Image.BILINEAR)),
        "max": (["--max-side", "200", "--filter", "lanczos"],
                lambda im: im.resize(max_side(im.size, 200), Image.LANCZOS)
                if max(im.size) > 200 else im),
        "wxh": (["--resize", "96x64", "--filter", "bicubic"],
                lambda im: im.resize((96, 64), Image.BICUBIC)),
    }
    for q in (75, 90, 95):
        for g, (opts, fn) in geoms.items():
            out = os.path.join(d, "o%d%s" % (q, g))
            ok(run("convert", "-q", "--format", "jpeg", "--quality", q, *opts, "-o", out, src))
            for f in sorted(os.listdir(src)):
                im = Image.open(os.path.join(src, f))
                want = pil_save(fn(im), "JPEG", quality=q)
                got = open(os.path.join(out, os.path.splitext(f)[0] + ".jpg"), "rb").read()
                assert got == want, (q, g, f, len(got), len(want))
    # A JPEG's comment: Pillow's reader keeps it in info, resize() carries
    # it and save() writes it again; so does convert.
    com = os.path.join(d, "com")
    os.makedirs(com)
    photos.photo("coffee").save(os.path.join(com, "c.jpg"), quality=90, comment=b"made by GIMP")
    ok(run("convert", "-q", "--format", "jpeg", "--quality", "90", "--resize", "100", "-o",
           os.path.join(d, "ocom"), com))
    im = Image.open(os.path.join(com, "c.jpg"))
    want = pil_save(im.resize(short_side(im.size, 100), Image.BILINEAR), "JPEG", quality=90)
    assert b"made by GIMP" in want
    assert open(os.path.join(d, "ocom", "c.jpg"), "rb").read() == want
    # The default quality is Pillow's (75); -c 1 as convert("L").
    out = os.path.join(d, "default")
    ok(run("convert", "-q", "--format", "jpeg", "-c", "1", "-o", out, src))
    for f in sorted(os.listdir(src)):
        want = pil_save(Image.open(os.path.join(src, f)).convert("L"), "JPEG")
        assert open(os.path.join(out, os.path.splitext(f)[0] + ".jpg"), "rb").read() == want, f


def test_png_webp_pixels(d):
    """PNG and lossless WebP hold Pillow's resized pixels exactly; gray
    goes to WebP as RGB (as Pillow's save converts it). Lossy WebP is
    Pillow's bytes (same libwebp, same settings)."""
    src = make_sources(d, 2, 1)
    for fmt, extra, ext in (("png", [], "png"), ("webp", ["--lossless"], "webp")):
        out = os.path.join(d, fmt)
        ok(run("convert", "-q", "--format", fmt, *extra, "--resize", "100", "--filter",
               "hamming", "-o", out, src))
        for f in sorted(os.listdir(src)):
            im = Image.open(os.path.join(src, f))
            want = im.resize(short_side(im.size, 100), Image.HAMMING)
            if fmt == "webp" and want.mode == "L":
                want = want.convert("RGB")
            got = Image.open(os.path.join(out, os.path.splitext(f)[0] + "." + ext))
            assert got.mode == want.mode, (f, got.mode, want.mode)
            assert np.array_equal(np.asarray(got), np.asarray(want)), (fmt, f)
    out = os.path.join(d, "lossy")
    ok(run("convert", "-q", "--format", "webp", "--quality", "70", "-o", out, src))
    for f in sorted(os.listdir(src)):
        im = Image.open(os.path.join(src, f))
        want = pil_save(im.convert("RGB") if im.mode == "L" else im, "WEBP", quality=70)
        assert open(os.path.join(out, os.path.splitext(f)[0] + ".webp"), "rb").read() == want, f


def test_cover_and_exif_equal_load(d):
    """--resize WxH --fit cover and --exif-transpose give load's pixels
    (PNG output read back by load)."""
    src = os.path.join(d, "src")
    os.makedirs(src)
    im = photos.photo("chelsea")
    for o in (1, 3, 6, 8):
        ex = Image.Exif()
        ex[0x0112] = o
        im.resize((120, 80)).save(os.path.join(src, "e%d.jpg" % o), quality=90, exif=ex)
    out = os.path.join(d, "out")
    opts = ["--resize", "48x48", "--fit", "cover", "--exif-transpose"]
    ok(run("convert", "-q", "--format", "png", *opts, "-o", out, src))
    ok(run("load", "-q", *opts, "-o", os.path.join(d, "a.npy"), src))
    ok(run("load", "-q", "-o", os.path.join(d, "b.npy"), out))
    assert np.array_equal(np.load(os.path.join(d, "a.npy")), np.load(os.path.join(d, "b.npy")))


# ---------------------------------------------------------------- passthrough

def test_passthrough(d):
    """--format same without geometry copies every file's bytes; with
    --max-side only the files within it are copied, the rest resized in
    their own format."""
    src = make_sources(d)
    Image.open(os.path.join(src, "rgb0.png")).save(os.path.join(src, "g.gif"))
    out = os.path.join(d, "same")
    ok(run("convert", "-q", "-o", out, src))
    assert sorted(os.listdir(out)) == sorted(os.listdir(src))
    for f in os.listdir(src):
        assert sha(os.path.join(out, f)) == sha(os.path.join(src, f)), f
    out = os.path.join(d, "max")
    ok(run("convert", "-q", "--max-side", "300", "-o", out, src))
    for f in sorted(os.listdir(src)):
        im = Image.open(os.path.join(src, f))
        if f == "g.gif":   # not JPEG, PNG or WebP: re-encoded as PNG
            got = Image.open(os.path.join(out, "g.png"))
            assert got.size == max_side(im.size, 300)
        elif max(im.size) <= 300:
            assert sha(os.path.join(out, f)) == sha(os.path.join(src, f)), f
        else:
            want = im.resize(max_side(im.size, 300), Image.BILINEAR)
            p = os.path.join(out, f)
            if f.endswith(".jpg"):
                assert open(p, "rb").read() == pil_save(want, "JPEG", quality=75), f
            else:
                assert np.array_equal(np.asarray(Image.open(p)), np.asarray(want)), f


# ---------------------------------------------------------------- layouts

def test_class_tree_round_trip(d):
    """A class tree stays one: load --labels reads the same labels, and
    (PNG, one size) the same pixels, from the output as from the source."""
    root = class_tree(d)
    out = os.path.join(d, "out")
    ok(run("convert", "-q", "--labels", "--format", "png", "--resize", "32x32", "-o", out, root))
    assert sorted(os.listdir(out)) == ["bird", "cat", "dog"]
    ok(run("load", "-q", "--resize", "32x32", "--labels", os.path.join(d, "ya.npy"), "-o",
           os.path.join(d, "a.npy"), root))
    ok(run("load", "-q", "--labels", os.path.join(d, "yb.npy"), "-o", os.path.join(d, "b.npy"),
           out))
    for k in ("y", ""):
        assert np.array_equal(np.load(os.path.join(d, k + "a.npy")),
                              np.load(os.path.join(d, k + "b.npy"))), k


def shard_members(path):
    with tarfile.open(path) as t:
        return [(m.name, t.extractfile(m).read()) for m in t.getmembers()]


def test_shards(d):
    """Shards: tarfile reads them; samples group by the first-dot key
    rule; .cls are load --labels's labels; -j1 and -j2 give the same
    bytes; shard k holds rows [k*N, (k+1)*N); --shard-bytes bounds each
    shard; PNG shards load back to the source's pixels."""
    root = class_tree(d, per=4)
    a, b = os.path.join(d, "a"), os.path.join(d, "b")
    common = ["--labels", "--json", "--format", "png", "--resize", "24x24", "--shuffle", "--seed",
              "5", "--shard-size", "5", root]
    ok(run("convert", "-q", "-j1", "--schedule", "static", "--shards", a + "/s-%03d.tar", *common))
    ok(run("convert", "-q", "-j2", "--shards", b + "/s-%03d.tar", *common))
    assert sorted(os.listdir(a)) == ["s-%03d.tar" % k for k in range(3)]
    for f in os.listdir(a):
        assert open(os.path.join(a, f), "rb").read() == open(os.path.join(b, f), "rb").read(), f
    ok(run("load", "-q", "--resize", "24x24", "--shuffle", "--seed", "5", "--labels",
           os.path.join(d, "y.npy"), "-o", os.path.join(d, "x.npy"), root))
    y, x = np.load(os.path.join(d, "y.npy")), np.load(os.path.join(d, "x.npy"))
    row = 0
    for k in range(3):
        mem = shard_members(os.path.join(a, "s-%03d.tar" % k))
        keys = sorted({n.split(".", 1)[0] for n, _ in mem})
        assert keys == ["%06d" % r for r in range(5 * k, min(12, 5 * k + 5))], keys
        for key in keys:
            got = {n.split(".", 1)[1]: data for n, data in mem if n.split(".", 1)[0] == key}
            assert sorted(got) == ["cls", "json", "png"], got.keys()
            assert int(got["cls"]) == y[row]
            assert np.array_equal(np.asarray(Image.open(io.BytesIO(got["png"]))), x[row]), row
            row += 1
    assert row == 12
    # load reads a shard back with its .cls labels.
    one = os.path.join(d, "one")
    ok(run("convert", "-q", "--labels", "--format", "png", "--resize", "24x24",
           "--shards", one + "/%d.tar", root))
    ok(run("load", "-q", "--labels", os.path.join(d, "y1.npy"), "-o", os.path.join(d, "x1.npy"),
           one + "/0.tar"))
    ok(run("load", "-q", "--resize", "24x24", "--labels", os.path.join(d, "y0.npy"), "-o",
           os.path.join(d, "x0.npy"), root))
    for k in ("x", "y"):
        assert np.array_equal(np.load(os.path.join(d, k + "0.npy")),
                              np.load(os.path.join(d, k + "1.npy"))), k
    # --shard-bytes: every shard within B (each holds more than one sample).
    c = os.path.join(d, "c")
    ok(run("convert", "-q", "--labels", "--format", "png", "--resize", "24x24",
           "--shard-bytes", "8K", "--shards", c + "/%d.tar", root))
    sizes = [os.path.getsize(p) for p in sorted(glob.glob(c + "/*.tar"))]
    assert len(sizes) > 1 and all(s <= 8192 for s in sizes), sizes
    keys = [n for p in sorted(glob.glob(c + "/*.tar"), key=lambda p: int(os.path.basename(p)[:-4]))
            for n, _ in shard_members(p) if n.endswith(".png")]
    assert keys == ["%06d.png" % r for r in range(12)], keys
    # -f over a longer earlier run: its shards past this run's last are
    # removed (a glob of the pattern must not read them), and said.
    for opts in (["--shard-size", "5"], ["--shard-bytes", "8K"]):
        e = os.path.join(d, "e" + opts[0])
        ok(run("convert", "-q", "--labels", "--format", "png", "--resize", "24x24", *opts,
               "--shards", e + "/%d.tar", root))
        before = len(os.listdir(e))
        shutil.rmtree(os.path.join(root, "dog"))
        shutil.rmtree(os.path.join(root, "cat"))
        r = ok(run("convert", "-q", "-f", "--labels", "--format", "png", "--resize", "24x24",
                   *opts,
                   "--shards", e + "/%d.tar", root))
        keys = [n for p in sorted(glob.glob(e + "/*.tar"),
                                  key=lambda p: int(os.path.basename(p)[:-4]))
                for n, _ in shard_members(p) if n.endswith(".png")]
        assert keys == ["%06d.png" % r for r in range(4)], (opts, keys)
        assert len(os.listdir(e)) < before and "earlier run" in r.err, (opts, r.err)
        root = class_tree(os.path.join(d, "again" + opts[0]), per=4)


def test_split(d):
    """--split: each part its own shards (PATTERN's %s) or folder."""
    root = class_tree(d, per=4)
    out = os.path.join(d, "s")
    ok(run("convert", "-q", "--labels", "--shuffle", "--split", "train=0.75,val=0.25",
           "--format", "jpeg", "--shard-size", "100", "--shards", out + "/%s-%06d.tar", root))
    assert sorted(os.listdir(out)) == ["train-000000.tar", "val-000000.tar"]
    n = [len([m for m, _ in shard_members(os.path.join(out, f)) if m.endswith(".cls")])
         for f in ("train-000000.tar", "val-000000.tar")]
    assert n == [9, 3], n
    t = os.path.join(d, "t")
    ok(run("convert", "-q", "--labels", "--shuffle", "--split", "train=0.75,val=0.25", "-o", t,
           root))
    assert sorted(os.listdir(t)) == ["train", "val"]
    got = sum(len(fs) for _, _, fs in os.walk(t))
    assert got == 12, got
    r = run("convert", "-q", "--split", "0.5,0.5", "--shards", out + "/x-%d.tar", root)
    assert r.code == 2 and "%s" in r.err, r


# ---------------------------------------------------------------- interruption

def many(d, n=160):
    src = os.path.join(d, "many")
    os.makedirs(src)
    base = photos.photo("astronaut")
    for k in range(n):
        base.rotate(k * 2).resize((400, 300)).save(os.path.join(src, "%04d.png" % k))
    return src


SMALL = dict(os.environ, PARIMG_CONVERT_BATCH="8")   # files written every 8 images


def interrupted(args, sig, outdir):
    """Run ARGS; send SIG once the first whole output file is in OUTDIR
    (not after a fixed time: a quiet machine finishes sooner than a busy
    one); its exit status."""
    p = subprocess.Popen([harness.BIN] + args, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=SMALL)
    deadline = time.time() + 30
    while p.poll() is None and time.time() < deadline:
        if any(not f.startswith(".") for _, _, fs in os.walk(outdir) for f in fs):
            break
        time.sleep(0.002)
    p.send_signal(sig)
    p.wait(timeout=60)
    return p.returncode


def test_interrupt_then_resume(d):
    """SIGINT or SIGKILL mid-run leaves only whole files under final names;
    --resume finishes the run to the bytes of an uninterrupted one, and no
    temporary file is left."""
    src = many(d, 120)
    for kind, layout in (("tree", "-o"), ("shards", "--shards")):
        want = os.path.join(d, kind + "-want")
        dest = want + ("/%03d.tar" if kind == "shards" else "")
        opts = ["--format", "jpeg", "--resize", "200", "-j2"]
        if kind == "shards":
            opts += ["--shard-size", "16"]
        ok(run("convert", "-q", *opts, layout, dest, src))
        for sig in (signal.SIGINT, signal.SIGKILL):
            got = os.path.join(d, "%s-%d" % (kind, sig))
            dest = got + ("/%03d.tar" if kind == "shards" else "")
            rc = interrupted(["convert", "-q", *opts, layout, dest, src], sig, got)
            assert rc != 0, "finished before the signal: make the corpus larger"
            part = tree(got)
            whole = tree(want)
            for name, data in part.items():
                if os.path.basename(name).startswith("."):
                    assert sig == signal.SIGKILL, name   # only a kill leaves a temp
                    continue
                assert whole[name] == data, name        # every final name is whole
            if part:
                r = run("convert", "-q", *opts, layout, dest, src)
                assert r.code == 1 and "exists" in r.err, r
            ok(run("convert", "-q", "--resume", *opts, layout, dest, src, env=SMALL))
            assert tree(got) == whole, (kind, sig)


# ---------------------------------------------------------------- bad input

def test_bad_inputs(d):
    """-k: a broken file is reported and skipped, exit 3, nothing written
    for it; without -k exit 1. Output inside an input, an unwritable
    output, an existing output without -f: each refused, naming the path,
    with nothing half-written."""
    src = make_sources(d, 2, 0)
    bad = os.path.join(src, "bad.jpg")
    open(bad, "wb").write(open(os.path.join(src, "rgbj0.jpg"), "rb").read()[:300])
    out = os.path.join(d, "k")
    r = ok(run("convert", "-q", "-k", "--format", "png", "--resize", "50", "-o", out, src), 3)
    names(r, bad)
    assert "1 of 5 images skipped" in r.err, r.err
    assert sorted(os.listdir(out)) == ["rgb0.png", "rgb1.png", "rgbj0.png", "rgbj1.png"]
    r = ok(run("convert", "-q", "--format", "png", "--resize", "50", "-o",
               os.path.join(d, "nok"), src), 1)
    names(r, bad)
    assert not [f for f in tree(os.path.join(d, "nok")) if "bad" in f or f.startswith(".")] \
        if os.path.isdir(os.path.join(d, "nok")) else True
    os.remove(bad)
    r = ok(run("convert", "-q", "-o", os.path.join(src, "sub"), src), 1)
    names(r, os.path.join(src, "sub"), "inside the input")
    assert not os.path.exists(os.path.join(src, "sub"))
    ro = os.path.join(d, "ro")
    os.makedirs(ro)
    os.chmod(ro, stat.S_IRUSR | stat.S_IXUSR)
    if os.geteuid() != 0:
        r = ok(run("convert", "-q", "-o", os.path.join(ro, "x"), src), 1)
        assert os.path.join(ro, "x") in r.err, r
    # An output that cannot be made (a file where its folder would be).
    blocker = os.path.join(d, "blocker")
    open(blocker, "w").close()
    r = ok(run("convert", "-q", "-o", os.path.join(blocker, "x"), src), 1)
    assert os.path.join(blocker, "x") in r.err and "Not a directory" in r.err, r
    out = os.path.join(d, "e")
    ok(run("convert", "-q", "--format", "png", "-o", out, src))
    before = tree(out)
    r = ok(run("convert", "-q", "--format", "png", "--resize", "20", "-o", out, src), 1)
    assert "file exists" in r.err, r
    assert tree(out) == before
    ok(run("convert", "-q", "-f", "--format", "png", "--resize", "20", "-o", out, src))
    assert Image.open(os.path.join(out, "rgb0.png")).size[1] == 20
    # Two inputs to one output name.
    Image.open(os.path.join(src, "rgb0.png")).save(os.path.join(src, "rgb0.webp"))
    r = ok(run("convert", "-q", "--format", "png", "-o", os.path.join(d, "two"), src), 1)
    assert "rgb0.png: the output of both" in r.err, r


def test_usage_errors(d):
    src = make_sources(d, 1, 0)
    for args, text in ((["--format", "jpeg", "-c", "4"], "no alpha"),
                       (["--format", "png", "--quality", "80"], "not PNG"),
                       (["--lossless"], "--format webp"),
                       (["--fit", "cover"], "--resize WxH"),
                       (["--dtype", "f4"], "8-bit"),
                       (["--shards", "x-%s.tar"], "invalid --shards"),
                       (["--shard-size", "0", "--shards", "x%d.tar"], "--shard-size"),
                       (["--json"], "needs --shards"),
                       (["--resume", "-f"], "not both"),
                       (["--format", "gif"], "invalid --format")):
        a = list(args)
        if "--shards" not in a:
            a += ["-o", os.path.join(d, "o")]
        r = run("convert", *a, src)
        assert r.code == 2 and text in r.err, (args, r)


harness.main(globals())
