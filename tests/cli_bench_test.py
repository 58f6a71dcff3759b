#!/usr/bin/python3
"""Command-line tests for "parimg bench": every output format parses and is
consistent with itself (speedup, efficiency and rates derived from the
medians), the options are checked, the scratch directory goes away whatever
happens (a failed run, SIGINT, SIGTERM), and the times agree with timing the
same command from outside. Datasets are tiny: this is about the command's
behaviour, not about speed.

Run: /usr/bin/python3 tests/cli_bench_test.py ./parimg [test_name...]
"""
import csv
import io
import json
import math
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time

import xml.etree.ElementTree as ET

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
from harness import ok, procs_mentioning, run  # noqa: E402

TINY = ["-n", 20, "-s", "16x16", "-r", 2]
FIELDS = ["phase", "jobs", "median_s", "min_s", "max_s", "images_per_s", "mb_per_s", "speedup",
          "efficiency"]
TOP_KEYS = ["images", "width", "height", "channels", "runs", "results"]
SERIAL_KEYS = ["jobs", "serial_s", "share", "projected_speedup_16", "projected_speedup_64"]
# Decimals printed for (median/min/max, images/s, MB/s, speedup, efficiency).
DECIMALS = {
    "csv": (6, 1, 2, 4, 4),
    "json": (6, 1, 2, 4, 4),
    "table": (4, 0, 1, 2, 2),
    "markdown": (4, 0, 1, 2, 2),
}


# ---------------------------------------------------------------- helpers

def bench(d, *args, env=None, timeout=120):
    """Run "parimg bench --dir D ARGS"; it must succeed, print nothing on
    stderr (not a terminal), and leave D as empty as it found it."""
    r = ok(run("bench", "--dir", d, *args, cwd=d, env=env, timeout=timeout))
    assert r.err == "", "bench wrote to stderr: %r" % r
    assert os.listdir(d) == [], "bench left %r in its --dir" % os.listdir(d)
    return r


def parse_json(out):
    doc = json.loads(out)
    keys = list(doc)
    if keys and keys[-1] == "serial":   # after load's points: its serial share
        serial = doc["serial"]
        assert list(serial) == SERIAL_KEYS, serial
        assert 0 <= serial["share"] <= 1 and serial["serial_s"] >= 0, serial
        assert 1 <= serial["projected_speedup_16"] <= serial["projected_speedup_64"], serial
        keys = keys[:-1]
    assert isinstance(doc, dict) and keys == TOP_KEYS, "top-level keys: %r" % list(doc)
    for k in TOP_KEYS[:-1]:
        assert type(doc[k]) is int, "%s is not an integer: %r" % (k, doc[k])
    assert isinstance(doc["results"], list)
    rows = []
    for res in doc["results"]:
        assert isinstance(res, dict) and list(res) == FIELDS, "result keys: %r" % list(res)
        assert isinstance(res["phase"], str) and type(res["jobs"]) is int, res
        for k in FIELDS[2:]:
            assert type(res[k]) in (int, float), "%s is not a number: %r" % (k, res)
        rows.append(dict(res))
    return doc, rows


def parse_csv(out):
    table = list(csv.reader(io.StringIO(out)))
    assert table and table[0] == FIELDS, "csv header: %r" % (table[:1],)
    rows = []
    for line in table[1:]:
        assert len(line) == len(FIELDS), "csv row: %r" % line
        row = dict(zip(FIELDS, line))
        row["jobs"] = int(row["jobs"])
        for k in FIELDS[2:]:
            row[k] = float(row[k])
        rows.append(row)
    assert out.endswith("\n") and out.count("\n") == len(table), repr(out)
    return rows


SERIAL_RE = (r"^load's serial share at -j \d+: \d+\.\d% \(\d+\.\d{4} s: the wall time before "
             r"the first decode plus the parent's CPU after it\)$")
AMDAHL_RE = (r"^Amdahl's projection against -j \d+: (\d+\.\d\d)x at 16 workers, (\d+\.\d\d)x at 64 "
             r"\(an upper bound from \d+ CPUs: .*\)$")


def serial_lines(lines):
    """LINES less the serial share and projection after load's points (a
    blank line, then two lines), checked."""
    if "" not in lines[2:]:
        return lines
    k = lines.index("", 2)
    tail = lines[k + 1:]
    assert len(tail) == 2 and re.match(SERIAL_RE, tail[0]) and re.match(AMDAHL_RE, tail[1]), tail
    a16, a64 = (float(x) for x in re.match(AMDAHL_RE, tail[1]).groups())
    assert 0 < a16 <= a64, tail
    return lines[:k]


def parse_markdown(out):
    lines = out.splitlines()
    assert lines[0] == "| phase | jobs | median s | min s | max s | images/s | MB/s | speedup | efficiency |", \
        lines[0]
    assert lines[1] == "|---|---:|---:|---:|---:|---:|---:|---:|---:|", lines[1]
    rows = []
    lines = serial_lines(lines)
    for line in lines[2:]:
        assert line.startswith("| ") and line.endswith(" |"), "markdown row: %r" % line
        cells = [c.strip() for c in line[1:-1].split("|")]
        assert len(cells) == 9, "markdown row: %r" % line
        assert cells[7].endswith("x"), line
        cells[7] = cells[7][:-1]
        rows.append(dict(zip(FIELDS, [cells[0], int(cells[1])] + [float(c) for c in cells[2:]])))
    return rows


def parse_table(out, n, w, h, c, runs):
    lines = out.splitlines()
    title = "parimg bench: %d images %dx%d, %d channel%s, median of %d runs" % (
        n, w, h, c, "s" if c > 1 else "", runs)
    assert lines[0] == title, "title %r, expected %r" % (lines[0], title)
    assert lines[1] == "", lines
    assert lines[2].split() == ["phase", "jobs", "median_s", "min_s", "max_s", "images/s", "MB/s",
                                "speedup", "eff"], lines[2]
    rows = []
    lines = serial_lines(lines)
    for line in lines[3:]:
        cells = line.split()
        assert len(cells) in (9, 10), "table row: %r" % line
        assert cells[7].endswith("x"), line
        row = dict(zip(FIELDS, [cells[0], int(cells[1])] + [float(x) for x in
                                                               cells[2:7] + [cells[7][:-1], cells[8]]]))
        row["bar"] = cells[9] if len(cells) == 10 else ""
        assert set(row["bar"]) <= {"#"}, line
        rows.append(row)
    return rows


def parse(fmt, out, n=20, w=16, h=16, c=1, runs=2):
    if fmt == "json":
        doc, rows = parse_json(out)
        assert (doc["images"], doc["width"], doc["height"], doc["channels"], doc["runs"]) == (n, w, h, c, runs), doc
        return rows
    if fmt == "csv":
        return parse_csv(out)
    if fmt == "markdown":
        return parse_markdown(out)
    return parse_table(out, n, w, h, c, runs)


def interval(v, dec):
    """The values that print as V with DEC decimals."""
    half = 0.5 * 10.0 ** -dec + 1e-12
    return max(v - half, 0.0), v + half


def meets(a, b, what):
    """Intervals A and B overlap."""
    assert a[0] <= b[1] and b[0] <= a[1], "%s: %r and %r do not meet" % (what, a, b)


def div(a, b):
    """Interval A / interval B, B positive."""
    return a[0] / b[1], (a[1] / b[0] if b[0] > 0 else math.inf)


def consistent(fmt, out, n, w, h, c, runs=2):
    """OUT parsed as FMT (N images of W x H x C) and checked consistent:
    its rows."""
    rows = parse(fmt, out, n=n, w=w, h=h, c=c, runs=runs)
    check_consistency(fmt, rows, n, w, h, c)
    return rows


def check_consistency(fmt, rows, n, w, h, c):
    """Every derived column agrees with the medians, to the printed precision."""
    dt, di, dm, ds, de = DECIMALS[fmt]
    base = None
    for i, r in enumerate(rows):
        what = "%s row %d %r" % (fmt, i, r)
        assert r["phase"] in ("gen", "load") and r["jobs"] >= 1, what
        assert 0 <= r["min_s"] <= r["median_s"] <= r["max_s"], what
        assert r["median_s"] > 0, what
        if i == 0 or rows[i - 1]["phase"] != r["phase"]:
            base = r
        med, bmed = interval(r["median_s"], dt), interval(base["median_s"], dt)
        speedup = div(bmed, med)
        if r is base:
            assert r["speedup"] == 1.0, what
        meets(interval(r["speedup"], ds), speedup, what + ": speedup")
        # Efficiency is the true speedup over the jobs: the printed speedup
        # and the medians both bound it.
        s_lo = max(speedup[0], interval(r["speedup"], ds)[0])
        s_hi = min(speedup[1], interval(r["speedup"], ds)[1])
        meets(interval(r["efficiency"], de), (s_lo / r["jobs"], s_hi / r["jobs"]), what + ": efficiency")
        meets(interval(r["images_per_s"], di), div((n, n), med), what + ": images_per_s")
        mb = n * w * h * c / 1e6
        meets(interval(r["mb_per_s"], dm), div((mb, mb), med), what + ": mb_per_s")
        if "bar" in r:
            lo, hi = min(int(s_lo * 8 + 0.5), 64), min(int(s_hi * 8 + 0.5), 64)
            assert lo <= len(r["bar"]) <= hi, what + ": bar of %d, expected %d..%d" % (len(r["bar"]), lo, hi)


def order(rows):
    return [(r["phase"], r["jobs"]) for r in rows]


def wait_no_procs(text, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not procs_mentioning(text):
            return
        time.sleep(0.05)
    raise AssertionError("processes left running: %r" % procs_mentioning(text))


def bench_entries(scratch):
    """The entries of bench's parimg-bench.* directory inside SCRATCH, or
    None while there is none."""
    subs = [n for n in os.listdir(scratch) if n.startswith("parimg-bench.")]
    if len(subs) != 1:
        return None
    try:
        return set(os.listdir(os.path.join(scratch, subs[0])))
    except FileNotFoundError:
        return None


def interrupt(scratch, args, sig, ready, after=0.3, group=False, env=None, limit=3.0):
    """Start "parimg bench ARGS"; once READY(entries of its scratch
    directory) holds, wait AFTER seconds and send SIG (to bench, or to its
    whole process group as a terminal's ^C does). Check that bench dies of
    that signal within LIMIT seconds, leaving SCRATCH empty and no process
    behind. SCRATCH must be a path unique to this call."""
    p = subprocess.Popen([harness.BIN, "bench"] + [str(a) for a in args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True, env=env)
    try:
        end = time.monotonic() + 20
        while True:
            entries = bench_entries(scratch)
            if entries is not None and ready(entries):
                break
            assert p.poll() is None, "bench ended before the signal: %r" % (p.communicate(),)
            assert time.monotonic() < end, "bench never reached the state wanted: %r" % entries
            time.sleep(0.01)
        time.sleep(after)
        assert p.poll() is None, "bench ended before the signal: %r" % (p.communicate(),)
        t0 = time.monotonic()
        if group:
            os.killpg(p.pid, sig)
        else:
            p.send_signal(sig)
        out, err = p.communicate(timeout=limit + 5)
        took = time.monotonic() - t0
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert p.returncode == -sig, "expected death by signal %d, got %r (stderr %r)" % (sig, p.returncode, err)
    assert out == b"", "bench printed results after a signal: %r" % out
    assert took < limit, "bench took %.1f s to stop" % took
    assert os.listdir(scratch) == [], "scratch left behind: %r" % os.listdir(scratch)
    wait_no_procs(scratch)


def scratch_dir(d, name):
    path = os.path.join(d, name)
    os.makedirs(path)
    return path


# ---------------------------------------------------------------- formats

def test_every_format_parses_and_is_consistent(d):
    for fmt in ("table", "csv", "json", "markdown"):
        r = bench(d, *TINY, "-j", "1,2", "--format", fmt)
        rows = parse(fmt, r.out)
        assert order(rows) == [("gen", 1), ("gen", 2), ("load", 1), ("load", 2)], (fmt, order(rows))
        check_consistency(fmt, rows, 20, 16, 16, 1)


def test_serial_share_and_plot(d):
    # Load's serial share and projection follow its points in table, json
    # and markdown; --plot draws one point per measured -j of each phase.
    plot = os.path.join(os.path.dirname(d), "scaling.svg")
    r = bench(d, *TINY, "-j", "1,2,3", "--plot", plot)
    assert re.search(SERIAL_RE, r.out, re.M) and re.search(AMDAHL_RE, r.out, re.M), r.out
    ns = "{http://www.w3.org/2000/svg}"
    root = ET.parse(plot).getroot()
    assert root.tag == ns + "svg", root.tag
    assert "20 images 16x16" in root.find(ns + "title").text
    for cls in ("point", "rate"):
        got = sorted((c.get("data-phase"), int(c.get("data-jobs")))
                     for c in root.iter(ns + "circle") if c.get("class") == cls)
        assert got == [(p, j) for p in ("gen", "load") for j in (1, 2, 3)], (cls, got)
    assert len([p for p in root.iter(ns + "polyline") if p.get("class") == "projection"]) == 2
    os.remove(plot)
    # Without the load phase: no serial share, no projection.
    r = bench(d, *TINY, "-j", "1,2", "--phase", "gen", "--plot", plot)
    assert "serial share" not in r.out, r.out
    root = ET.parse(plot).getroot()
    assert not [p for p in root.iter(ns + "polyline")]
    os.remove(plot)


def test_json_exact_layout(d):
    r = bench(d, *TINY, "-j", "2", "--format", "json")
    assert r.out.endswith("}\n") and r.out.count("\n") == 1, repr(r.out)
    doc, rows = parse_json(r.out)
    assert doc["images"] == 20 and doc["width"] == 16 and doc["height"] == 16, doc
    assert doc["channels"] == 1 and doc["runs"] == 2, doc
    assert order(rows) == [("gen", 2), ("load", 2)], rows
    check_consistency("json", rows, 20, 16, 16, 1)


def test_channels_and_non_square_size_in_rates(d):
    for fmt in ("json", "table"):
        r = bench(d, "-n", 12, "-s", "20x8", "-c", 3, "-r", 3, "-j", "1,2", "--format", fmt)
        rows = parse(fmt, r.out, n=12, w=20, h=8, c=3, runs=3)
        check_consistency(fmt, rows, 12, 20, 8, 3)
    r = bench(d, "-n", 12, "-s", "8x8", "-c", 2, "-r", 1, "-j", "1", "--phase", "gen")
    parse("table", r.out, n=12, w=8, h=8, c=2, runs=1)


def test_jobs_list_order_and_phases(d):
    r = bench(d, *TINY, "-j", "1,2,3", "--format", "csv")
    rows = parse_csv(r.out)
    assert order(rows) == [("gen", 1), ("gen", 2), ("gen", 3), ("load", 1), ("load", 2), ("load", 3)], order(rows)
    check_consistency("csv", rows, 20, 16, 16, 1)
    r = bench(d, *TINY, "-j", "1,2,3", "--phase", "gen", "--format", "csv")
    assert order(parse_csv(r.out)) == [("gen", 1), ("gen", 2), ("gen", 3)]
    r = bench(d, *TINY, "-j", "1,2,3", "--phase", "load", "--format", "csv")
    assert order(parse_csv(r.out)) == [("load", 1), ("load", 2), ("load", 3)]
    r = bench(d, *TINY, "-j", "2", "--phase", "gen,load", "--format", "csv")
    assert order(parse_csv(r.out)) == [("gen", 2), ("load", 2)]


def test_speedup_is_against_the_first_jobs_value(d):
    # Not against jobs=1: the first value given.
    r = bench(d, *TINY, "-j", "3,1", "--format", "json")
    _, rows = parse_json(r.out)
    assert order(rows) == [("gen", 3), ("gen", 1), ("load", 3), ("load", 1)], order(rows)
    assert rows[0]["speedup"] == 1.0 and rows[2]["speedup"] == 1.0, rows
    assert abs(rows[0]["efficiency"] - 0.3333) < 1e-9, rows
    check_consistency("json", rows, 20, 16, 16, 1)


def test_default_jobs_are_1_and_cpus(d):
    cpus = os.sysconf("SC_NPROCESSORS_ONLN")
    r = bench(d, *TINY, "--phase", "gen", "--format", "csv")
    want = [("gen", 1), ("gen", cpus)] if cpus > 1 else [("gen", 1)]
    assert order(parse_csv(r.out)) == want, (order(parse_csv(r.out)), want)


def test_help(d):
    r = ok(run("bench", "--help", cwd=d))
    assert r.out.startswith("usage: parimg bench") and r.err == "", r
    assert os.listdir(d) == []


# ---------------------------------------------------------------- options

BAD_OPTIONS = [
    ["-j", "0"], ["-j", "1,,2"], ["-j", "a"], ["-j", ""], ["-j", ","], ["-j", "1,"], ["-j", ",1"],
    ["-j", "1,a"], ["-j", "-1"], ["-j", "1025"], ["-j", ",".join(["1"] * 33)],
    ["-r", "0"], ["-r", "x"], ["-r", "1001"], ["-n", "0"], ["-n", "1e3"], ["-s", "0x4"], ["-s", "16"],
    ["-c", "5"], ["--format", "xml"], ["--format", ""], ["--phase", "foo"], ["--phase", ""],
    ["--phase", "gen,,load"], ["--phase", "gen,"], ["--phase", ",load"], ["--phase", "gen,foo"],
    ["stray"], ["--bogus"], ["-j"],
]


def test_bad_options_exit_2(d):
    scratch = scratch_dir(d, "scratch")
    failures = []
    for args in BAD_OPTIONS:
        r = run("bench", "--dir", scratch, *TINY, *args, cwd=d, timeout=60)
        lines = r.err.splitlines()
        if (r.code != 2 or r.out != "" or not lines or not lines[0].startswith("parimg: ") or
                not any("--help" in l for l in lines)):
            failures.append("%r: exit %d, stdout %d bytes, stderr %r" % (args, r.code, len(r.out), r.err[:300]))
        if os.listdir(scratch):
            failures.append("%r: left %r" % (args, os.listdir(scratch)))
            for n in os.listdir(scratch):
                subprocess.run(["rm", "-rf", os.path.join(scratch, n)])
    assert not failures, "bad options accepted or misreported:\n" + "\n".join(failures)


def test_missing_dir_fails_without_creating_it(d):
    r = ok(run("bench", "--dir", os.path.join(d, "no", "such"), *TINY, cwd=d), 1)
    assert r.out == "" and r.err.startswith("parimg: ") and "no/such" in r.err, r
    assert os.listdir(d) == []


# ---------------------------------------------------------------- scratch space

def test_dir_left_as_it_was(d):
    scratch = scratch_dir(d, "scratch")
    with open(os.path.join(d, "neighbour"), "w") as f:
        f.write("x")
    bench(scratch, *TINY, "-j", "1,2", "--format", "csv")
    assert sorted(os.listdir(d)) == ["neighbour", "scratch"]


def test_tmpdir_used_and_left_as_it_was(d):
    scratch = scratch_dir(d, "tmp")
    env = dict(os.environ, TMPDIR=scratch)
    # While it runs, its scratch directory is inside TMPDIR.
    p = subprocess.Popen([harness.BIN, "bench", "-n", "200", "-s", "16x16", "-r", "50", "-j", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=d)
    try:
        end = time.monotonic() + 10
        while not os.listdir(scratch) and p.poll() is None and time.monotonic() < end:
            time.sleep(0.01)
        seen = os.listdir(scratch)
        time.sleep(0.1)
    finally:
        p.send_signal(signal.SIGTERM)
        p.communicate(timeout=10)
    assert len(seen) == 1 and seen[0].startswith("parimg-bench."), seen
    assert p.returncode == -signal.SIGTERM, p.returncode
    assert os.listdir(scratch) == []
    r = ok(run("bench", *TINY, "--format", "csv", cwd=d, env=env))
    assert r.err == "" and os.listdir(scratch) == [], (r, os.listdir(scratch))
    parse_csv(r.out)
    assert os.listdir(d) == ["tmp"]


def limit_file_size(size):
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return limit


def test_failed_run_leaves_dir_as_it_was(d):
    # A file size limit (inherited by bench's children) makes the load's
    # 5 KiB .npy, or gen's 12 KiB PNGs, fail to be written.
    scratch = scratch_dir(d, "scratch")
    for what, args in (("load", ["--phase", "load", "-s", "16x16"]), ("gen", ["--phase", "gen", "-s", "64x64"])):
        p = subprocess.run([harness.BIN, "bench", "--dir", scratch, "-n", "20", "-r", "2"] + args,
                           capture_output=True, text=True, timeout=60, preexec_fn=limit_file_size(2000))
        assert p.returncode == 1, "%s: %r %r" % (what, p.returncode, p.stderr)
        assert p.stdout == "", p.stdout
        assert "parimg: bench: 'parimg %s' failed (exit 1)" % what in p.stderr, p.stderr
        assert os.listdir(scratch) == [], "%s: left %r" % (what, os.listdir(scratch))
    wait_no_procs(scratch)


def test_sigint_during_dataset_generation(d):
    scratch = scratch_dir(d, "scratch-int-data")
    interrupt(scratch, ["--dir", scratch, "-n", 3000, "-r", 20, "-s", "64x64"], signal.SIGINT,
              lambda e: "data" in e, after=0.2)


def test_sigint_to_process_group_during_gen_phase(d):
    scratch = scratch_dir(d, "scratch-int-group")
    interrupt(scratch, ["--dir", scratch, "-n", 3000, "-r", 20, "-s", "16x16", "--phase", "gen", "-j", "1,2"],
              signal.SIGINT, lambda e: "gen" in e, group=True)


def test_sigint_during_load_phase(d):
    scratch = scratch_dir(d, "scratch-int-load")
    interrupt(scratch, ["--dir", scratch, "-n", 200, "-r", 1000, "-s", "16x16", "--phase", "load"],
              signal.SIGINT, lambda e: any("out.npy" in n for n in e))


def test_sigterm_during_gen_phase(d):
    scratch = scratch_dir(d, "scratch-term")
    # Long runs (10000 files each): bench must stop the run in progress,
    # not wait for it.
    interrupt(scratch, ["--dir", scratch, "-n", 10000, "-r", 20, "-s", "16x16", "--phase", "gen"],
              signal.SIGTERM, lambda e: "gen" in e)


def test_sighup_during_load_phase(d):
    scratch = scratch_dir(d, "scratch-hup")
    interrupt(scratch, ["--dir", scratch, "-n", 200, "-r", 1000, "-s", "16x16", "--phase", "load", "-j", "2"],
              signal.SIGHUP, lambda e: any("out.npy" in n for n in e), group=True)


def test_sigint_with_tmpdir(d):
    scratch = scratch_dir(d, "scratch-int-tmpdir")
    interrupt(scratch, ["-n", 3000, "-r", 20, "-s", "16x16"], signal.SIGINT, lambda e: True, after=0.5,
              env=dict(os.environ, TMPDIR=scratch))


def test_sigint_right_after_start(d):
    # The signal lands as soon as the scratch directory exists, which may be
    # before bench has set up its handlers: a narrow window, so try it often.
    scratch = scratch_dir(d, "scratch-early")
    for attempt in range(50):
        p = subprocess.Popen([harness.BIN, "bench", "--dir", scratch, "-n", "20", "-s", "8x8", "-r", "1",
                              "--phase", "gen"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while not os.listdir(scratch) and p.poll() is None:
            pass
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=10)
        left = os.listdir(scratch)
        for n in left:
            subprocess.run(["rm", "-rf", os.path.join(scratch, n)])
        assert p.returncode in (-signal.SIGINT, 0), (p.returncode, err)
        assert not left, "attempt %d: SIGINT just after start left %r in --dir" % (attempt, left)
    wait_no_procs(scratch)


# ---------------------------------------------------------------- timing

def test_times_agree_with_outside_timing(d):
    # A sanity check that bench times the whole command, fork to exit, and
    # nothing else: not a speed assertion, hence the wide bounds. The
    # outside runs come before and after bench's, so that a change in the
    # machine's load meets both.
    outside = []

    def time_outside(i):
        out = os.path.join(d, "fresh%d" % i)
        t0 = time.monotonic()
        p = subprocess.run([harness.BIN, "gen", "-q", "-n", "500", "-s", "16x16", "-c", "1", "-j", "1",
                            "-o", out], capture_output=True)
        outside.append(time.monotonic() - t0)
        assert p.returncode == 0, p
        subprocess.run(["rm", "-rf", out], check=True)

    for i in range(2):
        time_outside(i)
    scratch = scratch_dir(d, "scratch")
    r = bench(scratch, "-n", 500, "-s", "16x16", "-c", 1, "-j", 1, "-r", 3, "--phase", "gen", "--format", "json")
    for i in range(2, 5):
        time_outside(i)
    _, rows = parse_json(r.out)
    assert order(rows) == [("gen", 1)], rows
    # Against the fastest and slowest outside run, with room for a busy
    # machine (a wall-time check must not fail on noise): a bench that timed
    # a fraction of the command, or several commands, is still caught.
    inside = rows[0]["median_s"]
    assert min(outside) / 3 <= inside <= max(outside) * 3, \
        "bench says %.4f s, timed from outside %r" % (inside, outside)


# ---------------------------------------------------------------- the user's own files

def full_listing(d):
    """Every path under D (hidden ones included) with its type, size and
    mtime in nanoseconds, and D's own."""
    out = {}
    for dirpath, dirs, files in os.walk(d):
        for n in [""] + dirs + files:
            p = os.path.join(dirpath, n) if n else dirpath
            st = os.lstat(p)
            out[os.path.relpath(p, d)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


def user_data(d):
    """A user's directory: 30 RGB 20x12 images beside a text file, and a
    further 6 images of a second directory given one by one."""
    data = os.path.join(d, "photos")
    ok(run("gen", "-q", "-n", 30, "-c", 3, "-s", "20x12", "-o", data))
    with open(os.path.join(data, "README.txt"), "w") as f:
        f.write("my photos\n")
    more = os.path.join(d, "more")
    ok(run("gen", "-q", "-n", 6, "-c", 3, "-s", "20x12", "--seed", 1, "-o", more))
    return data, [os.path.join(more, "image_%d.png" % i) for i in range(6)]


def test_user_inputs_every_format(d):
    data, files = user_data(d)
    scratch = scratch_dir(d, "scratch")
    before = full_listing(data), full_listing(os.path.dirname(files[0]))
    for fmt in ("table", "csv", "json", "markdown"):
        r = bench(scratch, "-r", 2, "-j", "1,2", "--format", fmt, data, *files)
        rows = parse(fmt, r.out, n=36, w=20, h=12, c=3, runs=2)
        assert order(rows) == [("load", 1), ("load", 2)], rows
        check_consistency(fmt, rows, 36, 20, 12, 3)
    after = full_listing(data), full_listing(os.path.dirname(files[0]))
    assert after == before, "bench changed the user's files"


def test_user_dir_untouched_with_default_scratch(d):
    """TMPDIR (the default scratch space) beside the data: the data keeps
    every entry, size and mtime, hidden files included."""
    data, _ = user_data(d)
    with open(os.path.join(data, ".hidden"), "w") as f:
        f.write("x")
    tmp = scratch_dir(d, "tmp")
    before = full_listing(data)
    r = ok(run("bench", "-r", 2, data, cwd=data, env=dict(os.environ, TMPDIR=tmp)))
    parse("table", r.out, n=30, w=20, h=12, c=3, runs=2)
    assert full_listing(data) == before
    assert os.listdir(tmp) == []


def test_user_inputs_of_different_sizes_with_resize(d):
    data, files = user_data(d)
    other = os.path.join(d, "other")
    ok(run("gen", "-q", "-n", 4, "-c", 3, "-s", "9x7", "-o", other))
    scratch = scratch_dir(d, "scratch")
    r = ok(run("bench", "--dir", scratch, "-r", 1, "-j", 1, data, other), 1)
    assert "differs" in r.err and "parimg: bench: 'parimg load' failed (exit 1)" in r.err, r
    r = bench(scratch, "-r", 2, "-j", "1,2", "--resize", "10x6", "--format", "json", data, other)
    consistent("json", r.out, 34, 10, 6, 3)
    for bad in (["--resize", "10x6"], ["--resize", "10", data], ["--resize", "0x5", data]):
        ok(run("bench", "--dir", scratch, *bad), 2)


def test_user_inputs_changed_between_runs_fail(d):
    """Every run's array is checked against the first: the user's image_5
    replaced (atomically, by another image) once the second run has
    started makes a later run differ at row 5, and bench fails naming it."""
    data, _ = user_data(d)
    scratch = scratch_dir(d, "scratch")
    p = subprocess.Popen([harness.BIN, "bench", "--dir", scratch, "-r", "1000", "-j", "1", data],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pids, end = set(), time.monotonic() + 30
        while len(pids) < 2:
            assert p.poll() is None and time.monotonic() < end, p.communicate()
            for n in bench_entries(scratch) or ():
                if n.endswith(".tmp"):
                    pids.add(n.split(".")[-3])
            time.sleep(0.001)
        tmp = os.path.join(data, "new.tmp")
        shutil.copyfile(os.path.join(data, "image_6.png"), tmp)
        os.rename(tmp, os.path.join(data, "image_5.png"))
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 1 and out == "", (p.returncode, out, err)
    assert re.fullmatch(r"parimg: bench: load -j 1 run \d+: row 5 differs from the first "
                        r"run's\n", err), err
    assert os.listdir(scratch) == []


def test_user_inputs_refusals(d):
    data, files = user_data(d)
    os.makedirs(os.path.join(data, "sub"))
    before = full_listing(data)
    for args, msg in ((["-n", 5, data], "-n and -s"), (["-s", "8x8", data], "-n and -s"),
                      (["--phase", "gen", data], "--phase gen"),
                      (["--phase", "gen,load", data], "--phase gen"), (["-", data], "not -"),
                      (["--dir", data, data], "inside this input"),
                      (["--dir", os.path.join(data, "sub"), data], "inside this input")):
        r = ok(run("bench", *args, cwd=d), 2)
        assert r.out == "" and msg in r.err and "--help" in r.err, (args, r)
        assert full_listing(data) == before, args
    r = ok(run("bench", "--dir", d, os.path.join(d, "missing"), cwd=d), 1)
    assert r.err == "parimg: %s: No such file or directory\n" % os.path.join(d, "missing"), r
    # --phase load is allowed, and a file that is no image fails the run.
    scratch = scratch_dir(d, "s")
    bench(scratch, "-r", 1, "-j", 1, "--phase", "load", data)
    r = ok(run("bench", "--dir", scratch, "-r", 1, "-j", 1, os.path.join(data, "README.txt")), 1)
    assert "parimg: bench: 'parimg load' failed (exit 1)" in r.err, r
    assert os.listdir(scratch) == []


# ---------------------------------------------------------------- load's options on the user's files

def caught_array(d, scratch, args, inputs, names=("out.npy",)):
    """Run "parimg bench ARGS INPUTS" with many runs and catch one of its
    load's arrays: a hard link to out.npy between load's rename and bench's
    removal (a finished array, as load renames only complete ones). Then
    stop bench (SIGTERM) and return the array; or, given NAMES of the
    scratch directory, the list of those arrays (each from some run: bench
    checks that every run writes the same)."""
    caught = [os.path.join(d, "caught.%d.npy" % i) for i in range(len(names))]
    p = subprocess.Popen([harness.BIN, "bench", "--dir", scratch, "-r", "1000", "-j", "1"] +
                         [str(a) for a in args] + ["--"] + inputs,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 30
        while not all(os.path.exists(c) for c in caught):
            assert p.poll() is None, "bench %r ended: %r" % (args, p.communicate())
            assert time.monotonic() < end, "no array of bench %r caught" % (args,)
            subs = [n for n in os.listdir(scratch) if n.startswith("parimg-bench.")]
            for n in subs:
                for name, c in zip(names, caught):
                    try:
                        if not os.path.exists(c):
                            os.link(os.path.join(scratch, n, name), c)
                    except FileNotFoundError:
                        pass
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == -signal.SIGTERM and err == "", (args, p.returncode, err)
    assert os.listdir(scratch) == [], os.listdir(scratch)
    arrays = [np.load(c) for c in caught]
    for c in caught:
        os.unlink(c)
    return arrays if names != ("out.npy",) else arrays[0]


def loaded(d, args, inputs):
    out = os.path.join(d, "load.npy")
    ok(run("load", "-q", "-f", "-o", out, *args, "--", *inputs))
    a = np.load(out)
    os.unlink(out)
    return a


def mixed_sizes(d):
    """A user's directory of RGB PNGs of two sizes, and one JPEG directory."""
    data = os.path.join(d, "mixed")
    ok(run("gen", "-q", "-n", 5, "-c", 3, "-s", "30x20", "-o", data))
    ok(run("gen", "-q", "-n", 4, "-c", 3, "-s", "17x40", "-p", "tall_", "--seed", 2, "-o", data))
    jpegs = os.path.join(d, "jpegs")
    ok(run("gen", "-q", "-n", 4, "-c", 3, "-s", "96x64", "-F", "jpg", "-o", jpegs))
    return data, jpegs


def test_user_inputs_load_options_reach_load(d):
    """Each of load's options given to bench changes bench's array exactly
    as it changes load's: the array bench times is load's with the same
    options, and differs from load's without them."""
    data, jpegs = mixed_sizes(d)
    scratch = scratch_dir(d, "scratch")
    before = full_listing(data), full_listing(jpegs)
    cases = (
        (data, ["--resize", "12x10", "--fit", "cover", "--filter", "nearest"], ["--resize", "12x10"]),
        (data, ["--resize", "12x10", "--fit", "contain", "--pad", 200, "-c", 1, "-t", "f4", "--scale"],
         ["--resize", "12x10", "--fit", "contain", "-c", 1, "-t", "f4", "--scale"]),
        (data, ["--resize", "9x9", "-c", 4, "-t", "u2", "--filter", "box"], ["--resize", "9x9", "-c", 4]),
        (jpegs, ["--resize", "12x8", "--draft"], ["--resize", "12x8"]),
        (jpegs, ["--resize", "12x8", "--draft", "--no-draft"], ["--resize", "12x8", "--draft"]),
        (jpegs, ["-t", "f8", "--no-draft", "--max-pixels", 96 * 64], ["-t", "f8", "--scale"]),
    )
    for inputs, args, other in cases:
        got = caught_array(d, scratch, args, [inputs])
        want = loaded(d, args, [inputs])
        assert got.dtype == want.dtype and got.shape == want.shape, (args, got.dtype, got.shape, want.shape)
        assert np.array_equal(got, want), "bench %r: not load's array" % args
        base = loaded(d, other, [inputs])
        assert got.dtype != base.dtype or got.shape != base.shape or not np.array_equal(got, base), \
            "bench %r: the same array as load %r: the options made no difference" % (args, other)
    assert (full_listing(data), full_listing(jpegs)) == before, "bench changed the user's files"


def test_user_inputs_load_options_in_results(d):
    """-c, -t and --resize show in the results: the shape, and MB/s that
    counts the array's bytes (4 a sample for f4)."""
    data, _ = mixed_sizes(d)
    scratch = scratch_dir(d, "scratch")
    r = bench(scratch, "-r", 2, "-j", "1,2", "--resize", "8x6", "--fit", "cover", "-c", 2, "-t", "f4",
              "--format", "json", data)
    rows = parse("json", r.out, n=9, w=8, h=6, c=2, runs=2)
    check_consistency("json", rows, 9, 8, 6, 2 * 4)
    r = bench(scratch, "-r", 1, "-j", 1, "-c", 1, "--format", "json", os.path.join(data, "image_0.png"))
    consistent("json", r.out, 1, 30, 20, 1, runs=1)


def test_user_inputs_load_options_checked_as_load_does(d):
    """A bad value, or options that do not fit together, is a usage error
    before any run, with load's message; --max-pixels under an image's size
    fails load, and so bench."""
    data, _ = mixed_sizes(d)
    scratch = scratch_dir(d, "scratch")
    before = full_listing(data)
    for args, msg in ((["--filter", "cubic", "--resize", "8x8"], "invalid --filter 'cubic'"),
                      (["--fit", "fill", "--resize", "8x8"], "invalid --fit 'fill'"),
                      (["--pad", 256, "--resize", "8x8", "--fit", "contain"], "invalid --pad '256'"),
                      (["--pad", "-1", "--resize", "8x8", "--fit", "contain"], "invalid --pad '-1'"),
                      (["-t", "u4"], "invalid --dtype 'u4'"), (["--dtype", ""], "invalid --dtype ''"),
                      (["-c", 0], "invalid --channels '0'"), (["--channels", 5], "invalid --channels '5'"),
                      (["--max-pixels", 0], "invalid --max-pixels '0'"),
                      (["--resize", "8y"], "invalid --resize '8y'"),
                      (["--resize", "8"], "--resize 8 needs --ragged"),
                      (["--ragged", "--resize", "8x8"], "--ragged keeps each image's aspect"),
                      (["--filter", "box"], "--filter needs --resize"),
                      (["--fit", "cover"], "--fit needs --resize"),
                      (["--draft"], "--draft needs --resize"),
                      (["--resize", "8x8", "--pad", 3], "--pad needs --fit contain"),
                      (["--resize", "8x8", "--fit", "cover", "--pad", 3], "--pad needs --fit contain"),
                      (["--scale"], "--scale needs --dtype f4 or f8"),
                      (["-t", "u2", "--scale"], "--scale needs --dtype f4 or f8"),
                      (["--draft", "--scale"], "needs"), (["--scale=1"], "takes no value")):
        r = run("bench", "--dir", scratch, *args, data, cwd=d)
        assert r.code == 2 and r.out == "", (args, r)
        assert r.err.startswith("parimg: ") and msg in r.err.splitlines()[0], (args, r.err)
        assert "parimg bench --help" in r.err, (args, r.err)
        lr = run("load", "-o", os.path.join(d, "x.npy"), *args, data, cwd=d)
        assert lr.code == 2 and lr.err.splitlines()[0] == r.err.splitlines()[0], (args, lr.err, r.err)
        assert os.listdir(scratch) == [] and full_listing(data) == before, args
    r = ok(run("bench", "--dir", scratch, "-r", 1, "-j", 1, "--max-pixels", 599, data, cwd=d), 1)
    assert "more than --max-pixels 599" in r.err and "'parimg load' failed (exit 1)" in r.err, r
    assert os.listdir(scratch) == [] and full_listing(data) == before


def test_load_options_refused_without_inputs(d):
    """Load's options other than -c mean nothing to the scratch dataset."""
    scratch = scratch_dir(d, "scratch")
    for args, flag in ((["--resize", "8x8"], "--resize"), (["--filter", "box"], "--filter"),
                       (["--fit", "cover"], "--fit"), (["--pad", 1], "--pad"), (["--draft"], "--draft"),
                       (["--no-draft"], "--no-draft"), (["-t", "f4"], "--dtype"),
                       (["--scale"], "--scale"), (["--max-pixels", 100], "--max-pixels"),
                       (["-c", 3, "--resize", "8x8", "--fit", "cover"], "--resize")):
        r = run("bench", "--dir", scratch, *TINY, *args, cwd=d)
        assert r.code == 2 and r.out == "", (args, r)
        assert r.err.splitlines()[0] == \
            "parimg: %s applies to given inputs, not the scratch dataset" % flag, (args, r.err)
        assert os.listdir(scratch) == [], args


# ---------------------------------------------------------------- labels from a table, masks

def kaggle(d, n=9):
    """A Kaggle-style folder: train/ of N RGB 14x10 PNGs and a train.csv of
    ids without extension and string labels."""
    root = os.path.join(d, "kaggle", "train")
    ok(run("gen", "-q", "-n", n, "-c", 3, "-s", "14x10", "-o", root))
    table = os.path.join(d, "kaggle", "train.csv")
    with open(table, "w") as f:
        f.write("id,label,score\n")
        for i in range(n):
            f.write("image_%d,%s,%.3f\n" % (i, ["cat", "dog", "ant"][i % 3], i / 4))
    return root, table


def seg_tree(d, n=7):
    """Images in img/ and their masks of the same names in seg/ (gray,
    the images' size), 12x9."""
    img, seg = os.path.join(d, "voc", "img"), os.path.join(d, "voc", "seg")
    ok(run("gen", "-q", "-n", n, "-c", 3, "-s", "12x9", "-o", img))
    ok(run("gen", "-q", "-n", n, "-c", 1, "-s", "12x9", "--seed", 5, "-o", seg))
    return img, seg


def load_with(d, args, inputs, side):
    """Load's own array and its SIDE output (--labels or --masks-out)."""
    out, y = os.path.join(d, "load.npy"), os.path.join(d, "side.npy")
    ok(run("load", "-q", "-f", "-o", out, side, y, *args, "--", *inputs))
    got = np.load(out), np.load(y)
    os.unlink(out)
    os.unlink(y)
    return got


def test_user_inputs_labels_from_table(d):
    """--labels-from (which implies --labels) and the table options pass on
    to load: bench reports its points at -j 1,2, and its arrays are load's,
    labels included."""
    root, table = kaggle(d)
    scratch = scratch_dir(d, "scratch")
    before = full_listing(os.path.dirname(root))
    r = bench(scratch, "-r", 2, "-j", "1,2", "--labels-from", table, "--format", "json", root)
    consistent("json", r.out, 9, 14, 10, 3)
    r = bench(scratch, "-r", 2, "-j", "1,2", "--labels-from", table, root)
    consistent("table", r.out, 9, 14, 10, 3)
    for args in (["--labels-from", table], ["--labels", "--labels-from", table, "--targets", "score"],
                 ["--labels-from", table, "--path-column", "id", "--label-column", "label",
                  "--shuffle", "--seed", 3]):
        x, y = caught_array(d, scratch, args, [root], names=("out.npy", "labels.npy"))
        wx, wy = load_with(d, [a for a in args if a != "--labels"], [root], "--labels")
        assert x.shape == wx.shape and np.array_equal(x, wx), args
        assert y.dtype == wy.dtype and y.shape == wy.shape and np.array_equal(y, wy), (args, y, wy)
    assert full_listing(os.path.dirname(root)) == before, "bench changed the user's files"


def test_user_inputs_masks(d):
    """--masks passes on with the masks written to the scratch directory
    (and --mask-pad with --fit contain): bench reports its points at
    -j 1,2, and its images and masks are load's."""
    img, seg = seg_tree(d)
    scratch = scratch_dir(d, "scratch")
    before = full_listing(os.path.dirname(img))
    r = bench(scratch, "-r", 2, "-j", "1,2", "--masks", seg, "--format", "json", img)
    consistent("json", r.out, 7, 12, 9, 3)
    r = bench(scratch, "-r", 2, "-j", "1,2", "--masks", seg, img)
    parse("table", r.out, n=7, w=12, h=9, c=3, runs=2)
    r = bench(scratch, "-r", 1, "-j", "1,2", "--masks", seg, "--ragged", "--max-side", 8, img)
    assert r.out.startswith("parimg bench: 7 images at their own sizes"), r.out
    for args in (["--masks", seg], ["--masks", seg, "--resize", "8x8", "--fit", "contain",
                                    "--mask-pad", 255]):
        x, m = caught_array(d, scratch, args, [img], names=("out.npy", "masks.npy"))
        wx, wm = load_with(d, args, [img], "--masks-out")
        assert np.array_equal(x, wx) and x.shape == wx.shape, args
        assert m.dtype == np.uint8 and m.shape == wm.shape and np.array_equal(m, wm), args
    assert (m == 255).any(), "--mask-pad 255 did not reach the masks"
    assert full_listing(os.path.dirname(img)) == before, "bench changed the user's files"


def test_labels_and_masks_usage_errors(d):
    """Without inputs these options are usage errors, as load's others;
    with inputs, what load refuses bench refuses first, with load's
    message; --masks-out is load's."""
    root, table = kaggle(d, 3)
    img, seg = seg_tree(d, 2)
    scratch = scratch_dir(d, "scratch")
    for args, flag in ((["--labels-from", table], "--labels-from"),
                       (["--label-regex", "(a)"], "--label-regex"),
                       (["--unlabelled", "skip"], "--unlabelled"),
                       (["--targets", "score"], "--targets"),
                       (["--masks", seg], "--masks"), (["--mask-pad", 3], "--mask-pad")):
        r = run("bench", "--dir", scratch, *TINY, *args, cwd=d)
        assert r.code == 2 and r.out == "", (args, r)
        assert r.err.splitlines()[0] == \
            "parimg: %s applies to given inputs, not the scratch dataset" % flag, (args, r.err)
    for args, inputs, msg in (
            (["--labels-from", table, "--label-regex", "(a)"], [root], "choose one"),
            (["--label-regex", "(a)", "--path-column", "id"], [root], "takes no table options"),
            (["--labels-from", table, "--multi-label", ";", "--targets", "score"], [root], "choose one"),
            (["--labels-from", table, "--targets", "score", "--label-column", "label"], [root],
             "--targets replaces --label-column"),
            (["--labels-from", table], [root, img], "takes one INPUT"),
            (["--label-regex", "("], [root], "invalid --label-regex '('"),
            (["--unlabelled", "maybe"], [root], "invalid --unlabelled 'maybe'"),
            (["--multi-label", ""], [root], "invalid --multi-label ''"),
            (["--mask-pad", 3], [img], "--mask-pad needs --masks"),
            (["--masks", seg, "--mask-pad", 3], [img], "--mask-pad needs --fit contain"),
            (["--masks", seg, "--resize", "8x8", "--fit", "contain", "--mask-pad", 256], [img],
             "invalid --mask-pad '256'")):
        r = run("bench", "--dir", scratch, *args, *inputs, cwd=d)
        assert r.code == 2 and r.out == "" and msg in r.err.splitlines()[0], (args, r)
        assert "parimg bench --help" in r.err, (args, r.err)
        side = ["--masks-out", os.path.join(d, "m.npy")] if "--masks" in args else \
            [] if "--mask-pad" in args else ["--labels", os.path.join(d, "y.npy")]
        lr = run("load", "-o", os.path.join(d, "x.npy"), *side, *args, *inputs, cwd=d)
        assert lr.code == 2 and msg in lr.err, (args, lr.err)
    for args in (["--masks-out", "m.npy"], ["--masks-out=m.npy"]):
        r = run("bench", "--dir", scratch, "--masks", seg, *args, img, cwd=d)
        assert r.code == 2 and r.err.startswith("parimg: --masks-out is load's, not bench's"), r
    r = run("bench", "--dir", seg, "--masks", seg, img, cwd=d)
    assert r.code == 2 and "would be inside this input" in r.err, r
    r = run("bench", "--dir", scratch, "--masks", os.path.join(d, "nope"), img, cwd=d)
    assert r.code == 1 and r.err == "parimg: %s: No such file or directory\n" % \
        os.path.join(d, "nope"), r
    assert os.listdir(scratch) == [] and not os.path.exists(os.path.join(d, "x.npy"))


harness.main(globals())
