#!/usr/bin/python3
"""recipe_ragged.py - the recipe's list method that "parimg load --ragged"
replaces, for the benchmark: sorted(glob) of DIR's JPEGs, J processes each
taking a contiguous range of the files and appending (index, cv2.imread(f))
to one multiprocessing.Manager().list(), then the list sorted back into
order by index. Each image keeps its own size; nothing goes to disk.

    recipe_ragged.py [-j J] DIR

Prints "seconds S images N samples M": S from before the glob to the sorted
list of arrays in this process (imports excluded). Peak memory is measured
from outside (scripts/bench/floors/rss_tree.c), the Manager's server process included.
"""
import argparse
import glob
import multiprocessing
import time

import cv2


def work(paths, begin, end, out):
    for i in range(begin, end):
        out.append((i, cv2.imread(paths[i])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("dir")
    args = ap.parse_args()

    t0 = time.perf_counter()
    paths = sorted(glob.glob(f"{args.dir}/*.jpg"))
    n = len(paths)
    with multiprocessing.Manager() as manager:
        out = manager.list()
        procs = [multiprocessing.Process(target=work,
                                         args=(paths, n * k // args.j, n * (k + 1) // args.j, out))
                 for k in range(args.j)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        images = [im for _, im in sorted(list(out), key=lambda t: t[0])]
    secs = time.perf_counter() - t0
    print(f"seconds {secs:.6f} images {len(images)} samples {sum(im.size for im in images)}")


if __name__ == "__main__":
    main()
