#!/usr/bin/python3
"""recipe_check.py - the Python loop users write to find broken images and
duplicates, which "parimg check" replaces, for the benchmark: sorted(glob)
of DIR's files, and Pool(J) workers each doing Image.open(f).load() and an
MD5 of the file's bytes; the parent groups equal digests.

    recipe_check.py [-j J] DIR

Prints "seconds S broken B duplicates D": S from before the glob to the
groups (imports excluded), B the files Pillow refused, D the duplicate
groups.
"""
import argparse
import glob
import hashlib
import multiprocessing
import os
import time

from PIL import Image


def check_one(path):
    with open(path, "rb") as f:
        digest = hashlib.md5(f.read()).hexdigest()
    try:
        with Image.open(path) as im:
            im.load()
        return path, digest, None
    except Exception as e:      # noqa: BLE001 - every refusal is a broken file
        return path, digest, str(e)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-j", type=int, default=2, help="processes (default 2)")
    ap.add_argument("dir")
    a = ap.parse_args()
    t = time.perf_counter()
    paths = sorted(glob.glob(os.path.join(a.dir, "*")))
    with multiprocessing.Pool(a.j) as pool:
        results = pool.map(check_one, paths, chunksize=16)
    groups = {}
    for path, digest, _ in results:
        groups.setdefault(digest, []).append(path)
    broken = sum(err is not None for _, _, err in results)
    dups = sum(len(g) > 1 for g in groups.values())
    print("seconds %.6f broken %d duplicates %d" % (time.perf_counter() - t, broken, dups))


if __name__ == "__main__":
    main()
