#!/usr/bin/python3
"""recipe_load.py - the Python loading recipe "parimg load" replaces, for the
benchmark: sorted(glob) of DIR's PNGs, a sharedctypes.RawArray of float64
(N, H, W, 3), and Pool(J) workers storing cv2.imread(path) (BGR, uint8) in
their rows.

    recipe_load.py [-j J] [--save OUT.npy] DIR

Prints "seconds S parent_maxrss_kib P max_worker_maxrss_kib W": S from
before the glob to the filled array (imports and --save excluded), the peak
RSS of the parent (getrusage RUSAGE_SELF) and of the largest worker (each
task reports its worker's RUSAGE_SELF peak; RUSAGE_CHILDREN after the pool
is joined agrees). RSS counts the shared array's pages each process touched.
"""
import argparse
import glob
import multiprocessing
import resource
import time
from multiprocessing import sharedctypes

import cv2
import numpy as np

ARR = None      # the worker's view of the shared array
PATHS = None


def init(raw, shape, paths):
    global ARR, PATHS
    ARR = np.frombuffer(raw, dtype=np.float64).reshape(shape)
    PATHS = paths


def load_one(i):
    ARR[i] = cv2.imread(PATHS[i])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--save")
    ap.add_argument("dir")
    args = ap.parse_args()

    t0 = time.perf_counter()
    paths = sorted(glob.glob(f"{args.dir}/*.png"))
    h, w = cv2.imread(paths[0]).shape[:2]
    shape = (len(paths), h, w, 3)
    raw = sharedctypes.RawArray("d", len(paths) * h * w * 3)
    with multiprocessing.Pool(args.j, initializer=init,
                              initargs=(raw, shape, paths)) as pool:
        worker_rss = max(pool.map(load_one, range(len(paths))))
        pool.close()
        pool.join()
    secs = time.perf_counter() - t0
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if args.save:
        np.save(args.save, np.frombuffer(raw, dtype=np.float64).reshape(shape))
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"seconds {secs:.6f} parent_maxrss_kib {parent} "
          f"max_worker_maxrss_kib {max(worker_rss, children)}")


if __name__ == "__main__":
    main()
