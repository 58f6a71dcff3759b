#!/usr/bin/python3
"""Command-line tests for what "parimg check" finds beyond broken files:
imagehash's dhash and phash (bit for bit against a NumPy/SciPy reference
of imagehash's definitions), near-duplicate groups, pixel duplicates,
leakage between inputs, --list and load --exclude.

Run: /usr/bin/python3 tests/cli_near_test.py ./parimg [test_name...]
"""
import csv
import io
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
import photos  # noqa: E402
from harness import ok, run  # noqa: E402

import numpy as np  # noqa: E402
import scipy.fftpack  # noqa: E402
from PIL import Image  # noqa: E402


def _hex(bits):
    """imagehash's str(): the flattened bits, first bit most significant."""
    return "%016x" % int("".join("1" if b else "0" for b in bits.flatten()), 2)


def ref_hashes(path):
    """imagehash.dhash and imagehash.phash of Image.open(PATH), as imagehash
    4.3 defines them (it is not packaged in Debian; these are its steps)."""
    with Image.open(path) as im:
        gray = im.convert("L")
    d = np.asarray(gray.resize((9, 8), Image.LANCZOS))
    p = np.asarray(gray.resize((32, 32), Image.LANCZOS))
    low = scipy.fftpack.dct(scipy.fftpack.dct(p, axis=0), axis=1)[:8, :8]
    return _hex(d[:, 1:] > d[:, :-1]), _hex(low > np.median(low))


def check_csv(*args, cwd=None, code=0):
    r = ok(run("check", "-q", "--format", "csv", *args, cwd=cwd), code)
    return list(csv.DictReader(io.StringIO(r.out)))


def assert_parity(rows, cwd=None):
    n = 0
    for row in rows:
        if row["status"] != "ok":
            continue
        path = os.path.join(cwd, row["path"]) if cwd else row["path"]
        want = ref_hashes(path)
        assert (row["dhash"], row["phash"]) == want, (row["path"], row["mode"], row, want)
        n += 1
    return n


def test_hashes_match_imagehash_on_the_photo_fixtures(d):
    fx = photos.good(photos.build(os.path.join(d, "fx")))
    rows = check_csv(*sorted(fx.values()))
    assert assert_parity(rows) == len(fx), rows


def test_hashes_match_imagehash_on_gen_images_of_every_channel_count(d):
    dirs = []
    for c in (1, 2, 3, 4):
        for fmt, size in (("png", "37x23"), ("bmp", "8x9"), ("jpg", "300x200"), ("tga", "1x1")):
            if (fmt == "jpg" and c in (2, 4)) or (fmt == "bmp" and c == 2):
                continue
            out = "g%d%s" % (c, fmt)
            ok(run("gen", "-q", "-n", "4", "-s", size, "-c", str(c), "-F", fmt, "-o", out,
                   "--seed", str(c), cwd=d))
            dirs.append(out)
    rows = check_csv(*dirs, cwd=d)
    assert assert_parity(rows, cwd=d) == len(rows) > 50, rows


def test_hashes_tie_as_scipy_does_on_flat_and_symmetric_images(d):
    """A flat image's AC terms, and the zero terms of a symmetric one, are
    exactly zero in scipy's DCT: the median ties with them, and the bits
    agree only if parimg's are exactly zero too."""
    imgs = {"black": np.zeros((50, 70), np.uint8), "white": np.full((9, 9), 255, np.uint8),
            "colour": np.full((30, 30, 3), (200, 10, 40), np.uint8)}
    a = np.zeros((64, 64), np.uint8)
    a[:, 32:] = 200
    imgs["half"] = a
    imgs["halfv"] = a.T.copy()
    b = np.zeros((64, 64), np.uint8)
    b[16:48, 16:48] = 255
    imgs["box"] = b
    c = np.zeros((64, 64), np.uint8)
    c[::2, ::2] = 255
    imgs["grid"] = c
    for name, arr in imgs.items():
        Image.fromarray(arr).save(os.path.join(d, name + ".png"))
    rows = check_csv(".", cwd=d)
    assert assert_parity(rows, cwd=d) == len(imgs), rows


def test_no_near_computes_no_hashes(d):
    ok(run("gen", "-q", "-n", "2", "-o", "g", cwd=d))
    rows = check_csv("--no-near", "g", cwd=d)
    assert [(r["dhash"], r["phash"]) for r in rows] == [("", "")] * 2, rows


if __name__ == "__main__":
    harness.main(globals())
