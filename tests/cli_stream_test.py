#!/usr/bin/python3
"""Command-line tests for compressed tars past the memory budget, streamed
(inputs/stream.c): a tar.gz, tar.zst and tar.xz of noise PNGs several times
PARIMG_ARCHIVE_MEMORY load equal to their extracted folder (the oracle:
load -r of the folder), with labels, a shuffle, a split, a shard and
--ragged; the stream's memory file, sampled from /proc while they load,
never holds more than the documented bound (two slots, each the larger of
half the budget and the largest member), and no memory file holds a copy
of the archive, not even while it is listed (it is larger than the
budget); truncated and corrupt streams are refused naming the
archive, nothing written, no process left running.

Run: /usr/bin/python3 tests/cli_stream_test.py ./parimg [test_name...]
"""
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
from harness import ok, run  # noqa: E402

BUDGET = 1 << 20
ROW = ("-c", "3", "--resize", "48x40")
ARCS = {"gz": ("czf",), "zst": ("--zstd", "-cf"), "xz": ("cJf",)}


def env():
    e = dict(os.environ)
    e["PARIMG_ARCHIVE_MEMORY"] = str(BUDGET)
    return e


def tree(d, n=40):
    """N noise PNGs of 100 to 230 KB (they hardly compress: about 6 MB, six
    times the budget) in three class folders; the largest member's size."""
    rng = np.random.default_rng(30)
    root = os.path.join(d, "tree")
    big = 0
    for i in range(n):
        w, h = 320 - (i % 5) * 30, 240 - (i % 3) * 40
        p = os.path.join(root, "c%d" % (i % 3), "n%02d.png" % i)
        harness.save_image(p, rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        big = max(big, os.path.getsize(p))
    return root, big


def archive(d, root, ext):
    arc = os.path.join(d, "t.tar." + ext)
    subprocess.run(["tar", *ARCS[ext], arc, "c0", "c1", "c2"], cwd=root, check=True)
    return arc


def memfds():
    """{(pid, fd): (name, size, allocated bytes)} of parimg's processes'
    memory files."""
    out = {}
    for pid in harness.procs_mentioning(harness.BIN):
        fds = "/proc/%d/fd" % pid
        try:
            for fd in os.listdir(fds):
                link = os.readlink(os.path.join(fds, fd))
                if link.startswith("/memfd:parimg"):
                    st = os.stat(os.path.join(fds, fd))
                    out[(pid, fd)] = (link, st.st_ino, st.st_size, st.st_blocks * 512)
        except OSError:
            pass
    return out


def sampled_load(d, *args):
    """Run load ARGS under the budget, sampling its memory files; the
    result, and the largest (name, size, allocated) seen per memory file."""
    p = subprocess.Popen([harness.BIN, "load", "-q", "-f", *args], cwd=d, env=env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = {}
    while p.poll() is None:
        for name, ino, size, alloc in memfds().values():
            old = seen.get(ino, (name, 0, 0))
            seen[ino] = (name, max(old[1], size), max(old[2], alloc))
        time.sleep(0.001)
    out, err = p.communicate()
    r = harness.Result(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return r, list(seen.values())


def bounded(name, size, alloc, slot):
    """Assert memory file NAME is within the bound: listing's copy holds
    nothing (the archive is larger than the budget: streamed from its
    first byte); the stream's ring, two slots (of the largest member a
    pool wants, or half the budget). Its allocated bytes when it is the
    ring, else 0."""
    if name.startswith("/memfd:parimg-archive"):
        assert alloc == 0, (name, alloc)
        return 0
    assert name.startswith("/memfd:parimg-stream"), name
    assert size <= 2 * slot and alloc <= size, (name, size, alloc, slot)
    return alloc


def npy(path):
    return open(path, "rb").read()


def test_streamed_equal_to_the_folder_in_bounded_memory(d):
    root, big = tree(d)
    slot = max(BUDGET // 2, 64 << 10, big)
    want = {}
    variants = {
        "plain": [*ROW],
        "labels": [*ROW, "--labels", "Y.npy", "--classes", "C.txt"],
        "shuffle": [*ROW, "--labels", "Y.npy", "--shuffle", "--seed", "7"],
        "split": [*ROW, "--labels", "Y.npy", "--shuffle", "--split", "train=0.7,val=0.3"],
        "shard": [*ROW, "--shard", "1/3"],
        "ragged": ["-c", "3", "--max-side", "48", "--ragged"],
    }
    for v, extra in variants.items():
        os.makedirs(os.path.join(d, "want", v))
        rec = [] if "--labels" in extra else ["-r"]
        ok(run("load", "-q", *rec, *extra, "-o", "X.npy", root,
               cwd=os.path.join(d, "want", v)))
        want[v] = harness.file_bytes(os.path.join(d, "want", v))
    for ext in sorted(ARCS):
        arc = archive(d, root, ext)
        assert os.path.getsize(arc) > 5 * BUDGET, (ext, os.path.getsize(arc))
        peak = 0
        for v, extra in variants.items():
            for jobs in (["-j", "2"], ["-j", "3", "--sandbox", "off"]):
                out = os.path.join(d, "got", v)
                os.makedirs(out, exist_ok=True)
                for f in os.listdir(out):
                    os.remove(os.path.join(out, f))
                r, seen = sampled_load(out, *jobs, *extra, "-o", "X.npy", arc)
                ok(r)
                assert r.err == "", (ext, v, r)
                got = harness.file_bytes(out)
                assert sorted(got) == sorted(want[v]), (ext, v, sorted(got))
                for f in got:
                    if f.endswith(".npy") or f.endswith(".txt"):
                        assert got[f] == want[v][f], (ext, v, jobs, f)
                for name, size, alloc in seen:
                    peak = max(peak, bounded(name, size, alloc, slot))
        # The sampling saw the ring at work at least once in twelve runs.
        assert peak > 0, ext


def test_bound_holds_with_a_member_larger_than_a_slot(d):
    # One member of about 2.3 MB (over half the budget: a window of its own).
    root, _ = tree(d, 9)
    rng = np.random.default_rng(3)
    p = harness.save_image(os.path.join(root, "c1", "zz.png"),
                           rng.integers(0, 256, (1000, 780, 3), dtype=np.uint8))
    big = os.path.getsize(p)
    assert big > BUDGET, big
    ok(run("load", "-q", "-r", *ROW, "-o", os.path.join(d, "want.npy"), root, cwd=d))
    arc = archive(d, root, "zst")
    r, seen = sampled_load(d, "-j", "2", *ROW, "-o", "got.npy", arc)
    ok(r)
    assert npy(os.path.join(d, "got.npy")) == npy(os.path.join(d, "want.npy"))
    for name, size, alloc in seen:
        bounded(name, size, alloc, big)


def test_truncated_and_corrupt_streams_refused(d):
    root, _ = tree(d, 24)
    for ext in sorted(ARCS):
        arc = archive(d, root, ext)
        data = open(arc, "rb").read()
        bad = os.path.join(d, "bad.tar." + ext)
        out = os.path.join(d, "out")
        os.makedirs(out, exist_ok=True)
        for label, body in (("cut", data[:len(data) * 3 // 4]),
                            ("corrupt", data[:len(data) * 3 // 4] +
                             bytes(b ^ 0x5A for b in data[len(data) * 3 // 4:][:256]) +
                             data[len(data) * 3 // 4 + 256:])):
            open(bad, "wb").write(body)
            r = run("load", "-q", "-j", "2", *ROW, "-o", os.path.join(out, "X.npy"), bad,
                    cwd=d, env=env())
            ok(r, 1)
            assert r.err.startswith("parimg: " + bad), (ext, label, r)
            assert os.listdir(out) == [], (ext, label, os.listdir(out))
            assert harness.procs_mentioning(bad) == [], (ext, label)


def test_decompressor_killed_stops_the_load(d):
    """The decompressor killed mid-stream: the load fails naming the
    archive, nothing written, no process left, no hang (the workers
    waiting for a window give up)."""
    root, _ = tree(d, 30)
    arc = archive(d, root, "gz")
    out = os.path.join(d, "out")
    os.makedirs(out)
    p = subprocess.Popen([harness.BIN, "load", "-q", "-j", "1", *ROW, "-o",
                          os.path.join(out, "X.npy"), arc], cwd=d, env=env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The decompressor: the child that opened the archive itself, under a
    # descriptor number the parent does not hold it under. (A worker, until
    # it confines itself, holds the parent's descriptors, the archive's
    # among them: killing one of those is a worker's death, which the pool
    # survives by starting another.) It waits for windows to be run (1 MiB
    # slots, 5 MB of members), so it lives through the load; it is killed
    # while it waits (its wchan a futex wait), so that the kill lands
    # before it could have finished its work and exited of itself.
    def archive_fds(pid):
        fds = set()
        for f in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, f)) == arc:
                    fds.add(f)
            except OSError:
                pass
        return fds

    killed = False
    while p.poll() is None and not killed:
        for pid in harness.procs_mentioning(arc):
            try:
                if int(open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[1]) != p.pid:
                    continue
                with open("/proc/%d/wchan" % pid) as f:
                    waiting = f.read().startswith("futex")
                if waiting and archive_fds(pid) - archive_fds(p.pid):
                    os.kill(pid, 9)
                    killed = True
                    break
            except (OSError, ValueError, IndexError):
                pass
        time.sleep(0.002)
    _, err = p.communicate(timeout=60)
    if not killed:
        return	# it finished first: nothing to check
    assert p.returncode == 1, (p.returncode, err)
    assert "parimg: " + arc in err, err
    assert os.listdir(out) == [], os.listdir(out)
    assert harness.procs_mentioning(arc) == []


def test_recurse_archives_keeps_the_spill(d):
    # With --recurse-archives a compressed tar is not streamed (its inner
    # archives are read from a copy): spilled to disk as before, and equal.
    root, _ = tree(d, 12)
    arc = archive(d, root, "gz")
    ok(run("load", "-q", "-r", *ROW, "-o", os.path.join(d, "want.npy"), root, cwd=d))
    r, seen = sampled_load(d, "--recurse-archives", *ROW, "-o", "got.npy", arc)
    ok(r)
    assert npy(os.path.join(d, "got.npy")) == npy(os.path.join(d, "want.npy"))
    assert not any(n.startswith("/memfd:parimg-stream") for n, _, _ in seen), seen


def test_masks_and_a_table_with_a_streamed_archive(d):
    # The features that reach into the pool's items (a mask handed beside
    # each image, a table member kept while listing) work on a streamed
    # archive's rows as on the folder's: same images, masks and labels,
    # confined and not. (A mask's pair hook once got the stream's wrapper
    # for its context: the parent crashed.)
    from PIL import Image
    root, _ = tree(d, 24)
    rng = np.random.default_rng(31)
    rows = ["file_name,label"]
    for c in range(3):
        for f in sorted(os.listdir(os.path.join(root, "c%d" % c))):
            w, h = Image.open(os.path.join(root, "c%d" % c, f)).size
            m = Image.fromarray(rng.integers(0, 21, (h, w), dtype=np.uint8), "P")
            m.putpalette(list(range(256)) * 3)
            os.makedirs(os.path.join(d, "masks", "c%d" % c), exist_ok=True)
            m.save(os.path.join(d, "masks", "c%d" % c, f))
            rows.append("c%d/%s,%s" % (c, f, "odd" if int(f[1:3]) % 2 else "even"))
    with open(os.path.join(root, "t.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    arc = os.path.join(d, "t.tar.gz")
    subprocess.run(["tar", "czf", arc, "c0", "c1", "c2", "t.csv"], cwd=root, check=True)
    mk = ("--masks", "masks", "--masks-out")
    ok(run("load", "-q", "-r", *ROW, *mk, "wm.npy", "-o", "w.npy", root, cwd=d))
    ok(run("load", "-q", *ROW, "--labels-from", os.path.join(root, "t.csv"),
           "--labels", "wy.npy", "-o", "wl.npy", root, cwd=d))
    for sandbox in ("require", "off"):
        r, seen = sampled_load(d, "--sandbox", sandbox, *ROW, *mk, "gm.npy", "-o", "g.npy", arc)
        ok(r)
        assert any(n.startswith("/memfd:parimg-stream") for n, _, _ in seen), seen
        assert npy(os.path.join(d, "g.npy")) == npy(os.path.join(d, "w.npy"))
        assert npy(os.path.join(d, "gm.npy")) == npy(os.path.join(d, "wm.npy"))
    # The masks from a zip beside the streamed rows: never streamed
    # themselves, the same masks.
    import zipfile
    with zipfile.ZipFile(os.path.join(d, "masks.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        for c in range(3):
            for f in sorted(os.listdir(os.path.join(d, "masks", "c%d" % c))):
                z.write(os.path.join(d, "masks", "c%d" % c, f), "c%d/%s" % (c, f))
    for sandbox in ("require", "off"):
        r, seen = sampled_load(d, "--sandbox", sandbox, *ROW, "--masks", "masks.zip",
                               "--masks-out", "gz.npy", "-o", "g.npy", arc)
        ok(r)
        assert any(n.startswith("/memfd:parimg-stream") for n, _, _ in seen), seen
        assert npy(os.path.join(d, "g.npy")) == npy(os.path.join(d, "w.npy"))
        assert npy(os.path.join(d, "gz.npy")) == npy(os.path.join(d, "wm.npy"))
    r, _ = sampled_load(d, *ROW, "--labels-from", arc + ":t.csv", "--labels", "gy.npy",
                        "-o", "gl.npy", arc)
    ok(r)
    assert npy(os.path.join(d, "gl.npy")) == npy(os.path.join(d, "wl.npy"))
    assert np.array_equal(np.load(os.path.join(d, "gy.npy")), np.load(os.path.join(d, "wy.npy")))


if __name__ == "__main__":
    harness.main(globals())
