#!/usr/bin/python3
"""recipe_convert.py - the Python recipe "parimg convert" replaces: a
Pool(J) of Pillow's Image.open, resize to S on the shorter side (as
torchvision's Resize(S) sizes it, bilinear) and save(JPEG, quality=Q)
into OUT/NAME.jpg, one task per file.

    recipe_convert.py [-j J] [--resize S] [--quality Q] SRC OUT

Prints "seconds S": from before the listing to the last file written
(imports excluded).
"""
import argparse
import multiprocessing
import os
import time

from PIL import Image

ARGS = None


def init(args):
    global ARGS
    ARGS = args


def one(name):
    with Image.open(os.path.join(ARGS.src, name)) as im:
        im = im.convert("RGB") if im.mode not in ("RGB", "L") else im
        w, h = im.size
        s = ARGS.resize
        size = (s, int(s * h / w)) if w <= h else (int(s * w / h), s)
        im = im.resize(size, Image.Resampling.BILINEAR)
        im.save(os.path.join(ARGS.out, os.path.splitext(name)[0] + ".jpg"), "JPEG",
                quality=ARGS.quality)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--resize", type=int, default=256)
    ap.add_argument("--quality", type=int, default=90)
    ap.add_argument("src")
    ap.add_argument("out")
    args = ap.parse_args()
    t0 = time.perf_counter()
    names = sorted(os.listdir(args.src))
    os.makedirs(args.out, exist_ok=True)
    with multiprocessing.Pool(args.j, init, (args,)) as pool:
        pool.map(one, names, chunksize=8)
    print("seconds %.6f" % (time.perf_counter() - t0))


if __name__ == "__main__":
    main()
