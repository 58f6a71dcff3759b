#!/usr/bin/python3
"""Command-line tests of load's --exif-transpose: every orientation in JPEG,
PNG, WebP and TIFF equal to Pillow's ImageOps.exif_transpose() (a TIFF to
Image.open(), whose loader turns it already), at 1 to 4 channels and 16
bits, then --resize and --fit cover; the places Pillow finds the tag in a
PNG; the probed shape turned; malformed EXIF blocks changing nothing; off
by default; bench passing it on.
Run as: /usr/bin/python3 tests/cli_exif_test.py ./parimg [TEST...]
"""
import io
import os
import re
import struct
import sys

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
import photos  # noqa: E402
from harness import load, loaded, names, ok, run  # noqa: E402

MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def exif_block(o, be=False):
    """A TIFF-structured EXIF block (no prefix) holding Orientation O."""
    e = "MM" if be else "II"
    f = ">" if be else "<"
    return (e.encode() + struct.pack(f + "HI", 42, 8) + struct.pack(f + "H", 1) +
            struct.pack(f + "HHIHH", 0x0112, 3, 1, o, 0) + struct.pack(f + "I", 0))


def source(w=45, h=28):
    """An RGBA photograph crop, alpha from its luminance, W x H (not square,
    so that a turn shows in the shape)."""
    return photos.alpha_of(photos.crop(photos.photo("astronaut"), w, h))


def write(d, fmt, o, im=None):
    """IM saved as FMT with EXIF orientation O; the path."""
    im = source() if im is None else im
    path = os.path.join(d, "o%d.%s" % (o, fmt))
    if fmt == "jpg":
        im.convert("RGB").save(path, "JPEG", quality=92, exif=b"Exif\0\0" + exif_block(o, True))
    elif fmt == "png":
        im.save(path, "PNG", exif=exif_block(o))
    elif fmt == "webp":
        im.save(path, "WEBP", lossless=True, exif=b"Exif\0\0" + exif_block(o))
    else:
        im.save(path, "TIFF", tiffinfo={274: o})
    return path


def pillow_turned(path):
    """Pillow's turned image: exif_transpose of the file; a TIFF is turned by
    Image.open itself (and exif_transpose would turn it a second time)."""
    im = Image.open(path)
    im.load()
    return im if path.endswith(".tif") else ImageOps.exif_transpose(im)


def test_every_orientation_every_format_equals_pillow(d):
    """Orientations 1-8 in JPEG, PNG, WebP and TIFF, -c 1 to 4:
    ImageOps.exif_transpose(Image.open(f)).convert(mode), shape included."""
    for fmt in ("jpg", "png", "webp", "tif"):
        for o in range(1, 9):
            path = write(d, fmt, o)
            want_im = pillow_turned(path)
            if fmt != "tif":
                assert (want_im.size != Image.open(path).size) == (o >= 5), (fmt, o)
            for c, mode in MODES.items():
                ok(load(d, "--exif-transpose", "-c", c, path))
                want = np.asarray(want_im.convert(mode))
                got = loaded(d)[0]
                assert got.shape == want.shape, (fmt, o, c, got.shape, want.shape)
                assert (got == want).all(), (fmt, o, c)


def test_16bit_png_turned_exactly(d):
    """A 16-bit gray and a 16-bit RGB PNG at -t u2: Pillow's turned samples."""
    gray = (np.arange(31 * 20, dtype=np.uint32).reshape(20, 31) * 97 % 65536).astype(np.uint16)
    for o in range(1, 9):
        path = os.path.join(d, "g16_%d.png" % o)
        Image.fromarray(gray, "I;16").save(path, exif=exif_block(o))
        ok(load(d, "--exif-transpose", "-t", "u2", path))
        want = np.asarray(pillow_turned(path)).astype(np.uint16)
        assert (loaded(d)[0] == want).all(), o
        # 16-bit RGB: the oracle is the stored array turned by numpy.
        rgb = np.dstack([gray, gray[::-1], 65535 - gray])
        path = os.path.join(d, "rgb16_%d.png" % o)
        png16(path, rgb, exif_block(o))
        for c in (3, 4):
            ok(load(d, "--exif-transpose", "-t", "u2", "-c", c, path))
            want = turn(rgb, o)
            if c == 4:
                want = np.dstack([want, np.full(want.shape[:2], 65535, np.uint16)])
            assert (loaded(d)[0] == want).all(), (o, c)


def turn(a, o):
    """numpy's reading of the EXIF orientations (the spec's table)."""
    return {1: lambda x: x, 2: lambda x: x[:, ::-1], 3: lambda x: x[::-1, ::-1],
            4: lambda x: x[::-1], 5: lambda x: x.swapaxes(0, 1),
            6: lambda x: x[::-1].swapaxes(0, 1), 7: lambda x: x[::-1, ::-1].swapaxes(0, 1),
            8: lambda x: x[:, ::-1].swapaxes(0, 1)}[o](a)


def png16(path, rgb, exif):
    """A 16-bit RGB PNG of RGB (h, w, 3 uint16) with an eXIf chunk."""
    import zlib
    h, w, _ = rgb.shape
    raw = b"".join(b"\0" + rgb[y].astype(">u2").tobytes() for y in range(h))
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" +
                 harness.png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)) +
                 harness.png_chunk(b"eXIf", exif) +
                 harness.png_chunk(b"IDAT", zlib.compress(raw)) + harness.png_chunk(b"IEND", b""))


def test_turn_before_resize_and_fit(d):
    """--resize and --fit cover after the turn: Pillow's exif_transpose,
    then resize (and the centre crop), on the turned image."""
    for fmt in ("jpg", "png", "webp", "tif"):
        for o in (1, 3, 5, 6, 8):
            path = write(d, fmt, o)
            turned = pillow_turned(path).convert("RGB")
            ok(load(d, "--exif-transpose", "-c", 3, "--resize", "20x13", path))
            want = np.asarray(turned.resize((20, 13), Image.BILINEAR))
            assert (loaded(d)[0] == want).all(), (fmt, o, "stretch")
            ok(load(d, "--exif-transpose", "-c", 3, "--resize", "16x16", "--fit", "cover", path))
            w, h = turned.size
            sw, sh = (max(16, w * 16 // h), 16) if w >= h else (16, max(16, h * 16 // w))
            im = turned.resize((sw, sh), Image.BILINEAR)
            x, y = int(round((sw - 16) / 2.0)), int(round((sh - 16) / 2.0))
            want = np.asarray(im.crop((x, y, x + 16, y + 16)))
            assert (loaded(d)[0] == want).all(), (fmt, o, "cover")


def test_draft_after_turn(d):
    """--draft with a turned JPEG: the reduced scale covers the turned
    target; Pillow's draft() on the stored image, then the turn, then the
    resize."""
    big = photos.crop(photos.photo("chelsea"), 300, 200)
    for o in (1, 6, 8):
        path = write(d, "jpg", o, big)
        ok(load(d, "--exif-transpose", "-c", 3, "--resize", "40x90", "--draft", path))
        with Image.open(path) as im:
            # The turned target 40x90 is 90x40 in the stored image's axes.
            im.draft("RGB", (90, 40) if o >= 5 else (40, 90))
            want = ImageOps.exif_transpose(im).convert("RGB").resize((40, 90), Image.BILINEAR)
        assert (loaded(d)[0] == np.asarray(want)).all(), o


def test_off_by_default(d):
    """Without the option, or with --no-exif-transpose after it: the stored
    image, Pillow's Image.open() (which ignores the tag)."""
    for fmt in ("jpg", "png", "webp"):
        path = write(d, fmt, 6)
        want = photos.pillow_array(path, "RGB")
        for args in ([], ["--no-exif-transpose"], ["--exif-transpose", "--no-exif-transpose"]):
            ok(load(d, "-c", 3, *args, path))
            assert (loaded(d)[0] == want).all(), (fmt, args)


def test_shape_follows_first_turned_image(d):
    """The array's shape is the turned first image's; a stored-upright image
    of the stored size then differs, named, unless --resize."""
    a = write(d, "jpg", 6)
    b = os.path.join(d, "plain.jpg")
    source().convert("RGB").save(b, quality=92)
    ok(load(d, "--exif-transpose", "-c", 3, "--order", "none", a, a))
    assert loaded(d).shape == (2, 45, 28, 3)
    r = load(d, "--exif-transpose", "-c", 3, "--order", "none", a, b)
    assert r.code == 1, r
    names(r, b, r"size 45x28 differs from 28x45")
    r = load(d, "--exif-transpose", "-c", 3, "--order", "none", "-k", a, b, a)
    assert r.code == 3, r
    ok(load(d, "--exif-transpose", "-c", 3, "--order", "none", "--resize", "28x45", a, b))


def png_with(d, name, info=None, **kw):
    path = os.path.join(d, name + ".png")
    source().save(path, "PNG", pnginfo=info, **kw)
    return path


def test_png_places_pillow_reads(d):
    """Pillow's getexif() on a PNG also reads a tEXt "exif" chunk, the "Raw
    profile type exif" text (plain or zTXt), and XMP's tiff:Orientation; an
    eXIf after the image data too. load finds each."""
    block = exif_block(8)
    hexed = block.hex()
    profile = "\nexif\n%8d\n%s\n" % (len(block) + 6, "\n".join(
        ("457869660000" + hexed)[k:k + 72] for k in range(0, 12 + len(hexed), 72)))
    cases = {}
    i = PngImagePlugin.PngInfo()
    i.add_text("exif", b"Exif\0\0" + block)
    cases["text_exif"] = i
    i = PngImagePlugin.PngInfo()
    i.add_text("Raw profile type exif", profile)
    cases["raw_profile_text"] = i
    i = PngImagePlugin.PngInfo()
    i.add_text("Raw profile type exif", profile, zip=True)
    cases["raw_profile_ztxt"] = i
    i = PngImagePlugin.PngInfo()
    i.add_itxt("XML:com.adobe.xmp", '<rdf:Description tiff:Orientation="5"/>')
    cases["xmp_itxt"] = i
    i = PngImagePlugin.PngInfo()
    i.add_itxt("XML:com.adobe.xmp", "<tiff:Orientation>7</tiff:Orientation>", zip=True)
    cases["xmp_itxt_compressed"] = i
    i = PngImagePlugin.PngInfo()
    i.add_itxt("XML:com.adobe.xmp", '<x tiff:Orientation="5"/>')
    cases["exif_before_xmp"] = (i, {"exif": exif_block(1)})   # the tag is there: XMP not read
    for name, info in sorted(cases.items()):
        kw = {}
        if isinstance(info, tuple):
            info, kw = info
        path = png_with(d, name, info, **kw)
        turned = ImageOps.exif_transpose(Image.open(path))
        ok(load(d, "--exif-transpose", "-c", 4, path))
        assert (loaded(d)[0] == np.asarray(turned.convert("RGBA"))).all(), name
        if name != "exif_before_xmp":
            assert turned.size != Image.open(path).size, name
    # eXIf after IDAT.
    src = png_with(d, "plain", None)
    data = open(src, "rb").read()
    iend = data.rindex(b"IEND") - 4
    path = os.path.join(d, "exif_after_idat.png")
    with open(path, "wb") as fh:
        fh.write(data[:iend] + harness.png_chunk(b"eXIf", exif_block(6)) + data[iend:])
    ok(load(d, "--exif-transpose", "-c", 4, path))
    want = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGBA"))
    assert loaded(d)[0].shape == want.shape == (45, 28, 4)
    assert (loaded(d)[0] == want).all()


def malformed_blocks():
    """EXIF blocks Pillow gets no orientation from, each possibly fatal to a
    careless parser."""
    good = exif_block(6)
    out = {
        "empty": b"",
        "header_only": good[:8],
        "bad_magic": b"II\x2b\0" + good[4:],
        "bad_order": b"IM" + good[2:],
        "ifd_past_end": good[:4] + struct.pack("<I", 0xfffffff0) + good[8:],
        "ifd_at_end": good[:4] + struct.pack("<I", len(good)) + good[8:],
        "entry_cut": good[:16],
        "value_out_of_range": exif_block(9),
        "value_zero": exif_block(0),
        "rational_type": good[:12] + struct.pack("<H", 5) + good[14:],
        "count_zero": good[:14] + struct.pack("<I", 0) + good[18:],
        "count_huge": good[:14] + struct.pack("<I", 0xffffffff) + good[18:],
        "random": bytes(np.random.default_rng(3).integers(0, 256, 300, dtype=np.uint8)),
    }
    return out


def test_malformed_exif_changes_nothing(d):
    """A malformed EXIF block in a JPEG, PNG or WebP: loaded as stored with
    --exif-transpose, equal to Pillow's Image.open() of the same file saved
    without it (Pillow refuses some of these JPEGs outright, its EXIF
    reader raising)."""
    im = source()
    for fmt in ("jpg", "png", "webp"):
        for name, block in sorted(malformed_blocks().items()) + [("none", None)]:
            path = os.path.join(d, "%s.%s" % (name, fmt))
            kw = {} if block is None else {"exif": (b"" if fmt == "png" else b"Exif\0\0") + block}
            if fmt == "jpg":
                im.convert("RGB").save(path, quality=90, **kw)
            elif fmt == "png":
                im.save(path, **kw)
            else:
                im.save(path, lossless=True, **kw)
        want = photos.pillow_array(os.path.join(d, "none." + fmt), "RGBA")
        for name in malformed_blocks():
            path = os.path.join(d, "%s.%s" % (name, fmt))
            ok(load(d, "--exif-transpose", "-c", 4, path))
            assert (loaded(d)[0] == want).all(), (name, fmt)


def test_jpeg_exif_hostile_segment_lengths(d):
    """An APP1 "Exif" segment whose length runs past the end, or is too short
    for the prefix: no turn, no crash; the file is judged as without it."""
    base = io.BytesIO()
    source().convert("RGB").save(base, "JPEG", quality=90)
    jpg = base.getvalue()
    for seglen in (2, 7, 8, 0xffff):
        app1 = b"\xff\xe1" + struct.pack(">H", seglen) + b"Exif\0\0" + exif_block(6)
        path = os.path.join(d, "seg%d.jpg" % seglen)
        with open(path, "wb") as fh:
            fh.write(jpg[:2] + app1 + jpg[2:])
        r = load(d, "--exif-transpose", "-c", 3, path)
        if r.code == 0:
            a = loaded(d)[0]
            assert a.shape in ((28, 45, 3), (45, 28, 3)), (seglen, a.shape)
        else:
            names(r, path, "JPEG")


def test_bench_passes_it_on(d):
    """bench times load with the option: the runs' checksum stage loads the
    turned shape, and --help documents it."""
    r = ok(run("bench", "--help"))
    assert "--exif-transpose" in r.out and "--no-exif-transpose" in r.out
    path = write(d, "jpg", 6)
    r = run("bench", "-r", "1", "-j", "1", "--exif-transpose", "-c", "3", path, cwd=d)
    assert r.code == 0, r
    assert re.search(r"load", r.out), r


harness.main(globals())
