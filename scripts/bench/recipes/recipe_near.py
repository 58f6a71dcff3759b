#!/usr/bin/python3
"""recipe_near.py - the Python pipeline users run to find near-duplicates and
unusable images, which "parimg check --all" replaces, for the benchmark:
sorted(glob) of DIR's files, and Pool(J) workers each opening an image with
Pillow and computing imagehash's dhash and phash (its definitions: convert("L"),
LANCZOS to 9x8 or 32x32, scipy.fftpack's DCT-II; imagehash itself is not
packaged in Debian) and cleanvision's per-image properties (brightness from
the channel means, blurriness and the histogram's std of a copy at most 64
px a side, entropy of the gray image, grayscale stored as colour, aspect
ratio and size); the parent groups phashes within T bits (all pairs, in
NumPy) and flags odd aspect ratios and sizes against the dataset's. One
convert("L") serves both hashes and the entropy (imagehash and cleanvision
each convert again when called as libraries: the recipe is the faster one).

    recipe_near.py [-j J] [-t T] [--hashes FILE] DIR

Prints "seconds S images N groups G": S from before the glob to the groups
and flags (imports excluded). --hashes writes "PATH DHASH PHASH" a line
(16 hex digits each, imagehash's str()), in path order, after the clock.
"""
import argparse
import glob
import math
import multiprocessing
import os
import time

import numpy as np
import scipy.fftpack
from PIL import Image, ImageChops, ImageFilter, ImageStat


def _hex(bits):
    """imagehash's str() of a boolean array: its bits, first most significant."""
    return "%016x" % int("".join("1" if b else "0" for b in bits.flatten()), 2)


def one(path):
    """(path, dhash, phash, w, h, properties) of one image, or its error."""
    try:
        with Image.open(path) as im:
            im.load()
            gray = im.convert("L")
            d = np.asarray(gray.resize((9, 8), Image.LANCZOS))
            p = np.asarray(gray.resize((32, 32), Image.LANCZOS))
            low = scipy.fftpack.dct(scipy.fftpack.dct(p, axis=0), axis=1)[:8, :8]
            dh, ph = _hex(d[:, 1:] > d[:, :-1]), _hex(low > np.median(low))
            # cleanvision's image_property.py, one property after another.
            mean = ImageStat.Stat(im).mean
            r, g, b = mean[:3] if len(mean) >= 3 else (mean[0],) * 3
            bright = math.sqrt(0.241 * r * r + 0.691 * g * g + 0.068 * b * b) / 255
            ratio = max(im.width, im.height) / 64
            small = (im.resize((max(int(im.width // ratio), 1), max(int(im.height // ratio), 1)))
                     if ratio > 1 else im.copy()).convert("L")
            blur = math.sqrt(ImageStat.Stat(small.filter(ImageFilter.FIND_EDGES)).var[0])
            hist_std = float(np.std(small.histogram()))
            entropy = gray.entropy()
            grayrgb = False
            if im.mode == "RGB":
                # In Pillow's C, not through NumPy (whose copy costs more).
                r, g, b = im.split()
                grayrgb = (ImageChops.difference(r, g).getbbox() is None and
                           ImageChops.difference(g, b).getbbox() is None)
            return path, dh, ph, im.width, im.height, (bright, blur, hist_std, entropy, grayrgb)
    except Exception as e:      # noqa: BLE001 - a file Pillow refuses is broken
        return path, None, None, 0, 0, str(e)


def groups(phashes, t):
    """Union-find over every pair within T bits: the number of groups."""
    bits = np.unpackbits(np.array([int(h, 16) for h in phashes], dtype=">u8").view(np.uint8)
                         .reshape(len(phashes), 8), axis=1).astype(bool)
    parent = list(range(len(phashes)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    for i in range(len(phashes)):
        near = np.nonzero((bits[i + 1:] != bits[i]).sum(axis=1) <= t)[0]
        for j in near + i + 1:
            parent[find(int(j))] = find(i)
    roots = {}
    for i in range(len(phashes)):
        roots.setdefault(find(i), []).append(i)
    return sum(len(m) > 1 for m in roots.values())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-j", type=int, default=2, help="processes (default 2)")
    ap.add_argument("-t", type=int, default=7, help="phash bits apart (default 7)")
    ap.add_argument("--hashes", help="write each path's dhash and phash here")
    ap.add_argument("dir")
    a = ap.parse_args()
    t = time.perf_counter()
    paths = sorted(glob.glob(os.path.join(a.dir, "*")))
    with multiprocessing.Pool(a.j) as pool:
        res = pool.map(one, paths, chunksize=16)
    ok = [r for r in res if r[1] is not None]
    ng = groups([r[2] for r in ok], a.t)
    # The dataset's aspect ratios and sizes, and the flags cleanvision's
    # default thresholds give (as check --quality's, against the median).
    aspect = np.array([r[3] / r[4] for r in ok])
    med = np.median(aspect)
    odd_aspect = np.minimum(aspect / med, med / aspect) < 0.35
    size = np.array([math.sqrt(r[3]) * math.sqrt(r[4]) for r in ok])
    q1, q3 = np.percentile(size, [25, 75])
    odd_size = (size < q1 - 3 * (q3 - q1)) | (size > q3 + 3 * (q3 - q1))

    def blurry(blur, hist_std):
        b, s = 1 - math.exp(-blur / 100), 1 - math.exp(-hist_std / 100)
        return min(b + (s if s > 0.18 else 0), 1) < 0.29
    flagged = sum(1 for r in ok if r[5][0] < 0.22 or 1 - r[5][0] < 0.05 or r[5][3] * 0.1 < 0.3
                  or r[5][4] or blurry(r[5][1], r[5][2])) + int(odd_aspect.sum() + odd_size.sum())
    secs = time.perf_counter() - t
    print("seconds %.6f images %d groups %d flagged %d" % (secs, len(ok), ng, flagged))
    if a.hashes:
        with open(a.hashes, "w") as f:
            for r in ok:
                f.write("%s %s %s\n" % (r[0], r[1], r[2]))


if __name__ == "__main__":
    main()
