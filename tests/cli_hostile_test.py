#!/usr/bin/python3
"""Hostile inputs that are not hostile pixels: what the parent does before
any worker decodes (it parses no image, src/cmd/load_run.c's probe_shape and
ragged_first), and inputs that are no regular image file (a FIFO, a device,
a link to /dev/zero or to a file outside the dataset). The LD_PRELOAD shim
tests/lib/hostile_preload.c says when the parent enters a decoder library
and when a worker reads the bytes of a file it must never be handed.

Run: /usr/bin/python3 tests/cli_hostile_test.py ./parimg [test_name...]
"""
import io
import os
import subprocess
import sys
import time
import zipfile

import numpy as np
from PIL import Image, PngImagePlugin

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
from harness import ok, run  # noqa: E402

SECRET = b"x" * 200 + b"PARIMG-SECRET: the key of a user\n"


def shimmed(d, *args, workers=False, **kw):
    env = dict(os.environ, LD_PRELOAD=harness.shim("hostile_preload", d))
    if workers:
        env["PARIMG_SHIM_WORKERS"] = "1"
    return run(*args, env=env, **kw)


def picture(seed, size=(40, 30)):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8), "RGB")


def encoded(kind, seed):
    """One image file's bytes, of KIND, each through what the parent once
    parsed in probe_shape: libtiff, libwebp's demuxer, a PNG's compressed
    text (zlib), libjpeg."""
    im, f = picture(seed), io.BytesIO()
    if kind == "tif":
        im.save(f, "TIFF", compression="tiff_adobe_deflate")
    elif kind == "webp":
        im.save(f, "WEBP", quality=90)
    elif kind == "png":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta tiff:Orientation=\"1\"/>" + " " * 400,
                      zip=True)
        im.save(f, "PNG", pnginfo=info)
    else:
        im.save(f, "JPEG", quality=90)
    return f.getvalue()


def dataset(d, kind):
    """D/data: a file of KIND sorted first, then two PNGs."""
    data = os.path.join(d, "data")
    os.makedirs(data)
    with open(os.path.join(data, "0000.%s" % kind), "wb") as f:
        f.write(encoded(kind, 1))
    for k in (1, 2):
        picture(10 + k).save(os.path.join(data, "%04d.png" % k))
    return data


def assert_parent_parsed_nothing(r):
    assert "the parent called" not in r.err, r


def test_no_decoder_runs_in_the_parent(d):
    """For TIFF, WebP, a PNG's zlib text and JPEG sorted first, load (fixed
    and ragged) and check parse nothing in the parent; the workers do, as
    the shim sees (its proof that it would see the parent's calls)."""
    seen = {"tif": "TIFFClientOpen", "webp": "WebP", "png": "libdeflate_zlib_decompress",
            "jpg": "jpeg_read_header"}
    for kind, call in seen.items():
        k = os.path.join(d, kind)
        data = dataset(k, kind)
        for args in (["load", "-c", "3", "-o", os.path.join(k, "x.npy")],
                     ["load", "--ragged", "-o", os.path.join(k, "r.npy")],
                     ["check", "-q"]):
            r = shimmed(d, *args, data, workers=True)
            assert r.code == 0, (kind, args, r)
            assert_parent_parsed_nothing(r)
            assert "a worker called " + call in r.err, (kind, args, r)
        x = np.load(os.path.join(k, "x.npy"))
        assert x.shape == (3, 30, 40, 3) and np.array_equal(x[1], np.asarray(picture(11)))


def test_no_inflate_of_a_zip_member_in_the_parent(d):
    """A zip's deflated member, first in its archive: inflated by a worker."""
    z = os.path.join(d, "a.zip")
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
        for k in range(3):
            buf = io.BytesIO()
            picture(k).save(buf, "PNG", compress_level=0)
            f.writestr("img_%d.png" % k, buf.getvalue())
    r = shimmed(d, "load", "-o", os.path.join(d, "x.npy"), z, workers=True)
    assert r.code == 0, r
    assert_parent_parsed_nothing(r)
    assert "a worker called libdeflate_deflate_decompress_ex" in r.err, r
    assert np.array_equal(np.load(os.path.join(d, "x.npy"))[2], np.asarray(picture(2)))


def special(d):
    """D/data: two PNGs and what each test adds; returns its path."""
    data = os.path.join(d, "data")
    os.makedirs(data)
    for k in (1, 2):
        picture(k).save(os.path.join(data, "img_%d.png" % k))
    return data


def refused(d, data, name, reason):
    """NAME in DATA is refused naming it, at once, nothing written; under -k
    it is skipped and the other rows are the PNGs'."""
    out = os.path.join(d, "x.npy")
    for cmd in (["load", "-o", out], ["load", "--ragged", "-o", out], ["check", "-q"]):
        t0 = time.monotonic()
        r = run(*cmd, data, timeout=30)
        took = time.monotonic() - t0
        assert r.code in (1, 3), (cmd, r)
        assert "%s/%s: %s" % (data, name, reason) in r.out + r.err, (cmd, r)
        assert took < 10, (cmd, took)
        assert not os.path.exists(out), cmd
    r = ok(run("load", "-k", "-o", out, data, timeout=30), 3)
    assert "%s/%s: %s" % (data, name, reason) in r.err, r
    x = np.load(out)
    rows = sorted(os.listdir(data))
    for k in (1, 2):
        assert np.array_equal(x[rows.index("img_%d.png" % k)], np.asarray(picture(k)))
    assert not x[rows.index(name)].any()


def test_a_fifo_is_refused_not_waited_on(d):
    data = special(d)
    os.mkfifo(os.path.join(data, "a.png"))
    refused(d, data, "a.png", "not a regular file")


def test_a_link_to_dev_zero_is_refused(d):
    data = special(d)
    os.symlink("/dev/zero", os.path.join(data, "z.png"))
    refused(d, data, "z.png", "not a regular file")


def test_a_device_is_refused(d):
    data = special(d)
    os.mknod(os.path.join(data, "n.png"), 0o644 | 0o020000, os.makedev(1, 3))  # /dev/null
    refused(d, data, "n.png", "not a regular file")


def test_a_link_out_of_the_tree_to_no_image_never_reaches_a_worker(d):
    """b.jpg -> a file beside the dataset holding a secret: refused naming
    b.jpg, and no worker reads a byte of the secret (the shim would say)."""
    data = special(d)
    secret = os.path.join(d, "id_rsa")
    with open(secret, "wb") as f:
        f.write(SECRET)
    os.symlink(secret, os.path.join(data, "b.jpg"))
    refused(d, data, "b.jpg", "not a supported image (unknown format)")
    for sandbox in ("auto", "off"):
        r = shimmed(d, "load", "-k", "-f", "--sandbox", sandbox, "-o",
                    os.path.join(d, "x.npy"), data)
        assert r.code == 3, r
        assert "a worker read the secret" not in r.err, (sandbox, r)


def test_links_to_images_load_in_and_out_of_the_tree(d):
    """git-annex and DVC keep each file as a link into a store outside the
    folder: those load, without a flag, as the files themselves do."""
    data = special(d)
    store = os.path.join(d, ".git", "annex", "objects")
    os.makedirs(store)
    picture(3).save(os.path.join(store, "SHA256E-s1234--abcd.png"))
    os.symlink(os.path.join(store, "SHA256E-s1234--abcd.png"), os.path.join(data, "img_3.png"))
    os.symlink("img_1.png", os.path.join(data, "img_4.png"))
    out = os.path.join(d, "x.npy")
    ok(run("load", "-o", out, data))
    x = np.load(out)
    assert x.shape == (4, 30, 40, 3)
    for k, seed in ((0, 1), (1, 2), (2, 3), (3, 1)):
        assert np.array_equal(x[k], np.asarray(picture(seed))), k


if __name__ == "__main__":
    harness.main(globals())
