#!/usr/bin/python3
"""Command-line tests of "parimg load" and "check" on the formats of issue 28:
JPEG 2000 (JP2 and raw J2K codestreams, through OpenJPEG), HEIC/HEIF
(libheif with parimg's one-thread libde265 plugin), AVIF (libavif) and
JPEG XL (libjxl).
Fixtures are written at test time from the repository's photographs by the
Debian encoders (opj_compress, heif-enc, avifenc, cjxl) and by Pillow: lossy and lossless, 8, 10 and 12
bits, gray, alpha, odd sizes, tiles, 4:4:4; HEIC grids of several tiles and
irot/imir boxes are put into heif-enc's files by heif_edit. Each decodes as
its oracle does: JPEG 2000 as Pillow 9.4 (the same OpenJPEG) and as
opj_decompress, HEIC as heif-convert, AVIF as avifdec (then turned by
its clap/irot/imir boxes, as libheif turns them); lossless ones equal
their source; an animated AVIF is its first frame; JPEG XL as djxl.
Also: --resize and --fit cover equal Pillow's resize of the oracle's
pixels, misnamed files both ways load by content, truncated copies are
refused naming the file (skipped with -k), 30000x30000 headers are refused
before anything is allocated, directories list the new extensions, check
counts the formats.
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
import zlib

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
import photos  # noqa: E402
from harness import load, loaded, names, ok, run  # noqa: E402

MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
_fixtures = None


def tool(*args):
    subprocess.run([str(a) for a in args], check=True, capture_output=True)


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


# ---------------------------------------------------------------- HEIF boxes

class Box:
    """An ISO-BMFF box: its type, a full box's 4 version/flags bytes, and
    its children (for container boxes) or its body."""
    CONTAINERS = {b"meta": 4, b"iprp": 0, b"ipco": 0, b"dinf": 0}

    def __init__(self, kind, body=b"", children=None, head=b""):
        self.kind, self.body, self.children, self.head = kind, body, children, head

    @classmethod
    def parse(cls, data):
        out, off = [], 0
        while off + 8 <= len(data):
            n, kind = struct.unpack(">I4s", data[off:off + 8])
            body = data[off + 8:off + n]
            if kind in cls.CONTAINERS:
                h = cls.CONTAINERS[kind]
                out.append(cls(kind, children=cls.parse(body[h:]), head=body[:h]))
            else:
                out.append(cls(kind, body))
            off += n
        return out

    def bytes(self):
        body = self.head + (b"".join(c.bytes() for c in self.children)
                            if self.children is not None else self.body)
        return struct.pack(">I4s", 8 + len(body), self.kind) + body

    def find(self, kind):
        return next(c for c in self.children if c.kind == kind)


def iloc_shift(body, delta):
    """iloc's BODY with the file offsets of its items moved by DELTA."""
    b = bytearray(body)
    v = b[0]
    osz, lsz, bsz, isz = b[4] >> 4, b[4] & 15, b[5] >> 4, b[5] & 15
    pos = 6
    count = struct.unpack(">H", b[pos:pos + 2])[0] if v < 2 else struct.unpack(">I", b[pos:pos + 4])[0]
    pos += 2 if v < 2 else 4

    def field(n, add):
        nonlocal pos
        if n:
            val = int.from_bytes(b[pos:pos + n], "big") + add
            b[pos:pos + n] = val.to_bytes(n, "big")
        pos += n

    for _ in range(count):
        pos += 2 if v < 2 else 4
        method = 0
        if v in (1, 2):
            method = b[pos + 1] & 15
            pos += 2
        pos += 2                                    # data reference index
        add = delta if method == 0 else 0
        field(bsz, add)
        n = struct.unpack(">H", b[pos:pos + 2])[0]
        pos += 2
        for _ in range(n):
            if v in (1, 2):
                field(isz, 0)
            field(osz, add if not bsz else 0)
            field(lsz, 0)
    return bytes(b)


def heif_edit(src, dst, grid=None, props=()):
    """Rewrite the HEIF SRC (as heif-enc writes it: meta, then mdat) into
    DST: GRID=(rows, cols, w, h) makes its primary grid item show its one
    tile rows x cols times at w x h; PROPS, boxes (kind, body), become
    essential properties of the primary item. The items' file offsets
    follow the meta box's new size."""
    top = Box.parse(open(src, "rb").read())
    meta = next(b for b in top if b.kind == b"meta")
    old = len(meta.bytes())
    primary = struct.unpack(">H", meta.find(b"pitm").body[4:6])[0]
    if grid:
        rows, cols, w, h = grid
        meta.find(b"idat").body = bytes([0, 0, rows - 1, cols - 1]) + struct.pack(">HH", w, h)
        iref = meta.find(b"iref")
        ver = iref.body[:4]
        n, kind, frm, cnt = struct.unpack(">I4sHH", iref.body[4:16])
        tile = iref.body[16:18]
        refs = struct.pack(">4sHH", kind, frm, rows * cols) + tile * (rows * cols)
        iref.body = ver + struct.pack(">I", 8 + len(refs)) + refs
    ipco = meta.find(b"iprp").find(b"ipco")
    ipma = meta.find(b"iprp").find(b"ipma")
    if grid:        # the grid item's ispe says the new size too
        pos = 8
        for _ in range(struct.unpack(">I", ipma.body[4:8])[0]):
            item, n = struct.unpack(">HB", ipma.body[pos:pos + 3])
            for k in ipma.body[pos + 3:pos + 3 + n]:
                prop = ipco.children[(k & 0x7f) - 1]
                if item == primary and prop.kind == b"ispe":
                    prop.body = prop.body[:4] + struct.pack(">II", w, h)
            pos += 3 + n
    for kind, body in props:
        ipco.children.append(Box(kind, body))
        index = len(ipco.children)
        b = bytearray(ipma.body)
        assert b[0] == 0 and not b[3] & 1          # 16-bit item IDs, 7-bit indices
        pos = 8
        for _ in range(struct.unpack(">I", b[4:8])[0]):
            item, n = struct.unpack(">HB", b[pos:pos + 3])
            if item == primary:
                b[pos + 2] = n + 1
                b[pos + 3 + n:pos + 3 + n] = bytes([0x80 | index])
                break
            pos += 3 + n
        ipma.body = bytes(b)
    delta = len(meta.bytes()) - old
    meta.find(b"iloc").body = iloc_shift(meta.find(b"iloc").body, delta)
    with open(dst, "wb") as f:
        f.write(b"".join(b.bytes() for b in top))


def png16(path, arr, sbit=None):
    """A 16-bit RGB PNG of ARR (H, W, 3) (Pillow 9.4 writes none), with an
    sBIT chunk of SBIT significant bits if given."""
    h, w, _ = arr.shape
    raw = b"".join(b"\0" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)) +
                (chunk(b"sBIT", bytes([sbit] * 3)) if sbit else b"") +
                chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def png_read(path):
    """The samples of a PNG of 8 or 16-bit gray, RGB or RGBA (colour types
    0, 2, 4, 6, not interlaced) as (H, W, C): Pillow 9.4 cuts 16-bit RGB to
    8 bits, and ImageMagick would apply the file's colour profile."""
    data = open(path, "rb").read()
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    assert depth in (8, 16) and ctype in (0, 2, 4, 6) and not interlace, path
    c = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    bpp, stride = c * depth // 8, w * c * depth // 8
    raw = zlib.decompress(idat)
    out = np.zeros((h, stride), np.int64)
    prev = np.zeros(stride, np.int64)
    for y in range(h):
        kind, row = raw[y * (stride + 1)], np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1)
        cur = row.astype(np.int64)
        if kind == 2:
            cur = (cur + prev) & 255
        elif kind in (1, 3, 4):
            cur = cur.copy()
            for x in range(stride):
                a = cur[x - bpp] if x >= bpp else 0
                b, cc = prev[x], prev[x - bpp] if x >= bpp else 0
                if kind == 1:
                    pred = a
                elif kind == 3:
                    pred = (a + b) // 2
                else:
                    pa, pb, pc = abs(b - cc), abs(a - cc), abs(a + b - 2 * cc)
                    pred = a if pa <= pb and pa <= pc else b if pb <= pc else cc
                cur[x] = (cur[x] + pred) & 255
        out[y] = prev = cur
    if depth == 16:
        out = out[:, 0::2] * 256 + out[:, 1::2]
    return out.reshape(h, w, c)


def build_heic(d, f):
    """HEIC fixtures from heif-enc (libheif with x265): name -> (path,
    source or None, bits). heif-enc 1.15 writes an odd-sized image as a
    grid of one padded tile; the grids of 2 x 2 and 1 x 3 tiles and the
    irot/imir boxes are put in by heif_edit."""
    cat = plain(photos.crop(photos.photo("chelsea"), 101, 67))
    even = plain(photos.crop(photos.photo("coffee"), 64, 48))
    cam = plain(photos.crop(photos.photo("camera", "L"), 80, 47))
    rgba = plain(photos.alpha_of(photos.crop(photos.photo("hubble"), 64, 41)))

    def p(name, ext="heic"):
        return os.path.join(d, name + "." + ext)

    for name, im in (("cat", cat), ("even", even), ("cam", cam), ("rgba", rgba)):
        im.save(p(name, "png"))
    png16(p("cat16", "png"), deep(cat, 10).astype(np.uint32) << 6)

    def enc(name, src, *args, bits=8):
        tool("heif-enc", *args, "-o", p(name), p(src, "png"))
        f[name] = (p(name), None, bits)

    enc("heic_lossy_odd", "cat", "-q", "60")
    enc("heic_even_444", "even", "-q", "80", "-p", "chroma=444")
    enc("heic_lossless", "even", "-L", "-p", "chroma=444", "--matrix_coefficients=0")
    enc("heic_gray", "cam", "-q", "70")
    enc("heic_alpha", "rgba", "-q", "70")
    enc("heic_10bit", "cat16", "-q", "70", "-b", "10", bits=10)
    for name, grid, props in (("heic_grid_2x2", (2, 2, 190, 120), ()),
                              ("heic_grid_1x3", (1, 3, 300, 60), ()),
                              ("heic_irot90", None, ((b"irot", b"\x01"),)),
                              ("heic_irot270_imir", None, ((b"irot", b"\x03"), (b"imir", b"\x01"))),
                              ("heic_imir0", None, ((b"imir", b"\x00"),))):
        heif_edit(p("heic_lossy_odd"), p(name), grid, props)
        f[name] = (p(name), None, 8)


# AVIF fixtures: name -> (avifenc arguments, source, bits, transforms),
# where transforms are (crop x, y, w, h or None, irot angle, imir mode or
# None), applied to avifdec's PNG (which ignores them) in that order.
AVIF = {
    "avif_lossy_odd": (("--min", "20", "--max", "30"), "cat", 8, (None, 0, None)),
    "avif_420": (("--min", "20", "--max", "30", "-y", "420"), "cat", 8, (None, 0, None)),
    "avif_444_even": (("--min", "10", "--max", "20", "-y", "444"), "even", 8, (None, 0, None)),
    "avif_lossless": (("-l",), "even", 8, (None, 0, None)),
    "avif_gray": (("--min", "20", "--max", "30", "-y", "400"), "cam", 8, (None, 0, None)),
    "avif_alpha": (("--min", "20", "--max", "30"), "rgba", 8, (None, 0, None)),
    "avif_10bit": (("--min", "20", "--max", "30", "-d", "10"), "cat", 10, (None, 0, None)),
    "avif_12bit_420": (("--min", "20", "--max", "30", "-d", "12", "-y", "420"), "cat", 12,
                       (None, 0, None)),
    "avif_irot1": (("--min", "20", "--max", "30", "--irot", "1"), "cat", 8, (None, 1, None)),
    "avif_irot3_imir0": (("--min", "20", "--max", "30", "--irot", "3", "--imir", "0"), "cat", 8,
                         (None, 3, 0)),
    "avif_imir1": (("--min", "20", "--max", "30", "--imir", "1"), "cat", 8, (None, 0, 1)),
    "avif_crop_irot2": (("--min", "20", "--max", "30", "-y", "444", "--crop", "10,6,60,40",
                         "--irot", "2"), "cat", 8, ((10, 6, 60, 40), 2, None)),
}


def build_avif(d, f):
    """AVIF fixtures from avifenc (libavif with aom), the boxes irot, imir
    and clap by its own options; an animation of three frames."""
    ims = {"cat": plain(photos.crop(photos.photo("chelsea"), 101, 67)),
           "even": plain(photos.crop(photos.photo("coffee"), 64, 48)),
           "cam": plain(photos.crop(photos.photo("camera", "L"), 80, 47)),
           "rgba": plain(photos.alpha_of(photos.crop(photos.photo("hubble"), 64, 41)))}
    for name, im in ims.items():
        im.save(os.path.join(d, "avsrc_" + name + ".png"))
    png16(os.path.join(d, "avsrc_cat16.png"), deep(ims["cat"], 10).astype(np.uint32) << 6)
    for name, (args, src, bits, _) in AVIF.items():
        path = os.path.join(d, name + ".avif")
        srcpath = os.path.join(d, "avsrc_%s.png" % (src + "16" if bits > 8 else src))
        tool("avifenc", "-j", "1", *args, srcpath, path)
        f[name] = (path, np.asarray(ims[src]) if name == "avif_lossless" else None, bits)
    frames = []
    for k in range(3):
        frame = os.path.join(d, "avframe_%d.png" % k)
        plain(photos.crop(photos.photo(("rocket", "astronaut", "coffee")[k]), 48, 32)).save(frame)
        frames.append(frame)
    path = os.path.join(d, "avif_animated.avif")
    tool("avifenc", "-j", "1", "--min", "20", "--max", "30", *frames, path)
    f["avif_animated"] = (path, None, 8)


def avif_turn(a, name):
    """avifdec's array A turned as AVIF[NAME]'s boxes say."""
    crop, angle, mode = AVIF[name][3] if name in AVIF else (None, 0, None)
    if crop:
        x, y, w, h = crop
        a = a[y:y + h, x:x + w]
    a = np.rot90(a, angle)
    if mode is not None:
        a = a[::-1] if mode == 0 else a[:, ::-1]
    return np.ascontiguousarray(a)


def build_jxl(d, f):
    """JPEG XL fixtures from cjxl (libjxl 0.7): lossy, lossless, 10-bit,
    gray, alpha, odd sizes, a recompressed JPEG, the container format, the
    EXIF orientation of a JPEG and a PNG as the header's orientation, and
    an animation of three frames (from an APNG)."""
    cat = plain(photos.crop(photos.photo("chelsea"), 101, 67))
    cam = plain(photos.crop(photos.photo("camera", "L"), 80, 47))
    rgba = plain(photos.alpha_of(photos.crop(photos.photo("hubble"), 64, 41)))

    def p(name, ext="jxl"):
        return os.path.join(d, name + "." + ext)

    def enc(name, src, *args, source=None, bits=8):
        tool("cjxl", src, p(name), *args)
        f[name] = (p(name), source, bits)

    cat.save(p("jx_cat", "png"))
    cam.save(p("jx_cam", "png"))
    rgba.save(p("jx_rgba", "png"))
    turned = Image.Exif()
    turned[274] = 6
    cat.save(p("jx_cat6", "jpg"), quality=90, exif=turned.tobytes())
    cat.save(p("jx_cat", "jpg"), quality=90)
    cat.save(p("jx_cat8", "png"), exif=turned.tobytes())
    # 10 bits: a 16-bit PNG with sBIT 10 (cjxl 0.7 misreads a PPM of
    # maxval 1023), which cjxl stores as round(v16 * 1023 / 65535).
    c16 = deep(cat, 10).astype(np.int64) << 6
    png16(p("jx_c10", "png"), c16, 10)
    c10 = (c16 * 1023 + 32767) // 65535
    frames = [plain(photos.crop(photos.photo(n), 48, 32)) for n in ("rocket", "astronaut", "coffee")]
    frames[0].save(p("jx_anim", "png"), save_all=True, append_images=frames[1:], duration=100)
    enc("jxl_lossy_odd", p("jx_cat", "png"), "-d", "1")
    enc("jxl_lossless", p("jx_cat", "png"), "-d", "0", source=np.asarray(cat))
    enc("jxl_gray", p("jx_cam", "png"), "-d", "1")
    enc("jxl_gray_lossless", p("jx_cam", "png"), "-d", "0", source=np.asarray(cam))
    enc("jxl_alpha", p("jx_rgba", "png"), "-d", "1")
    enc("jxl_10bit_lossless", p("jx_c10", "png"), "-d", "0", source=c10, bits=10)
    enc("jxl_10bit_lossy", p("jx_c10", "png"), "-d", "1", bits=10)
    enc("jxl_from_jpeg", p("jx_cat", "jpg"))
    enc("jxl_from_jpeg_orient6", p("jx_cat6", "jpg"))
    enc("jxl_png_orient6", p("jx_cat8", "png"), "-d", "1")
    enc("jxl_container", p("jx_cat", "png"), "-d", "1", "--container=1")
    enc("jxl_animated", p("jx_anim", "png"), "-d", "1")


def build(d):
    """Every fixture, written into D: name -> (path, source or None, bits);
    a name starts with its format (FUZZ_TARGETS' keys)."""
    f = {}
    build_jp2(d, f)
    build_heic(d, f)
    build_avif(d, f)
    build_jxl(d, f)
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
FUZZ_TARGETS = {"jp2": "jp2", "j2k": "jp2", "heic": "heif", "avif": "avif", "jxl": "jxl"}


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
    if fmt_of(name) == "heic":
        out = os.path.join(d, "ref.png")
        tool("heif-convert", path, out)
        with Image.open(out) as im:
            return np.asarray(im.convert(MODES[c]))
    if fmt_of(name) == "avif":
        out = os.path.join(d, "ref.png")
        tool("avifdec", "--depth", "8", path, out)
        with Image.open(out) as im:
            return avif_turn(np.asarray(im.convert(MODES[c])), name)
    if fmt_of(name) == "jxl":
        out = os.path.join(d, "ref.png")
        tool("djxl", path, out, "--bits_per_sample=8")
        with Image.open(out) as im:
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


def test_heic_equals_heif_convert(d):
    """Every HEIC fixture (grids, irot/imir, alpha, gray, 4:4:4, lossless),
    at -c 1 to 4, equals heif-convert's PNG converted by Pillow; the
    10-bit one at -t u2 is heif-convert's samples (v << 6) as
    v * 65535 / 1023 rounded, at u1 libheif's 8 bits (v >> 2)."""
    for name, (path, src, bits) in sorted(fixtures().items()):
        if fmt_of(name) != "heic":
            continue
        for c in (1, 2, 3, 4):
            ok(load(d, "-c", c, path))
            got, want = as_hwc(loaded(d)[0]), as_hwc(reference(name, path, c, d))
            assert got.shape == want.shape, (name, c, got.shape, want.shape)
            n = int((got != want).sum())
            assert n == 0, "%s -c %d: %d samples differ" % (name, c, n)
        if bits > 8:
            png = os.path.join(d, "ref16.png")
            tool("heif-convert", path, png)
            ok(load(d, "-c", 3, "-t", "u2", path))
            got = loaded(d)[0].astype(np.int64)
            v = png_read(png)
            assert not (v & 63).any()
            v >>= 6
            assert (got == (v * 65535 + 511) // 1023).all(), name
            ok(load(d, "-c", 3, path))
            assert (loaded(d)[0] == v >> 2).all(), name


def test_heic_lossless_near_source(d):
    """heif-enc's lossless 4:4:4 (identity matrix) comes back within 1 of
    its source (libheif 1.15's RGB path is not exact), as heif-convert's."""
    path = fixtures()["heic_lossless"][0]
    ok(load(d, "-c", 3, path))
    src = np.asarray(plain(photos.crop(photos.photo("coffee"), 64, 48)))
    assert np.abs(loaded(d)[0].astype(int) - src).max() <= 1


def test_avif_equals_avifdec(d):
    """Every AVIF fixture, at -c 1 to 4, equals avifdec --depth 8's PNG
    converted by Pillow and turned by its clap, irot and imir boxes; the
    deeper ones at -t u2 equal avifdec --depth 16; the animation is its
    first frame; lossless equals its source."""
    for name, (path, src, bits) in sorted(fixtures().items()):
        if fmt_of(name) != "avif":
            continue
        for c in (1, 2, 3, 4):
            ok(load(d, "-c", c, path))
            got, want = as_hwc(loaded(d)[0]), as_hwc(reference(name, path, c, d))
            assert got.shape == want.shape, (name, c, got.shape, want.shape)
            n = int((got != want).sum())
            assert n == 0, "%s -c %d: %d samples differ" % (name, c, n)
        if src is not None:
            ok(load(d, "-c", 3, path))
            assert (loaded(d)[0] == src).all(), name
        if bits > 8:
            png = os.path.join(d, "ref16.png")
            tool("avifdec", "--depth", "16", path, png)
            ok(load(d, "-c", 3, "-t", "u2", path))
            got = loaded(d)[0]
            want = png_read(png)
            assert (got == want).all(), name


def test_avif_boxes_as_libheif_turns_them(d):
    """The clap, irot and imir boxes turn an AVIF as libheif turns it: the
    same shape as heif-convert's PNG, and pixels near it (libheif's YUV to
    RGB is not avifdec's)."""
    for name in ("avif_irot1", "avif_irot3_imir0", "avif_imir1", "avif_crop_irot2"):
        path = fixtures()[name][0]
        out = os.path.join(d, "heif.png")
        tool("heif-convert", path, out)
        with Image.open(out) as im:
            want = np.asarray(im.convert("RGB")).astype(int)
        ok(load(d, "-c", 3, path))
        got = loaded(d)[0].astype(int)
        assert got.shape == want.shape, (name, got.shape, want.shape)
        assert np.abs(got - want).mean() < 2, (name, np.abs(got - want).mean())


def test_jxl_equals_djxl(d):
    """Every 8-bit JPEG XL fixture, at -c 1 to 4, equals djxl's PNG
    converted by Pillow (the orientation applied, an animation's first
    frame); lossless ones equal their source. The 10-bit ones are libjxl's
    full-range scaling, v * 65535 / 1023 (u2) and v * 255 / 1023 (u1)
    rounded, of the source when lossless (djxl 0.7 writes them as 16-bit
    PNG of other, linear-looking values, so it is no oracle there)."""
    for name, (path, src, bits) in sorted(fixtures().items()):
        if fmt_of(name) != "jxl":
            continue
        for c in ((1, 2, 3, 4) if bits == 8 else ()):
            ok(load(d, "-c", c, path))
            got, want = as_hwc(loaded(d)[0]), as_hwc(reference(name, path, c, d))
            assert got.shape == want.shape, (name, c, got.shape, want.shape)
            n = int((got != want).sum())
            assert n == 0, "%s -c %d: %d samples differ" % (name, c, n)
        if bits > 8:
            ok(load(d, "-c", 3, "-t", "u2", path))
            got = loaded(d)[0].astype(np.int64)
            ok(load(d, "-c", 3, path))
            got8 = loaded(d)[0].astype(np.int64)
            if src is not None:
                assert (got == (src * 65535 + 511) // 1023).all(), name
                assert (got8 == (src * 255 + 511) // 1023).all(), name
            assert np.abs(got8 - (got * 255 + 32767) // 65535).max() <= 1, name
        elif src is not None:
            ok(load(d, "-c", src.ndim == 3 and 3 or 1, path))
            assert (loaded(d)[0] == src).all(), name


def test_default_channels_and_check_census(d):
    """Without -c the new formats follow load's rule (1 channel when every
    image is gray, else 3; alpha only when asked for); check counts them by
    format and names a misnamed file."""
    fx = fixtures()
    for name, c in (("jp2_gray", 1), ("jp2_gray_alpha", 1), ("jp2_rgb_lossy", 3),
                    ("jp2_rgba", 3), ("heic_lossy_odd", 3), ("heic_alpha", 3), ("heic_gray", 3),
                    ("avif_gray", 1), ("avif_alpha", 3), ("avif_lossy_odd", 3),
                    ("jxl_gray", 1), ("jxl_alpha", 3), ("jxl_lossy_odd", 3)):
        ok(load(d, fx[name][0]))
        a = loaded(d)
        assert (a.shape[3] if a.ndim == 4 else 1) == c, (name, a.shape)
    src = os.path.join(d, "in")
    os.mkdir(src)
    shutil.copy(fx["jp2_rgb_lossless"][0], os.path.join(src, "a.jp2"))
    shutil.copy(fx["j2k_rgb_lossless"][0], os.path.join(src, "b.j2k"))
    shutil.copy(fx["jp2_gray"][0], os.path.join(src, "c.png"))
    shutil.copy(fx["heic_alpha"][0], os.path.join(src, "d.heic"))
    shutil.copy(fx["heic_grid_2x2"][0], os.path.join(src, "e.HEIF"))
    r = ok(run("check", "--format", "json", src))
    rep = json.loads(r.out)
    assert rep["formats"]["JPEG2000"] == 3, rep["formats"]
    assert rep["formats"]["HEIF"] == 2, rep["formats"]
    shutil.copy(fx["avif_animated"][0], os.path.join(src, "f.avif"))
    r = ok(run("check", "--format", "json", src))
    rep = json.loads(r.out)
    assert rep["formats"]["AVIF"] == 1 and rep["animated"] == 1, rep
    shutil.copy(fx["jxl_animated"][0], os.path.join(src, "g.jxl"))
    shutil.copy(fx["jxl_container"][0], os.path.join(src, "h.jxl"))
    r = ok(run("check", "--format", "json", src))
    rep = json.loads(r.out)
    assert rep["formats"]["JXL"] == 2 and rep["animated"] == 2, rep
    r = ok(run("check", src))
    assert "c.png" in r.out and "JPEG2000" in r.out, r


def test_resize_and_cover_equal_pillow(d):
    """--resize (stretch) and --fit cover of JPEG 2000 equal Pillow's resize
    of Pillow's decode."""
    fx = fixtures()
    for name in ("jp2_rgb_lossy", "j2k_rgb_lossy_tiles", "jp2_rgba", "heic_lossy_odd",
                 "heic_irot90", "heic_grid_1x3", "avif_420", "avif_crop_irot2",
                 "jxl_lossy_odd", "jxl_from_jpeg_orient6"):
        path = fx[name][0]
        with Image.fromarray(reference(name, path, 3, d)) as im:
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
    # A .heic that is a JPEG (libheif#111), and a HEIC named .jpg.
    c = os.path.join(d, "IMG_0001.HEIC")
    photos.crop(photos.photo("rocket"), 40, 30).save(c, "JPEG", quality=90)
    ok(load(d, "-c", 3, c))
    with Image.open(c) as im:
        assert (loaded(d)[0] == np.asarray(im.convert("RGB"))).all()
    r = ok(run("check", c))
    assert "JPEG" in r.out, r
    e = os.path.join(d, "really_heic.jpg")
    shutil.copy(fixtures()["heic_alpha"][0], e)
    ok(load(d, "-c", 4, e))
    assert (loaded(d)[0] == reference("heic_alpha", e, 4, d)).all()


def test_truncated_refused_and_skipped(d):
    """60% of each fixture (20% of animations) is refused naming the file (exit 1, nothing
    written), and skipped with -k (exit 3, its row zero)."""
    for name, (path, _, _) in sorted(fixtures().items()):
        data = open(path, "rb").read()
        bad = os.path.join(d, "cut_" + name + os.path.splitext(path)[1])
        # An animation's first frame may lie whole in 60% (only it is
        # read, as for GIF and WebP): 20% of those.
        keep = 2 if "animated" in name else 6
        with open(bad, "wb") as f:
            f.write(data[:len(data) * keep // 10])
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


def test_corrupt_refused_as_corrupt(d):
    """Each fixture with bytes flipped in its second half either decodes or
    is refused as a broken file, naming it, and never as a blocked system
    call: a library's message about it (libjxl 0.7 prints one on stderr
    for every corrupt stream) does not get the worker stopped."""
    for name, (path, _, _) in sorted(fixtures().items()):
        data = bytearray(open(path, "rb").read())
        for k in range(len(data) // 2, len(data) - 8, max(1, len(data) // 40)):
            data[k] ^= 0x5A
        bad = os.path.join(d, "bad_" + name + os.path.splitext(path)[1])
        open(bad, "wb").write(data)
        r = run("load", "-q", "-f", "-c", 3, "-o", os.path.join(d, "out.npy"), bad, cwd=d)
        assert r.code in (0, 1), (name, r)
        assert "worker stopped" not in r.err and "blocked" not in r.err, (name, r)
        if r.code:
            names(r, bad, "truncated|corrupt|unsupported")


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
    # A HEIC whose primary grid says 30000 x 30000 (its ispe and grid box).
    heic = os.path.join(d, "huge.heic")
    heif_edit(fixtures()["heic_lossy_odd"][0], heic, (1, 1, 30000, 30000))
    t0 = time.monotonic()
    r = run("load", "-q", "-c", 3, "-o", os.path.join(d, "out.npy"), heic, cwd=d)
    assert r.code == 1, r
    names(r, heic, "more than --max-pixels")
    assert time.monotonic() - t0 < 10
    # An AVIF's ispe: 30000 x 30000 is past libavif's own limit (16384 x
    # 16384, which it may not raise); 16000 x 16000 past --max-pixels.
    data = bytearray(open(fixtures()["avif_lossy_odd"][0], "rb").read())
    at = data.index(b"ispe") + 8
    for side, args, why in ((30000, (), "too large"),
                            (16000, ("--max-pixels", 1000000), "more than --max-pixels")):
        avif = os.path.join(d, "huge%d.avif" % side)
        data[at:at + 8] = struct.pack(">II", side, side)
        open(avif, "wb").write(data)
        t0 = time.monotonic()
        r = run("load", "-q", "-c", 3, *args, "-o", os.path.join(d, "out.npy"), avif, cwd=d)
        assert r.code == 1, r
        names(r, avif, why)
        assert time.monotonic() - t0 < 10


def test_ragged_archive_and_classes(d):
    """The new formats through the rest of load: --ragged keeps each at its
    own size and channels, a tar of them loads as the folder does, and a
    class tree labels them."""
    fx = fixtures()
    picks = ("jp2_gray_alpha", "j2k_rgb_lossy_tiles", "heic_irot90", "heic_alpha", "avif_gray",
             "avif_crop_irot2", "jxl_alpha", "jxl_from_jpeg_orient6")
    src = os.path.join(d, "in")
    for k, name in enumerate(picks):
        cls = os.path.join(src, "class_%d" % (k % 2))
        os.makedirs(cls, exist_ok=True)
        shutil.copy(fx[name][0], os.path.join(cls, "img_%d%s" % (k, os.path.splitext(fx[name][0])[1])))
    out = os.path.join(d, "rag.npy")
    ok(run("load", "-q", "-r", "--ragged", "--order", "name", "-o", out, src))
    flat, index = np.load(out), np.load(os.path.join(d, "rag.index.npy"))
    order = sorted(range(len(picks)), key=lambda k: "class_%d/img_%d" % (k % 2, k))
    for row, k in enumerate(order):
        off, h, w, c = (int(v) for v in index[row])
        want = as_hwc(reference(picks[k], fx[picks[k]][0], c, d))
        assert want.shape == (h, w, c), (picks[k], want.shape, (h, w, c))
        assert (flat[off:off + h * w * c].reshape(h, w, c) == want).all(), picks[k]
    tar = os.path.join(d, "set.tar")
    subprocess.run(["tar", "-cf", tar, "-C", d, "in"], check=True)
    ok(run("load", "-q", "-c", 3, "--resize", "32x32", "-o", os.path.join(d, "a.npy"), tar))
    ok(run("load", "-q", "-r", "-c", 3, "--resize", "32x32", "-o", os.path.join(d, "b.npy"), src))
    assert (np.load(os.path.join(d, "a.npy")) == np.load(os.path.join(d, "b.npy"))).all()
    ok(run("load", "-q", "-c", 3, "--resize", "32x32", "--labels", os.path.join(d, "y.npy"),
           "-o", os.path.join(d, "c.npy"), src))
    y = np.load(os.path.join(d, "y.npy"))
    assert sorted(y.tolist()) == [0] * 4 + [1] * 4, y


def test_directory_lists_new_extensions(d):
    """A directory's .jp2, .j2k (any case) are listed and loaded."""
    fx = fixtures()
    src = os.path.join(d, "in")
    os.mkdir(src)
    picks = (("jp2_rgb_lossy", "img_1.jp2"), ("j2k_rgb_lossless", "img_2.J2K"),
             ("heic_lossy_odd", "img_3.heic"), ("heic_irot270_imir", "img_4.HEIF"),
             ("heic_gray", "img_5.hif"), ("avif_alpha", "img_6.AVIF"),
             ("jxl_lossy_odd", "img_7.jxl"), ("jxl_container", "img_8.JXL"))
    for name, new in picks:
        shutil.copy(fx[name][0], os.path.join(src, new))
    ok(run("load", "-q", "-c", 3, "--resize", "101x67", "-o", os.path.join(d, "out.npy"), src))
    a = loaded(d)
    assert a.shape[0] == len(picks), a.shape
    for k, (name, _) in enumerate(picks):
        want = Image.fromarray(reference(name, fx[name][0], 3, d)).resize((101, 67), Image.BILINEAR)
        assert (a[k] == np.asarray(want)).all(), name


if __name__ == "__main__":
    harness.main(globals())
