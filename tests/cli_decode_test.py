#!/usr/bin/python3
"""Command-line tests of "parimg load"'s decoders on real photographs: every
fixture of tests/lib/photos.py (JPEG of every kind, WebP, GIF, PNG, files named
as another format) must give Pillow's Image.open(f).convert(mode), byte for
byte; every broken one must be refused, named, and skipped under -k; --draft
must decode what Pillow's draft() decodes. GIF's LZW is also fed hand-made
streams (a bit writer below, no binary fixtures): every code size 0 to 12,
and issue 32's code-size-12 file that ran past the old decoder's table.
Run as: /usr/bin/python3 tests/cli_decode_test.py ./parimg [TEST...]
"""
import atexit
import os
import random
import re
import shutil
import struct
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
import photos  # noqa: E402
from harness import names, ok, run  # noqa: E402

MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
_fixtures = None


def fixtures():
    """The fixtures, built once per run into a directory of their own."""
    global _fixtures
    if _fixtures is None:
        d = tempfile.mkdtemp(prefix="parimg-photos-")
        atexit.register(shutil.rmtree, d, True)
        _fixtures = photos.build(d)
    return _fixtures


def load(d, *args):
    return run("load", "-q", "-o", os.path.join(d, "out.npy"), *args, cwd=d)


def loaded(d):
    return np.load(os.path.join(d, "out.npy"))


def by_size(files):
    """{(w, h): [name, ...]} of the given fixtures."""
    groups = {}
    for name, path in sorted(files.items()):
        with Image.open(path) as im:
            groups.setdefault(im.size, []).append(name)
    return groups


# ---------------------------------------------------------------- Pillow's pixels

def test_every_fixture_equals_pillow(d):
    """Each valid file alone, at -c 1 to 4, u1: Pillow's convert(mode)."""
    for name, path in sorted(photos.good(fixtures()).items()):
        for c, mode in MODES.items():
            ok(load(d, "-f", "-c", c, path))
            got, want = loaded(d)[0], photos.pillow_array(path, mode)
            assert got.shape == want.shape, (name, mode, got.shape, want.shape)
            diff = int(np.count_nonzero(got != want))
            assert diff == 0, "%s -c %d: %d samples differ from Pillow's %s" % (name, c, diff, mode)


def test_same_size_files_in_one_worker(d):
    """Files of one size loaded together, -j1 (one worker decodes them all,
    its buffers and libjpeg state reused) and -j2: every row Pillow's."""
    for size, group in by_size(photos.good(fixtures())).items():
        if len(group) < 2:
            continue
        paths = [fixtures()[n] for n in group]
        for jobs in (1, 2):
            ok(load(d, "-f", "-c", 3, "--order", "none", "-j", jobs, *paths))
            a = loaded(d)
            for k, (name, path) in enumerate(zip(group, paths)):
                want = photos.pillow_array(path, "RGB")
                assert (a[k] == want).all(), "%s (row %d of %s, -j%d) differs" % (
                    name, k, size, jobs)


def test_u2_is_pillow_times_257(d):
    for name, path in sorted(photos.good(fixtures()).items()):
        ok(load(d, "-f", "-c", 3, "-t", "u2", path))
        got = loaded(d)[0]
        assert got.dtype == np.uint16, got.dtype
        want = photos.pillow_array(path, "RGB").astype(np.uint16) * 257
        assert (got == want).all(), name


def test_float_rows_from_a_buffer(d):
    """f4 cannot take the decoder's output directly: same values through the
    worker's buffer."""
    path = fixtures()["jpeg_progressive"]
    ok(load(d, "-f", "-c", 3, "-t", "f4", "--scale", path))
    want = photos.pillow_array(path, "RGB").astype(np.float32) / np.float32(255)
    assert np.array_equal(loaded(d)[0], want)


def test_animated_webp_first_frame(d):
    """An animated WebP, lossy without alpha and lossless with: its first
    frame, as Pillow loads it."""
    frames = [photos.crop(photos.photo(n), 120, 90) for n in ("rocket", "chelsea", "coffee")]
    rgba = [f.convert("RGBA") for f in frames]
    rgba[0].putalpha(photos.crop(photos.photo("astronaut", "L"), 120, 90))
    paths = [os.path.join(d, "anim.webp"), os.path.join(d, "anim_alpha.webp")]
    frames[0].save(paths[0], save_all=True, append_images=frames[1:], duration=100, quality=80)
    rgba[0].save(paths[1], save_all=True, append_images=rgba[1:], duration=100, lossless=True)
    for path in paths:
        with Image.open(path) as im:
            assert im.n_frames == 3, path
        for c, mode in MODES.items():
            ok(load(d, "-f", "-c", c, path))
            assert (loaded(d)[0] == photos.pillow_array(path, mode)).all(), (path, mode)


def test_bytes_choose_the_decoder(d):
    """A PNG named .jpg and .JPEG, a JPEG named .png, a WebP named .jpg, a
    GIF named .png, in a directory listing: each read as what it is."""
    fx = fixtures()
    src = os.path.join(d, "in")
    os.makedirs(src)
    named = sorted(n for n in fx if n.startswith("named_"))
    assert len(named) >= 4, named
    for n in named:
        shutil.copy(fx[n], os.path.join(src, n))
    ok(load(d, "-f", "-c", 4, "--resize", "64x48", "--manifest", os.path.join(d, "m.txt"), "in"))
    assert loaded(d).shape == (len(named), 48, 64, 4)
    for n in named:
        r = ok(load(d, "-f", "-c", 4, os.path.join(src, n)))
        assert r.err == "", r
        assert (loaded(d)[0] == photos.pillow_array(fx[n], "RGBA")).all(), n


# ---------------------------------------------------------------- broken files

REASON = {
    "jpeg": r"(truncated|corrupt|unsupported) JPEG \(|image of 320x0 pixels",
    "png": r"(truncated|corrupt) PNG \(",
    "webp": r"(truncated|corrupt) WebP \(",
    "gif": r"(truncated|corrupt) GIF \(",
}


def reason_for(name, path):
    """What the message for a broken fixture must say."""
    if os.path.getsize(path) == 0:
        return "empty file"
    fmt = name.split("_")[1]
    # Damage to the magic number, or a file cut before it is whole, leaves
    # nothing to recognise.
    return REASON[fmt] + r"|not a supported image \(unknown format\)"


def test_broken_files_refused(d):
    """Alone (the parent's probe) and after a good file (a worker): exit 1,
    a line 'parimg: PATH: reason', no output left."""
    fx = fixtures()
    good = fx["jpeg_baseline"]
    for name, path in sorted(photos.broken(fx).items()):
        for inputs in ([path], [good, path]):
            r = load(d, "--order", "none", "--resize", "32x32", *inputs)
            assert r.code == 1, "%s: %r" % (name, r)
            names(r, path, reason_for(name, path))
            assert not os.path.exists(os.path.join(d, "out.npy")), name
            assert [f for f in os.listdir(d)] == [], os.listdir(d)


def test_broken_files_skipped_with_keep_going(d):
    """Every broken file between good ones, -k: exit 3, each named, its row
    zero, the good rows Pillow's."""
    fx = fixtures()
    bad = sorted(photos.broken(fx))
    goods = ["jpeg_baseline", "webp_lossy", "png_rgba", "gif_transparent"]
    order = []
    for k, n in enumerate(bad):
        order.append(n)
        order.append(goods[k % len(goods)])
    r = load(d, "-k", "-j", 2, "-c", 3, "--order", "none", "--resize", "320x213",
             *[fx[n] for n in order])
    assert r.code == 3, r
    a = loaded(d)
    for k, n in enumerate(order):
        if n in goods:
            assert (a[k] == photos.pillow_array(fx[n], "RGB")).all(), n
        else:
            names(r, fx[n], reason_for(n, fx[n]))
            assert not a[k].any(), "row %d (%s) not zero" % (k, n)
    assert "%d of %d rows skipped" % (len(bad), len(order)) in r.err, r


def test_gif_data_ending_early(d):
    """A GIF whose LZW sub-blocks stop (terminator and trailer in place)
    before the frame is whole: Pillow says "image file is truncated"."""
    src = photos.pil_bytes(photos.crop(photos.photo("coffee"), 80, 60).quantize(256), "GIF")
    gct = 3 << ((src[10] & 7) + 1) if src[10] & 0x80 else 0
    assert src[13 + gct:14 + gct] == b",", "an extension before the image"
    start = 13 + gct + 11                   # no local colour table: past the code size
    blocks, at = [], start
    while src[at]:
        blocks.append(src[at:at + 1 + src[at]])
        at += 1 + src[at]
    assert len(blocks) > 3, len(blocks)
    path = os.path.join(d, "short.gif")
    with open(path, "wb") as f:
        f.write(src[:start] + b"".join(blocks[:2]) + b"\0;")
    assert photos.pillow_refuses(path)
    r = load(d, path)
    assert r.code == 1, r
    names(r, path, r"truncated GIF \(its image data ends before the image does\)")


# ---------------------------------------------------------------- GIF's LZW, by hand

def lzw_bits(codes, mcs):
    """CODES packed as GIF LZW data, least significant bit first, each at
    the width a decoder reads it at (Pillow's and GIF's rule: one bit more
    than MCS, growing when the table's next free code reaches 1 << width,
    up to 12; no entry for the first code after a clear, none past 4095)."""
    clear = 1 << mcs
    size, nxt, fresh = mcs + 1, clear + 2, True
    acc = n = 0
    out = bytearray()
    for c in codes:
        acc |= c << n
        n += size
        while n >= 8:
            out.append(acc & 255)
            acc >>= 8
            n -= 8
        if c == clear:
            size, nxt, fresh = mcs + 1, clear + 2, True
        elif fresh:
            fresh = False
        elif nxt < 4096:
            nxt += 1
            if nxt == 1 << size and size < 12:
                size += 1
    if n:
        out.append(acc & 255)
    return bytes(out)


def lzw_codes(pixels, mcs):
    """A GIF LZW encoder: clear, PIXELS' codes, end. Code sizes 0, 1 and 12
    get literals only (a table entry could never be reached: at 0 and 1 the
    width never grows, at 12 the table starts full)."""
    clear = 1 << mcs
    if mcs in (0, 1, 12):
        return [clear] + list(pixels) + [clear + 1]
    table = {(k,): k for k in range(clear)}
    nxt, codes, w = clear + 2, [clear], (pixels[0],)
    for p in pixels[1:]:
        if w + (p,) in table:
            w += (p,)
            continue
        codes.append(table[w])
        if nxt < 4096:
            table[w + (p,)] = nxt
            nxt += 1
        w = (p,)
    return codes + [table[w], clear + 1]


def gif_bytes(w, h, mcs, data):
    """A GIF89a of one W x H frame of LZW DATA at code size MCS, with a
    256-colour table that is no gray ramp (read as RGB)."""
    pal = b"".join(bytes((k * 7 % 256, k * 13 % 256, 255 - k)) for k in range(256))
    blocks = b"".join(bytes([len(data[k:k + 255])]) + data[k:k + 255]
                      for k in range(0, len(data), 255))
    return (b"GIF89a" + struct.pack("<HHBBB", w, h, 0xf7, 0, 0) + pal + b"," +
            struct.pack("<HHHHB", 0, 0, w, h, 0) + bytes([mcs]) + blocks + b"\0;")


def write(d, name, data):
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def test_gif_every_code_size_equals_pillow(d):
    """A GIF at each LZW code size 0 to 12 (2 to 8 from an encoder that fills
    the 4096-code table and goes on without a clear, 9 to 12 with literals
    past 255), all in one worker: every row Pillow's."""
    rng = random.Random(32)
    w, h = 211, 157
    paths = []
    for mcs in range(13):
        top = 1 << mcs if mcs else 1     # at 0, code 1 is the clear code
        # Noise fills the table; runs make the code-not-yet-in-table case.
        px = [rng.randrange(top) if (k // 500) % 2 else (k // 37) % top for k in range(w * h)]
        paths.append(write(d, "c%02d.gif" % mcs, gif_bytes(w, h, mcs, lzw_bits(lzw_codes(px, mcs), mcs))))
    for path in paths:
        assert not photos.pillow_refuses(path), path
    ok(load(d, "-c", 3, "-j", 1, "--order", "none", *paths))
    a = loaded(d)
    for k, path in enumerate(paths):
        assert (a[k] == photos.pillow_array(path, "RGB")).all(), path


def hostile_gif():
    """Issue 32's 96-byte 64x1 GIF: code size 12 (clear 4096, first free
    code 4098, a table that never grows), codes 5, 4098 x40, end. Pillow:
    "broken data stream" at the second 4098, whose previous code is no
    table entry."""
    data = lzw_bits([5] + [4098] * 40 + [4097], 12)
    return (b"GIF89a" + struct.pack("<HHBBB", 64, 1, 0, 0, 0) + b"," +
            struct.pack("<HHHHB", 0, 0, 64, 1, 0) + b"\x0c" + bytes([len(data)]) + data + b"\0;")


def test_gif_code_size_12_past_the_table_refused(d):
    """The hostile GIF alone, and after a GIF of index-16 pixels in the same
    worker (the sequence that made the old static table overrun its stack):
    exit 1 naming it, nothing written; under -k its row zero and the good
    row Pillow's. Under ASan (make test) any read past the table fails."""
    bad = write(d, "hostile.gif", hostile_gif())
    assert len(hostile_gif()) == 96
    assert photos.pillow_refuses(bad)
    good = os.path.join(d, "index16.gif")
    im = Image.new("P", (64, 1), 16)
    im.putpalette(bytes(range(256)) * 3)
    im.save(good)
    for inputs in ([bad], [good, bad]):
        r = load(d, "-j", 1, "--order", "none", *inputs)
        assert r.code == 1, r
        names(r, bad, r"corrupt GIF \(bad LZW code\)")
        assert sorted(os.listdir(d)) == ["hostile.gif", "index16.gif"], os.listdir(d)
    r = load(d, "-j", 1, "-k", "-c", 3, "--order", "none", good, bad, good)
    assert r.code == 3, r
    a = loaded(d)
    assert (a[0] == photos.pillow_array(good, "RGB")).all() and (a[2] == a[0]).all()
    assert not a[1].any()


def test_gif_code_size_12_as_pillow(d):
    """Code size 12 where Pillow reads it: the code past the table once,
    after a literal (its string repeated), literals past 255 as their low
    byte; twice in a row, or an end code before the frame is whole, each
    refused as Pillow refuses it."""
    cases = {
        "reads.gif": ([5, 4098, 300, 4098, 4096, 7, 259, 4098, 4097], None),
        "twice.gif": ([5, 4098, 4098, 4097], r"corrupt GIF \(bad LZW code\)"),
        "early_end.gif": ([5, 4098, 300, 4097], r"truncated GIF \(its image data ends"),
        "early_end_8.gif": ([256, 1, 2, 257], r"truncated GIF \(its image data ends"),
    }
    for name, (codes, reason) in cases.items():
        mcs = 8 if name.endswith("_8.gif") else 12
        path = write(d, name, gif_bytes(8, 1, mcs, lzw_bits(codes, mcs)))
        r = load(d, "-f", "-j", 1, "-c", 3, path)
        if reason is None:
            ok(r)
            assert (loaded(d)[0] == photos.pillow_array(path, "RGB")).all(), name
            with Image.open(path) as im:
                assert list(im.getdata()) == [5, 5, 5, 44, 44, 44, 7, 3], name
        else:
            assert photos.pillow_refuses(path), name
            assert r.code == 1, (name, r)
            names(r, path, reason)


def test_lenient_jpeg_like_pillow(d):
    """Damaged entropy-coded data: libjpeg warns and Pillow loads it; so does
    load, to the same pixels."""
    for name, path in sorted(fixtures().items()):
        if name.startswith("lenient_jpeg"):
            ok(load(d, "-f", "-c", 3, path))
            assert (loaded(d)[0] == photos.pillow_array(path, "RGB")).all(), name


# ---------------------------------------------------------------- --draft

def pillow_draft(path, mode, size):
    with Image.open(path) as im:
        im.draft(mode, size)
        return np.asarray(im.convert(mode))


def test_draft_decodes_as_pillow_draft(d):
    """--draft --resize to exactly 1/2, 1/4, 1/8 of a JPEG: the reduced
    decode itself, equal to Pillow's after draft()."""
    fx = fixtures()
    for name, c in (("jpeg_gray", 1), ("jpeg_440", 3), ("jpeg_arithmetic", 3),
                    ("jpeg_restart_block", 3), ("jpeg_q75_optimized", 4)):
        with Image.open(fx[name]) as im:
            w, h = im.size
        assert w % 8 == 0 and h % 8 == 0, (name, w, h)
        for s in (2, 4, 8):
            size = w // s, h // s
            ok(load(d, "-f", "-c", c, "--draft", "--resize", "%dx%d" % size, fx[name]))
            want = pillow_draft(fx[name], MODES[c], size)
            assert want.shape[:2] == (size[1], size[0]), (name, s, want.shape)
            assert (loaded(d)[0] == want).all(), "%s at 1/%d" % (name, s)


def test_draft_then_resize(d):
    """--draft to a size between scales: the scale Pillow's draft() picks,
    then the resizer, as for any image of that reduced size (a PNG of
    Pillow's draft decode, which --draft leaves alone)."""
    fx = fixtures()
    for name, size in (("jpeg_q75_optimized", (100, 100)), ("jpeg_q75_optimized", (50, 70)),
                       ("jpeg_q75_optimized", (150, 40)), ("jpeg_progressive", (80, 54)),
                       ("jpeg_cmyk", (40, 26)), ("jpeg_odd_301x201", (37, 25))):
        path = fx[name]
        png = os.path.join(d, "reduced.png")
        Image.fromarray(pillow_draft(path, "RGB", size)).save(png)
        arg = "%dx%d" % size
        ok(load(d, "-f", "-c", 3, "--resize", arg, "--draft", png))
        want = loaded(d)
        ok(load(d, "-f", "-c", 3, "--resize", arg, "--draft", path))
        assert (loaded(d) == want).all(), size
        os.unlink(png)


def test_draft_off_by_default_and_not_below_half(d):
    fx = fixtures()
    path = fx["jpeg_baseline"]                    # 320x213
    runs = {}
    for opts in ((), ("--no-draft",), ("--draft", "--no-draft"), ("--draft",)):
        ok(load(d, "-f", "-c", 3, "--resize", "80x53", *opts, path))
        runs[opts] = loaded(d)
    assert (runs[()] == runs[("--no-draft",)]).all()
    assert (runs[()] == runs[("--draft", "--no-draft")]).all()
    assert (runs[()] != runs[("--draft",)]).any(), "--draft changed nothing"
    # More than half the size: no reduced scale applies.
    ok(load(d, "-f", "-c", 3, "--resize", "200x150", path))
    full = loaded(d)
    ok(load(d, "-f", "-c", 3, "--resize", "200x150", "--draft", path))
    assert (loaded(d) == full).all()
    # Not a JPEG: nothing to draft.
    ok(load(d, "-f", "-c", 3, "--resize", "80x53", fx["webp_lossy"]))
    full = loaded(d)
    ok(load(d, "-f", "-c", 3, "--resize", "80x53", "--draft", fx["webp_lossy"]))
    assert (loaded(d) == full).all()


def scaled_size(w, h, tw, th, fit):
    """The size --fit scales a W x H image to (the man page's geometry):
    cover covers TW x TH, contain fits inside it, the other side floored."""
    wide = w * th >= h * tw
    if fit == "cover":
        return (max(tw, w * th // h), th) if wide else (tw, max(th, h * tw // w))
    if fit == "contain":
        return (tw, max(1, h * tw // w)) if wide else (max(1, w * th // h), th)
    return tw, th


def pillow_fit(im, tw, th, fit):
    """RGB image IM resized as --fit does, by Pillow: cover crops the centre
    (torchvision's CenterCrop rounding), contain pads around it with 0."""
    sw, sh = scaled_size(im.width, im.height, tw, th, fit)
    im = im.resize((sw, sh), Image.BILINEAR)
    if fit == "cover":
        x, y = int(round((sw - tw) / 2.0)), int(round((sh - th) / 2.0))
        im = im.crop((x, y, x + tw, y + th))
    out = np.zeros((th, tw, 3), np.uint8)
    x, y = (tw - im.width) // 2, (th - im.height) // 2
    out[y:y + im.height, x:x + im.width] = np.asarray(im)
    return out


def test_resize_without_draft_is_pillow_convert_then_resize(d):
    """The default, --no-draft: every JPEG fixture decoded in full, then
    resized, equal to Pillow's convert() and resize() (every --fit)."""
    fx = fixtures()
    for name, path in sorted(photos.good(fx).items()):
        if not name.startswith("jpeg_") or min(Image.open(path).size) < 16:
            continue
        for fit, size in (("stretch", (45, 30)), ("cover", (24, 24)), ("contain", (40, 40))):
            ok(load(d, "-f", "-c", 3, "--resize", "%dx%d" % size, "--fit", fit, path))
            with Image.open(path) as im:
                want = pillow_fit(im.convert("RGB"), size[0], size[1], fit)
            assert (loaded(d)[0] == want).all(), (name, fit)


def test_draft_follows_the_fit(d):
    """--draft with cover and contain: the reduced scale is chosen for the
    whole image's scaled size (cover's before its crop), and the geometry
    then follows from the reduced image, as after Pillow's draft()."""
    fx = fixtures()
    for name in ("jpeg_baseline", "jpeg_progressive", "jpeg_420", "jpeg_odd_301x201"):
        path = fx[name]
        for fit, (tw, th) in (("cover", (64, 64)), ("cover", (30, 50)), ("contain", (50, 30)),
                              ("contain", (40, 90))):
            ok(load(d, "-f", "-c", 3, "--resize", "%dx%d" % (tw, th), "--fit", fit, "--draft",
                    path))
            with Image.open(path) as im:
                im.draft("RGB", scaled_size(im.width, im.height, tw, th, fit))
                want = pillow_fit(im.convert("RGB"), tw, th, fit)
            assert (loaded(d)[0] == want).all(), (name, fit, tw, th)


def test_draft_needs_resize(d):
    r = load(d, "--draft", fixtures()["jpeg_baseline"])
    assert r.code == 2 and re.search(r"^parimg: --draft needs --resize$", r.err, re.M), r
    assert os.listdir(d) == [], os.listdir(d)


if __name__ == "__main__":     # fuzz/seeds.sh imports the GIF writers
    harness.main(globals())
