#!/usr/bin/python3
"""Fault and hostile-input tests for parimg: workers killed from outside,
signals to the parent and to its process group, file-size limits and full
disks, existing outputs, hostile image headers and zlib bombs, decoder
crashes in a worker (simulated with the LD_PRELOAD shim tests/lib/crash_preload.c)
and sizes that overflow 64 bits. Each test checks the exit status, the
message, and what is left behind: no OUT, no hidden '.*.tmp' file anywhere
under the test's directory, and no process still running with that directory
in its command line.

Run: /usr/bin/python3 tests/cli_fault_test.py ./parimg [test_name...]
"""
import contextlib
import os
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
from harness import names, pil, png_chunk, procs_mentioning, sanitized, save_image  # noqa: E402

SHIM_SRC = os.path.join(harness.LIB, "crash_preload.c")
# The load that gets interrupted: JPEGs decoded and shrunk, a few seconds at
# -j 2 on a 2-core machine, so that a signal lands mid-run.
JPEG_N, JPEG_SIZE = 400, "512x512"
REACT_S = 1.5       # the parent must be gone this long after a worker's death
CACHE = None        # per-run cache directory, beside the tests' own


# ---------------------------------------------------------------- helpers

def cache(d):
    """A directory shared by this run's tests, removed with the harness's base."""
    global CACHE
    if CACHE is None:
        CACHE = os.path.join(os.path.dirname(d), "_cache")
        os.makedirs(CACHE, exist_ok=True)
    return CACHE


def shim(d):
    """The crash_preload.so, built once per run."""
    so = os.path.join(cache(d), "crash_preload.so")
    if not os.path.exists(so):
        subprocess.run(["cc", "-shared", "-fPIC", "-o", so, SHIM_SRC, "-ldl"], check=True,
                       timeout=60)
    return so


def shim_env(d):
    env = dict(os.environ)
    env["LD_PRELOAD"] = shim(d)
    # Under ASan, a SIGSEGV is to kill the worker, not become ASan's report.
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":handle_segv=0:handle_abort=0"
    return env


def jpeg_set(d):
    """JPEG_N colour JPEGs of JPEG_SIZE (noise, made with Pillow), once per run."""
    src = os.path.join(cache(d), "jpg")
    if not os.path.isdir(src):
        tmp = src + ".part"
        os.makedirs(tmp, exist_ok=True)
        rng = np.random.default_rng(1)
        w, h = (int(x) for x in JPEG_SIZE.split("x"))
        for i in range(JPEG_N):
            Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(
                os.path.join(tmp, "image_%d.jpg" % i), quality=90)
        os.rename(tmp, src)
    return src


def jpeg_set_long(d, copies=6):
    """JPEG_N * COPIES JPEGs for a load that must still be running when a
    worker is signalled: links image_K.jpg to jpeg_set's image_(K % JPEG_N),
    so that a message's file name still gives its index in the run."""
    src = os.path.join(cache(d), "jpg-long")
    if not os.path.isdir(src):
        base = jpeg_set(d)
        tmp = src + ".part"
        os.makedirs(tmp, exist_ok=True)
        for k in range(JPEG_N * copies):
            os.symlink(os.path.join(base, "image_%d.jpg" % (k % JPEG_N)),
                       os.path.join(tmp, "image_%d.jpg" % k))
        os.rename(tmp, src)
    return src


class Res:
    def __init__(self, code, out, err, left=()):
        self.code, self.out, self.err = code, out, err
        self.left = list(left)      # processes of its session alive after it exited

    def __repr__(self):
        return "exit %r\nstdout: %r\nstderr: %r" % (self.code, self.out[:2000], self.err[:3000])


class Proc:
    """parimg ARGS started in a session of its own, with resource LIMITS
    ((RLIMIT_x, value), ...) set in the child. Its stdout and stderr go to
    files, not pipes, so that a worker outliving the parent cannot make the
    wait for the parent hang."""

    def __init__(self, args, env=None, limits=(), stdin=None):
        def pre():
            for which, v in limits:
                resource.setrlimit(which, (v, v))
        self.files = [tempfile.TemporaryFile(), tempfile.TemporaryFile()]
        self.stdin = stdin
        self.p = subprocess.Popen([harness.BIN] + static_unless_given(args),
                                  stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                                  stdout=self.files[0], stderr=self.files[1], env=env,
                                  preexec_fn=pre if limits else None, start_new_session=True)
        self.pid = self.p.pid

    def running(self):
        return self.p.poll() is None

    def output(self):
        got = []
        for f in self.files:
            f.seek(0)
            got.append(f.read().decode(errors="replace"))
        return got

    def finish(self, timeout=120):
        """Wait for the parent (a timeout is a hang: the test fails), note
        when it exited and which processes of its session outlived it, then
        kill those and return a Res."""
        try:
            if self.stdin is None:
                self.p.wait(timeout=timeout)
            else:
                self.p.communicate(self.stdin.encode(), timeout=timeout)
            self.exited = time.monotonic()
            left = session_procs(self.pid)
        finally:
            reap_group(self.p)
        out, err = self.output()
        for f in self.files:
            f.close()
        return Res(self.p.returncode, out, err, left)


def static_unless_given(args):
    """ARGS as strings, with '--schedule static' added to a pool command that
    names no schedule: these tests check the exact ranges a static worker
    reports. The dynamic schedule, the default, is tested where named."""
    args = [str(a) for a in args]
    if args and args[0] in ("gen", "load", "merge") and "--schedule" not in args:
        args[1:1] = ["--schedule", "static"]
    return args


def run_p(args, stdin=None, env=None, limits=(), timeout=120):
    """Run parimg ARGS to its end; see Proc."""
    return Proc(args, env, limits, stdin).finish(timeout)


def reap_group(p):
    """Kill whatever is left of P's session (P's own workers) and reap P."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if p.poll() is None:
        p.kill()
    p.wait(timeout=30)


def session_procs(sid):
    """Pids of live processes (not zombies) in session SID."""
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(p))
    return pids


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def temps(d):
    """Hidden temporary files ('.NAME.PID.N.tmp') anywhere under D."""
    found = []
    for root, _, files in os.walk(d):
        found += [os.path.join(root, n) for n in files if n.startswith(".") and n.endswith(".tmp")]
    return sorted(found)


def nothing_left(d, r, out=None):
    """No OUT, no temporary file under D, no worker outliving parimg: none
    in its session, none with D in its command line."""
    if out is not None:
        assert not os.path.lexists(out), "%s was left behind\n%r" % (out, r)
    t = temps(d)
    assert not t, "temporary files left: %s\n%r" % (t, r)
    assert not r.left, "processes left running after parimg exited: %r\n%r" % (r.left, r)
    left = procs_mentioning(d)
    assert not left, "processes left running: %r\n%r" % (left, r)


def failed(r, d, out, code=1):
    """Exit CODE (a normal exit, not a signal) and nothing left behind."""
    assert r.code == code, "expected exit %d, got %r" % (code, r)
    nothing_left(d, r, out)


def pool_range(n, parts, k):
    return n * k // parts, n * (k + 1) // parts


def check_range(w, j, a, b, n):
    """The range a message gives for worker W of J is that worker's."""
    lo, hi = pool_range(n, j, w)
    assert (a, b) == (lo, hi - 1), "worker %d/%d has items %d-%d, message says %d-%d" % (
        w, j, lo, hi - 1, a, b)


def png_bytes(w, h, idat, color=0, depth=8):
    """A PNG with a correct signature and CRCs around IDAT bytes IDAT."""
    return (b"\x89PNG\r\n\x1a\n" +
            png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, 0)) +
            png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))


def valid_pngs(dirpath):
    """Every file in DIRPATH is a whole PNG (CRCs, then a full decode)."""
    n = 0
    for name in sorted(os.listdir(dirpath)):
        path = os.path.join(dirpath, name)
        assert re.fullmatch(r"image_\d+\.png", name), "unexpected file %s" % path
        with Image.open(path) as im:
            im.verify()
        with Image.open(path) as im:
            im.load()
        n += 1
    return n


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def note(msg):
    print("     %s" % msg, flush=True)


# ------------------------------------------- a. a worker killed from outside

def wait_for_workers(pr, n, timeout=30):
    """The pids of Proc PR's N workers once all are forked."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        kids = children(pr.pid)
        if len(kids) >= n:
            return kids
        assert pr.running(), "parimg ended before its workers were seen: %r" % (pr.output(),)
        time.sleep(0.005)
    raise AssertionError("parimg never had %d workers" % n)


def kill_a_worker(d, args, sig, after=0.5):
    """Start parimg ARGS (-j 2), AFTER seconds into the work send SIG to one
    worker alone; return (Res, seconds from the signal to the parent's exit)."""
    pr = Proc(args)
    try:
        wait_for_workers(pr, 2)
        time.sleep(after)
        kids = children(pr.pid)
        assert pr.running() and kids, "parimg finished before the signal: %r" % (pr.output(),)
        # The checks for leftover processes see these ones.
        assert set(procs_mentioning(d)) >= {pr.pid} | set(kids), (procs_mentioning(d), kids)
        assert set(session_procs(pr.pid)) >= {pr.pid} | set(kids), (session_procs(pr.pid), kids)
        t0 = time.monotonic()
        os.kill(kids[-1], sig)
    except BaseException:
        reap_group(pr.p)
        raise
    r = pr.finish(30)
    return r, pr.exited - t0


KILLED = r"^parimg: (?:(?P<path>.+): )?worker (?P<w>\d+)/2 \(items (?P<a>\d+)-(?P<b>\d+)\) " \
         r"killed by signal %d \(%s\)$"


def check_killed(r, took, sig, signame, n, index_of):
    """Exit 1 soon after the kill, one message naming the signal and the
    worker's range and, when it had one in hand, a file of that range."""
    assert r.code == 1, "expected exit 1, got %r" % r
    assert took < REACT_S, "parent exited %.2f s after its worker's death\n%r" % (took, r)
    found = re.findall(KILLED % (sig, signame), r.err, re.M)
    assert len(found) == 1, "expected one line about the killed worker:\n%r" % r
    m = re.search(KILLED % (sig, signame), r.err, re.M)
    w, a, b = int(m["w"]), int(m["a"]), int(m["b"])
    check_range(w, 2, a, b, n)
    if m["path"]:
        i = index_of(m["path"])
        assert a <= i <= b, "%s is not in the range %d-%d" % (m["path"], a, b)


def jpg_index(path):
    return int(re.fullmatch(r".*/image_(\d+)\.jpg", path).group(1))


def png_index(path):
    return int(re.fullmatch(r".*/image_(\d+)\.png", path).group(1))


def test_load_worker_sigkill(d):
    src = jpeg_set_long(d)
    out = os.path.join(d, "out.npy")
    # With -k too: a kill from outside is no file's fault, it ends the run.
    for k in ([], ["-k"]):
        r, took = kill_a_worker(d, ["load", "-q", "-j", 2, "--resize", "64x64", "-o", out, src] + k,
                                signal.SIGKILL)
        note("load%s: parent exited %.3f s after SIGKILL to a worker" % (" -k" if k else "", took))
        check_killed(r, took, 9, "SIGKILL", JPEG_N * 6, jpg_index)
        nothing_left(d, r, out)


def test_load_worker_sigterm(d):
    src = jpeg_set_long(d)
    out = os.path.join(d, "out.npy")
    r, took = kill_a_worker(d, ["load", "-q", "-j", 2, "--resize", "64x64", "-o", out, src],
                            signal.SIGTERM)
    check_killed(r, took, 15, "SIGTERM", JPEG_N * 6, jpg_index)
    nothing_left(d, r, out)


GEN_SLOW = ["-q", "-j", 2, "-s", "512x512", "-c", 3, "--level", 12, "-n", 1000]


def test_gen_worker_sigkill(d):
    g = os.path.join(d, "g")
    r, took = kill_a_worker(d, ["gen"] + GEN_SLOW + ["-o", g], signal.SIGKILL, after=0.7)
    note("gen: parent exited %.3f s after SIGKILL to a worker" % took)
    check_killed(r, took, 9, "SIGKILL", 1000, png_index)
    nothing_left(d, r)
    n = valid_pngs(g)
    assert 0 < n < 1000, "%d images written" % n


def test_gen_worker_sigterm(d):
    g = os.path.join(d, "g")
    r, took = kill_a_worker(d, ["gen"] + GEN_SLOW + ["-o", g], signal.SIGTERM, after=0.7)
    check_killed(r, took, 15, "SIGTERM", 1000, png_index)
    nothing_left(d, r)
    valid_pngs(g)


def test_gen_worker_killed_holding_temp_file(d):
    """A worker SIGKILLed while its temporary image exists (the shim kills
    the process right after creating any file whose name holds KILLME):
    nobody in that worker can remove the file, so the parent must."""
    g = os.path.join(d, "g")
    r = run_p(["gen", "-q", "-j", 2, "-s", "8x8", "-n", 10, "-p", "KILLME_", "-o", g],
              env=shim_env(d), timeout=60)
    assert r.code == 1, "expected exit 1, got %r" % r
    assert re.search(KILLED % (9, "SIGKILL"), r.err, re.M), r
    nothing_left(d, r)
    assert os.listdir(g) == [], os.listdir(g)


# ------------------------------------- b. signals to the parent or its group

def interrupt(d, args, sig, group, ready, after=0.4):
    """Start parimg ARGS; once READY() holds and AFTER seconds later, send SIG
    to parimg alone or to its process group (a terminal's ^C). It must die
    of that signal, leaving no worker and no temporary file."""
    pr = Proc(args)
    try:
        wait_for_workers(pr, 2)
        end = time.monotonic() + 30
        while not ready():
            assert pr.running(), "parimg ended early: %r" % (pr.output(),)
            assert time.monotonic() < end, "parimg never got ready"
            time.sleep(0.005)
        time.sleep(after)
        assert pr.running(), "parimg finished before the signal: %r" % (pr.output(),)
        t0 = time.monotonic()
        if group:
            os.killpg(pr.pid, sig)
        else:
            os.kill(pr.pid, sig)
    except BaseException:
        reap_group(pr.p)
        raise
    r = pr.finish(30)
    took = pr.exited - t0
    assert r.code == -sig, "expected death by signal %d, got %r" % (sig, r)
    # The handler allows workers a 1 s grace before SIGKILL.
    assert took < 5, "parimg took %.1f s to die of signal %d" % (took, sig)
    nothing_left(d, r)
    return r


def gen_interrupted(d, sig, group):
    # Many small files: most of the time goes to creating, writing and
    # renaming them, so the signal often finds a temporary file open.
    g = os.path.join(d, "g")
    interrupt(d, ["gen", "-q", "-j", 2, "-s", "64x64", "-n", 30000, "-o", g], sig, group,
              lambda: os.path.isdir(g) and len(os.listdir(g)) > 20)
    n = valid_pngs(g)
    assert 0 < n < 30000, "%d images written" % n


def load_interrupted(d, sig, group):
    src = jpeg_set(d)
    out = os.path.join(d, "out.npy")
    interrupt(d, ["load", "-q", "-j", 2, "--resize", "64x64", "-o", out, src], sig, group,
              lambda: bool(temps(d)))
    assert not os.path.lexists(out)


def test_gen_ctrl_c_to_group(d):
    gen_interrupted(d, signal.SIGINT, True)


def test_gen_sigterm_to_parent(d):
    gen_interrupted(d, signal.SIGTERM, False)


def test_gen_sighup_to_parent(d):
    gen_interrupted(d, signal.SIGHUP, False)


def test_load_ctrl_c_to_group(d):
    load_interrupted(d, signal.SIGINT, True)


def test_load_sigterm_to_parent(d):
    load_interrupted(d, signal.SIGTERM, False)


def test_load_sighup_to_parent(d):
    load_interrupted(d, signal.SIGHUP, False)


# --------------------------------------------- c. file-size limit, full disk

def small_pngs(d, n=20, size="64x64"):
    src = os.path.join(d, "in")
    r = run_p(["gen", "-q", "-n", n, "-s", size, "-o", src])
    assert r.code == 0, r
    return src


def test_load_file_size_limit(d):
    src = small_pngs(d)                  # the .npy: 20*64*64 + 128 bytes
    out = os.path.join(d, "out.npy")
    r = run_p(["load", "-q", "-o", out, src], limits=[(resource.RLIMIT_FSIZE, 10240)])
    assert r.code != -signal.SIGXFSZ, "killed by SIGXFSZ: %r" % r
    failed(r, d, out)
    assert r.err == "parimg: %s: File too large\n" % out, r


def test_gen_file_size_limit(d):
    g = os.path.join(d, "g")             # a 64x64 stored PNG is over 4 KiB
    r = run_p(["gen", "-q", "-j", 2, "-n", 20, "-s", "64x64", "-o", g],
              limits=[(resource.RLIMIT_FSIZE, 4096)])
    assert r.code != -signal.SIGXFSZ, "killed by SIGXFSZ: %r" % r
    failed(r, d, None)
    assert re.search(r"^parimg: %s/image_\d+\.png: File too large \[worker [01]/2 \(items "
                     r"\d+-\d+\)\]$" % re.escape(g), r.err, re.M), r
    assert os.listdir(g) == [], "partial images under final names: %r" % os.listdir(g)


def test_merge_file_size_limit(d):
    src = small_pngs(d)
    parts = [os.path.join(d, "part%d.npy" % k) for k in (0, 1)]
    for k, part in enumerate(parts):
        assert run_p(["load", "-q", "--shard", "%d/2" % k, "-o", part, src]).code == 0
    out = os.path.join(d, "out.npy")
    r = run_p(["merge", "-q", "-o", out] + parts, limits=[(resource.RLIMIT_FSIZE, 50000)])
    assert r.code != -signal.SIGXFSZ, "killed by SIGXFSZ: %r" % r
    failed(r, d, out)
    assert r.err == "parimg: %s: File too large\n" % out, r


@contextlib.contextmanager
def tmpfs(d, size="2m"):
    """A SIZE tmpfs mounted under D for the block (None when mounting is not
    allowed here: the test then only prints a note)."""
    mnt = os.path.join(d, "mnt")
    os.makedirs(mnt)
    m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", mnt],
                       capture_output=True, text=True, timeout=30)
    if m.returncode != 0:
        note("skipped: cannot mount a tmpfs here (%s)" % m.stderr.strip())
        yield None
        return
    try:
        yield mnt
    finally:
        subprocess.run(["umount", mnt], timeout=30)


def test_load_enospc(d):
    with tmpfs(d) as mnt:
        if mnt:
            src = small_pngs(d, n=1000)      # the .npy: 4 MB on a 2 MB disk
            out = os.path.join(mnt, "out.npy")
            r = run_p(["load", "-q", "-o", out, src])
            failed(r, d, out)
            # One line naming OUT, from the parent's check of the free
            # space before the first decode (no worker in it).
            assert r.err == "parimg: %s: No space left on device\n" % out, r
            assert os.listdir(mnt) == [], os.listdir(mnt)


def test_load_enospc_split(d):
    """Each part fits alone, not both: the parent's check counts the space
    of every part before the first decode, as its reservation of every part
    did."""
    with tmpfs(d, size="3m") as mnt:
        if mnt:
            src = small_pngs(d, n=1000)      # two parts of 2 MB on a 3 MB disk
            out = os.path.join(mnt, "x.npy")
            r = run_p(["load", "-q", "--split", "a=0.5,b=0.5", "-o", out, src])
            failed(r, d, None)
            assert r.err == "parimg: %s: No space left on device\n" % \
                os.path.join(mnt, "x.b.npy"), r
            assert os.listdir(mnt) == [], os.listdir(mnt)


def test_load_enospc_in_workers(d):
    """A filesystem that says nothing of its free space (the shim's
    fstatvfs fails on NOSTATFS): each worker reserves its rows' bytes
    before writing them, so the full disk is an error naming OUT that stops
    the run (under -k too), not a SIGBUS; nothing is left, no worker."""
    with tmpfs(d) as mnt:
        if mnt:
            src = small_pngs(d, n=1000)      # 4 MB on a 2 MB disk
            where = os.path.join(mnt, "NOSTATFS")
            os.makedirs(where)
            out = os.path.join(where, "out.npy")
            for extra in ([], ["-k"], ["--sandbox", "off"], ["--ragged"],
                          ["--schedule", "static", "-j", 3]):
                r = run_p(["load", "-q", "-j", 2, "-o", out] + extra + [src],
                          env=shim_env(d))
                failed(r, d, out)
                assert re.fullmatch(r"parimg: %s: No space left on device"
                                    r" \[worker \d+/\d+ \(items \d+-\d+\)\]\n"
                                    % re.escape(out), r.err), (extra, r)
                assert os.listdir(where) == [], (extra, os.listdir(where))


def test_load_enospc_without_fallocate(d):
    """A filesystem without fallocate (the shim's NOFALLOC): the workers
    cannot reserve, so the parent reserves the whole output before the
    first decode (glibc's posix_fallocate writes a byte a block): a disk
    too small still fails at once naming OUT; one large enough loads the
    same bytes."""
    with tmpfs(d) as mnt:
        if mnt:
            src = small_pngs(d, n=1000)      # 4 MB on a 2 MB disk
            # NOSTATFS too: the parent's whole reservation is the check.
            where = os.path.join(mnt, "NOFALLOC_NOSTATFS")
            os.makedirs(where)
            out = os.path.join(where, "out.npy")
            r = run_p(["load", "-q", "-j", 2, "-o", out, src], env=shim_env(d))
            failed(r, d, out)
            assert r.err == "parimg: %s: No space left on device\n" % out, r
            assert os.listdir(where) == [], os.listdir(where)
    small = small_pngs(os.path.join(d, "small"), n=20)
    ref = os.path.join(d, "ref.npy")
    assert run_p(["load", "-q", "-o", ref, small]).code == 0
    where = os.path.join(d, "NOFALLOC")
    os.makedirs(where)
    out = os.path.join(where, "out.npy")
    r = run_p(["load", "-q", "-j", 2, "-o", out, small], env=shim_env(d))
    assert r.code == 0, r
    assert open(out, "rb").read() == open(ref, "rb").read()


def test_gen_enospc(d):
    with tmpfs(d) as mnt:
        if mnt:
            g = os.path.join(mnt, "g")
            r = run_p(["gen", "-q", "-j", 2, "-n", 1000, "-s", "64x64", "-o", g])
            failed(r, d, None)
            assert re.search(r"^parimg: %s/image_\d+\.png: No space left on device \[worker"
                             % re.escape(g), r.err, re.M), r
            n = valid_pngs(g)
            assert 0 < n < 1000, n


def test_merge_enospc(d):
    """Across filesystems merge copies with pread/pwrite: a disk filling up
    shows first as a short pwrite, then as ENOSPC."""
    with tmpfs(d) as mnt:
        if mnt:
            # Two 2 MB parts on the big disk, their merge onto the 2 MB one.
            src = small_pngs(d, n=1000)
            parts = [os.path.join(d, "part%d.npy" % k) for k in (0, 1)]
            for k, part in enumerate(parts):
                rr = run_p(["load", "-q", "--shard", "%d/2" % k, "-o", part, src])
                assert rr.code == 0, rr
            out = os.path.join(mnt, "out.npy")
            r = run_p(["merge", "-q", "-o", out] + parts)
            failed(r, d, out)
            assert "No space left on device" in r.err, r
            assert os.listdir(mnt) == [], os.listdir(mnt)


# ------------------------------------------- d. existing outputs are kept

def test_gen_no_clobber(d):
    g = os.path.join(d, "g")
    keep = write(os.path.join(g, "image_5.png"), b"precious")
    before = os.stat(keep)
    # KILLME_ under the shim: a worker that opened any file would die.
    for args, env in ((["-n", 10], None), (["-n", 10, "-p", "KILLME_"], shim_env(d))):
        if env:
            os.rename(keep, os.path.join(g, "KILLME_5.png"))
            keep = os.path.join(g, "KILLME_5.png")
        r = run_p(["gen", "-q", "-j", 2, "-s", "8x8", "-o", g] + args, env=env)
        failed(r, d, None)
        assert r.err == "parimg: %s: file exists (use -f to replace it)\n" % keep, r
        assert os.listdir(g) == [os.path.basename(keep)], os.listdir(g)
        with open(keep, "rb") as f:
            assert f.read() == b"precious"
        assert os.stat(keep).st_mtime_ns == before.st_mtime_ns


def test_load_no_clobber_before_any_work(d):
    out = write(os.path.join(d, "out.npy"), b"precious")
    man = write(os.path.join(d, "rows.txt"), b"keep me")
    bad = os.path.join(d, "bad")
    write(os.path.join(bad, "x.png"), b"not an image\n")
    # Sorted first: under the shim, the parent's probe of it would crash.
    write(os.path.join(bad, "a_CRASHME.png"), b"under the shim, opening this is a crash\n")
    before = {p: os.stat(p).st_mtime_ns for p in (out, man)}
    env = shim_env(d)
    fresh = os.path.join(d, "fresh.npy")
    for args, subject in ((["-o", out], out), (["-o", fresh, "--manifest", man], man)):
        r = run_p(["load", "-q"] + args + [bad, os.path.join(d, "missing.png")], env=env)
        assert r.code == 1, "expected exit 1, got %r" % r
        assert r.err == "parimg: %s: file exists (use -f to replace it)\n" % subject, r
        nothing_left(d, r, fresh)
    for p, t in before.items():
        assert os.stat(p).st_mtime_ns == t, "%s was touched" % p
    with open(out, "rb") as f:
        assert f.read() == b"precious"


def test_merge_no_clobber(d):
    out = write(os.path.join(d, "out.npy"), b"precious")
    src = small_pngs(d, n=4, size="8x8")
    part = os.path.join(d, "part.npy")
    assert run_p(["load", "-q", "-o", part, src]).code == 0
    before = os.stat(out).st_mtime_ns
    for parts in ([os.path.join(d, "missing.npy"), os.path.join(src, "image_0.png")],
                  [part, part]):
        r = run_p(["merge", "-q", "-o", out] + parts)
        assert r.code == 1, "expected exit 1, got %r" % r
        assert r.err == "parimg: %s: file exists (use -f to replace it)\n" % out, r
        nothing_left(d, r)
    assert os.stat(out).st_mtime_ns == before
    with open(out, "rb") as f:
        assert f.read() == b"precious"


# -------------------------------------------------------- e. hostile input

AS_512M = [(resource.RLIMIT_AS, 512 << 20)]


def as_limit():
    """512 MiB of address space: a decoder that allocated for the header's
    size would fail. Not under ASan, which cannot start within it."""
    return [] if sanitized() else AS_512M


def bmp_header(w, h):
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + 16, 0, 0, 54) + info + bytes(16)


def jpeg_header(w, h):
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, h, w, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + sof + b"\xff\xd9"


def refused(d, path, reason, extra=(), stdin=None):
    """PATH alone (refused by the parent's probe) and after a good 8x8 image
    (refused by a worker), in a small address space: exit 1, a line naming
    PATH, nothing left."""
    limits = as_limit()
    good = os.path.join(d, "good", "a.png")
    if not os.path.exists(good):
        save_image(good, np.arange(64, dtype=np.uint8).reshape(8, 8))
    for k, inputs in enumerate(([path], [good, path])):
        out = os.path.join(d, "out%d.npy" % k)
        if stdin is not None:
            r = run_p(["load", "-q", "-j", 2, "--order", "none", "-o", out] + list(extra) + ["-"],
                      stdin="\n".join(inputs) + "\n", limits=limits)
        else:
            r = run_p(["load", "-q", "-j", 2, "--order", "none", "-o", out] + list(extra) + inputs,
                      limits=limits)
        assert r.code >= 0, "parimg died of signal %d: %r" % (-r.code, r)
        failed(r, d, out)
        names(r, path, reason)
        if k == 1:
            names(r, path, r"\[worker 1/2 \(items 1-1\)\]$")
    return r


def test_hostile_png_huge_header(d):
    idat = zlib.compress(bytes(100))
    # 100000x100000 and 20000x20000: parimg's --max-pixels.
    refused(d, write(os.path.join(d, "h", "huge.png"), png_bytes(100000, 100000, idat)),
            "not a supported image|too large|max-pixels")
    refused(d, write(os.path.join(d, "h", "big.png"), png_bytes(20000, 20000, idat)),
            r"image is 20000x20000, more than --max-pixels 268435456")
    refused(d, write(os.path.join(d, "h", "wide.png"), png_bytes(1 << 25, 1, idat)),
            r"image is 33554432x1, more than 16777216 pixels a side")


def test_hostile_jpeg_huge_header(d):
    p = write(os.path.join(d, "h", "huge.jpg"), jpeg_header(65535, 65535))
    refused(d, p, r"image is 65535x65535, more than --max-pixels|more than 65500 pixels a side")
    # With --max-pixels out of the way (and --resize, so that the array stays
    # small and the worker decodes), libjpeg's own limit must still refuse it.
    refused(d, p, r"unsupported JPEG \(more than 65500 pixels a side\)",
            extra=["--max-pixels", 1 << 40, "--resize", "8x8"])


def test_hostile_bmp_huge_header(d):
    """The header's size against the file's: refused before anything is
    allocated, whatever --max-pixels allows (the RLE one too: two bytes of
    RLE make at most 255 rows)."""
    p = write(os.path.join(d, "h", "huge.bmp"), bmp_header(100000, 100000))
    refused(d, p, r"truncated BMP \(30000000000 bytes of pixels expected, 16 present\)")
    refused(d, p, r"truncated BMP \(30000000000 bytes of pixels expected, 16 present\)",
            extra=["--max-pixels", 1 << 40, "--resize", "8x8"])
    rle = bytearray(bmp_header(100000, 100000) + bytes(1024))
    rle[28:34] = struct.pack("<HI", 8, 1)      # 8 bits, RLE8
    rle[10:14] = struct.pack("<I", 54 + 1024)  # pixels after a 256-entry palette
    rle += b"\x00\x02\x00\x00\xff\xff" * 4
    p = write(os.path.join(d, "h", "huge_rle.bmp"), bytes(rle))
    refused(d, p, r"truncated BMP \(40 bytes of RLE data cannot make 100000x100000 pixels\)",
            extra=["--max-pixels", 1 << 40, "--resize", "8x8"])


def test_hostile_tga_huge_header(d):
    hdr = struct.pack("<BBBHHBHHHHBB", 0, 0, 10, 0, 0, 0, 0, 0, 65535, 65535, 32, 0)
    p = write(os.path.join(d, "h", "huge.tga"), hdr + b"\xff\x00\x00\x00\x00" * 4)
    refused(d, p, r"truncated TGA \(20 bytes of RLE data cannot make 65535x65535 pixels\)",
            extra=["--max-pixels", 1 << 40, "--resize", "8x8"])
    hdr = struct.pack("<BBBHHBHHHHBB", 0, 0, 2, 0, 0, 0, 0, 0, 65535, 65535, 24, 0)
    p = write(os.path.join(d, "h", "huge_raw.tga"), hdr + bytes(30))
    refused(d, p, r"truncated TGA \(12884508675 bytes of pixels expected, 30 present\)",
            extra=["--max-pixels", 1 << 40, "--resize", "8x8"])


def test_hostile_pgm_short(d):
    p = write(os.path.join(d, "h", "huge.pgm"), b"P5 100000 100000 255\n" + bytes(10))
    refused(d, p, r"truncated PNM \(10000000000 bytes of pixels expected, 10 present\)")
    p = write(os.path.join(d, "h", "short16.pgm"), b"P5\n4 4\n65535\n" + bytes(16))
    refused(d, p, r"truncated PNM \(32 bytes of pixels expected, 16 present\)")
    p = write(os.path.join(d, "h", "huge_plain.pgm"), b"P2 100000 100000 255\n" + b"1 " * 10)
    refused(d, p, r"truncated PNM \(at least 10000000000 bytes of pixels expected, 20 present\)",
            extra=["--max-pixels", 1 << 40, "--resize", "8x8"])


def zlib_bomb(d):
    """A 4000x4000 gray PNG whose IDAT inflates to 1 GiB of zeros (the header
    allows 16004000 bytes), about 1 MB on disk. Built from one 16 MiB
    segment ended by a full flush (no reference back past it), repeated."""
    path = os.path.join(cache(d), "bomb.png")
    if not os.path.exists(path):
        seg_len, nseg = 1 << 24, 64
        co = zlib.compressobj(9)
        first = co.compress(bytes(seg_len)) + co.flush(zlib.Z_FULL_FLUSH)
        total = seg_len * nseg
        stream = (first[:2] + first[2:] * nseg + b"\x03\x00" +      # final empty block
                  struct.pack(">I", ((total % 65521) << 16) | 1))   # Adler-32 of zeros
        write(path, png_bytes(4000, 4000, stream))
    return path


def test_hostile_zlib_bomb_header_limit(d):
    bomb = zlib_bomb(d)
    # Refused on the header: no inflating, so a small address space is enough.
    refused(d, bomb, r"image is 4000x4000, more than --max-pixels 1000",
            extra=["--max-pixels", 1000])


def test_hostile_zlib_bomb_memory_cap(d):
    if sanitized():
        note("skipped: no RLIMIT_DATA on workers under a sanitizer")
        return
    bomb = zlib_bomb(d)
    out = os.path.join(d, "out.npy")
    # --max-pixels the image's own size: the worker's heap cap is then about
    # 16 bytes a pixel + 256 MiB, far below what the IDAT inflates to.
    r = run_p(["load", "-q", "--max-pixels", 4000 * 4000, "-o", out, bomb])
    assert r.code >= 0, r
    failed(r, d, out)
    names(r, bomb, "Out of memory|corrupt")
    note("bomb, --max-pixels 16000000: %s" % r.err.strip())


def test_hostile_zlib_bomb_default(d):
    """Default options: the IDAT inflates to 67 times what the header
    allows. It must be refused (the data overruns the image, or the worker's
    memory cap hits), not inflated whole and accepted."""
    bomb = zlib_bomb(d)
    out = os.path.join(d, "out.npy")
    t0 = time.monotonic()
    r = run_p(["load", "-q", "-o", out, bomb])
    took = time.monotonic() - t0
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    note("bomb, default options: exit %r in %.1f s, largest child RSS of the run so far "
         "%d MiB, stderr %r" % (r.code, took, maxrss >> 10, r.err.strip()))
    assert r.code >= 0, r
    failed(r, d, out)
    names(r, bomb, "")


def test_hostile_truncated_png(d):
    rng = np.random.default_rng(7)
    full = os.path.join(d, "full.png")
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(full)
    with open(full, "rb") as f:
        data = f.read()
    for n in (1, 7, 8, 16, 33, 41, len(data) // 2, len(data) - 12, len(data) - 1):
        p = write(os.path.join(d, "t", "cut%d.png" % n), data[:n])
        refused(d, p, "truncated PNG|not a supported image")


def test_hostile_small_files(d):
    refused(d, write(os.path.join(d, "h", "zero.png"), b""), "empty file")
    refused(d, write(os.path.join(d, "h", "x.png"), b"this is text, not a PNG\n"),
            "not a supported image")
    adir = os.path.join(d, "h", "sub", "x.png")
    os.makedirs(adir)
    refused(d, adir, "Is a directory", stdin=True)
    link = os.path.join(d, "h", "dangling.png")
    os.symlink(os.path.join(d, "h", "nowhere.png"), link)
    refused(d, link, "No such file or directory")


# ------------------------------------------ f. decoder crashes in a worker

N_CRASH = 30


def crash_dir(d, marked, mark="CRASHME"):
    """image_0 .. image_29 (16x16 gray), those in MARKED named
    image_<i>_<MARK>.png so that natural order keeps them at row i.
    Returns (dir, paths by row, Pillow's decode by row)."""
    src = os.path.join(d, "in")
    shutil.rmtree(src, ignore_errors=True)
    rng = np.random.default_rng(len(marked) * 100 + sum(marked))
    paths, want = [], []
    for i in range(N_CRASH):
        name = "image_%d_%s.png" % (i, mark) if i in marked else "image_%d.png" % i
        p = save_image(os.path.join(src, name), rng.integers(0, 256, (16, 16), dtype=np.uint8))
        paths.append(p)
        want.append(pil(p))
    return src, paths, want


def crash_run(d, marked, args, mark="CRASHME"):
    src, paths, want = crash_dir(d, marked, mark)
    out = os.path.join(d, "out.npy")
    r = run_p(["load", "-q", "-o", out] + [str(a) for a in args] + [src], env=shim_env(d),
              timeout=60)
    return r, out, paths, want


def crash_line(path, sig, jobs, dynamic):
    who = r"worker (\d+)/%d \(chunk (\d+)-(\d+)\)" % jobs if dynamic else \
        r"worker (\d+)/%d \(items (\d+)-(\d+)\)" % jobs
    return r"^parimg: %s: %s crashed with %s on this file$" % (re.escape(path), who, sig)


def check_contained(r, out, paths, want, marked, jobs, dynamic, sig="SIGSEGV"):
    assert r.code == 3, "expected exit 3, got %r" % r
    for i in marked:
        m = re.search(crash_line(paths[i], sig, jobs, dynamic), r.err, re.M)
        assert m, "no crash line for row %d:\n%r" % (i, r)
        w, a, b = (int(x) for x in m.groups())
        if not dynamic:
            check_range(w, jobs, a, b, N_CRASH)
        assert a <= i <= b, "row %d is not in the range or chunk %d-%d" % (i, a, b)
    assert len(re.findall("crashed with", r.err)) == len(marked), r
    assert re.search(r"^parimg: %s: %d of %d rows skipped \(left zero\)$"
                     % (re.escape(out), len(marked), N_CRASH), r.err, re.M), r
    arr = np.load(out)
    assert arr.shape == (N_CRASH, 16, 16), arr.shape
    for i in range(N_CRASH):
        if i in marked:
            assert not arr[i].any(), "row %d of a crashing file is not zero" % i
        else:
            assert np.array_equal(arr[i], want[i]), "row %d differs from Pillow's decode" % i
    assert not temps(os.path.dirname(out)), temps(os.path.dirname(out))


def test_crash_without_keep_going(d):
    for args in (["-j", 2], ["-j", 4, "--schedule", "dynamic"], ["-j", 1]):
        r, out, paths, want = crash_run(d, {12}, args)
        assert r.code == 1, "expected exit 1, got %r" % r
        assert re.search(r"^parimg: %s: worker \d+/\d+ \((items|chunk) \d+-\d+\) "
                         r"killed by signal 11 \(SIGSEGV\)$" % re.escape(paths[12]), r.err, re.M), r
        nothing_left(d, r, out)


def test_crash_keep_going_static(d):
    for jobs in (1, 2, 4):
        r, out, paths, want = crash_run(d, {12}, ["-k", "-j", jobs])
        check_contained(r, out, paths, want, {12}, jobs, False)
        nothing_left(d, r)
        os.remove(out)


def test_crash_keep_going_dynamic(d):
    for jobs in (2, 4):
        r, out, paths, want = crash_run(d, {12}, ["-k", "-j", jobs, "--schedule", "dynamic"])
        check_contained(r, out, paths, want, {12}, jobs, True)
        nothing_left(d, r)
        os.remove(out)


def test_crash_two_in_one_worker_range(d):
    # -j 2: worker 0 has rows 0-14, worker 1 rows 15-29. Back to back, at
    # the end of a range (no worker to restart), at the start of one.
    for marked in ({3, 9}, {5, 6}, {14, 15}, {13, 14}, {28, 29}):
        r, out, paths, want = crash_run(d, marked, ["-k", "-j", 2])
        check_contained(r, out, paths, want, marked, 2, False)
        nothing_left(d, r)
        os.remove(out)
    r, out, paths, want = crash_run(d, {5, 6}, ["-k", "-j", 2, "--schedule", "dynamic"])
    check_contained(r, out, paths, want, {5, 6}, 2, True)
    nothing_left(d, r)


def test_crash_every_file_but_the_first(d):
    # Row 0 is probed by the parent, which must not be the one to crash.
    marked = set(range(1, N_CRASH))
    for args, dynamic in ((["-j", 4], False), (["-j", 4, "--schedule", "dynamic"], True)):
        r, out, paths, want = crash_run(d, marked, ["-k"] + args)
        check_contained(r, out, paths, want, marked, 4, dynamic)
        nothing_left(d, r)
        os.remove(out)


def test_crash_abort(d):
    r, out, paths, want = crash_run(d, {7}, ["-j", 2], mark="ABORTME")
    assert r.code == 1, "expected exit 1, got %r" % r
    assert re.search(r"^parimg: %s: worker 0/2 \(items 0-14\) killed by signal 6 \(SIGABRT\)$"
                     % re.escape(paths[7]), r.err, re.M), r
    nothing_left(d, r, out)
    r, out, paths, want = crash_run(d, {7, 20}, ["-k", "-j", 2], mark="ABORTME")
    check_contained(r, out, paths, want, {7, 20}, 2, False, sig="SIGABRT")
    nothing_left(d, r)


# ------------------------------------------------- g. sizes past 64 bits

def test_gen_sizes_overflow(d):
    g = os.path.join(d, "g")
    for size, ch in (("4294967295x4294967295", 4), ("16777216x16777216", 4), ("65536x65536", 1)):
        r = run_p(["gen", "-q", "-s", size, "-c", ch, "-n", 1, "-o", g])
        assert r.code == 2, "expected exit 2 for %s, got %r" % (size, r)
        assert "too large" in r.err, r
        assert not os.path.exists(g), "gen created its output directory before refusing"
        nothing_left(d, r)


def test_load_sizes_overflow(d):
    src = os.path.join(d, "in")
    first = save_image(os.path.join(src, "image_0.png"), np.zeros((2, 2), np.uint8))
    for i in range(1, 2048):
        os.link(first, os.path.join(src, "image_%d.png" % i))
    args = ["load", "-q", "--resize", "16777216x16777216", "-c", 4, "-t", "f8"]
    # 2048 rows of 2^24 * 2^24 * 4 * 8 bytes: 2^64 bytes, past any off_t.
    out = os.path.join(d, "out.npy")
    r = run_p(args + ["-o", out, src])
    failed(r, d, out)
    assert re.fullmatch(r"parimg: %s: array of 2048 x 16777216x16777216 x 4 x 8 bytes is too "
                        r"large\n" % re.escape(out), r.err), r
    # One row, 2^53 bytes: fits an off_t, not the filesystem.
    r = run_p(args + ["-o", out, first])
    failed(r, d, out)
    assert re.fullmatch(r"parimg: %s: (File too large|No space left on device)\n"
                        % re.escape(out), r.err), r


harness.main(globals())
