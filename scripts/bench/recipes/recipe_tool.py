#!/usr/bin/python3
"""recipe_tool.py - what users without a Pillow plugin do today for HEIC,
AVIF, JPEG XL (and JPEG 2000 with the reference tool), for the benchmark:
sorted(glob) of DIR's files, a sharedctypes.RawArray of uint8 (N, H, W, 3),
and Pool(J) workers each running the format's reference decoder to a PNG
(opj_decompress, heif-convert, avifdec, djxl, by the file's extension),
then Image.open(png).convert('RGB') into their row.

    recipe_tool.py [-j J] [--save OUT.npy] DIR

Every image must have the first one's size. Prints "seconds S": from before
the glob to the filled array (imports and --save excluded).
"""
import argparse
import glob
import multiprocessing
import os
import subprocess
import tempfile
import time
from multiprocessing import sharedctypes

import numpy as np
from PIL import Image

TOOLS = {".jp2": ["opj_decompress", "-i", "{src}", "-o", "{dst}"],
         ".j2k": ["opj_decompress", "-i", "{src}", "-o", "{dst}"],
         ".heic": ["heif-convert", "{src}", "{dst}"],
         ".avif": ["avifdec", "--depth", "8", "{src}", "{dst}"],
         ".jxl": ["djxl", "{src}", "{dst}"]}

_arr = _shape = _tmp = None


def _init(arr, shape, tmp):
    global _arr, _shape, _tmp
    _arr, _shape, _tmp = arr, shape, tmp


def _one(job):
    i, path = job
    dst = os.path.join(_tmp, "%d.png" % i)
    cmd = [a.format(src=path, dst=dst) for a in TOOLS[os.path.splitext(path)[1].lower()]]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with Image.open(dst) as im:
        a = np.asarray(im.convert("RGB"))
    os.remove(dst)
    np.frombuffer(_arr, np.uint8).reshape(_shape)[i] = a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--save")
    ap.add_argument("dir")
    args = ap.parse_args()
    t0 = time.monotonic()
    files = sorted(glob.glob(os.path.join(args.dir, "*")))
    with tempfile.TemporaryDirectory(prefix="recipe_tool-") as tmp:
        first = os.path.join(tmp, "first")
        os.mkdir(first)
        _init(None, None, first)
        dst = os.path.join(first, "0.png")
        cmd = [a.format(src=files[0], dst=dst) for a in TOOLS[os.path.splitext(files[0])[1].lower()]]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with Image.open(dst) as im:
            w, h = im.size
        shape = (len(files), h, w, 3)
        arr = sharedctypes.RawArray("B", int(np.prod(shape)))
        with multiprocessing.Pool(args.j, _init, (arr, shape, tmp)) as pool:
            pool.map(_one, list(enumerate(files)), chunksize=4)
    print("seconds %.3f" % (time.monotonic() - t0))
    if args.save:
        np.save(args.save, np.frombuffer(arr, np.uint8).reshape(shape))


if __name__ == "__main__":
    main()
