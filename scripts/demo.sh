#!/bin/sh
# make demo: the main job on default settings. Generates the default dataset
# (2000 100x100 gray PNGs) into demo/, loads it into demo.npy, prints the
# array's shape and the time each step took, then runs a short bench.
# It owns demo/ and demo.npy and replaces them on every run.
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

rm -rf demo demo.npy
t0=$(now)
./parimg gen -o demo
t1=$(now)
./parimg load -o demo.npy demo
t2=$(now)
echo "gen:  $(ls demo | wc -l) images in demo/ in $(secs "$t0" "$t1") s"
echo "load: demo.npy in $(secs "$t1" "$t2") s"
"$PYTHON" -c 'import numpy as np; a = np.load("demo.npy", mmap_mode="r"); print("demo.npy:", a.shape, a.dtype)'
echo
./parimg bench -r 3
