#!/usr/bin/python3
"""first_decode.py - for bench_parent.sh (section p): run one parimg load
with PARIMG_TIMING set and print what it wrote against this script's own
clock (CLOCK_MONOTONIC, the one load uses):

    first S parent_first C parent_after C tree_cpu C

first: seconds from spawn to the first decode (listing, sorting, checking
the output's space, starting the workers); parent_first: the parent's CPU seconds
until then; parent_after: its CPU seconds after; tree_cpu: user + system
seconds of the whole process tree (wait4).

    first_decode.py TIMING_FILE CMD...
"""
import os
import resource
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: first_decode.py TIMING_FILE CMD...")
    timing, cmd = sys.argv[1], sys.argv[2:]
    env = dict(os.environ, PARIMG_TIMING=timing)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(timing) as f:
        got = dict(line.split() for line in f if line.strip())
    cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
    first, cpu_first, cpu_end = (float(got[k]) for k in ("first_decode", "cpu_first", "cpu_end"))
    print("first %.4f parent_first %.4f parent_after %.4f tree_cpu %.4f"
          % (first - t0, cpu_first, cpu_end - cpu_first, cpu))


main()
