#!/usr/bin/python3
"""photo_corpus.py - the benchmarks' real-photo corpora, made deterministically
from photographs: the nature JPEGs of Debian's mate-backgrounds (GPL-2+,
/usr/share/backgrounds/mate/nature; `EXTRA_PKGS=mate-backgrounds sh
scripts/deps.sh`) and the repository's tests/data/photos.

    photo_corpus.py [-j J] [-n N] [--png N] [--only same,mixed,png512,...] DST

Makes, under DST:
  same/    N JPEGs of 500x375: crops of different regions and scales of the
           photos, quality 75-95, a fifth progressive
  mixed/   N ImageNet-like JPEGs, each side 300-640 px, landscape and
           portrait, quality 75-95, a fifth progressive, one in 12 gray
  png512/  --png (300) 512x512 RGB photo PNGs, zlib level 6
  tiff512/, tiff512lzw/ (only when --only names them) --png (300) 512x512
           RGB photo TIFFs, uncompressed and LZW, written by Pillow
N is 1000. Every image draws from its own seeded generator (its corpus and
index), so a run makes the same files whatever J is; on one machine (one
Pillow and libjpeg-turbo) the same bytes. Prints one line per corpus.
"""
import argparse
import glob
import multiprocessing
import os
import sys
import time
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
MATE = "/usr/share/backgrounds/mate/nature"
REPO = os.path.join(HERE, "..", "..", "tests", "data", "photos")
SRC = []        # (name, RGB image): the sources, loaded before the pool forks


def load_sources():
    """The photos, fully decoded, in a fixed order."""
    mate = sorted(glob.glob(os.path.join(MATE, "*.jpg")))
    if not mate:
        sys.exit("photo_corpus.py: %s: no photographs (install mate-backgrounds: "
                 "EXTRA_PKGS=mate-backgrounds sh scripts/deps.sh)" % MATE)
    repo = sorted(glob.glob(os.path.join(REPO, "*.png")))
    for path in mate + repo:
        with Image.open(path) as im:
            SRC.append((os.path.basename(path), im.convert("RGB")))


def rng_for(corpus, i):
    return np.random.default_rng([zlib.crc32(corpus.encode()), i])


def crop_to(rng, src, w, h):
    """A w x h view of a random region of src, at a random scale: the box
    has w/h's aspect and is between the output's size (where src allows)
    and the largest that fits, drawn uniformly in log scale."""
    sw, sh = src.size
    fit = min(sw / w, sh / h)                   # the largest box's scale
    lo = min(1.0, fit)
    s = float(np.exp(rng.uniform(np.log(lo), np.log(fit)))) if fit > lo else fit
    bw, bh = min(w * s, sw), min(h * s, sh)
    x = rng.uniform(0, sw - bw)
    y = rng.uniform(0, sh - bh)
    if rng.random() < 0.5:
        src = src.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return src.resize((w, h), Image.Resampling.BILINEAR, box=(x, y, x + bw, y + bh),
                      reducing_gap=3.0)


def pick(rng, mate_only):
    """A source image: the mate photos, and the small repo ones when allowed."""
    n = sum(1 for name, _ in SRC if name.endswith(".jpg")) if mate_only else len(SRC)
    return SRC[int(rng.integers(n))][1]


def jpeg_args(rng):
    return {"quality": int(rng.integers(75, 96)), "progressive": bool(rng.random() < 0.2)}


def make_same(i):
    rng = rng_for("same", i)
    im = crop_to(rng, pick(rng, True), 500, 375)
    return ".jpg", im, "JPEG", jpeg_args(rng)


def make_mixed(i):
    rng = rng_for("mixed", i)
    long_side = int(rng.integers(300, 641))
    short = max(300, int(round(long_side / rng.uniform(1.0, 1.5))))
    w, h = (long_side, short) if rng.random() < 0.75 else (short, long_side)
    # The repo's photos are 320 px: used only where the output is near that.
    im = crop_to(rng, pick(rng, max(w, h) > 400), w, h)
    if rng.random() < 1 / 12:
        im = im.convert("L")
    return ".jpg", im, "JPEG", jpeg_args(rng)


def make_png(i):
    rng = rng_for("png512", i)
    im = crop_to(rng, pick(rng, True), 512, 512)
    return ".png", im, "PNG", {"compress_level": 6}


def make_tiff(i, compression=None):
    rng = rng_for("tiff512", i)
    im = crop_to(rng, pick(rng, True), 512, 512)
    return ".tif", im, "TIFF", {"compression": compression} if compression else {}


MAKERS = {"same": make_same, "mixed": make_mixed, "png512": make_png, "tiff512": make_tiff,
          "tiff512lzw": lambda i: make_tiff(i, "tiff_lzw")}


def write_one(job):
    corpus, i, dst = job
    ext, im, fmt, kw = MAKERS[corpus](i)
    path = os.path.join(dst, "%s_%05d%s" % (corpus, i, ext))
    im.save(path + ".tmp", fmt, **kw)
    os.rename(path + ".tmp", path)
    return os.path.getsize(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-j", type=int, default=2, help="processes (default 2)")
    ap.add_argument("-n", type=int, default=1000, help="JPEGs per JPEG corpus (1000)")
    ap.add_argument("--png", type=int, default=300, help="PNGs in png512 (300)")
    ap.add_argument("--only", default="same,mixed,png512", help="corpora to make")
    ap.add_argument("dst")
    args = ap.parse_args()
    load_sources()
    with multiprocessing.get_context("fork").Pool(args.j) as pool:
        for corpus in args.only.split(","):
            if corpus not in MAKERS:
                sys.exit("photo_corpus.py: %s: no such corpus" % corpus)
            t = time.perf_counter()
            d = os.path.join(args.dst, corpus)
            os.makedirs(d, exist_ok=True)
            n = args.png if corpus.startswith(("png", "tiff")) else args.n
            sizes = pool.map(write_one, [(corpus, i, d) for i in range(n)], chunksize=16)
            print("%s: %d files, %.1f MB, in %.1f s" % (d, n, sum(sizes) / 1e6,
                                                        time.perf_counter() - t))


if __name__ == "__main__":
    main()
