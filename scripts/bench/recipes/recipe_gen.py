#!/usr/bin/python3
"""recipe_gen.py - the Python recipe "parimg gen" replaces, for the benchmark:
multiprocessing.Pool(J).map over the indices, each image np.random noise
written with cv2.imwrite.

    recipe_gen.py DIR [N [J]]     N=2000, J=2; prints "seconds S", the time
                                  after the imports (start-up not included)
"""
import multiprocessing
import os
import sys
import time

import cv2
import numpy as np

OUT = None


def write_one(i):
    img = np.random.randint(0, 256, (100, 100), np.uint8)
    cv2.imwrite(f"{OUT}/image_{i}.png", img)


def main():
    global OUT
    OUT = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    jobs = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    t0 = time.perf_counter()
    os.makedirs(OUT, exist_ok=True)
    with multiprocessing.Pool(jobs) as pool:
        pool.map(write_one, range(n))
    print(f"seconds {time.perf_counter() - t0:.6f}")


if __name__ == "__main__":
    main()
