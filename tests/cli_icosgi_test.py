#!/usr/bin/python3
"""Command-line tests of load's SGI and ICO readers (issue 28): files made at
test time by Pillow (SGI raw, ICO of PNG frames at several sizes) and by hand
for what Pillow 9.4 does not write (SGI RLE, 1 and 2 bytes a sample, with
Pillow's quirks: rows ended early, an image ended by a row's last packet;
ICO of BMP frames with an AND mask, 32-bit ones, a frame whose size is not
the directory's). Each must give Pillow 9.4's Image.open(f).convert(mode)
at -c 1/3/4; 2-byte SGI samples are kept whole at -t u2. Truncated and
corrupt files are refused naming the file (Pillow refuses them too), huge
headers before anything is allocated, misnamed files load by content, and
small files mutated at random load as Pillow loads them or are refused
where Pillow refuses them.
Run as: /usr/bin/python3 tests/cli_icosgi_test.py ./parimg [TEST...]
"""
import atexit
import json
import os
import shutil
import struct
import sys
import tempfile
import warnings

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
import photos  # noqa: E402
from harness import load, loaded, names, ok, run  # noqa: E402

MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
# The fixtures whose frame is not the directory's size make Pillow warn.
warnings.filterwarnings("ignore", "Image was not the expected size")


# ---------------------------------------------------------------- SGI by hand

def sgi_header(w, h, z, bpc=1, rle=0, dim=None):
    if dim is None:
        dim = 3 if z > 1 else 2
    hdr = struct.pack(">hBBHHHHll4s80sl", 474, rle, bpc, dim, w, h, z, 0,
                      255 if bpc == 1 else 65535, b"", b"hand", 0)
    return hdr + bytes(512 - len(hdr))


def sgi_raw(planes, bpc=1, dim=None):
    """PLANES: z arrays of h x w samples, top row first (stored bottom-up)."""
    z, (h, w) = len(planes), planes[0].shape
    dt = ">u2" if bpc == 2 else "u1"
    return sgi_header(w, h, z, bpc, 0, dim) + b"".join(
        np.ascontiguousarray(p[::-1]).astype(dt).tobytes() for p in planes)


def rle_row(row, bpc):
    """One row as SGI RLE packets (runs of 3 or more, literals between),
    ended by a count of 0; atoms of BPC bytes, the count in the low byte."""
    atom = (lambda v: bytes((v,))) if bpc == 1 else (lambda v: struct.pack(">H", v))
    out, i, n = [], 0, len(row)
    while i < n:
        j = i
        while j < n and row[j] == row[i] and j - i < 127:
            j += 1
        if j - i >= 3:
            out.append(atom(j - i) + atom(int(row[i])))
            i = j
            continue
        j = i
        while j < n and j - i < 127 and not (j + 2 < n and row[j] == row[j + 1] == row[j + 2]):
            j += 1
        out.append(atom(0x80 | (j - i)) + b"".join(atom(int(v)) for v in row[i:j]))
        i = j
    out.append(atom(0))
    return b"".join(out)


def sgi_rle(planes, bpc=1, dim=None, rows=None, lengths=None):
    """An RLE file of PLANES (top row first). ROWS: {(file row, channel):
    bytes} replacing a row's packets; LENGTHS: {(file row, channel): n}
    replacing its length in the table."""
    z, (h, w) = len(planes), planes[0].shape
    data, starts, lens = b"", [], []
    base = 512 + 8 * h * z
    for c in range(z):
        for y in range(h):
            b = (rows or {}).get((y, c)) or rle_row(planes[c][h - 1 - y], bpc)
            starts.append(base + len(data))
            lens.append((lengths or {}).get((y, c), len(b)))
            data += b
    return (sgi_header(w, h, z, bpc, 1, dim) + struct.pack(">%dI" % (h * z), *starts) +
            struct.pack(">%dI" % (h * z), *lens) + data)


def planes_of(im):
    a = np.asarray(im)
    return [a] if a.ndim == 2 else [a[:, :, k] for k in range(a.shape[2])]


def wide(im, salt):
    """16-bit planes from an image: its samples as the high bytes, a
    pattern as the low ones."""
    out = []
    for k, p in enumerate(planes_of(im)):
        lo = (np.arange(p.size, dtype=np.uint32).reshape(p.shape) * 37 + salt + k) & 0xFF
        out.append((p.astype(np.uint32) << 8 | lo).astype(np.uint16))
    return out


def sgi_files():
    """{name: (bytes, 16-bit planes or None)} of SGI files Pillow loads."""
    cat = photos.crop(photos.photo("chelsea"), 61, 47)
    rgba = photos.alpha_of(cat)
    gray = cat.convert("L")
    # Flat areas, so that the RLE has runs.
    flat = cat.quantize(6).convert("RGB")
    f = {}
    for name, im in (("rgb", cat), ("rgba", rgba), ("l", gray)):
        f["sgi_pil_" + name] = (photos.pil_bytes(im, "SGI"), None)
    row1 = photos.crop(gray, 61, 1)
    f["sgi_pil_l_one_row"] = (photos.pil_bytes(row1, "SGI"), None)     # dimension 1
    f["sgi_raw_dim1_tall"] = (sgi_raw(planes_of(gray), dim=1), None)
    for name, im in (("rgb", flat), ("rgba", photos.alpha_of(flat)), ("l", flat.convert("L"))):
        f["sgi_rle_" + name] = (sgi_rle(planes_of(im)), None)
        f["sgi_rle_photo_" + name] = (sgi_rle(planes_of({"rgb": cat, "rgba": rgba,
                                                          "l": gray}[name])), None)
    for name, im in (("rgb", cat), ("rgba", rgba), ("l", gray)):
        p = wide(im, 5)
        f["sgi_raw16_" + name] = (sgi_raw(p, 2), p)
        q = wide(flat.convert(im.mode), 0)
        q = [(x & 0xFF00) | 0x11 for x in q]    # runs survive the low byte
        f["sgi_rle16_" + name] = (sgi_rle(q, 2), q)
        f["sgi_rle16_photo_" + name] = (sgi_rle(p, 2), p)
    # Quirks of Pillow's RLE: a row ended early by a count of 0 keeps the
    # row before's samples past its end; a row whose table length is reached
    # on a packet that does not start with 0 ends the whole image (the rest
    # zero); rows sharing their packets.
    pl = planes_of(flat)
    early = {(5, 0): bytes((3, 9, 0)), (6, 1): bytes((0x82, 1, 2, 0))}
    f["sgi_rle_row_ends_early"] = (sgi_rle(pl, rows=early), None)
    f["sgi_rle_image_ends"] = (sgi_rle(pl, rows={(20, 1): bytes((5, 77, 4, 66))},
                                       lengths={(20, 1): 2}), None)
    same = sgi_rle(pl)
    b = bytearray(same)
    h = pl[0].shape[0]
    for y in range(1, h):                       # every row of channel 0 is row 0's
        b[512 + 4 * y:512 + 4 * y + 4] = b[512:516]
        b[512 + 4 * 3 * h + 4 * y:512 + 4 * 3 * h + 4 * y + 4] = b[512 + 12 * h:512 + 12 * h + 4]
    f["sgi_rle_shared_rows"] = (bytes(b), None)
    return f


# ---------------------------------------------------------------- ICO by hand

def ico(frames):
    """An icon of FRAMES, each (width, height, colours, bpp, data) as its
    directory entry says (a side of 256 written as 0), in that order."""
    n = len(frames)
    head, body = struct.pack("<HHH", 0, 1, n), b""
    for w, h, colors, bpp, data in frames:
        head += struct.pack("<BBBBHHII", w % 256, h % 256, colors, 0, 1, bpp, len(data),
                            6 + 16 * n + len(body))
        body += data
    return head + body


def png_of(im, **kw):
    return photos.pil_bytes(im, "PNG", **kw)


def dib_frame(im, mask=None):
    """IM as Pillow writes a DIB, its height doubled as an icon's is, then
    (unless IM is RGBA, 32 bits) the AND mask: MASK (h x w, True
    transparent; default none), rows bottom-up, padded to 32 bits."""
    dib = bytearray(photos.pil_bytes(im, "DIB"))
    dib[8:12] = struct.pack("<i", 2 * im.height)
    if im.mode == "RGBA":
        return bytes(dib)
    if mask is None:
        mask = np.zeros((im.height, im.width), bool)
    stride = (im.width + 31) // 32 * 4
    rows = [np.packbits(r).tobytes().ljust(stride, b"\0") for r in mask[::-1]]
    return bytes(dib) + b"".join(rows)


def pattern(w, h):
    y, x = np.mgrid[0:h, 0:w]
    return ((x * 7 + y * 3) % 5 == 0) | ((x - 20) ** 2 + (y - 20) ** 2 < 90)


def ico_files():
    """{name: bytes} of icons Pillow loads."""
    cat = photos.crop(photos.photo("chelsea"), 61, 47)
    sq = photos.crop(photos.photo("coffee"), 64, 64)
    rgba = photos.alpha_of(sq)
    f = {}
    for name, im in (("rgba", rgba), ("rgb", sq), ("l", sq.convert("L")),
                     ("p", sq.quantize(50)), ("la", rgba.convert("LA"))):
        f["ico_pil_png_" + name] = photos.pil_bytes(im, "ICO", sizes=[(16, 16), (32, 32), (64, 64)])
    f["ico_pil_png_odd"] = photos.pil_bytes(photos.alpha_of(cat), "ICO", sizes=[(61, 47), (16, 16)])
    for name, im in (("rgba", rgba), ("rgb", sq), ("p", sq.quantize(50)), ("1", sq.convert("1"))):
        f["ico_pil_bmp_" + name] = photos.pil_bytes(im, "ICO", bitmap_format="bmp",
                                                     sizes=[(16, 16), (64, 64)])
    # BMP frames with an AND mask of a pattern, odd widths (padded rows).
    m = pattern(61, 47)
    f["ico_bmp_rgb_mask"] = ico([(61, 47, 0, 24, dib_frame(cat, m))])
    f["ico_bmp_p_mask"] = ico([(61, 47, 0, 8, dib_frame(cat.quantize(200), m))])
    f["ico_bmp_1_mask"] = ico([(61, 47, 2, 1, dib_frame(cat.convert("1"), m))])
    f["ico_bmp_l_mask"] = ico([(61, 47, 0, 8, dib_frame(cat.convert("L"), m))])
    f["ico_bmp_32"] = ico([(61, 47, 0, 32, dib_frame(photos.alpha_of(cat)))])
    # PNG frames whose tRNS Pillow's ICO loses.
    p = sq.quantize(20)
    f["ico_png_p_trns"] = ico([(64, 64, 0, 32, png_of(p, transparency=3))])
    f["ico_png_rgb_trns"] = ico([(64, 64, 0, 32, png_of(sq, transparency=tuple(sq.getpixel((5, 5)))))])
    g16 = Image.fromarray((np.asarray(sq.convert("L")).astype(np.uint16) * 251 + 7), "I;16")
    f["ico_png_gray16"] = ico([(64, 64, 0, 16, png_of(g16))])
    # Pillow's pick: the largest, then the deepest, then the last listed;
    # 0 is 256; a depth from the colour count when bpp is 0.
    a, b, c = sq, sq.transpose(Image.Transpose.FLIP_LEFT_RIGHT), sq.transpose(
        Image.Transpose.FLIP_TOP_BOTTOM)
    f["ico_pick_last_deepest"] = ico([(64, 64, 0, 8, dib_frame(a.quantize(9))),
                                      (64, 64, 0, 32, png_of(b)),
                                      (32, 32, 0, 32, png_of(a.resize((32, 32)))),
                                      (64, 64, 0, 32, png_of(c)),
                                      (64, 64, 0, 24, png_of(a))])
    f["ico_pick_256"] = ico([(64, 64, 0, 32, png_of(a)),
                             (256, 256, 0, 32, png_of(b.resize((256, 256)))),
                             (128, 128, 0, 32, png_of(c.resize((128, 128))))])
    f["ico_pick_colors"] = ico([(64, 64, 0, 0, dib_frame(b.convert("RGB"))),
                                (64, 64, 16, 0, dib_frame(a.quantize(16)))])
    # The frame's size is not the directory's: Pillow takes the frame's.
    f["ico_png_size_differs"] = ico([(16, 16, 0, 32, png_of(cat))])
    f["ico_bmp_size_differs"] = ico([(32, 20, 0, 24, dib_frame(cat, m))])
    return f


# ---------------------------------------------------------------- fixtures

_fixtures = None


def fixtures():
    """{name: (path, 16-bit planes or None)}, built once per run."""
    global _fixtures
    if _fixtures is None:
        d = tempfile.mkdtemp(prefix="parimg-icosgi-")
        atexit.register(shutil.rmtree, d, True)
        _fixtures = {}
        for name, (data, p16) in sgi_files().items():
            path = os.path.join(d, name + ".sgi")
            with open(path, "wb") as f:
                f.write(data)
            _fixtures[name] = (path, p16)
        for name, data in ico_files().items():
            path = os.path.join(d, name + ".ico")
            with open(path, "wb") as f:
                f.write(data)
            _fixtures[name] = (path, None)
    return _fixtures


def pillow(path, mode):
    with Image.open(path) as im:
        return np.asarray(im.convert(mode))


def pillow_refuses(path):
    try:
        with Image.open(path) as im:
            im.load()
            np.asarray(im.convert("RGBA"))
    except Exception:
        return True
    return False


# ---------------------------------------------------------------- SGI tests

def equals_pillow(d, prefix):
    """Every fixture named PREFIX... at -c 1, 2, 3 and 4 (u1): Pillow's
    convert(mode), files of one size loaded together (one worker decodes
    many, -j1). Not the 16-bit gray PNG frame: load reduces 16-bit PNGs to
    their high byte where Pillow's mode I clips (see its own test)."""
    groups = {}
    for name, (path, _) in sorted(fixtures().items()):
        if name.startswith(prefix) and name != "ico_png_gray16":
            with Image.open(path) as im:
                groups.setdefault(im.size, []).append(name)
    for size, group in sorted(groups.items()):
        paths = [fixtures()[n][0] for n in group]
        for c, mode in MODES.items():
            ok(load(d, "-c", c, "-j", 1, "--order", "none", *paths))
            a = loaded(d)
            for k, (name, path) in enumerate(zip(group, paths)):
                want = pillow(path, mode)
                diff = int(np.count_nonzero(a[k].reshape(want.shape) != want))
                assert diff == 0, "%s -c %d: %d samples differ from Pillow's %s" % (
                    name, c, diff, mode)


def test_sgi_equals_pillow(d):
    """Every SGI fixture at -c 1, 2, 3 and 4 (u1): Pillow's convert(mode)."""
    equals_pillow(d, "sgi_")


def test_sgi_quirk_fixtures_are_quirky(d):
    """The quirk fixtures do what they are meant to in Pillow: a row keeps
    the row before's samples, an image ends in zeros."""
    fx = fixtures()
    a = pillow(fx["sgi_rle_image_ends"][0], "RGB")
    h = a.shape[0]
    assert not a[:h - 20].any(), "image_ends: no zero rows"
    assert a[h - 20:].reshape(20, -1).any(axis=1).all(), "image_ends: zero rows below"
    a = pillow(fx["sgi_rle_row_ends_early"][0], "RGB")
    b = pillow(fx["sgi_rle_rgb"][0], "RGB")
    assert (a[h - 6, 3:, 0] == b[h - 5, 3:, 0]).all() and (a[h - 6, :3, 0] == 9).all()


def test_sgi_u2_keeps_16_bits(d):
    """2-byte samples at -t u2 are the file's own, at u1 Pillow's high
    bytes; 1-byte ones are Pillow's times 257."""
    for name, (path, p16) in sorted(fixtures().items()):
        if not name.startswith("sgi_"):
            continue
        c = len(p16) if p16 else 3
        ok(load(d, "-t", "u2", "-c", c, path))
        got = loaded(d)[0]
        if p16:
            want = p16[0] if c == 1 else np.stack(p16, axis=2)
            assert (got == want).all(), name
            ok(load(d, "-c", c, path))
            assert (loaded(d)[0] == pillow(path, MODES[c])).all(), name
        else:
            assert (got == pillow(path, "RGB").astype(np.uint16) * 257).all(), name
    r = ok(run("check", "--format", "json", fixtures()["sgi_raw16_rgb"][0]))
    assert json.loads(r.out)["formats"]["SGI"] == 1, r.out


def sgi_broken():
    """{name: (bytes, reason)} of SGI files Pillow refuses too."""
    fx = fixtures()

    def data(name):
        with open(fx[name][0], "rb") as f:
            return f.read()

    out = {}
    for name in ("sgi_pil_rgb", "sgi_raw16_rgba", "sgi_rle_rgb", "sgi_rle16_l"):
        b = data(name)
        out[name + "_cut"] = (b[:len(b) * 2 // 3], r"truncated SGI|corrupt SGI")
        out[name + "_header"] = (b[:300], r"truncated SGI")
        out[name + "_tiny"] = (b[:8], r"truncated SGI")
    b = bytearray(data("sgi_rle_rgb"))
    b[512:516] = struct.pack(">I", 100)                 # a row inside the header
    out["sgi_rle_offset_in_header"] = (bytes(b), r"corrupt SGI")
    b[512:516] = struct.pack(">I", 1 << 30)             # a row past the end
    out["sgi_rle_offset_past_end"] = (bytes(b), r"corrupt SGI")
    b = bytearray(data("sgi_rle_l"))
    h = 47
    at = struct.unpack(">I", b[512 + 4 * 7:512 + 4 * 8])[0]
    b[at] = 0x7F                                        # a run longer than the row
    out["sgi_rle_run_past_row"] = (bytes(b), r"corrupt SGI")
    b = bytearray(data("sgi_rle_l"))
    b[512 + 4 * (h - 1):512 + 4 * h] = struct.pack(">I", len(b) - 2)
    b[-2] = 0x85                                        # a literal past the end
    out["sgi_rle_literal_past_end"] = (bytes(b), r"corrupt SGI")
    for what, at, v in (("bpc3", 3, 3), ("compression2", 2, 2)):
        b = bytearray(data("sgi_pil_rgb"))
        b[at] = v
        out["sgi_" + what] = (bytes(b), r"unsupported SGI")
    b = bytearray(data("sgi_pil_rgb"))
    b[10:12] = struct.pack(">H", 2)                     # 2 channels: no mode
    out["sgi_zsize2"] = (bytes(b), r"unsupported SGI")
    b[4:6], b[10:12] = struct.pack(">H", 3), struct.pack(">H", 1)   # dimension 3, 1 channel
    out["sgi_dim3_z1"] = (bytes(b), r"unsupported SGI")
    return out


def test_sgi_broken_refused(d):
    """Each broken SGI alone: exit 1 naming it, Pillow refusing it too; with
    a good file under -k: exit 3, the good one's row Pillow's."""
    src = os.path.join(d, "in")
    os.makedirs(src)
    good = fixtures()["sgi_pil_rgb"][0]
    shutil.copy(good, os.path.join(src, "0good.sgi"))
    broken = sgi_broken()
    for name, (data, reason) in sorted(broken.items()):
        p = os.path.join(src, name + ".sgi")
        with open(p, "wb") as f:
            f.write(data)
        assert pillow_refuses(p), "Pillow loads %s" % name
        names(ok(load(d, "-c", 3, p), 1), p, reason)
    r = ok(load(d, "-c", 3, "-k", "--order", "name", src), 3)
    for name, (_, reason) in broken.items():
        names(r, os.path.join(src, name + ".sgi"), reason)
    a = loaded(d)
    assert (a[0] == pillow(good, "RGB")).all() and not a[1:].any()


def test_sgi_huge_header_refused_before_allocating(d):
    """65535 x 65535: raw with no pixels refused as truncated, RLE (its
    tables all there) by --max-pixels, both from the header alone."""
    raw = os.path.join(d, "raw.sgi")
    with open(raw, "wb") as f:
        f.write(sgi_header(65535, 65535, 4) + bytes(100))
    rle = os.path.join(d, "rle.sgi")
    with open(rle, "wb") as f:
        f.write(sgi_header(65535, 65535, 4, rle=1) + bytes(8 * 65535 * 4))
    names(ok(load(d, "-c", 3, raw), 1), raw, r"truncated SGI")
    names(ok(load(d, "-c", 3, rle), 1), rle, r"more than --max-pixels")


def test_sgi_misnamed_and_listed(d):
    """An SGI file named .png loads by content; a directory lists .sgi,
    .rgb, .rgba and .bw files (any case)."""
    fx = fixtures()
    src = os.path.join(d, "in")
    os.makedirs(src)
    names_ = {"a.png": "sgi_pil_rgb", "b.rgb": "sgi_rle_rgb", "c.RGBA": "sgi_rle_rgba",
              "d.bw": "sgi_pil_rgb", "e.sgi": "sgi_raw16_rgb"}
    for n, k in names_.items():
        shutil.copy(fx[k][0], os.path.join(src, n))
    ok(load(d, "-c", 3, src))
    a = loaded(d)
    assert a.shape[0] == 5, a.shape
    for i, n in enumerate(sorted(names_)):
        assert (a[i] == pillow(fx[names_[n]][0], "RGB")).all(), n


# ---------------------------------------------------------------- ICO tests

def test_ico_equals_pillow(d):
    """Every icon at -c 1, 2, 3 and 4 (u1): Pillow's convert(mode)."""
    equals_pillow(d, "ico_")


def test_ico_fixtures_are_what_they_say(d):
    """Pillow's pick is the frame meant (not the first listed), AND masks
    make pixels transparent, the tRNS frames are opaque in Pillow's ICO,
    sizes that differ are the frame's."""
    fx = fixtures()

    def im(name):
        return Image.open(fx[name][0])

    sq = photos.crop(photos.photo("coffee"), 64, 64)
    flip = np.asarray(sq.transpose(Image.Transpose.FLIP_TOP_BOTTOM).convert("RGBA"))
    assert (np.asarray(im("ico_pick_last_deepest").convert("RGBA")) == flip).all()
    assert im("ico_pick_256").size == (256, 256)
    assert im("ico_pick_colors").mode == "RGBA"
    assert (np.asarray(im("ico_pick_colors"))[:, :, :3] == np.asarray(sq)[:, ::-1]).all()
    for name in ("ico_bmp_rgb_mask", "ico_bmp_p_mask", "ico_bmp_1_mask"):
        a = np.asarray(im(name))[:, :, 3]
        assert ((a == 0) == pattern(61, 47)).all(), name
    for name in ("ico_png_p_trns", "ico_png_rgb_trns"):
        assert (np.asarray(im(name).convert("RGBA"))[:, :, 3] == 255).all(), name
    assert im("ico_png_size_differs").size == (61, 47)
    assert im("ico_bmp_size_differs").size == (61, 47)
    assert im("ico_png_gray16").mode == "I"


def test_ico_16bit_png_frame_as_png(d):
    """A 16-bit PNG frame loads as the PNG alone does, -t u2 and u1 (the
    high byte, where Pillow's mode I clips); check counts it as ICO, its
    mode 16-bit."""
    path = fixtures()["ico_png_gray16"][0]
    with open(path, "rb") as f:
        data = f.read()
    png = os.path.join(d, "frame.png")
    with open(png, "wb") as f:
        f.write(data[22:])
    for args in (("-t", "u2", "-c", 1), ("-t", "u2", "-c", 3), ("-c", 1), ("-c", 4)):
        ok(load(d, *args, png))
        want = loaded(d)
        ok(load(d, *args, path))
        assert (loaded(d) == want).all(), args
    r = ok(run("check", "--format", "json", path))
    doc = json.loads(r.out)
    assert doc["formats"]["ICO"] == 1 and doc["modes"]["16-bit"] == 1, doc


def ico_broken():
    """{name: (bytes, reason)} of icons Pillow refuses too."""
    fx = fixtures()

    def data(name):
        with open(fx[name][0], "rb") as f:
            return f.read()

    out = {}
    for name in ("ico_pil_png_rgba", "ico_bmp_rgb_mask", "ico_bmp_32", "ico_pil_bmp_p"):
        b = data(name)
        out[name + "_cut"] = (b[:len(b) * 2 // 3], r"truncated|corrupt")
        out[name + "_directory"] = (b[:20], r"truncated ICO directory")
    b = bytearray(data("ico_bmp_rgb_mask"))
    b[18:22] = struct.pack("<I", len(b) + 10)           # the frame past the end
    out["ico_offset_past_end"] = (bytes(b), r"truncated ICO")
    b = bytearray(data("ico_bmp_rgb_mask"))
    b[14:18] = struct.pack("<I", len(b) * 3)            # the AND mask past the end
    out["ico_mask_past_end"] = (bytes(b), r"truncated ICO \(AND mask")
    b[14:18] = struct.pack("<I", 10)                    # before the file's start
    out["ico_mask_before_start"] = (bytes(b), r"truncated ICO \(AND mask")
    b = bytearray(data("ico_bmp_32"))
    out["ico_32_alpha_short"] = (bytes(b[:-100]), r"truncated")
    b = bytearray(data("ico_pil_png_rgb"))
    at = struct.unpack("<I", b[6 + 16 * 2 + 12:6 + 16 * 3])[0]     # the 64 x 64 frame
    b[at + 20] ^= 0xFF                                  # in the PNG's IHDR: its CRC fails
    out["ico_png_crc"] = (bytes(b), r"ICO's PNG image")
    return out


def test_ico_broken_refused(d):
    """Each broken icon alone: exit 1 naming it, Pillow refusing it too;
    all of them with a good one under -k: exit 3, the good one's row
    Pillow's."""
    src = os.path.join(d, "in")
    os.makedirs(src)
    good = fixtures()["ico_bmp_rgb_mask"][0]
    shutil.copy(good, os.path.join(src, "0good.ico"))
    broken = ico_broken()
    for name, (data, reason) in sorted(broken.items()):
        p = os.path.join(src, name + ".ico")
        with open(p, "wb") as f:
            f.write(data)
        assert pillow_refuses(p), "Pillow loads %s" % name
        names(ok(load(d, "-c", 4, p), 1), p, reason)
    r = ok(load(d, "-c", 4, "-k", "--order", "name", src), 3)
    for name, (_, reason) in broken.items():
        names(r, os.path.join(src, name + ".ico"), reason)
    a = loaded(d)
    assert (a[0] == pillow(good, "RGBA")).all() and not a[1:].any()


def test_ico_not_sniffed(d):
    """A cursor (00 00 02 00) and an icon of no entries are no icons:
    refused as of no known format, as Pillow refuses them as ICO."""
    with open(fixtures()["ico_bmp_rgb_mask"][0], "rb") as f:
        cur = bytearray(f.read())
    cur[2] = 2
    empty = struct.pack("<HHH", 0, 1, 0) + bytes(40)
    for name, data in (("c.cur", bytes(cur)), ("e.ico", empty)):
        p = os.path.join(d, name)
        with open(p, "wb") as f:
            f.write(data)
        names(ok(load(d, "-c", 3, p), 1), p, r"not a supported image|unknown format")
        try:
            with Image.open(p) as im:
                assert im.format != "ICO", name
        except OSError:
            pass


def test_ico_huge_frames_refused_before_allocating(d):
    """A PNG frame of 60000 x 60000 and a BMP frame of 65535 x 65535 (its
    header's height twice that): refused by --max-pixels from the header."""
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 6, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + harness.png_chunk(b"IHDR", ihdr) + harness.png_chunk(
        b"IDAT", b"x") + harness.png_chunk(b"IEND", b"")
    dib = struct.pack("<IiiHHIIiiII", 40, 65535, 2 * 65535, 1, 32, 0, 0, 0, 0, 0, 0)
    for name, data in (("png.ico", ico([(0, 0, 0, 32, png)])),
                       ("bmp.ico", ico([(0, 0, 0, 32, dib + bytes(64))]))):
        p = os.path.join(d, name)
        with open(p, "wb") as f:
            f.write(data)
        names(ok(load(d, "-c", 3, p), 1), p, r"more than --max-pixels|truncated")
    names(ok(load(d, "-c", 3, os.path.join(d, "png.ico")), 1), os.path.join(d, "png.ico"),
          r"more than --max-pixels")


def test_ico_misnamed_and_listed(d):
    """An icon named .png loads by content; a directory lists .ico files;
    check counts them as ICO and names the misnamed one."""
    fx = fixtures()
    src = os.path.join(d, "in")
    os.makedirs(src)
    names_ = {"a.png": "ico_bmp_32", "b.ico": "ico_bmp_p_mask", "c.ICO": "ico_pil_png_odd"}
    for n, k in names_.items():
        shutil.copy(fx[k][0], os.path.join(src, n))
    ok(load(d, "-c", 4, src))
    a = loaded(d)
    assert a.shape == (3, 47, 61, 4), a.shape
    for i, n in enumerate(sorted(names_)):
        assert (a[i] == pillow(fx[names_[n]][0], "RGBA")).all(), n
    r = ok(run("check", "--format", "json", src))
    assert json.loads(r.out)["formats"]["ICO"] == 3, r.out
    r = ok(run("check", src))
    assert "a.png" in r.out and "ICO" in r.out, r.out


# ---------------------------------------------------------------- both

def small_files():
    """Small files of every kind, for mutating."""
    im = photos.crop(photos.photo("chelsea"), 9, 7)
    flat = im.quantize(4).convert("RGB")
    m = pattern(9, 7)
    return [sgi_raw(planes_of(im)), sgi_rle(planes_of(flat)), sgi_rle(wide(flat, 0), 2),
            sgi_raw(wide(im.convert("L"), 3), 2), sgi_rle(planes_of(photos.alpha_of(flat))),
            ico([(9, 7, 0, 24, dib_frame(im, m))]),
            ico([(9, 7, 0, 8, dib_frame(im.quantize(5), m)),
                 (4, 4, 0, 32, png_of(im.resize((4, 4))))]),
            ico([(9, 7, 0, 32, dib_frame(photos.alpha_of(im)))]),
            ico([(9, 7, 0, 32, png_of(im.quantize(6), transparency=2))])]


def test_mutations_agree_with_pillow(d):
    """Small SGI files and icons with bytes changed, cut, inserted or
    deleted (a fixed seed): where Pillow loads one as SGI or ICO, parimg
    gives Pillow's RGBA; where Pillow refuses it, parimg refuses it."""
    rng = np.random.default_rng(28)
    seeds = small_files()
    p, out = os.path.join(d, "m"), os.path.join(d, "out.npy")
    checked = 0
    for n in range(360):
        data = bytearray(seeds[n % len(seeds)])
        for _ in range(int(rng.integers(1, 4))):
            i = int(rng.integers(0, len(data)))
            k = rng.random()
            if k < 0.6:
                data[i] = int(rng.integers(0, 256))
            elif k < 0.75:
                data = data[:i]
            elif k < 0.85:
                data[i:i] = rng.integers(0, 256, int(rng.integers(1, 9)), np.uint8).tobytes()
            else:
                del data[i:i + int(rng.integers(1, 9))]
        with open(p, "wb") as f:
            f.write(data)
        try:
            with Image.open(p) as im:
                if im.format not in ("SGI", "ICO") or im.size[0] * im.size[1] > 1 << 20:
                    continue
                want = np.asarray(im.convert("RGBA"))
        except Exception:
            want = None
        r = run("load", "-q", "-f", "-c", 4, "-o", out, p)
        assert r.code in (0, 1), "case %d: %r" % (n, r)
        if want is None:
            assert r.code == 1, "case %d: Pillow refuses %r, parimg loads it" % (n, bytes(data))
        else:
            assert r.code == 0, "case %d: Pillow loads %r: %r" % (n, bytes(data), r)
            got = np.load(out)[0]
            assert got.shape == want.shape and (got == want).all(), "case %d: %r" % (
                n, bytes(data))
        checked += 1
    assert checked > 250, checked


if __name__ == "__main__":
    harness.main(globals())
