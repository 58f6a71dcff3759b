#!/usr/bin/python3
"""Command-line tests of "parimg load" on TIFF: fixtures written at test time
from the repository's photographs by Pillow, by libtiff's tiffcp (every
compression, tiles, separate planes, byte orders, fill orders) and by
ImageMagick's convert (bit depths, palettes, alpha kinds, MinIsWhite), each
equal to Pillow 9.4's Image.open(f).convert(mode) at -c 1 to 4; 16-bit exact
with -t u2; float and int samples as their own values with f4/f8 and refused
with u1/u2; the Orientation tag applied as Pillow's loader applies it;
truncated and corrupt files refused, named, skipped with -k.
Also the three regression fixes of issue 18 in other decoders: a CMYK JPEG
at -c 4, GIF LZW code sizes 9-12, a 1-bit PNG's out-of-range tRNS key.
Run as: /usr/bin/python3 tests/cli_tiff_test.py ./parimg [TEST...]
"""
import atexit
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

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


def magick(src, dst, *args):
    # ImageMagick's policy may forbid some coders; TIFF and PNG it allows.
    tool("convert", src, *args, dst)


def build(d):
    """{name: path} of the TIFF fixtures, written into D."""
    f = {}
    cat = photos.crop(photos.photo("chelsea"), 96, 64)
    coffee = photos.crop(photos.photo("coffee"), 75, 50)     # odd width
    cam = photos.crop(photos.photo("camera", "L"), 80, 48)
    rgba = photos.alpha_of(photos.crop(photos.photo("hubble"), 64, 40))

    def p(name):
        return os.path.join(d, name + ".tif")

    def save(name, im, **kw):
        im.save(p(name), "TIFF", **kw)
        f[name] = p(name)

    save("pil_rgb", cat)
    save("pil_gray", cam)
    save("pil_1bit", cam.convert("1"))
    save("pil_palette", coffee.quantize(200))
    save("pil_cmyk", cat.convert("CMYK"))
    save("pil_gray_alpha", rgba.convert("LA"))
    save("pil_rgba", rgba)
    save("pil_lzw", cat, compression="tiff_lzw")
    save("pil_deflate", coffee, compression="tiff_adobe_deflate")
    save("pil_packbits", cam, compression="packbits")
    save("pil_jpeg", cat, compression="jpeg", quality=90)
    save("pil_g4", cam.convert("1"), compression="group4")
    gray16 = (np.asarray(cam).astype(np.uint16) * 257 - np.arange(48 * 80).reshape(48, 80))
    Image.fromarray(gray16.astype(np.uint16), "I;16").save(p("pil_gray16"))
    f["pil_gray16"] = p("pil_gray16")
    small16 = (np.asarray(cam).astype(np.uint16) // 3).astype(np.uint16)   # under 256: not clipped
    Image.fromarray(small16, "I;16").save(p("pil_gray16_small"))
    f["pil_gray16_small"] = p("pil_gray16_small")
    save("pil_multipage", cat, save_all=True, append_images=[coffee, cam])

    def cp(name, src, *args):
        tool("tiffcp", *args, f[src], p(name))
        f[name] = p(name)

    for c in ("lzw", "zip", "packbits", "lzma", "zstd"):
        cp("tiffcp_" + c, "pil_rgb", "-c", c)
    cp("tiffcp_lzw_predictor", "pil_rgb", "-c", "lzw:2")
    cp("tiffcp_gray16_predictor", "pil_gray16", "-c", "zip:2")
    cp("tiffcp_jpeg", "pil_rgb", "-c", "jpeg", "-r", "16")
    cp("tiffcp_jpeg_tiles", "pil_deflate", "-c", "jpeg", "-t", "-w", "16", "-l", "16")
    cp("tiffcp_tiles_odd", "pil_deflate", "-t", "-w", "32", "-l", "16")
    cp("tiffcp_tiles_16", "pil_gray16", "-t", "-w", "16", "-l", "16", "-c", "lzw")
    cp("tiffcp_separate", "pil_rgb", "-p", "separate", "-c", "lzw")
    cp("tiffcp_separate_tiles_rgba", "pil_rgba", "-p", "separate", "-t", "-w", "16", "-l", "32",
       "-c", "zip")
    cp("tiffcp_bigendian", "pil_rgb", "-B", "-c", "lzw")
    cp("tiffcp_bigendian_gray16", "pil_gray16", "-B")
    cp("tiffcp_lsb_1bit", "pil_1bit", "-L")
    cp("tiffcp_g3", "pil_1bit", "-c", "g3")
    cp("tiffcp_strips_of_7", "pil_rgb", "-r", "7")
    cp("tiffcp_bigtiff", "pil_rgb", "-8")

    m = {
        "magick_gray4": ("pil_gray", "-depth", "4"),
        "magick_gray2": ("pil_gray", "-depth", "2"),
        "magick_miniswhite8": ("pil_gray", "-define", "quantum:polarity=min-is-white"),
        "magick_miniswhite1": ("pil_1bit", "-define", "quantum:polarity=min-is-white"),
        "magick_palette4": ("pil_palette", "-colors", "16", "-type", "Palette", "-depth", "4"),
        "magick_palette2": ("pil_palette", "-colors", "4", "-type", "Palette", "-depth", "2"),
        "magick_palette1": ("pil_palette", "-colors", "2", "-type", "Palette", "-depth", "1"),
        "magick_rgb16": ("pil_rgb", "-depth", "16"),
        "magick_rgba16": ("pil_rgba", "-depth", "16"),
        "magick_cmyk16": ("pil_cmyk", "-depth", "16"),
        "magick_associated_alpha": ("pil_rgba", "-define", "tiff:alpha=associated"),
        "magick_unspecified_alpha": ("pil_rgba", "-define", "tiff:alpha=unspecified"),
        "magick_lzw": ("pil_rgba", "-compress", "lzw"),
        "magick_zip_gray": ("pil_gray", "-compress", "zip"),
        "magick_jpeg_ycbcr": ("pil_rgb", "-compress", "jpeg", "-quality", "85"),
    }
    for name, (src, *args) in m.items():
        magick(f[src], p(name), *args)
        f[name] = p(name)

    # Float and int samples (Pillow's F and I).
    vals = np.asarray(cam).astype(np.float64)
    Image.fromarray((vals / 7.3 - 11.25).astype(np.float32), "F").save(p("pil_float32"))
    Image.fromarray((vals * 10007 - 1234567).astype(np.int32), "I").save(p("pil_int32"))
    f["pil_float32"], f["pil_int32"] = p("pil_float32"), p("pil_int32")
    cp("tiffcp_float32_predictor", "pil_float32", "-c", "zip:3")
    return f


def fixtures():
    global _fixtures
    if _fixtures is None:
        d = tempfile.mkdtemp(prefix="parimg-tiff-")
        atexit.register(shutil.rmtree, d, True)
        _fixtures = build(d)
    return _fixtures


VALUES = ("pil_float32", "pil_int32", "tiffcp_float32_predictor")


def load(d, *args):
    return run("load", "-q", "-o", os.path.join(d, "out.npy"), *args, cwd=d)


def loaded(d):
    return np.load(os.path.join(d, "out.npy"))


def pillow_refuses(path):
    try:
        with Image.open(path) as im:
            im.convert("RGB")
        return False
    except Exception:
        return True


# ---------------------------------------------------------------- Pillow's pixels

def test_every_fixture_equals_pillow(d):
    """Each 8- and 16-bit fixture alone at -c 1 to 4: Pillow's convert(mode)."""
    checked = 0
    for name, path in sorted(fixtures().items()):
        if name in VALUES:
            continue
        assert not pillow_refuses(path), name
        for c, mode in MODES.items():
            ok(load(d, "-f", "-c", c, path))
            got = loaded(d)[0]
            with Image.open(path) as im:
                want = np.asarray(im.convert(mode))
            assert got.shape == want.shape, (name, mode, got.shape, want.shape)
            diff = int(np.count_nonzero(got != want))
            assert diff == 0, "%s -c %d: %d samples differ from Pillow's %s" % (name, c, diff, mode)
            checked += 1
    assert checked >= 4 * 45, checked


def test_default_channels_are_pillow_modes(d):
    """Without -c, ImageFolder's rule on one file: 1 when it is gray (alpha
    dropped), else 3 (palette and CMYK too, alpha dropped)."""
    fx = fixtures()
    for name, c in (("pil_gray", 1), ("pil_1bit", 1), ("pil_gray_alpha", 1), ("pil_rgb", 3),
                    ("pil_palette", 3), ("pil_cmyk", 3), ("pil_rgba", 3),
                    ("magick_unspecified_alpha", 3), ("tiffcp_jpeg", 3)):
        ok(load(d, "-f", fx[name]))
        a = loaded(d)
        assert (a.shape[3] if a.ndim == 4 else 1) == c, (name, a.shape)


def test_16bit_exact_with_u2(d):
    """16-bit gray and RGB(A) at -t u2: the stored samples, every one (gray
    against Pillow's I;16 array, RGB against the samples libtiff-free numpy
    reads from an uncompressed copy)."""
    fx = fixtures()
    for name in ("pil_gray16", "tiffcp_gray16_predictor", "tiffcp_tiles_16",
                 "tiffcp_bigendian_gray16"):
        ok(load(d, "-f", "-t", "u2", fx[name]))
        with Image.open(fx[name]) as im:
            want = np.asarray(im).astype(np.uint16)
        got = loaded(d)[0]
        assert got.dtype == np.uint16 and (got == want).all(), name
    for name, c in (("magick_rgb16", 3), ("magick_rgba16", 4)):
        raw = os.path.join(d, "raw.tif")
        tool("tiffcp", "-c", "none", "-r", "100000", fx[name], raw)
        w, h = Image.open(raw).size
        data = open(raw, "rb").read()
        want = raw_samples(data, w, h, c)
        ok(load(d, "-f", "-t", "u2", "-c", c, fx[name]))
        assert (loaded(d)[0] == want).all(), name


def raw_samples(data, w, h, c):
    """The one strip of an uncompressed little-endian 16-bit TIFF, by its
    StripOffsets tag, read with numpy alone."""
    assert data[:4] == b"II*\0"
    ifd = struct.unpack_from("<I", data, 4)[0]
    n = struct.unpack_from("<H", data, ifd)[0]
    for k in range(n):
        tag, typ, count, value = struct.unpack_from("<HHII", data, ifd + 2 + 12 * k)
        if tag == 273:
            off = value if count == 1 else struct.unpack_from("<I", data, value)[0]
            return np.frombuffer(data, "<u2", w * h * c, off).reshape(h, w, c)
    raise AssertionError("no StripOffsets")


def test_16bit_gray_at_u1_is_pillow_clip(d):
    """Pillow converts its I;16 to L by clipping at 255: a 16-bit gray TIFF
    of small values is exact, a large one all but white."""
    fx = fixtures()
    ok(load(d, "-f", fx["pil_gray16_small"]))
    with Image.open(fx["pil_gray16_small"]) as im:
        assert (loaded(d)[0] == np.asarray(im).astype(np.uint8)).all()
    ok(load(d, "-f", fx["pil_gray16"]))
    with Image.open(fx["pil_gray16"]) as im:
        want = np.minimum(np.asarray(im), 255).astype(np.uint8)
    assert (loaded(d)[0] == want).all()


def test_float_and_int_samples_as_values(d):
    """Float32 and int32 TIFFs with -t f4 and f8: Pillow's F and I arrays."""
    fx = fixtures()
    for name in VALUES:
        with Image.open(fx[name]) as im:
            want = np.asarray(im)
        for t, dt in (("f4", np.float32), ("f8", np.float64)):
            ok(load(d, "-f", "-t", t, fx[name]))
            got = loaded(d)[0]
            assert got.dtype == dt and got.shape == want.shape, (name, t, got.shape)
            assert (got == want.astype(dt)).all(), (name, t)


def test_float_and_int_samples_refused_otherwise(d):
    """u1, u2, more than one channel, --scale and --resize on float or int
    samples: an error naming the file; -k skips it."""
    fx = fixtures()
    for name in VALUES:
        path = fx[name]
        for args, reason in ((["-t", "u1"], "need --dtype f4 or f8"),
                             (["-t", "u2"], "need --dtype f4 or f8"),
                             (["-t", "f4", "-c", "3"], "load as one channel"),
                             (["-t", "f4", "--scale"], "no range for --scale"),
                             (["-t", "f8", "--resize", "10x10"], "cannot --resize")):
            r = load(d, *args, path)
            assert r.code == 1, (name, args, r)
            names(r, path, reason)
            assert os.listdir(d) == [], os.listdir(d)
    gray = fx["pil_gray"]
    r = load(d, "-k", "--order", "none", gray, fx["pil_int32"], gray)
    assert r.code == 3, r
    a = loaded(d)
    assert a[0].any() and not a[1].any() and (a[0] == a[2]).all()


def test_multipage_is_first_page(d):
    """A multi-page file: its first page, Pillow's frame 0."""
    path = fixtures()["pil_multipage"]
    ok(load(d, "-f", "-c", 3, path))
    with Image.open(path) as im:
        assert im.n_frames == 3
        want = np.asarray(im.convert("RGB"))
    assert (loaded(d)[0] == want).all()


def test_orientation_tag_applied_as_pillow(d):
    """Pillow's TIFF loader turns each image by its Orientation tag: so does
    load, with or without --exif-transpose, every orientation, every
    compression path (raw strips, LZW, JPEG, tiles, float values)."""
    src = photos.crop(photos.photo("rocket"), 40, 24)
    for o in range(1, 9):
        path = os.path.join(d, "o%d.tif" % o)
        src.save(path, tiffinfo={274: o})
        for variant in ("raw", "lzw", "jpeg_tiles"):
            v = path if variant == "raw" else os.path.join(d, "o%d_%s.tif" % (o, variant))
            if variant == "lzw":
                tool("tiffcp", "-c", "lzw", path, v)
            elif variant == "jpeg_tiles":
                tool("tiffcp", "-c", "jpeg", "-t", "-w", "16", "-l", "16", path, v)
            with Image.open(v) as im:
                want = np.asarray(im.convert("RGB"))
            for flag in ("--no-exif-transpose", "--exif-transpose"):
                ok(load(d, "-f", "-c", 3, flag, v))
                assert (loaded(d)[0] == want).all(), (o, variant, flag)
        fpath = os.path.join(d, "f%d.tif" % o)
        Image.fromarray(np.asarray(src.convert("L")).astype(np.float32) / 3, "F").save(
            fpath, tiffinfo={274: o})
        ok(load(d, "-f", "-t", "f4", fpath))
        with Image.open(fpath) as im:
            im.load()       # the array's shape is taken before the turn otherwise
            assert (loaded(d)[0] == np.asarray(im)).all(), ("float", o)


def test_directory_takes_tif_and_tiff(d):
    """A directory's .tif and .tiff files are loaded (any case), in natural
    order."""
    fx = fixtures()
    src = os.path.join(d, "in")
    os.mkdir(src)
    for k, name in enumerate(("pil_rgb", "tiffcp_lzw", "tiffcp_jpeg")):
        shutil.copy(fx[name], os.path.join(src, "img_%d.%s" % (k, ("tif", "TIFF", "tiff")[k])))
    ok(run("load", "-q", "-c", 3, "-o", os.path.join(d, "out.npy"), src))
    a = loaded(d)
    assert a.shape[0] == 3
    for k, name in enumerate(("pil_rgb", "tiffcp_lzw", "tiffcp_jpeg")):
        with Image.open(fx[name]) as im:
            assert (a[k] == np.asarray(im.convert("RGB"))).all(), name


# ---------------------------------------------------------------- broken files

def broken(d):
    """{name: path} of damaged TIFFs."""
    fx = fixtures()
    out = {}

    def put(name, data):
        out[name] = os.path.join(d, name + ".tif")
        with open(out[name], "wb") as fh:
            fh.write(data)

    for name in ("pil_rgb", "tiffcp_lzw", "tiffcp_jpeg", "tiffcp_tiles_odd", "tiffcp_zip",
                 "tiffcp_separate"):
        data = open(fx[name], "rb").read()
        put("cut_half_" + name, data[:len(data) // 2])
        put("cut_header_" + name, data[:6])
    data = bytearray(open(fx["pil_rgb"], "rb").read())
    ifd = struct.unpack_from("<I", data, 4)[0]
    put("ifd_past_end", bytes(data[:4]) + struct.pack("<I", len(data) + 100) + bytes(data[8:]))
    bad = bytearray(data)
    struct.pack_into("<H", bad, ifd, 0xffff)        # entry count far past the end
    put("entry_count", bytes(bad))
    # The strip offsets past the end of the file.
    n = struct.unpack_from("<H", data, ifd)[0]
    for k in range(n):
        at = ifd + 2 + 12 * k
        if struct.unpack_from("<H", data, at)[0] == 273:
            bad = bytearray(data)
            struct.pack_into("<I", bad, at + 8, 0x7ffffff0)
            put("strip_offset", bytes(bad))
    # LZW data overwritten with junk.
    lzw = bytearray(open(fx["tiffcp_lzw"], "rb").read())
    for k in range(16, len(lzw) // 2):
        lzw[k] = (k * 37) & 0xff
    put("lzw_junk", bytes(lzw))
    put("magic_only", b"II*\0")
    return out


def refused_by_pillow(d):
    """broken(D) split: those Pillow refuses, and those it still reads (a
    cut that loses only tag data after the image, say)."""
    refused, read = {}, {}
    for name, path in broken(d).items():
        # libtiff refuses a directory of more than 4096 entries, where
        # Pillow reads those the file holds: load is the stricter here.
        (refused if name in STRICTER or pillow_refuses(path) else read)[name] = path
    return refused, read


STRICTER = ("entry_count",)


def palette_alpha_tiff(path, idx, alpha, cmap):
    """An uncompressed 8-bit palette TIFF with an unassociated alpha sample
    beside each index (Pillow's mode PA), as Microsoft Office writes them
    (but for LZW, which tiffcp adds): IDX and ALPHA (H, W) uint8, CMAP
    (3, 256) uint16."""
    h, w = idx.shape
    pix = np.dstack([idx, alpha]).astype(np.uint8).tobytes()
    entries = []
    data = b""
    base = 8

    def put(blob):
        nonlocal data
        at = base + len(data)
        data += blob + (b"\0" if len(blob) % 2 else b"")
        return at
    cm = put(cmap.astype("<u2").tobytes())
    strip = put(pix)
    entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 2, (8, 8)), (259, 3, 1, 1), (262, 3, 1, 3),
               (273, 4, 1, strip), (277, 3, 1, 2), (278, 4, 1, h), (279, 4, 1, len(pix)),
               (320, 3, 768, cm), (338, 3, 1, 2)]
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        if kind == 3 and count <= 2:        # in the entry itself
            pair = value if count == 2 else (value, 0)
            ifd += struct.pack("<HHIHH", tag, kind, count, *pair)
        else:
            ifd += struct.pack("<HHII", tag, kind, count, value)
    ifd += struct.pack("<I", 0)
    with open(path, "wb") as f:
        f.write(b"II*\0" + struct.pack("<I", base + len(data)) + data + ifd)


def test_palette_with_alpha_is_pillows_pa(d):
    """Issue 28: a palette TIFF with an unassociated alpha sample (PA, LZW,
    as Microsoft Office writes it) reads its indices through the colour map
    with the alpha beside them, as Pillow does: its two samples a pixel
    were taken apart wrongly (57% of the samples differed)."""
    rng = np.random.default_rng(28)
    idx = rng.integers(0, 256, (37, 53), dtype=np.uint8)
    alpha = rng.integers(0, 256, (37, 53), dtype=np.uint8)
    cmap = rng.integers(0, 65536, (3, 256), dtype=np.uint16)
    raw = os.path.join(d, "pa_raw.tif")
    palette_alpha_tiff(raw, idx, alpha, cmap)
    lzw = os.path.join(d, "pa_lzw.tif")
    tool("tiffcp", "-c", "lzw", raw, lzw)
    for path in (raw, lzw):
        with Image.open(path) as im:
            assert im.mode == "PA", im.mode
            for c in (1, 2, 3, 4):
                ok(load(d, "-f", "-c", c, path))
                want = np.asarray(im.convert(MODES[c]))
                n = int((loaded(d)[0].reshape(want.shape) != want).sum())
                assert n == 0, "%s -c %d: %d samples differ" % (path, c, n)
        ok(load(d, "-f", path))
        assert loaded(d).shape[-1] == 3        # colour: RGB by default, alpha with -c 4


def test_broken_tiffs_refused_and_skipped(d):
    """Each damaged TIFF alone: exit 1, a line naming it and saying TIFF (or
    what was found), no output; all of them between good files with -k:
    exit 3, their rows zero, the good rows Pillow's."""
    bd = os.path.join(d, "broken")
    os.mkdir(bd)
    bad, still_read = refused_by_pillow(bd)
    assert len(bad) >= 12, sorted(bad)
    good = fixtures()["pil_rgb"]
    for name, path in sorted(still_read.items()):
        ok(load(d, "-f", "-c", 3, path))
        assert (loaded(d)[0] == photos.pillow_array(path, "RGB")).all(), name
        os.remove(os.path.join(d, "out.npy"))
    for name, path in sorted(bad.items()):
        r = load(d, "-c", 3, path)
        assert r.code == 1, (name, r)
        names(r, path, r"(truncated|corrupt|unsupported) TIFF|not a supported image")
        assert os.listdir(d) == ["broken"], (name, os.listdir(d))
        assert "TIFF" in r.err or "unknown format" in r.err, (name, r.err)
    order = []
    for name in sorted(bad):
        order += [good, bad[name]]
    r = load(d, "-k", "-j", 2, "-c", 3, "--order", "none", *order)
    assert r.code == 3, r
    a = loaded(d)
    with Image.open(good) as im:
        want = np.asarray(im.convert("RGB"))
    for k, path in enumerate(order):
        if path == good:
            assert (a[k] == want).all(), k
        else:
            names(r, path)
            assert not a[k].any(), path
    assert "%d of %d rows skipped" % (len(bad), len(order)) in r.err, r


def test_libtiff_prints_nothing(d):
    """libtiff's warnings and errors never reach stderr: only our lines."""
    bd = os.path.join(d, "broken")
    os.mkdir(bd)
    bad = broken(bd)
    r = load(d, "-k", "-c", 3, fixtures()["pil_rgb"], *sorted(bad.values()))
    for line in r.err.splitlines():
        assert line.startswith("parimg: "), line


def test_hostile_tile_size_refused_fast(d):
    """A 16x16 image whose header claims 65536x65536 tiles: refused, no
    gigabytes allocated (the worker's memory cap would otherwise fail it
    with out of memory, or the machine)."""
    src = os.path.join(d, "t.tif")
    tool("tiffcp", "-t", "-w", "16", "-l", "16", fixtures()["pil_gray"], src)
    data = bytearray(open(src, "rb").read())
    ifd = struct.unpack_from("<I", data, 4)[0]
    n = struct.unpack_from("<H", data, ifd)[0]
    for k in range(n):
        at = ifd + 2 + 12 * k
        tag, typ = struct.unpack_from("<HH", data, at)
        if tag in (322, 323):
            if typ == 3:
                struct.pack_into("<H", data, at + 8, 0xfff0)
            else:
                struct.pack_into("<I", data, at + 8, 0xfff0)
    with open(src, "wb") as fh:
        fh.write(data)
    r = load(d, src)
    assert r.code == 1, r
    names(r, src, "TIFF")


# ---------------------------------------------------------------- other decoders' fixes

def test_cmyk_jpeg_at_four_channels(d):
    """A CMYK or YCCK JPEG at -c 4: Pillow's RGB with opaque alpha (it was
    the inverted CMYK samples)."""
    fx = photos.build(os.path.join(d, "ph"))
    for name in ("jpeg_cmyk", "jpeg_ycck", "jpeg_cmyk_no_adobe"):
        ok(load(d, "-f", "-c", 4, fx[name]))
        want = photos.pillow_array(fx[name], "RGBA")
        got = loaded(d)[0]
        assert (got == want).all(), name
        assert (got[..., 3] == 255).all(), name


def gif_with_code_size(w, h, idx, mcs, pal):
    """A GIF whose LZW data, of minimum code size MCS, is literal codes
    only, a clear code before the table would grow the code size."""
    clear, size, nxt, codes, prev = 1 << mcs, mcs + 1, (1 << mcs) + 2, [], False
    codes.append(clear)
    for v in idx:
        if prev:
            nxt += 1
            if nxt == (1 << size) - 1:
                codes.append(clear)
                nxt, prev = clear + 2, False
        codes.append(int(v))
        prev = True
    codes.append(clear + 1)
    acc = n = 0
    out = bytearray()
    for c in codes:
        acc |= c << n
        n += size
        while n >= 8:
            out.append(acc & 255)
            acc >>= 8
            n -= 8
    if n:
        out.append(acc & 255)
    data = bytes(out)
    blocks = b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255]
                      for i in range(0, len(data), 255)) + b"\0"
    return (b"GIF89a" + struct.pack("<HHBBB", w, h, 0xf7, 0, 0) + pal + b"," +
            struct.pack("<HHHHB", 0, 0, w, h, 0) + bytes([mcs]) + blocks + b";")


def test_gif_code_sizes_up_to_12(d):
    """LZW minimum code sizes 9 to 12: Pillow decodes them, each literal the
    index of its low byte; so does load. 13 is refused, as by Pillow."""
    rng = np.random.default_rng(18)
    pal = bytes(rng.integers(0, 256, 768, dtype=np.uint8))
    for mcs in (8, 9, 10, 11, 12, 13):
        idx = rng.integers(0, min(1 << mcs, 4096), 30 * 20)
        path = os.path.join(d, "mcs%d.gif" % mcs)
        with open(path, "wb") as fh:
            fh.write(gif_with_code_size(30, 20, idx, mcs, pal))
        r = load(d, "-f", "-c", 3, path)
        if mcs == 13:
            assert r.code == 1, r
            names(r, path, r"corrupt GIF \(LZW code size 13\)")
            assert pillow_refuses(path)
            continue
        ok(r)
        want = photos.pillow_array(path, "RGB")
        assert (loaded(d)[0] == want).all(), mcs
        with Image.open(path) as im:
            assert (np.asarray(im).reshape(-1) == (idx & 255)).all(), mcs


def gray_png(depth, key, w=16, h=4):
    """A DEPTH-bit gray PNG of a fixed pattern whose tRNS key is KEY."""
    def chunk(t, body):
        return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body))
    rows = b"".join(b"\0" + bytes([0b10110010, 0b01101001] * ((w * depth + 15) // 16))
                    [:(w * depth + 7) // 8] for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, 0, 0, 0, 0)) +
            chunk(b"tRNS", struct.pack(">H", key)) + chunk(b"IDAT", zlib.compress(rows)) +
            chunk(b"IEND", b""))


def test_png_gray_trns_key_out_of_range(d):
    """A 1-, 2- or 4-bit (or 8-bit) gray PNG whose tRNS key is past its
    depth's range (255 for 1 bit): Pillow compares the key's low byte with
    the sample scaled to 8 bits; load gives its alpha."""
    for depth, key in ((1, 255), (1, 256), (2, 255), (2, 85), (2, 426), (4, 255), (4, 290),
                       (8, 298)):
        path = os.path.join(d, "g%d_%d.png" % (depth, key))
        with open(path, "wb") as fh:
            fh.write(gray_png(depth, key))
        for c, mode in ((2, "LA"), (4, "RGBA")):
            ok(load(d, "-f", "-c", c, path))
            want = photos.pillow_array(path, mode)
            assert (loaded(d)[0] == want).all(), (depth, key, mode)
        if (depth, key) == (1, 255):
            assert not want[..., 3].all(), "the fixture keys nothing"


harness.main(globals())
