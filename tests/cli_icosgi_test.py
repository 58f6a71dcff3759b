#!/usr/bin/python3
"""Command-line tests of load's SGI and ICO readers (issue 28): files made at
test time by Pillow (SGI raw, ICO of PNG frames at several sizes) and by hand
for what Pillow 9.4 does not write (SGI RLE, 1 and 2 bytes a sample, with
Pillow's quirks: rows ended early, an image ended by a row's last packet;
ICO of BMP frames with an AND mask, 32-bit ones, a frame whose size is not
the directory's). Each must give Pillow 9.4's Image.open(f).convert(mode)
at -c 1/3/4; 2-byte SGI samples are kept whole at -t u2. Truncated and
corrupt files are refused naming the file (Pillow refuses them too), huge
headers before anything is allocated, and misnamed files load by content.
Run as: /usr/bin/python3 tests/cli_icosgi_test.py ./parimg [TEST...]
"""
import atexit
import io
import json
import os
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
    return _fixtures


def load(d, *args):
    return run("load", "-q", "-f", "-o", os.path.join(d, "out.npy"), *args, cwd=d)


def loaded(d):
    return np.load(os.path.join(d, "out.npy"))


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

def test_sgi_equals_pillow(d):
    """Every SGI fixture at -c 1, 2, 3 and 4 (u1): Pillow's convert(mode)."""
    for name, (path, _) in sorted(fixtures().items()):
        if not name.startswith("sgi_"):
            continue
        for c, mode in MODES.items():
            ok(load(d, "-c", c, path))
            want = pillow(path, mode)
            got = loaded(d)[0].reshape(want.shape)
            diff = int(np.count_nonzero(got != want))
            assert diff == 0, "%s -c %d: %d samples differ from Pillow's %s" % (
                name, c, diff, mode)


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


if __name__ == "__main__":
    harness.main(globals())
