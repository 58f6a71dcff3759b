#!/usr/bin/python3
"""recipe_pillow.py - the Python recipe "parimg load -c 3" replaces on
photographs, for the benchmark: sorted(glob) of DIR's files, a
sharedctypes.RawArray of uint8 (N, H, W, 3), and Pool(J) workers each doing
Image.open, [draft('RGB', (W, H))], convert('RGB'), [resize((W, H), FILTER)]
and storing the result in their row.

    recipe_pillow.py [-j J] [--resize WxH [--filter F] [--draft]] [--save OUT.npy] DIR

Without --resize every image must have the first one's size. F is one of
nearest, box, bilinear (the default), hamming, bicubic, lanczos. --draft
lets a JPEG decode at a reduced DCT scale (1/2, 1/4, 1/8) that still covers
WxH before the resize, as Pillow's thumbnail() does.

Prints "seconds S parent_maxrss_kib P max_worker_maxrss_kib W": S from
before the glob to the filled array (imports and --save excluded), and the
peak RSS of the parent and of the largest worker, as recipe_load.py does.
"""
import argparse
import glob
import multiprocessing
import os
import resource
import time
from multiprocessing import sharedctypes

import numpy as np
from PIL import Image

FILTERS = {"nearest": Image.Resampling.NEAREST, "box": Image.Resampling.BOX,
           "bilinear": Image.Resampling.BILINEAR, "hamming": Image.Resampling.HAMMING,
           "bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}
ARR = None      # the worker's view of the shared array
PATHS = None
SIZE = None     # (W, H) to resize to, or None
FILTER = None
DRAFT = False


def init(raw, shape, paths, size, filt, draft):
    global ARR, PATHS, SIZE, FILTER, DRAFT
    ARR = np.frombuffer(raw, dtype=np.uint8).reshape(shape)
    PATHS, SIZE, FILTER, DRAFT = paths, size, filt, draft


def load_one(i):
    with Image.open(PATHS[i]) as im:
        if DRAFT:
            im.draft("RGB", SIZE)
        im = im.convert("RGB")
        if SIZE:
            im = im.resize(SIZE, FILTER)
        ARR[i] = np.asarray(im)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def parse_size(s):
    w, _, h = s.partition("x")
    size = (int(w), int(h))
    if min(size) < 1:
        raise argparse.ArgumentTypeError("invalid size %r" % s)
    return size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--resize", type=parse_size, metavar="WxH")
    ap.add_argument("--filter", choices=sorted(FILTERS), default="bilinear")
    ap.add_argument("--draft", action="store_true")
    ap.add_argument("--save")
    ap.add_argument("dir")
    args = ap.parse_args()
    if args.draft and not args.resize:
        ap.error("--draft needs --resize")

    t0 = time.perf_counter()
    paths = sorted(p for p in glob.glob(os.path.join(args.dir, "*")) if os.path.isfile(p))
    if args.resize:
        w, h = args.resize
    else:
        with Image.open(paths[0]) as im:
            w, h = im.size
    shape = (len(paths), h, w, 3)
    raw = sharedctypes.RawArray("B", len(paths) * h * w * 3)
    with multiprocessing.Pool(args.j, initializer=init,
                              initargs=(raw, shape, paths, args.resize,
                                        FILTERS[args.filter], args.draft)) as pool:
        worker_rss = max(pool.map(load_one, range(len(paths))))
        pool.close()
        pool.join()
    secs = time.perf_counter() - t0
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if args.save:
        np.save(args.save, np.frombuffer(raw, dtype=np.uint8).reshape(shape))
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"seconds {secs:.6f} parent_maxrss_kib {parent} "
          f"max_worker_maxrss_kib {max(worker_rss, children)}")


if __name__ == "__main__":
    main()
