#!/usr/bin/python3
"""recipe_opencv.py - the OpenCV recipe "parimg load -c 3 --resize SxS --fit
cover" replaces, for the benchmark: sorted(glob) of DIR's files, a
sharedctypes.RawArray of uint8 (N, S, S, 3), and Pool(J) workers each doing
cv2.imread, cvtColor to RGB, cv2.resize (INTER_LINEAR) of the short side to
S and the centre S x S crop (torchvision's Resize(S) + CenterCrop(S)
geometry), stored in their row. OpenCV's bilinear is not Pillow's: the
pixels differ, this is an anchor for speed only.

    recipe_opencv.py [-j J] [--size S] [--save OUT.npy] DIR

Prints "seconds S": from before the glob to the filled array (imports and
--save excluded), as recipe_pillow.py does.
"""
import argparse
import glob
import multiprocessing
import os
import time
from multiprocessing import sharedctypes

import cv2
import numpy as np

ARR = None
PATHS = None
SIZE = None


def init(raw, shape, paths, size):
    global ARR, PATHS, SIZE
    ARR = np.frombuffer(raw, dtype=np.uint8).reshape(shape)
    PATHS, SIZE = paths, size
    cv2.setNumThreads(1)        # one process a core, as the pool intends


def load_one(i):
    s = SIZE
    im = cv2.cvtColor(cv2.imread(PATHS[i], cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    h, w = im.shape[:2]
    nw, nh = (s, s * h // w) if w <= h else (s * w // h, s)
    im = cv2.resize(im, (nw, nh), interpolation=cv2.INTER_LINEAR)
    x, y = int(round((nw - s) / 2.0)), int(round((nh - s) / 2.0))
    ARR[i] = im[y:y + s, x:x + s]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--save")
    ap.add_argument("dir")
    args = ap.parse_args()
    s = args.size

    t0 = time.perf_counter()
    paths = sorted(p for p in glob.glob(os.path.join(args.dir, "*")) if os.path.isfile(p))
    shape = (len(paths), s, s, 3)
    raw = sharedctypes.RawArray("B", len(paths) * s * s * 3)
    with multiprocessing.Pool(args.j, initializer=init, initargs=(raw, shape, paths, s)) as pool:
        pool.map(load_one, range(len(paths)), chunksize=16)
        pool.close()
        pool.join()
    secs = time.perf_counter() - t0
    if args.save:
        np.save(args.save, np.frombuffer(raw, dtype=np.uint8).reshape(shape))
    print(f"seconds {secs:.6f}")


if __name__ == "__main__":
    main()
