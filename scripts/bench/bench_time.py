#!/usr/bin/python3
"""bench_time.py - the timing loop behind bench.sh: commands run interleaved
(A B C, A B C, ...) so that a noisy machine's slow spells fall on all of them
alike, and the ratios bench.sh computes from the medians stay fair.

    bench_time.py RUNS PREPARE CMD [PREPARE CMD ...]

PREPARE is a shell command run (untimed) before every run of its CMD; CMD is
split into words, shell-free, and timed from spawn to exit. One warm-up
round, then RUNS rounds. Prints a line per CMD:

    WALL_MED WALL_MIN WALL_MAX OWN_MED OWN_MIN OWN_MAX CPU_MED OWN_CPU_MED

in seconds. OWN is the time CMD reports itself ("seconds S" on stdout),
OWN_CPU the CPU time it reports ("cpu C"); "-" when it reports none. CPU is
the user + system time of CMD and the children it reaped (wait4): steal
and other load on the machine disturb it less than wall time.
"""
import os
import shlex
import statistics
import subprocess
import sys
import time


def reported(out, key):
    """The number after KEY in OUT, or None."""
    words = out.split()
    if key in words:
        return float(words[words.index(key) + 1])
    return None


def main():
    runs = int(sys.argv[1])
    pairs = sys.argv[2:]
    if runs < 1 or not pairs or len(pairs) % 2:
        sys.exit("usage: bench_time.py RUNS PREPARE CMD [PREPARE CMD ...]")
    cmds = [(pairs[i], shlex.split(pairs[i + 1])) for i in range(0, len(pairs), 2)]
    wall = [[] for _ in cmds]
    inner = [[] for _ in cmds]
    cpu = [[] for _ in cmds]
    inner_cpu = [[] for _ in cmds]
    for k in range(runs + 1):
        for j, (prep, cmd) in enumerate(cmds):
            subprocess.run(prep, shell=True, check=True)
            t = time.perf_counter()
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
            out = p.stdout.read()
            _, status, ru = os.wait4(p.pid, 0)
            t = time.perf_counter() - t
            p.returncode = os.waitstatus_to_exitcode(status)
            p.stdout.close()
            if p.returncode:
                sys.exit(f"bench_time.py: {pairs[2 * j + 1]}: exit status {p.returncode}")
            if k == 0:
                continue        # warm-up round
            wall[j].append(t)
            cpu[j].append(ru.ru_utime + ru.ru_stime)
            v = reported(out, "seconds")
            if v is not None:
                inner[j].append(v)
            v = reported(out, "cpu")
            if v is not None:
                inner_cpu[j].append(v)
    for w, i, c, ic in zip(wall, inner, cpu, inner_cpu):
        line = f"{statistics.median(w):.6f} {min(w):.6f} {max(w):.6f}"
        if i:
            line += f" {statistics.median(i):.6f} {min(i):.6f} {max(i):.6f}"
        else:
            line += " - - -"
        line += f" {statistics.median(c):.6f}"
        line += f" {statistics.median(ic):.6f}" if ic else " -"
        print(line)


if __name__ == "__main__":
    main()
