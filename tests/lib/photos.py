#!/usr/bin/python3
"""photos.py - the real-photograph fixtures of the decoder tests: the photos
in tests/data/photos encoded into every JPEG, WebP, GIF and PNG variant a
decoder must read (or refuse), with Pillow as the oracle.

    import photos
    fx = photos.build(tmpdir)           # {name: path}, built once per tmpdir
    want = photos.pillow_array(fx["jpeg_progressive"], "RGB")

Names say what a file is: "jpeg_*", "webp_*", "gif_*", "png_*" are valid
files of that format with the matching extension; "named_*" are valid files
whose extension names another format (the bytes must choose the decoder);
"bad_FORMAT_*" are broken files, which Pillow refuses when fully loaded
(bad_FORMAT_trunc_* cut short, bad_FORMAT_corrupt_* with bytes changed;
bad_jpeg_trunc_eoi lacks only the final EOI marker, which libjpeg merely
warns about). good() and broken() split a build's dict. "lenient_jpeg_entropy"
has its entropy-coded data changed: libjpeg decodes it with only a warning,
and Pillow loads it, so a decoder may accept or refuse it.

The JPEG CMYK kinds: jpeg_cmyk is Pillow's (Adobe transform 0), jpeg_ycck
TurboJPEG's (transform 2, as Photoshop and ImageMagick write), both holding
Adobe-inverted values; jpeg_cmyk_no_adobe is jpeg_cmyk without its Adobe
segment. Pillow reads every CMYK JPEG as inverted, marker or not.
Needs cjpeg (libjpeg-turbo-progs), libturbojpeg.so.0 (libturbojpeg0) and
Pillow with WebP.

Run as a script to build into DIR and check every fixture against Pillow:
    /usr/bin/python3 tests/photos.py DIR
"""
import ctypes
import hashlib
import io
import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))	# tests/
PHOTOS = os.path.join(HERE, "data", "photos")
RGB_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble")
_built = {}     # dst_dir -> the dict build() returned


def photo(name, mode="RGB"):
    """One of the repository's photos, as a loaded Pillow image."""
    with Image.open(os.path.join(PHOTOS, name + ".png")) as im:
        return im.convert(mode)


def pillow_array(path, mode):
    """The oracle: numpy array of Image.open(path).convert(mode)."""
    with Image.open(path) as im:
        return np.asarray(im.convert(mode))


def good(fixtures):
    """The valid files of a build: every name not starting bad_ or lenient_."""
    return {k: v for k, v in fixtures.items() if not k.startswith(("bad_", "lenient_"))}


def broken(fixtures):
    """The files every decoder (and Pillow) must refuse."""
    return {k: v for k, v in fixtures.items() if k.startswith("bad_")}


# ---------------------------------------------------------------- encoders

def pil_bytes(im, fmt, **kw):
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def cjpeg(im, *args):
    """JPEG bytes from libjpeg-turbo's cjpeg (PPM/PGM on its stdin)."""
    ppm = pil_bytes(im, "PPM")
    return subprocess.run(["cjpeg", *args], input=ppm, capture_output=True,
                          check=True).stdout


def turbojpeg_ycck(im, quality=90):
    """A YCCK JPEG: TurboJPEG stores TJPF_CMYK input as YCCK (Adobe
    transform 2). Given Adobe-inverted CMYK, as Photoshop writes it."""
    tj = ctypes.CDLL("libturbojpeg.so.0")
    tj.tjInitCompress.restype = ctypes.c_void_p
    tj.tjCompress2.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                               ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p),
                               ctypes.POINTER(ctypes.c_ulong), ctypes.c_int, ctypes.c_int,
                               ctypes.c_int]
    tj.tjFree.argtypes = [ctypes.c_void_p]
    tj.tjDestroy.argtypes = [ctypes.c_void_p]
    inverted = 255 - np.asarray(im.convert("CMYK"))
    w, h = im.size
    handle = tj.tjInitCompress()
    out, size = ctypes.c_void_p(), ctypes.c_ulong(0)
    rc = tj.tjCompress2(handle, inverted.tobytes(), w, 4 * w, h, 11,    # TJPF_CMYK
                        ctypes.byref(out), ctypes.byref(size), 2, quality, 0)  # TJSAMP_420
    try:
        if rc:
            raise RuntimeError("tjCompress2 failed")
        return ctypes.string_at(out, size.value)
    finally:
        tj.tjFree(out)
        tj.tjDestroy(handle)


def without_app14(jpg):
    """jpg less its Adobe (APP14) segment: a plain 4-component JPEG, which
    libjpeg takes for CMYK and Pillow, as always, for inverted CMYK."""
    at = jpg.index(b"\xff\xee")
    return jpg[:at] + jpg[at + 2 + int.from_bytes(jpg[at + 2:at + 4], "big"):]


def crop(im, w, h):
    """A w x h region from the middle of im."""
    x, y = (im.width - w) // 2, (im.height - h) // 2
    return im.crop((x, y, x + w, y + h))


def transparent_gif(im):
    """A palette GIF whose index 255 is transparent, used in an ellipse."""
    from PIL import ImageDraw
    p = im.quantize(255)
    pal = p.getpalette()[:255 * 3] + [0, 0, 0]
    p.putpalette(pal)
    ImageDraw.Draw(p).ellipse((20, 20, im.width // 2, im.height // 2), fill=255)
    return pil_bytes(p, "GIF", transparency=255)


def animated_gif(frames):
    """An animated GIF; frame 0 is what a loader must return."""
    return pil_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:],
                     duration=100, loop=0)


def alpha_of(im):
    """An alpha channel from the photo's own luminance: smooth and detailed."""
    rgba = im.convert("RGBA")
    rgba.putalpha(im.convert("L"))
    return rgba


def valid_files():
    """{name: bytes} of every valid fixture; the extension comes from the name."""
    cat, coffee, astro = photo("chelsea"), photo("coffee"), photo("astronaut")
    rocket, hubble, cam = photo("rocket"), photo("hubble"), photo("camera", "L")
    small = crop(coffee, 160, 120)
    f = {}
    f["jpeg_baseline"] = pil_bytes(cat, "JPEG", quality=90)
    f["jpeg_q75_optimized"] = pil_bytes(astro, "JPEG", quality=75, optimize=True)
    f["jpeg_progressive"] = pil_bytes(coffee, "JPEG", quality=85, progressive=True)
    f["jpeg_arithmetic"] = cjpeg(astro, "-arithmetic", "-quality", "90")
    f["jpeg_arithmetic_progressive"] = cjpeg(rocket, "-arithmetic", "-progressive")
    f["jpeg_restart_row"] = cjpeg(rocket, "-restart", "1")
    f["jpeg_restart_block"] = cjpeg(hubble, "-restart", "1B", "-sample", "1x1")
    for name, s in (("444", "1x1"), ("422", "2x1"), ("420", "2x2"), ("440", "1x2"),
                    ("411", "4x1")):
        f["jpeg_" + name] = cjpeg(hubble if name in ("444", "440") else cat,
                                  "-sample", s, "-quality", "92")
    f["jpeg_gray"] = pil_bytes(cam, "JPEG", quality=90)
    f["jpeg_gray_progressive"] = cjpeg(coffee, "-grayscale", "-progressive")
    f["jpeg_cmyk"] = pil_bytes(coffee.convert("CMYK"), "JPEG", quality=90)
    f["jpeg_ycck"] = turbojpeg_ycck(cat)
    f["jpeg_cmyk_no_adobe"] = without_app14(f["jpeg_cmyk"])
    f["jpeg_exif_orientation6"] = pil_bytes(small, "JPEG", exif=b"Exif\0\0MM\0*\0\0\0\x08"
                                            b"\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0")
    f["jpeg_odd_33x17"] = pil_bytes(crop(cat, 33, 17), "JPEG", quality=90)
    f["jpeg_odd_17x33_422"] = cjpeg(crop(astro, 17, 33), "-sample", "2x1")
    f["jpeg_odd_37x29_440_progressive"] = cjpeg(crop(hubble, 37, 29), "-sample", "1x2",
                                                "-progressive")
    f["jpeg_odd_1x1"] = pil_bytes(crop(coffee, 1, 1), "JPEG", quality=90)
    f["jpeg_odd_1x40"] = pil_bytes(crop(rocket, 1, 40), "JPEG", quality=90)
    f["jpeg_odd_40x1"] = cjpeg(crop(astro, 40, 1), "-arithmetic")
    f["jpeg_odd_301x201"] = pil_bytes(crop(astro, 301, 201), "JPEG", quality=80)
    f["webp_lossy"] = pil_bytes(cat, "WEBP", quality=90)
    f["webp_lossless"] = pil_bytes(small, "WEBP", lossless=True, method=0)
    f["webp_alpha"] = pil_bytes(alpha_of(crop(hubble, 160, 120)), "WEBP", quality=90)
    f["webp_lossless_alpha"] = pil_bytes(alpha_of(crop(astro, 120, 90)), "WEBP",
                                         lossless=True, method=0)
    f["webp_odd_33x17"] = pil_bytes(crop(rocket, 33, 17), "WEBP", quality=80)
    f["webp_gray"] = pil_bytes(cam.convert("RGB"), "WEBP", quality=90)
    f["gif_palette"] = pil_bytes(coffee.quantize(256), "GIF", interlace=False)
    f["gif_interlaced"] = pil_bytes(hubble.quantize(64), "GIF", interlace=True)
    f["gif_gray"] = pil_bytes(cam, "GIF")
    f["gif_transparent"] = transparent_gif(cat)
    f["gif_animated"] = animated_gif([crop(p, 200, 150).quantize(128)
                                      for p in (rocket, cat, coffee)])
    f["png_rgb"] = pil_bytes(astro, "PNG")
    f["png_gray"] = pil_bytes(cam, "PNG", compress_level=9)
    f["png_rgba"] = pil_bytes(alpha_of(cat), "PNG")
    f["named_png_as.jpg"] = f["png_rgb"]
    f["named_png_as.JPEG"] = pil_bytes(small, "PNG")
    f["named_jpeg_as.png"] = f["jpeg_baseline"]
    f["named_webp_as.jpg"] = f["webp_lossy"]
    f["named_gif_as.png"] = f["gif_transparent"]
    return f


# ---------------------------------------------------------------- damage

def flip(data, offsets, xor=0xFF):
    """data with the bytes at offsets xor'ed."""
    b = bytearray(data)
    for o in offsets:
        b[o] ^= xor
    return bytes(b)


def put(data, offset, new):
    """data with new written over it at offset."""
    return data[:offset] + new + data[offset + len(new):]


def jpeg_marker(data, code):
    """Offset of the first 0xFF code marker segment in a JPEG."""
    return data.index(bytes((0xFF, code)))


def png_chunk_at(data, kind):
    """Offset of a PNG chunk's type field."""
    return data.index(kind)


def broken_files(v):
    """{name: bytes} of damaged files, from the valid ones in v."""
    jpg, webp, gif, png = v["jpeg_baseline"], v["webp_lossy"], v["gif_palette"], v["png_rgb"]
    prog, arith = v["jpeg_progressive"], v["jpeg_arithmetic"]
    f = {}
    for fmt, data in (("jpeg", jpg), ("webp", webp), ("gif", gif), ("png", png)):
        for cut, at in (("1", 1), ("12", 12), ("30", 30), ("third", len(data) // 3),
                        ("2thirds", len(data) * 2 // 3)):
            f["bad_%s_trunc_%s" % (fmt, cut)] = data[:at]
        f["bad_%s_empty" % fmt] = b""
    f["bad_jpeg_trunc_progressive"] = prog[:len(prog) // 2]
    f["bad_jpeg_trunc_arithmetic"] = arith[:len(arith) // 2]
    f["bad_jpeg_trunc_headers"] = jpg[:jpeg_marker(jpg, 0xDA)]     # all but the scan
    sof = jpeg_marker(jpg, 0xC0)
    f["bad_jpeg_corrupt_height0"] = put(jpg, sof + 5, b"\0\0")
    f["bad_jpeg_corrupt_components"] = put(jpg, sof + 9, b"\x05")
    f["bad_jpeg_corrupt_precision"] = put(jpg, sof + 4, b"\x07")
    dht = jpeg_marker(jpg, 0xC4)
    f["bad_jpeg_corrupt_dht"] = put(jpg, dht + 5, b"\xff" * 16)       # code counts overflow
    f["bad_jpeg_corrupt_soi"] = flip(jpg, [1])
    f["bad_jpeg_corrupt_sos_table"] = put(jpg, jpeg_marker(jpg, 0xDA) + 6, b"\x77")
    f["lenient_jpeg_entropy"] = flip(jpg, range(len(jpg) // 2, len(jpg) // 2 + 40, 3), 0x5A)
    f["bad_jpeg_trunc_eoi"] = jpg[:-2]             # libjpeg warns, Pillow refuses
    f["bad_webp_corrupt_riff"] = put(webp, 8, b"WEBQ")
    f["bad_webp_corrupt_vp8_size"] = put(webp, 26, b"\xff\x3f\xff\x3f")
    f["bad_webp_corrupt_vp8_sync"] = flip(webp, [23, 24, 25])
    f["bad_webp_corrupt_lossless"] = flip(v["webp_lossless"], [20, 21])
    f["bad_gif_corrupt_magic"] = put(gif, 0, b"GIF00a")
    f["bad_gif_corrupt_lzw_size"] = put(gif, gif.index(b"\x2c", 13 + 768) + 10, b"\x0f")
    ihdr = png_chunk_at(png, b"IHDR")
    f["bad_png_corrupt_ihdr_crc"] = flip(png, [ihdr + 4])           # width changed
    f["bad_png_corrupt_signature"] = flip(png, [1])
    idat = png_chunk_at(png, b"IDAT")
    f["bad_png_corrupt_zlib_header"] = flip(png, [idat + 4, idat + 5])
    f["bad_png_corrupt_idat_data"] = flip(png, range(idat + 100, idat + 140))
    return f


EXT = {"jpeg": ".jpg", "webp": ".webp", "gif": ".gif", "png": ".png"}


def filename(name):
    """The fixture's file name: named_* keep their own extension."""
    if name.startswith("named_"):
        return name
    fmt = name.split("_")[1] if name.startswith(("bad_", "lenient_")) else name.split("_")[0]
    return name + EXT[fmt]


def stamp():
    """A digest of this script and the photos: a cached build stays valid."""
    h = hashlib.sha256(open(__file__, "rb").read())
    for p in sorted(os.listdir(PHOTOS)):
        h.update(open(os.path.join(PHOTOS, p), "rb").read())
    return h.hexdigest()


def build(dst_dir):
    """Write every fixture into dst_dir (made if missing); return {name: path}.
    Built once per dst_dir: again in this process from memory, in another from
    dst_dir's manifest when this file and the photos are unchanged."""
    dst_dir = os.path.abspath(dst_dir)
    if dst_dir in _built:
        return dict(_built[dst_dir])
    manifest = os.path.join(dst_dir, "photos.json")
    key = stamp()
    try:
        with open(manifest) as m:
            saved = json.load(m)
        if saved["stamp"] == key and all(os.path.exists(p) for p in saved["files"].values()):
            _built[dst_dir] = saved["files"]
            return dict(saved["files"])
    except (OSError, ValueError, KeyError):
        pass
    os.makedirs(dst_dir, exist_ok=True)
    valid = valid_files()
    files = {}
    for name, data in list(valid.items()) + list(broken_files(valid).items()):
        path = os.path.join(dst_dir, filename(name))
        with open(path, "wb") as out:
            out.write(data)
        files[name] = path
    with open(manifest + ".tmp", "w") as m:
        json.dump({"stamp": key, "files": files}, m)
    os.rename(manifest + ".tmp", manifest)
    _built[dst_dir] = files
    return dict(files)


# ---------------------------------------------------------------- self-check

def pillow_refuses(path):
    """True when Pillow raises on fully loading path."""
    try:
        with Image.open(path) as im:
            im.load()
            im.convert("RGB")
        return False
    except Exception:       # noqa: BLE001 - any refusal counts
        return True


def check(dst_dir):
    """Build, print each fixture, and return the names Pillow disagrees on."""
    import time
    t = time.perf_counter()
    fx = build(dst_dir)
    print("built %d fixtures in %.2f s into %s" % (len(fx), time.perf_counter() - t, dst_dir))
    wrong = []
    for name, path in sorted(fx.items()):
        refused = pillow_refuses(path)
        if name.startswith("bad_"):
            ok = refused
            what = "refused by Pillow" if refused else "ACCEPTED by Pillow"
        elif name.startswith("lenient_"):
            ok = True
            what = "refused by Pillow" if refused else "accepted by Pillow (lenient)"
        else:
            ok = not refused
            with Image.open(path) as im:
                what = "%s %dx%d %s" % (im.format, im.width, im.height, im.mode)
                if refused:
                    what = "REFUSED by Pillow"
        print("  %-34s %7d  %s" % (os.path.basename(path), os.path.getsize(path), what))
        if not ok:
            wrong.append(name)
    return wrong


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: photos.py DIR")
    bad = check(sys.argv[1])
    if bad:
        sys.exit("photos.py: Pillow disagrees on: " + " ".join(bad))
