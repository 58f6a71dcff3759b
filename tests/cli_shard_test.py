#!/usr/bin/python3
"""Command-line tests for sharding: "--shard K/N" and "--shard slurm" on gen
and load, and "parimg merge". The promise under test is that N shards, run
one after another or all at once (GNU parallel), then merged, give exactly
the bytes of a single run. The oracles are a single run of parimg itself for
the shard equivalence, Pillow for the rows, and numpy (np.load, np.concatenate,
np.save) for what merge writes.

Run: /usr/bin/python3 tests/cli_shard_test.py ./parimg [test_name...]
"""
import io
import os
import re
import resource
import signal
import subprocess
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
from harness import file_bytes, listing, ok, run  # noqa: E402

PARALLEL = "/usr/bin/parallel"
SHARD_COUNTS = (1, 2, 3, 7)


# ---------------------------------------------------------------- helpers

def clean_env(**extra):
    """The environment without any SLURM_* variable, plus EXTRA."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def quiet_ok(r):
    """Exit 0 and nothing printed (stderr is a pipe, so no progress)."""
    ok(r)
    assert r.out == "" and r.err == "", "successful run printed something: %r" % r
    return r


def read(path):
    with open(path, "rb") as f:
        return f.read()


def assert_same_tree(got_dir, want_dir):
    got, want = file_bytes(got_dir), file_bytes(want_dir)
    extra = sorted(set(got) - set(want))
    missing = sorted(set(want) - set(got))
    assert not extra and not missing, "%s: extra %r, missing %r" % (got_dir, extra[:10], missing[:10])
    differ = [n for n in want if got[n] != want[n]]
    assert not differ, "%s: files differ from the single run's: %r" % (got_dir, differ[:10])


def assert_no_hidden(d):
    """No temporary (hidden) files left in D."""
    hidden = [n for n in listing(d) if n.startswith(".")]
    assert not hidden, "%s: leftover temporary files %r" % (d, hidden)


def shard_range(count, k, n):
    return range(k * count // n, (k + 1) * count // n)


def usage_error(r, what, pattern=None):
    """Exit 2, nothing on stdout, a "parimg: ..." line (matching PATTERN when
    given) and a pointer to --help."""
    assert r.code == 2, "%s: expected exit 2, got %r" % (what, r)
    assert r.out == "", "%s: usage error wrote to stdout: %r" % (what, r)
    lines = r.err.splitlines()
    assert lines and lines[0].startswith("parimg: "), "%s: no 'parimg: ...' line: %r" % (what, r)
    if pattern:
        assert re.search(pattern, lines[0]), "%s: message %r does not match %r" % (what, lines[0], pattern)
    assert any("--help" in l for l in lines), "%s: no line mentioning --help: %r" % (what, r)


def parallel(d, cmd, shards, jobs=4):
    """Run CMD (a list; {} is the shard number) for each of SHARDS under GNU
    parallel, all at once; every job must succeed."""
    assert os.access(PARALLEL, os.X_OK), "GNU parallel is not installed (Debian package 'parallel')"
    argv = [PARALLEL, "--will-cite", "--halt", "never", "-j", str(jobs)] + cmd + [":::"] + \
        [str(s) for s in shards]
    p = subprocess.run(argv, cwd=d, capture_output=True, text=True, timeout=120, env=clean_env())
    assert p.returncode == 0, "parallel failed (exit %d): %s" % (p.returncode, p.stderr[-2000:])
    assert p.stderr == "", "parallel jobs printed: %r" % p.stderr[-2000:]


def make_dataset(d, n=50, size="12x10", channels=1, name="data"):
    quiet_ok(run("gen", "-q", "-n", n, "-s", size, "-c", channels, "--seed", 7, "-o", name, cwd=d))
    return os.path.join(d, name)


def npy_bytes(a):
    """What np.save writes for A."""
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def save(path, a):
    with open(path, "wb") as f:
        f.write(npy_bytes(a))


# ---------------------------------------------------------------- gen shards

GEN_ARGS = ["-q", "-n", 23, "-s", "9x7", "-c", 3, "--seed", 11]


def test_gen_shards_in_sequence_equal_one_run(d):
    quiet_ok(run("gen", *GEN_ARGS, "-o", "single", cwd=d))
    for n in SHARD_COUNTS:
        out = "seq%d" % n
        for k in range(n):
            quiet_ok(run("gen", *GEN_ARGS, "-j", 2, "-o", out, "--shard", "%d/%d" % (k, n), cwd=d))
        assert_same_tree(os.path.join(d, out), os.path.join(d, "single"))


def test_gen_more_shards_than_images(d):
    args = ["-q", "-n", 3, "-s", "5x4", "--seed", 3]
    quiet_ok(run("gen", *args, "-o", "single", cwd=d))
    for k in range(5):
        quiet_ok(run("gen", *args, "-o", "sharded", "--shard=%d/5" % k, cwd=d))
    assert_same_tree(os.path.join(d, "sharded"), os.path.join(d, "single"))
    # The shards that get no image write nothing.
    for k in range(5):
        out = os.path.join(d, "alone%d" % k)
        quiet_ok(run("gen", *args, "-o", out, "--shard", "%d/5" % k, cwd=d))
        want = ["image_%d.png" % i for i in shard_range(3, k, 5)]
        assert listing(out) == sorted(want), "shard %d/5 of 3: %r, expected %r" % (k, listing(out), want)


def test_gen_shard_writes_exactly_its_range(d):
    quiet_ok(run("gen", *GEN_ARGS, "-o", "single", cwd=d))
    single = file_bytes(os.path.join(d, "single"))
    for n in (2, 3, 7, 23, 40):
        for k in range(n):
            out = os.path.join(d, "s%d_%d" % (n, k))
            quiet_ok(run("gen", *GEN_ARGS, "-o", out, "--shard", "%d/%d" % (k, n), cwd=d))
            want = sorted("image_%d.png" % i for i in shard_range(23, k, n))
            got = file_bytes(out)
            assert sorted(got) == want, "shard %d/%d: wrote %r, expected %r" % (k, n, sorted(got), want)
            for name in want:
                assert got[name] == single[name], "shard %d/%d: %s differs" % (k, n, name)


def test_gen_shard_with_digits_prefix_and_schedule(d):
    args = ["-q", "-n", 17, "-s", "6x6", "-c", 2, "--digits", 4, "-p", "x-", "-F", "tga"]
    quiet_ok(run("gen", *args, "-o", "single", cwd=d))
    for k in range(4):
        quiet_ok(run("gen", *args, "-j", 3, "--schedule", "dynamic", "-o", "sharded",
                     "--shard", "%d/4" % k, cwd=d))
    assert_same_tree(os.path.join(d, "sharded"), os.path.join(d, "single"))


def test_gen_shards_under_gnu_parallel(d):
    quiet_ok(run("gen", *GEN_ARGS, "-o", "single", cwd=d))
    for n in (3, 7):
        out = "par%d" % n
        parallel(d, [harness.BIN, "gen"] + [str(a) for a in GEN_ARGS] +
                 ["-j", "2", "-o", out, "--shard", "{}/%d" % n], range(n))
        assert_same_tree(os.path.join(d, out), os.path.join(d, "single"))
    # More shards than images, all at once, into a directory none of them
    # finds existing beforehand.
    quiet_ok(run("gen", "-q", "-n", 3, "-s", "5x4", "-o", "single3", cwd=d))
    parallel(d, [harness.BIN, "gen", "-q", "-n", "3", "-s", "5x4", "-o", "new/nested",
                 "--shard", "{}/5"], range(5), jobs=5)
    assert_same_tree(os.path.join(d, "new", "nested"), os.path.join(d, "single3"))


def test_gen_shard_refuses_existing_file_of_its_own_range_only(d):
    quiet_ok(run("gen", *GEN_ARGS, "-o", "out", "--shard", "0/2", cwd=d))
    # Shard 1's files do not exist yet: it runs although the directory does.
    quiet_ok(run("gen", *GEN_ARGS, "-o", "out", "--shard", "1/2", cwd=d))
    # Shard 0 again: its files exist.
    r = ok(run("gen", *GEN_ARGS, "-o", "out", "--shard", "0/2", cwd=d), 1)
    assert "file exists" in r.err, r
    quiet_ok(run("gen", *GEN_ARGS, "-f", "-o", "out", "--shard", "0/2", cwd=d))
    quiet_ok(run("gen", *GEN_ARGS, "-o", "single", cwd=d))
    assert_same_tree(os.path.join(d, "out"), os.path.join(d, "single"))


# ---------------------------------------------------------------- load shards

LOAD_VARIANTS = ([], ["-c", "3", "-t", "f4"], ["--order", "name"])


def load_shards(d, data, opts, n, parts_dir, manifests=False):
    """Load N shards of DATA into PARTS_DIR/part-K.npy; return the paths."""
    os.makedirs(os.path.join(d, parts_dir), exist_ok=True)
    parts = []
    for k in range(n):
        part = os.path.join(parts_dir, "part-%d.npy" % k)
        extra = ["--manifest", os.path.join(parts_dir, "part-%d.txt" % k)] if manifests else []
        quiet_ok(run("load", "-q", "-j", 2, *opts, *extra, "--shard", "%d/%d" % (k, n), "-o", part,
                     data, cwd=d))
        parts.append(part)
    return parts


def test_load_shards_merged_equal_one_load(d):
    make_dataset(d)
    for v, opts in enumerate(LOAD_VARIANTS):
        single = "single%d.npy" % v
        quiet_ok(run("load", "-q", *opts, "-o", single, "data", cwd=d))
        want = read(os.path.join(d, single))
        for n in SHARD_COUNTS:
            parts = load_shards(d, "data", opts, n, "parts%d_%d" % (v, n))
            out = "merged%d_%d.npy" % (v, n)
            quiet_ok(run("merge", "-q", "-o", out, *parts, cwd=d))
            assert read(os.path.join(d, out)) == want, "%r in %d shards: merged file differs" % (opts, n)
            assert_no_hidden(os.path.join(d, "parts%d_%d" % (v, n)))
        assert_no_hidden(d)


def test_load_shards_rows_are_the_images(d):
    # An oracle outside parimg: each shard's rows are Pillow's decoding of
    # the files of its range, in natural order.
    make_dataset(d, n=20, channels=3)
    names = ["data/image_%d.png" % i for i in range(20)]
    parts = load_shards(d, "data", [], 3, "parts")
    for k, part in enumerate(parts):
        a = np.load(os.path.join(d, part))
        rows = shard_range(20, k, 3)
        assert a.shape == (len(rows), 10, 12, 3) and a.dtype == np.uint8, (k, a.shape, a.dtype)
        for j, i in enumerate(rows):
            with Image.open(os.path.join(d, names[i])) as im:
                assert np.array_equal(a[j], np.asarray(im)), "shard %d row %d is not %s" % (k, j, names[i])


def test_load_shard_manifests_concatenated_equal_one_manifest(d):
    make_dataset(d)
    for v, opts in enumerate(LOAD_VARIANTS):
        quiet_ok(run("load", "-q", *opts, "--manifest", "single%d.txt" % v, "-o", "single%d.npy" % v,
                     "data", cwd=d))
        want = read(os.path.join(d, "single%d.txt" % v))
        assert want.count(b"\n") == 50, want
        for n in (2, 7):
            pd = "parts%d_%d" % (v, n)
            load_shards(d, "data", opts, n, pd, manifests=True)
            got = b"".join(read(os.path.join(d, pd, "part-%d.txt" % k)) for k in range(n))
            assert got == want, "%r in %d shards: manifests differ" % (opts, n)
    # --order name and natural order really differ here, so the manifests
    # say which order each shard used.
    assert read(os.path.join(d, "single0.txt")) != read(os.path.join(d, "single2.txt"))


def test_load_shards_under_gnu_parallel(d):
    make_dataset(d)
    os.makedirs(os.path.join(d, "parts"))
    for opts in (["--order", "name"], ["-c", "3", "-t", "f4"]):
        quiet_ok(run("load", "-q", "-f", *opts, "--manifest", "single.txt", "-o", "single.npy", "data",
                     cwd=d))
        parallel(d, [harness.BIN, "load", "-q", "-f", "-j", "2"] + opts +
                 ["--manifest", "parts/part-{}.txt", "--shard", "{}/7", "-o", "parts/part-{}.npy", "data"],
                 range(7))
        parts = ["parts/part-%d.npy" % k for k in range(7)]
        quiet_ok(run("merge", "-q", "-f", "-o", "merged.npy", *parts, cwd=d))
        assert read(os.path.join(d, "merged.npy")) == read(os.path.join(d, "single.npy")), opts
        man = b"".join(read(os.path.join(d, "parts", "part-%d.txt" % k)) for k in range(7))
        assert man == read(os.path.join(d, "single.txt")), opts
        assert_no_hidden(os.path.join(d, "parts"))


def test_load_empty_shard(d):
    make_dataset(d)
    # 53 shards of 50 files: some shards get no file at all.
    n = 53
    empty = [k for k in range(n) if not shard_range(50, k, n)]
    assert empty, "the test needs empty shards"
    quiet_ok(run("load", "-q", "--manifest", "single.txt", "-o", "single.npy", "data", cwd=d))
    parts = load_shards(d, "data", [], n, "parts", manifests=True)
    for k in empty:
        a = np.load(os.path.join(d, parts[k]))
        assert a.shape == (0, 10, 12) and a.dtype == np.uint8, (k, a.shape, a.dtype)
        assert read(os.path.join(d, "parts", "part-%d.txt" % k)) == b"", k
        # Byte for byte what numpy writes for the empty array.
        assert read(os.path.join(d, parts[k])) == npy_bytes(np.zeros((0, 10, 12), np.uint8)), k
    quiet_ok(run("merge", "-q", "-o", "merged.npy", *parts, cwd=d))
    assert read(os.path.join(d, "merged.npy")) == read(os.path.join(d, "single.npy"))
    man = b"".join(read(os.path.join(d, "parts", "part-%d.txt" % k)) for k in range(n))
    assert man == read(os.path.join(d, "single.txt"))
    # An empty part alone merges into an empty array; with channels too.
    quiet_ok(run("merge", "-q", "-o", "empty.npy", parts[empty[0]], parts[empty[0]], cwd=d))
    assert np.load(os.path.join(d, "empty.npy")).shape == (0, 10, 12)
    quiet_ok(run("load", "-q", "-c", 4, "-t", "u2", "--shard", "%d/%d" % (empty[0], n), "-o", "e4.npy",
                 "data", cwd=d))
    a = np.load(os.path.join(d, "e4.npy"))
    assert a.shape == (0, 10, 12, 4) and a.dtype == np.dtype("<u2"), (a.shape, a.dtype)


def test_load_shard_shape_comes_from_the_whole_list(d):
    # The channels are chosen from the whole sorted list, not the shard's
    # part: an RGB image in shard 1 of gray ones makes every shard's rows
    # RGB (shard 0's too), and the shards merge into the single load.
    make_dataset(d, n=6)
    rgb = np.random.default_rng(9).integers(0, 256, (10, 12, 3), dtype=np.uint8)
    Image.fromarray(rgb, "RGB").save(os.path.join(d, "data", "image_3.png"))
    r = ok(run("load", "-q", "-o", "single.npy", "data", cwd=d))
    assert "3 channels: 5 gray images converted to RGB" in r.err, r
    ok(run("load", "-q", "--shard", "0/2", "-o", "p0.npy", "data", cwd=d))
    ok(run("load", "-q", "--shard", "1/2", "-o", "p1.npy", "data", cwd=d))
    assert np.load(os.path.join(d, "p0.npy")).shape == (3, 10, 12, 3)
    a1 = np.load(os.path.join(d, "p1.npy"))
    assert a1.shape == (3, 10, 12, 3), a1.shape
    quiet_ok(run("merge", "-q", "-o", "merged.npy", "p0.npy", "p1.npy", cwd=d))
    assert read(os.path.join(d, "merged.npy")) == read(os.path.join(d, "single.npy"))
    # Under -k a shard whose files are all bad still agrees on the shape.
    with open(os.path.join(d, "data", "image_5.png"), "wb") as f:
        f.write(b"not a png")
    r = ok(run("load", "-q", "-k", "--shard", "2/3", "-o", "bad.npy", "data", cwd=d), 3)
    assert r.err.count("image_5.png") == 1, r
    a = np.load(os.path.join(d, "bad.npy"))
    assert a.shape == (2, 10, 12, 3) and not a[1].any(), a.shape


# ---------------------------------------------------------------- --shard slurm

SLURM_GOOD = [
    # (environment, K, N)
    (dict(SLURM_ARRAY_TASK_ID=5, SLURM_ARRAY_TASK_MIN=3, SLURM_ARRAY_TASK_COUNT=4), 2, 4),
    (dict(SLURM_ARRAY_TASK_ID=3, SLURM_ARRAY_TASK_MIN=3, SLURM_ARRAY_TASK_COUNT=4,
          SLURM_ARRAY_TASK_MAX=6), 0, 4),
    (dict(SLURM_ARRAY_TASK_ID=6, SLURM_ARRAY_TASK_MIN=3, SLURM_ARRAY_TASK_COUNT=4,
          SLURM_ARRAY_TASK_MAX=6), 3, 4),
    # --array=1-7:2 gives tasks 1, 3, 5, 7.
    (dict(SLURM_ARRAY_TASK_ID=5, SLURM_ARRAY_TASK_MIN=1, SLURM_ARRAY_TASK_COUNT=4,
          SLURM_ARRAY_TASK_STEP=2, SLURM_ARRAY_TASK_MAX=7), 2, 4),
    (dict(SLURM_ARRAY_TASK_ID=0, SLURM_ARRAY_TASK_MIN=0, SLURM_ARRAY_TASK_COUNT=1,
          SLURM_ARRAY_TASK_MAX=0, SLURM_ARRAY_TASK_STEP=1), 0, 1),
    (dict(SLURM_ARRAY_TASK_ID=15, SLURM_ARRAY_TASK_MIN=0, SLURM_ARRAY_TASK_COUNT=16,
          SLURM_ARRAY_TASK_MAX=15), 15, 16),
]


def test_shard_slurm_equals_k_of_n(d):
    make_dataset(d, n=23)
    for i, (env, k, n) in enumerate(SLURM_GOOD):
        what = "%r -> %d/%d" % (env, k, n)
        quiet_ok(run("gen", *GEN_ARGS, "-o", "g%d_kn" % i, "--shard", "%d/%d" % (k, n), cwd=d,
                     env=clean_env()))
        quiet_ok(run("gen", *GEN_ARGS, "-o", "g%d_slurm" % i, "--shard", "slurm", cwd=d,
                     env=clean_env(**env)))
        assert_same_tree(os.path.join(d, "g%d_slurm" % i), os.path.join(d, "g%d_kn" % i))
        quiet_ok(run("load", "-q", "--manifest", "l%d_kn.txt" % i, "-o", "l%d_kn.npy" % i,
                     "--shard", "%d/%d" % (k, n), "data", cwd=d, env=clean_env()))
        quiet_ok(run("load", "-q", "--manifest", "l%d_slurm.txt" % i, "-o", "l%d_slurm.npy" % i,
                     "--shard=slurm", "data", cwd=d, env=clean_env(**env)))
        assert read(os.path.join(d, "l%d_slurm.npy" % i)) == read(os.path.join(d, "l%d_kn.npy" % i)), what
        assert read(os.path.join(d, "l%d_slurm.txt" % i)) == read(os.path.join(d, "l%d_kn.txt" % i)), what


def test_shard_slurm_whole_array_merges_to_one_load(d):
    # A simulated --array=10-40:10: four tasks, then the merge in task order.
    make_dataset(d, n=23)
    quiet_ok(run("load", "-q", "-o", "single.npy", "data", cwd=d))
    parts = []
    for task in (10, 20, 30, 40):
        env = clean_env(SLURM_ARRAY_TASK_ID=task, SLURM_ARRAY_TASK_MIN=10, SLURM_ARRAY_TASK_MAX=40,
                        SLURM_ARRAY_TASK_STEP=10, SLURM_ARRAY_TASK_COUNT=4, SLURM_ARRAY_JOB_ID=99)
        quiet_ok(run("load", "-q", "--shard", "slurm", "-o", "part-%d.npy" % task, "data", cwd=d, env=env))
        parts.append("part-%d.npy" % task)
    quiet_ok(run("merge", "-q", "-o", "merged.npy", *parts, cwd=d))
    assert read(os.path.join(d, "merged.npy")) == read(os.path.join(d, "single.npy"))


SLURM_BAD = [
    ("no variables", {}),
    ("no ID", dict(SLURM_ARRAY_TASK_MIN=0, SLURM_ARRAY_TASK_COUNT=4)),
    ("no MIN", dict(SLURM_ARRAY_TASK_ID=0, SLURM_ARRAY_TASK_COUNT=4)),
    ("no COUNT", dict(SLURM_ARRAY_TASK_ID=0, SLURM_ARRAY_TASK_MIN=0)),
    ("ID < MIN", dict(SLURM_ARRAY_TASK_ID=2, SLURM_ARRAY_TASK_MIN=3, SLURM_ARRAY_TASK_COUNT=4)),
    ("ID beyond COUNT", dict(SLURM_ARRAY_TASK_ID=7, SLURM_ARRAY_TASK_MIN=3, SLURM_ARRAY_TASK_COUNT=4)),
    ("ID far beyond COUNT", dict(SLURM_ARRAY_TASK_ID=1000, SLURM_ARRAY_TASK_MIN=0,
                                 SLURM_ARRAY_TASK_COUNT=4)),
    ("COUNT 0", dict(SLURM_ARRAY_TASK_ID=0, SLURM_ARRAY_TASK_MIN=0, SLURM_ARRAY_TASK_COUNT=0)),
    ("MAX inconsistent", dict(SLURM_ARRAY_TASK_ID=5, SLURM_ARRAY_TASK_MIN=3, SLURM_ARRAY_TASK_COUNT=4,
                              SLURM_ARRAY_TASK_MAX=7)),
    ("MAX inconsistent with STEP", dict(SLURM_ARRAY_TASK_ID=5, SLURM_ARRAY_TASK_MIN=1,
                                        SLURM_ARRAY_TASK_COUNT=4, SLURM_ARRAY_TASK_STEP=2,
                                        SLURM_ARRAY_TASK_MAX=4)),
    ("MAX non-numeric", dict(SLURM_ARRAY_TASK_ID=5, SLURM_ARRAY_TASK_MIN=3, SLURM_ARRAY_TASK_COUNT=4,
                             SLURM_ARRAY_TASK_MAX="six")),
    ("ID off the STEP", dict(SLURM_ARRAY_TASK_ID=4, SLURM_ARRAY_TASK_MIN=1, SLURM_ARRAY_TASK_COUNT=4,
                             SLURM_ARRAY_TASK_STEP=2)),
    ("STEP 0", dict(SLURM_ARRAY_TASK_ID=1, SLURM_ARRAY_TASK_MIN=1, SLURM_ARRAY_TASK_COUNT=4,
                    SLURM_ARRAY_TASK_STEP=0)),
    ("STEP non-numeric", dict(SLURM_ARRAY_TASK_ID=1, SLURM_ARRAY_TASK_MIN=1, SLURM_ARRAY_TASK_COUNT=4,
                              SLURM_ARRAY_TASK_STEP="two")),
    ("ID non-numeric", dict(SLURM_ARRAY_TASK_ID="x", SLURM_ARRAY_TASK_MIN=0, SLURM_ARRAY_TASK_COUNT=4)),
    ("ID empty", dict(SLURM_ARRAY_TASK_ID="", SLURM_ARRAY_TASK_MIN=0, SLURM_ARRAY_TASK_COUNT=4)),
    ("ID negative", dict(SLURM_ARRAY_TASK_ID="-1", SLURM_ARRAY_TASK_MIN=0, SLURM_ARRAY_TASK_COUNT=4)),
    ("ID with a space", dict(SLURM_ARRAY_TASK_ID=" 1", SLURM_ARRAY_TASK_MIN=0, SLURM_ARRAY_TASK_COUNT=4)),
    ("COUNT trailing junk", dict(SLURM_ARRAY_TASK_ID=1, SLURM_ARRAY_TASK_MIN=0, SLURM_ARRAY_TASK_COUNT="4x")),
    ("MIN non-numeric", dict(SLURM_ARRAY_TASK_ID=1, SLURM_ARRAY_TASK_MIN="one", SLURM_ARRAY_TASK_COUNT=4)),
]


def test_shard_slurm_bad_environment(d):
    make_dataset(d, n=5)
    before = listing(d)
    for what, env in SLURM_BAD:
        e = clean_env(**env)
        r = run("gen", "-q", "-n", 5, "-s", "4x4", "-o", "gen_out", "--shard", "slurm", cwd=d, env=e)
        usage_error(r, "gen, " + what, r"^parimg: .*--shard slurm")
        r = run("load", "-q", "-o", "load_out.npy", "--shard", "slurm", "data", cwd=d, env=e)
        usage_error(r, "load, " + what, r"^parimg: .*--shard slurm")
        assert listing(d) == before, "%s: something was written: %r" % (what, listing(d))


# ---------------------------------------------------------------- bad --shard

BAD_SHARDS = ["3/3", "4/3", "-1/2", "x/y", "1/0", "0/0", "1", "1/2/3", "", " 1/2", "1/ 2", "1/2 ",
              "+1/2", "1/", "/2", "0x1/2", "1.0/2", "SLURM", "slurm/2", "99999999999999999999999/2"]


def test_bad_shard_values(d):
    make_dataset(d, n=5)
    before = listing(d)
    for bad in BAD_SHARDS:
        for form in (["--shard", bad], ["--shard=" + bad]):
            r = run("gen", "-q", "-n", 5, "-s", "4x4", "-o", "gen_out", *form, cwd=d, env=clean_env())
            usage_error(r, "gen %r" % form, r"^parimg: invalid --shard")
            r = run("load", "-q", "-o", "load_out.npy", *form, "data", cwd=d, env=clean_env())
            usage_error(r, "load %r" % form, r"^parimg: invalid --shard")
            assert listing(d) == before, "%r: something was written: %r" % (form, listing(d))
    # The value is quoted in the message.
    r = run("gen", "--shard", "3/3", cwd=d)
    assert "'3/3'" in r.err.splitlines()[0], r


# ---------------------------------------------------------------- merge

def merge(d, *args, code=0):
    r = ok(run("merge", "-q", *args, cwd=d), code)
    if code == 0:
        assert r.out == "" and r.err == "", "successful merge printed something: %r" % r
    return r


NUMPY_CASES = [
    # name: list of parts
    ("u1 3-d", [np.arange(60, dtype=np.uint8).reshape(3, 4, 5), np.zeros((0, 4, 5), np.uint8),
                np.full((7, 4, 5), 200, np.uint8), np.arange(20, dtype=np.uint8).reshape(1, 4, 5)]),
    ("u1 1-d", [np.arange(5, dtype=np.uint8), np.arange(3, dtype=np.uint8), np.zeros(0, np.uint8)]),
    ("i8 1-d", [np.arange(-5, 6, dtype=np.int64), np.array([2 ** 62], np.int64)]),
    ("f8 1-d", [np.linspace(0, 1, 9), np.array([np.pi])]),
    ("f8 4-d", [np.random.default_rng(1).random((2, 3, 4, 5)), np.random.default_rng(2).random((5, 3, 4, 5)),
                np.random.default_rng(3).random((1, 3, 4, 5))]),
    ("f4 (N,H,W,C)", [np.random.default_rng(4).random((4, 6, 5, 3), dtype=np.float32),
                      np.random.default_rng(5).random((2, 6, 5, 3), dtype=np.float32)]),
    ("u2", [np.arange(24, dtype=np.uint16).reshape(2, 3, 4) * 2000, np.ones((1, 3, 4), np.uint16)]),
    ("i2", [np.arange(-12, 12, dtype=np.int16).reshape(4, 6), np.full((3, 6), -32768, np.int16)]),
    ("i1", [np.arange(-8, 8, dtype=np.int8).reshape(8, 2)]),
    ("f2", [np.linspace(-2, 2, 12, dtype=np.float16).reshape(2, 6), np.ones((1, 6), np.float16)]),
    ("bool", [np.array([[True, False], [False, True]]), np.array([[True, True]])]),
    (">i4", [np.arange(6, dtype=">i4").reshape(3, 2), np.arange(4, dtype=">i4").reshape(2, 2)]),
    ("u8 2-d", [np.arange(10, dtype=np.uint64).reshape(5, 2), np.arange(10, dtype=np.uint64).reshape(5, 2)]),
    ("8-d", [np.ones((1, 1, 2, 1, 2, 1, 1, 2), np.uint8), np.zeros((2, 1, 2, 1, 2, 1, 1, 2), np.uint8)]),
    ("big row", [np.random.default_rng(6).integers(0, 255, (3, 300, 400), dtype=np.uint8),
                 np.random.default_rng(7).integers(0, 255, (2, 300, 400), dtype=np.uint8)]),
]


def test_merge_numpy_parts_equal_concatenate(d):
    for i, (what, arrays) in enumerate(NUMPY_CASES):
        parts = []
        for k, a in enumerate(arrays):
            parts.append("c%d_p%d.npy" % (i, k))
            np.save(os.path.join(d, parts[-1]), a)
        # np.concatenate gives native byte order; the parts' dtype is kept.
        want = np.concatenate(arrays).astype(arrays[0].dtype)
        outs = []
        for jobs in (1, 4):
            out = "c%d_j%d.npy" % (i, jobs)
            merge(d, "-j", jobs, "-o", out, *parts)
            got = np.load(os.path.join(d, out))
            assert got.dtype == want.dtype and got.shape == want.shape, \
                "%s: %s %r, expected %s %r" % (what, got.dtype, got.shape, want.dtype, want.shape)
            assert np.array_equal(got, want), "%s: values differ" % what
            assert read(os.path.join(d, out)) == npy_bytes(want), "%s: bytes differ from np.save's" % what
            outs.append(read(os.path.join(d, out)))
        assert outs[0] == outs[1], "%s: -j 1 and -j 4 differ" % what
    assert_no_hidden(d)


def test_merge_reads_npy_format_versions_2_and_3(d):
    # Parts written with the 32-bit header length of format 2.0 and 3.0;
    # the output is what np.save writes (1.0) for the concatenation.
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    b = np.arange(50, 58, dtype=np.uint8).reshape(2, 4)
    for k, (arr, version) in enumerate(((a, (2, 0)), (b, (3, 0)), (a, (1, 0)))):
        with open(os.path.join(d, "p%d.npy" % k), "wb") as f:
            np.lib.format.write_array(f, arr, version=version)
    merge(d, "-o", "out.npy", "p0.npy", "p1.npy", "p2.npy")
    assert read(os.path.join(d, "out.npy")) == npy_bytes(np.concatenate([a, b, a]))


def test_merge_order_and_repeats(d):
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    b = np.arange(100, 108, dtype=np.uint8).reshape(2, 4)
    save(os.path.join(d, "a.npy"), a)
    save(os.path.join(d, "b.npy"), b)
    merge(d, "-o", "ba.npy", "b.npy", "a.npy")
    assert read(os.path.join(d, "ba.npy")) == npy_bytes(np.concatenate([b, a]))
    merge(d, "-o", "aba.npy", "a.npy", "b.npy", "a.npy")
    assert read(os.path.join(d, "aba.npy")) == npy_bytes(np.concatenate([a, b, a]))
    merge(d, "-o", "one.npy", "a.npy")
    assert read(os.path.join(d, "one.npy")) == npy_bytes(a)
    # Many parts, more than workers, with the dynamic schedule too.
    parts = []
    for k in range(40):
        parts.append("m%02d.npy" % k)
        save(os.path.join(d, parts[-1]), np.full((k % 3, 2, 2), k, np.uint16))
    want = npy_bytes(np.concatenate([np.full((k % 3, 2, 2), k, np.uint16) for k in range(40)]))
    for jobs, sched in ((1, "static"), (3, "static"), (4, "dynamic"), (64, "dynamic")):
        merge(d, "-f", "-j", jobs, "--schedule", sched, "-o", "many.npy", *parts)
        assert read(os.path.join(d, "many.npy")) == want, (jobs, sched)


def test_merge_output_may_be_a_part_with_force(d):
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    b = np.arange(100, 108, dtype=np.uint8).reshape(2, 4)
    save(os.path.join(d, "a.npy"), a)
    save(os.path.join(d, "b.npy"), b)
    merge(d, "-f", "-o", "a.npy", "a.npy", "b.npy")
    assert read(os.path.join(d, "a.npy")) == npy_bytes(np.concatenate([a, b]))
    assert listing(d) == ["a.npy", "b.npy"]


def bad_part_cases():
    """The good part, and (what, bytes or None for missing) of parts that
    do not fit it."""
    good = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    whole = npy_bytes(good)
    return good, [
        ("another dtype", npy_bytes(good.astype(np.uint16))),
        ("another dtype, same size", npy_bytes(good.astype(np.int8))),
        ("another byte order", npy_bytes(good.astype(">u2"))),
        ("another trailing shape", npy_bytes(np.zeros((2, 4, 3), np.uint8))),
        ("another last axis", npy_bytes(np.zeros((2, 3, 5), np.uint8))),
        ("fewer axes", npy_bytes(np.zeros((2, 12), np.uint8))),
        ("more axes", npy_bytes(np.zeros((2, 3, 4, 1), np.uint8))),
        ("1-d", npy_bytes(np.zeros(24, np.uint8))),
        ("0-d", npy_bytes(np.array(7, np.uint8))),
        ("truncated by one byte", whole[:-1]),
        ("truncated in the header", whole[:40]),
        ("only the magic", whole[:8]),
        ("empty file", b""),
        ("trailing garbage", whole + b"garbage"),
        ("one trailing byte", whole + b"\0"),
        ("not a .npy file", b"P5\n4 3\n255\n" + bytes(12)),
        ("text", b"hello, world\n" * 10),
        ("missing", None),
    ]


def test_merge_refuses_parts_that_do_not_fit(d):
    good, cases = bad_part_cases()
    save(os.path.join(d, "good.npy"), good)
    save(os.path.join(d, "good2.npy"), good)
    for i, (what, data) in enumerate(cases):
        bad = "bad%d.npy" % i
        if data is not None:
            with open(os.path.join(d, bad), "wb") as f:
                f.write(data)
        # The bad part second, last, and (except where only the order makes
        # it bad) first.
        orders = [["good.npy", bad, "good2.npy"], ["good.npy", "good2.npy", bad]]
        if what not in ("another dtype", "another dtype, same size", "another byte order",
                        "another trailing shape", "another last axis", "fewer axes", "more axes"):
            orders.append([bad, "good.npy"])
        for parts in orders:
            before = listing(d)
            for jobs in (1, 4):
                r = ok(run("merge", "-q", "-j", jobs, "-o", "out.npy", *parts, cwd=d), 1)
                assert r.out == "", "%s: %r" % (what, r)
                first = r.err.splitlines()[0] if r.err else ""
                assert first.startswith("parimg: ") and bad in first, \
                    "%s: the message does not name %s: %r" % (what, bad, r)
                assert listing(d) == before, "%s: files left: %r" % (what, sorted(set(listing(d)) - set(before)))
                assert not os.path.exists(os.path.join(d, "out.npy")), what
        if data is not None:
            os.unlink(os.path.join(d, bad))
    assert_no_hidden(d)


def test_merge_refuses_fortran_order(d):
    # Same dtype and trailing shape as the good parts: only the order is
    # wrong, and concatenating its bytes would scramble the rows.
    good = np.arange(8, dtype=np.uint8).reshape(2, 4)
    fortran = np.asfortranarray(np.arange(12, dtype=np.uint8).reshape(3, 4))
    assert b"'fortran_order': True" in npy_bytes(fortran)
    save(os.path.join(d, "good.npy"), good)
    save(os.path.join(d, "fortran.npy"), fortran)
    for parts in (["good.npy", "fortran.npy"], ["fortran.npy", "good.npy"], ["fortran.npy"]):
        r = ok(run("merge", "-q", "-o", "out.npy", *parts, cwd=d), 1)
        assert r.err.startswith("parimg: fortran.npy: "), r
        assert listing(d) == ["fortran.npy", "good.npy"], listing(d)


def test_merge_refusal_messages(d):
    good = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    save(os.path.join(d, "good.npy"), good)
    checks = [
        (good.astype(np.uint16), r"dtype"),
        (np.zeros((2, 4, 3), np.uint8), r"shape"),
        (np.asfortranarray(np.arange(12, dtype=np.uint8).reshape(3, 4)), r"(?i)fortran"),
    ]
    for i, (a, pattern) in enumerate(checks):
        save(os.path.join(d, "b%d.npy" % i), a)
        r = ok(run("merge", "-q", "-o", "out.npy", "good.npy", "b%d.npy" % i, cwd=d), 1)
        assert re.search(pattern, r.err), (pattern, r)
    with open(os.path.join(d, "t.npy"), "wb") as f:
        f.write(npy_bytes(good)[:-3])
    r = ok(run("merge", "-q", "-o", "out.npy", "good.npy", "t.npy", cwd=d), 1)
    assert "truncated" in r.err, r
    with open(os.path.join(d, "g.npy"), "wb") as f:
        f.write(npy_bytes(good) + b"xyz")
    r = ok(run("merge", "-q", "-o", "out.npy", "good.npy", "g.npy", cwd=d), 1)
    assert "trailing" in r.err, r
    r = ok(run("merge", "-q", "-o", "out.npy", "good.npy", "nope.npy", cwd=d), 1)
    assert re.search(r"^parimg: nope\.npy: No such file or directory", r.err), r


def test_merge_refuses_directory_and_device_parts(d):
    save(os.path.join(d, "good.npy"), np.zeros((2, 3), np.uint8))
    os.mkdir(os.path.join(d, "dir.npy"))
    for bad in ("dir.npy", "/dev/null"):
        r = ok(run("merge", "-q", "-o", "out.npy", "good.npy", bad, cwd=d), 1)
        assert r.err.startswith("parimg: %s: " % bad), r
        assert listing(d) == ["dir.npy", "good.npy"], listing(d)


def test_merge_write_failure_leaves_no_temporary(d):
    # A file size limit makes writing OUT fail once the temporary file
    # exists: it must be removed, and OUT not appear.
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (150000, 150000))
    a = np.random.default_rng(8).integers(0, 255, (1, 100000), dtype=np.uint8)
    save(os.path.join(d, "a.npy"), a)
    save(os.path.join(d, "b.npy"), a)
    for jobs in ("1", "2"):
        p = subprocess.run([harness.BIN, "merge", "-q", "-j", jobs, "-o", "out.npy", "a.npy", "b.npy"], cwd=d,
                           capture_output=True, text=True, timeout=60, preexec_fn=limit)
        assert p.returncode == 1 and p.stderr.startswith("parimg: "), (p.returncode, p.stderr)
        assert listing(d) == ["a.npy", "b.npy"], listing(d)


def test_merge_existing_output(d):
    a = np.arange(6, dtype=np.uint8).reshape(3, 2)
    save(os.path.join(d, "a.npy"), a)
    with open(os.path.join(d, "out.npy"), "wb") as f:
        f.write(b"precious")
    # Refused before anything: even the parts are not looked at.
    for parts in (["a.npy", "a.npy"], ["missing.npy"], ["a.npy", "not-there.npy"]):
        r = ok(run("merge", "-q", "-o", "out.npy", *parts, cwd=d), 1)
        assert re.search(r"^parimg: out\.npy: file exists", r.err), r
        assert "missing" not in r.err and "not-there" not in r.err, r
        assert read(os.path.join(d, "out.npy")) == b"precious"
        assert listing(d) == ["a.npy", "out.npy"]
    # -f replaces; a failed -f run leaves the old file alone.
    r = ok(run("merge", "-q", "-f", "-o", "out.npy", "a.npy", "missing.npy", cwd=d), 1)
    assert read(os.path.join(d, "out.npy")) == b"precious"
    assert listing(d) == ["a.npy", "out.npy"]
    merge(d, "-f", "-o", "out.npy", "a.npy", "a.npy")
    assert read(os.path.join(d, "out.npy")) == npy_bytes(np.concatenate([a, a]))
    merge(d, "--force", "--output", "out.npy", "a.npy")
    assert read(os.path.join(d, "out.npy")) == npy_bytes(a)
    # A dangling symlink counts as existing too.
    os.symlink("nowhere", os.path.join(d, "link.npy"))
    r = ok(run("merge", "-q", "-o", "link.npy", "a.npy", cwd=d), 1)
    assert "file exists" in r.err, r
    assert_no_hidden(d)


def test_merge_usage_errors(d):
    save(os.path.join(d, "a.npy"), np.zeros((1, 2), np.uint8))
    usage_error(run("merge", "-o", "out.npy", cwd=d), "no parts")
    usage_error(run("merge", "a.npy", cwd=d), "no -o")
    usage_error(run("merge", "a.npy", "a.npy", cwd=d), "no -o, two parts")
    usage_error(run("merge", cwd=d), "nothing")
    usage_error(run("merge", "-o", cwd=d), "-o without its value")
    usage_error(run("merge", "-j", 0, "-o", "out.npy", "a.npy", cwd=d), "-j 0")
    usage_error(run("merge", "--bogus", "-o", "out.npy", "a.npy", cwd=d), "--bogus")
    assert listing(d) == ["a.npy"]
    r = ok(run("merge", "--help", cwd=d))
    assert r.out.startswith("usage: parimg merge") and r.err == "", r


def test_merge_output_directory_missing(d):
    save(os.path.join(d, "a.npy"), np.zeros((1, 2), np.uint8))
    r = ok(run("merge", "-q", "-o", "no/such/dir/out.npy", "a.npy", cwd=d), 1)
    assert r.err.startswith("parimg: "), r
    assert listing(d) == ["a.npy"]


# ---------------------------------------------------------------- example scripts

SCRIPTS = os.path.normpath(os.path.join(harness.HERE, "..", "scripts", "examples"))


def test_slurm_array_script_simulated(d):
    # The sbatch example run as Slurm would: 16 array tasks of gen, then 16
    # of load, then the merge, with the task variables set by hand.
    script = os.path.join(SCRIPTS, "slurm_array.sbatch")
    work = os.path.join(d, "work")
    base = clean_env(PARIMG=harness.BIN, WORK=work, COUNT=37, SIZE="9x5", CHANNELS=3)
    for mode in ("gen", "load"):
        for task in range(16):
            env = dict(base, SLURM_ARRAY_TASK_ID=str(task), SLURM_ARRAY_TASK_MIN="0",
                       SLURM_ARRAY_TASK_MAX="15", SLURM_ARRAY_TASK_COUNT="16", SLURM_CPUS_PER_TASK="2")
            p = subprocess.run(["bash", script, mode], env=env, cwd=d, capture_output=True, text=True,
                               timeout=60)
            assert p.returncode == 0 and p.stderr == "", (mode, task, p.stderr)
    p = subprocess.run(["bash", script, "merge"], env=base, cwd=d, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    quiet_ok(run("gen", "-q", "-n", 37, "-s", "9x5", "-c", 3, "-o", "single-data", cwd=d))
    assert_same_tree(os.path.join(work, "data"), os.path.join(d, "single-data"))
    quiet_ok(run("load", "-q", "--manifest", "single.txt", "-o", "single.npy", os.path.join(work, "data"), cwd=d))
    assert read(os.path.join(work, "dataset.npy")) == read(os.path.join(d, "single.npy"))
    assert read(os.path.join(work, "dataset.txt")) == read(os.path.join(d, "single.txt"))
    # Outside an array, or in one of another size, it refuses.
    p = subprocess.run(["bash", script, "gen"], env=base, cwd=d, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "not in a job array" in p.stderr, p.stderr
    env = dict(base, SLURM_ARRAY_TASK_ID="1", SLURM_ARRAY_TASK_MIN="0", SLURM_ARRAY_TASK_COUNT="8")
    p = subprocess.run(["bash", script, "load"], env=env, cwd=d, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "TASKS" in p.stderr, p.stderr


def test_parallel_hosts_script_locally(d):
    # With no arguments it runs on this machine alone and checks itself.
    env = clean_env(PARIMG=harness.BIN, TMPDIR=d)
    p = subprocess.run(["sh", os.path.join(SCRIPTS, "parallel_hosts.sh")], env=env, cwd=d,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert p.stdout.splitlines()[-1].startswith("parallel_hosts: ok: "), p.stdout
    assert listing(d) == [], "the script left %r" % listing(d)
    # The same on "hosts" that are this machine, in a directory of our own,
    # with more shards than fit one digit.
    work = os.path.join(d, "shared work")
    p = subprocess.run(["sh", os.path.join(SCRIPTS, "parallel_hosts.sh"), "-S", ":,:", "-d", work, "-c",
                        "-N", "12", "-n", "31", "-s", "7x3", "-j", "2"], env=env, cwd=d, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "ok" in p.stdout, p.stdout
    quiet_ok(run("load", "-q", "-o", "single.npy", os.path.join(work, "data"), cwd=d))
    assert read(os.path.join(work, "dataset.npy")) == read(os.path.join(d, "single.npy"))
    assert np.load(os.path.join(work, "dataset.npy")).shape == (31, 3, 7)
    # Hosts without a shared directory named: refused.
    p = subprocess.run(["sh", os.path.join(SCRIPTS, "parallel_hosts.sh"), "-S", "host1"], env=env, cwd=d,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "-d WORK" in p.stderr, p.stderr


harness.main(globals())
