#!/usr/bin/python3
"""Confinement tests for parimg load's workers (src/engine/sandbox.c, pool.c's
channel): death tests through the LD_PRELOAD shim tests/lib/sandbox_preload.c,
whose worker, once locked down and in the middle of decoding a marked JPEG,
tries what an exploited decoder would (open a file, a socket, exec, fork,
ptrace, signal its parent, write to stdout or a new file, map a file or
executable memory) or lies to its parent over the channel. Each must be
stopped and reported naming the file, with exit 1 and nothing left behind,
or under -k exit 3 with every other row as an unconfined load makes it.

Run: /usr/bin/python3 tests/cli_sandbox_test.py ./parimg [test_name...]
"""
import os
import re
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
from harness import ok, procs_mentioning, run, save_image  # noqa: E402

N = 12              # JPEGs per load; the marked one is row MARKED
MARKED = 7
ATTACKS = {         # the shim's action: the call the filter must name
    "openat": "openat", "socket": "socket", "connect": "connect", "execve": "execve",
    "fork": "clone|fork|clone3", "ptrace": "ptrace", "kill": "kill", "stdout": "write",
    "newfile": "openat", "mmapfile": "mmap", "mmapexec": "mmap", "punch": "fallocate",
    "madvremove": "madvise",
    # An int argument with its upper 32 bits set: the kernel drops them.
    "readhi": "read", "preadhi": "pread64", "lseekhi": "lseek", "madvhi": "madvise",
    # Shared anonymous memory, which RLIMIT_DATA does not count.
    "bigshm": "mmap",
}
LIES = {            # the shim's lie: what the parent must say of it
    "badindex": r"asked for items 1099511627776-1099511627776, not its own",
    "longmsg": r"sent a message of \d+ bytes",
    "forged": r"reported a failure of item 1099511627776, not one it had",
    "badtype": r"sent a message of unknown type 77",
    "badopen": r"asked to be handed items 1099511627776-1099511627776, not one it opens",
}
PWNED = "/tmp/parimg_sandbox_pwned"


def shim(d):
    """The sandbox_preload.so, built once per run."""
    return harness.shim("sandbox_preload", d)


def env_for(d, **extra):
    env = dict(os.environ)
    env["LD_PRELOAD"] = shim(d)
    env.update(extra)
    return env


def jpegs(d, action=None, marked=MARKED):
    """N small colour JPEGs (noise) in D/in, row MARKED named for ACTION."""
    src = os.path.join(d, "in")
    if os.path.isdir(src):
        for n in os.listdir(src):
            os.remove(os.path.join(src, n))
    rng = np.random.default_rng(5)
    paths = []
    for i in range(N):
        name = "img_%02d.jpg" % i
        if i == marked and action:
            name = "img_%02d_SBX_%s.jpg" % (i, action)
        paths.append(save_image(os.path.join(src, name),
                                rng.integers(0, 256, (24, 32, 3), dtype=np.uint8), quality=90))
    return src, paths


def reference(d):
    """The rows of an unconfined load of the unmarked set."""
    src, _ = jpegs(d)
    out = os.path.join(d, "ref.npy")
    ok(run("load", "-q", "-f", "--sandbox", "off", "-o", out, src))
    return np.load(out)


def temps(d):
    return [os.path.join(r, n) for r, _, fs in os.walk(d) for n in fs
            if n.startswith(".") and n.endswith(".tmp")]


def load(d, args, env, timeout=60):
    out = os.path.join(d, "out.npy")
    for f in os.listdir(d):
        if f.startswith("out.") and f.endswith(".npy"):
            os.remove(os.path.join(d, f))
    # A secret on stdin, for the attacks that try to read it.
    r = run("load", "-q", "-o", out, *args, os.path.join(d, "in"), env=env, timeout=timeout,
            stdin="secret-on-stdin\n")
    return r, out


def nothing_left(d, r, out=None):
    if out is not None:
        assert not os.path.lexists(out), "%s was left behind\n%r" % (out, r)
    assert not temps(d), "temporary files left: %s\n%r" % (temps(d), r)
    left = procs_mentioning(d)
    assert not left, "processes left running: %r\n%r" % (left, r)
    assert not os.path.exists(PWNED), "the worker created %s" % PWNED
    assert "pwned" not in r.out, r


def blocked_line(path, call):
    return (r"^parimg: %s: worker stopped: blocked system call (%s) "
            r"\(possible exploit or a bug in parimg\)$" % (re.escape(path), call))


def schedules():
    return (["-j", "2", "--schedule", "static"], ["-j", "2", "--schedule", "dynamic"],
            ["-j", "1"])


def test_attacks_stopped(d):
    for action, call in sorted(ATTACKS.items()):
        _, paths = jpegs(d, action)
        for args in schedules():
            r, out = load(d, args, env_for(d))
            assert r.code == 1, "%s %s: expected exit 1, got %r" % (action, args, r)
            assert re.search(blocked_line(paths[MARKED], call), r.err, re.M), (action, r)
            nothing_left(d, r, out)


# The other decoders' libraries, each with a few attacks (the filter is the
# same for every decoder; what differs is that the library runs in one
# thread, so that no clone is needed, and that the attack comes from inside
# it): name -> (extension, writer of a file from an (H, W, 3) array).
def write_jp2(path, arr):
    save_image(path, arr)


def write_heic(path, arr):
    png = path + ".png"
    save_image(png, arr)
    subprocess.run(["heif-enc", "-q", "80", "-o", path, png], check=True, capture_output=True)
    os.remove(png)


def write_avif(path, arr):
    png = path + ".png"
    save_image(png, arr)
    subprocess.run(["avifenc", "-j", "1", png, path], check=True, capture_output=True)
    os.remove(png)


def write_jxl(path, arr):
    png = path + ".png"
    save_image(png, arr)
    subprocess.run(["cjxl", png, path], check=True, capture_output=True)
    os.remove(png)


NEW_DECODERS = {"jp2": ("jp2", write_jp2), "heif": ("heic", write_heic),
                "avif": ("avif", write_avif), "jxl": ("jxl", write_jxl)}
NEW_ATTACKS = ("openat", "socket", "execve", "fork", "stdout", "mmapexec")


# A worker that opens its inputs itself (Landlock: files beneath the input
# roots, read-only) through the one directory descriptor its filter allows:
# an open for writing, creating or O_PATH traps (the filter reads the
# flags), whatever the path.
SELF_TRAPS = ("writeinput", "creat", "opath")
# What the filter cannot see (the path): Landlock refuses it with EACCES,
# which the shim records (the parent's "sbx:" line at exit).
SELF_REFUSED = ("beneath", "linkout")


def outside_link(d):
    """D/in/zz_link -> a secret beside the input root (not an image: not
    listed)."""
    secret = os.path.join(d, "secret.txt")
    with open(secret, "w") as f:
        f.write("PARIMG-SECRET\n")
    link = os.path.join(d, "in", "zz_link")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(secret, link)


def test_self_open_traps_write_flags(d):
    for action in SELF_TRAPS:
        _, paths = jpegs(d, action)
        for args in schedules():
            r, out = load(d, args, env_for(d))
            assert r.code == 1, "%s %s: expected exit 1, got %r" % (action, args, r)
            assert re.search(blocked_line(paths[MARKED], "openat"), r.err, re.M), (action, r)
            assert not os.path.exists(os.path.join(d, "in", "zz_created")), (action, r)
            nothing_left(d, r, out)
        r, out = load(d, ["-k", "-j", "2"], env_for(d))
        assert r.code == 3 and re.search(blocked_line(paths[MARKED], "openat"), r.err, re.M), r
        nothing_left(d, r)


def test_self_open_out_of_the_roots_refused(d):
    want = reference(d)
    for action in SELF_REFUSED:
        _, paths = jpegs(d, action)
        outside_link(d)
        for args in schedules():
            r, out = load(d, args, env_for(d))
            ok(r)
            assert "sbx: %s: Permission denied" % action in r.err, (action, args, r)
            assert np.array_equal(np.load(out), want), (action, args)
            nothing_left(d, r)
        # Unconfined, the same opens succeed: the attacks are real.
        r, out = load(d, ["--sandbox", "off"], env_for(d, SBX_UNCONFINED="1"))
        ok(r)
        assert "pwned" in r.out and "sbx: %s: opened" % action in r.err, (action, r)


def test_without_landlock_inputs_are_handed_over(d):
    # No Landlock: the parent opens every input and hands it over, and the
    # worker has no open at all (the attack's open traps, whatever path).
    want = reference(d)
    for action in ("beneath", "writeinput"):
        _, paths = jpegs(d, action)
        for args in schedules():
            r, out = load(d, args, env_for(d, SBX_NO_LANDLOCK="1"))
            assert r.code == 1, "%s %s: expected exit 1, got %r" % (action, args, r)
            assert re.search(blocked_line(paths[MARKED], "openat"), r.err, re.M), (action, r)
            nothing_left(d, r, out)
    jpegs(d)
    r, out = load(d, ["-j", "2"], env_for(d, SBX_NO_LANDLOCK="1"))
    ok(r)
    assert np.array_equal(np.load(out), want)


def test_listed_links_with_self_open(d):
    # A listed link is followed: by the worker where it leads to a file
    # beneath the input root, by the parent (which checks that it leads to
    # an image, as without self-open) where Landlock refuses the worker's
    # open because it leads out; one to a non-image out of the root is
    # refused naming the link, and none of its bytes reach a worker.
    want = reference(d)
    src = os.path.join(d, "in")
    store = os.path.join(d, "store")
    os.makedirs(store, exist_ok=True)
    shutil.move(os.path.join(src, "img_03.jpg"), os.path.join(store, "img_03.jpg"))
    os.symlink(os.path.join(store, "img_03.jpg"), os.path.join(src, "img_03.jpg"))
    os.remove(os.path.join(src, "img_05.jpg"))
    shutil.copy(os.path.join(src, "img_04.jpg"), os.path.join(src, ".hidden.jpg"))
    os.symlink(".hidden.jpg", os.path.join(src, "img_05.jpg"))
    ref5 = want.copy()
    ref5[5] = want[4]
    for args in schedules():
        r, out = load(d, args, env_for(d))
        ok(r)
        assert np.array_equal(np.load(out), ref5), args
    os.remove(os.path.join(src, "img_03.jpg"))
    with open(os.path.join(d, "secret.txt"), "w") as f:
        f.write("PARIMG-SECRET\n")
    os.symlink(os.path.join(d, "secret.txt"), os.path.join(src, "img_03.jpg"))
    for args in schedules():
        r, out = load(d, args, env_for(d))
        assert r.code == 1, r
        assert re.search(r"^parimg: %s: not a supported image" %
                         re.escape(os.path.join(src, "img_03.jpg")), r.err, re.M), r
        nothing_left(d, r, out)


def test_attacks_stopped_in_new_decoders(d):
    rng = np.random.default_rng(6)
    for fmt, (ext, write) in sorted(NEW_DECODERS.items()):
        for action in NEW_ATTACKS:
            src = os.path.join(d, "in")
            shutil.rmtree(src, ignore_errors=True)
            os.makedirs(src)
            paths = []
            for i in range(N):
                name = "img_%02d%s.%s" % (i, "_SBX_" + action if i == MARKED else "", ext)
                paths.append(os.path.join(src, name))
                write(paths[-1], rng.integers(0, 256, (24, 32, 3), dtype=np.uint8))
            for args in (["-j", "2"], ["-j", "1", "-k"]):
                r, out = load(d, args, env_for(d))
                want = 3 if "-k" in args else 1
                assert r.code == want, "%s %s %s: expected exit %d, got %r" % (
                    fmt, action, args, want, r)
                assert re.search(blocked_line(paths[MARKED], ATTACKS[action]), r.err, re.M), \
                    (fmt, action, r)
                nothing_left(d, r, None if "-k" in args else out)
            # Unmarked, the same files load confined: the library itself
            # needs nothing the filter forbids (no thread, no file), even
            # where its environment asks OpenJPEG for threads.
            os.rename(paths[MARKED], os.path.join(src, "img_%02d.%s" % (MARKED, ext)))
            r, out = load(d, ["-j", "2"], env_for(d, OPJ_NUM_THREADS="4"))
            ok(r)


def test_attacks_keep_going(d):
    want = reference(d)
    for action, call in sorted(ATTACKS.items()):
        _, paths = jpegs(d, action)
        for args in schedules():
            r, out = load(d, ["-k"] + args, env_for(d))
            assert r.code == 3, "%s %s: expected exit 3, got %r" % (action, args, r)
            assert re.search(blocked_line(paths[MARKED], call), r.err, re.M), (action, r)
            assert re.search(r"1 of %d rows skipped" % N, r.err), r
            arr = np.load(out)
            for i in range(N):
                if i != MARKED:
                    assert np.array_equal(arr[i], want[i]), "%s: row %d changed" % (action, i)
            # Stopped after decoding part of it: the parent clears the row.
            assert not arr[MARKED].any(), "%s: the skipped row is not zero" % action
            nothing_left(d, r)


def test_lies_to_the_parent(d):
    want = reference(d)
    for lie, what in sorted(LIES.items()):
        _, paths = jpegs(d, lie)
        for args in schedules():
            line = (r"^parimg: %s: worker \d+/\d+ \((items|chunk) \d+-\d+\) broke the "
                    r"protocol \(%s\) and was killed$" % (re.escape(paths[MARKED]), what))
            r, out = load(d, args, env_for(d))
            assert r.code == 1, "%s %s: expected exit 1, got %r" % (lie, args, r)
            assert re.search(line, r.err, re.M), (lie, r)
            nothing_left(d, r, out)
            r, out = load(d, ["-k"] + args, env_for(d))
            assert r.code == 3, "%s %s -k: expected exit 3, got %r" % (lie, args, r)
            assert re.search(line, r.err, re.M), (lie, r)
            arr = np.load(out)
            for i in range(N):
                if i != MARKED:
                    assert np.array_equal(arr[i], want[i]), "%s: row %d changed" % (lie, i)
            assert "AAAA" not in r.err and "forged" not in r.err.replace(paths[MARKED], ""), r
            nothing_left(d, r)


def test_output_cannot_grow(d):
    # fallocate of 1 GiB on the output: allowed as a call (load_range
    # reserves each worker's rows with it), refused by RLIMIT_FSIZE at the
    # output's size; the load goes on and the file keeps its size.
    want = reference(d)
    jpegs(d, "grow")
    for args in schedules():
        r, out = load(d, args, env_for(d))
        ok(r)
        assert os.path.getsize(out) < 1 << 20, os.path.getsize(out)
        assert os.stat(out).st_blocks * 512 < 1 << 20, os.stat(out).st_blocks
        assert np.array_equal(np.load(out), want)
        nothing_left(d, r)


def test_attacks_are_real_unconfined(d):
    # The same shim, told to attack an unconfined worker: what the filter
    # stops would have happened.
    try:
        _, paths = jpegs(d, "stdout")
        r, out = load(d, ["--sandbox", "off"], env_for(d, SBX_UNCONFINED="1"))
        ok(r)
        assert "pwned" in r.out, r
        _, paths = jpegs(d, "newfile")
        r, out = load(d, ["--sandbox", "off"], env_for(d, SBX_UNCONFINED="1"))
        ok(r)
        assert os.path.exists(PWNED), "the unconfined attack did not create %s" % PWNED
        jpegs(d, "grow")
        r, out = load(d, ["--sandbox", "off"], env_for(d, SBX_UNCONFINED="1"))
        ok(r)
        assert os.path.getsize(out) >= 1 << 30, "the unconfined worker did not grow the output"
        os.remove(out)
    finally:
        if os.path.exists(PWNED):
            os.remove(PWNED)


def test_upper_bits_are_real_unconfined(d):
    # What the filter stops in test_attacks_stopped (readhi): unconfined,
    # read((1 << 32) | 0) is read(0), and the worker reads the secret.
    jpegs(d, "readhi")
    r, out = load(d, ["--sandbox", "off"], env_for(d, SBX_UNCONFINED="1"))
    ok(r)
    assert "secret-on-stdin" in r.out, r


def test_big_shared_mapping_capped_unconfined(d):
    # RLIMIT_AS holds where no filter does: 64 GiB of shared anonymous
    # memory (which RLIMIT_DATA leaves out) cannot be mapped.
    if harness.sanitized():
        print("  skipped: no memory cap on workers under a sanitizer")
        return
    jpegs(d, "bigshm")
    r, out = load(d, ["--sandbox", "off"], env_for(d, SBX_UNCONFINED="1"))
    ok(r)
    assert "pwned" not in r.out, r


def test_forged_slot(d):
    # A worker writing below its own slot in the pool's mapping (the header
    # and the other workers' slots) finds them unmapped: it faults, or, where
    # its own allocator has mapped private memory in the hole since (ASan's
    # does), writes there to no effect. Either way no other worker is
    # blamed and every other row is what it should be.
    want = reference(d)
    _, paths = jpegs(d, "forgeslot")
    env = env_for(d, SBX_ITEM=str(MARKED))
    crash = (r"^parimg: %s: worker .* (killed by signal 11 \(SIGSEGV\)"
             r"|crashed with SIGSEGV on this file)$")
    for args in schedules():
        for kg in ([], ["-k"]):
            r, out = load(d, kg + args, env)
            faulted = r.code == (3 if kg else 1)
            assert faulted or r.code == 0, "%s: expected exit %d or 0, got %r" % (
                kg + args, 3 if kg else 1, r)
            if faulted:
                assert re.search(crash % re.escape(paths[MARKED]), r.err, re.M), (args, r)
                assert len(r.err.strip().splitlines()) == (2 if kg else 1), (args, r)
            if r.code == 1:
                nothing_left(d, r, out)
                continue
            arr = np.load(out)
            for i in range(N):
                if i != MARKED or not faulted:
                    assert np.array_equal(arr[i], want[i]), "%s: row %d changed" % (args, i)
            nothing_left(d, r)


def test_lowered_pos_keep_going(d):
    # A worker that moves its pos back to its range's first item and
    # crashes: the parent never restarts a worker below where the last one
    # started, so this ends (it used to hand out the same items forever),
    # as a broken protocol, with nothing committed.
    _, paths = jpegs(d, "lowerpos")
    env = env_for(d, SBX_ITEM=str(MARKED))
    # (Dynamic chunks here are one item: its first is the item in hand.)
    for args in (["-j", "2", "--schedule", "static"], ["-j", "1", "--schedule", "static"]):
        r, out = load(d, ["-k"] + args, env, timeout=30)
        assert r.code == 1, "%s: expected exit 1, got %r" % (args, r)
        assert re.search(r"^parimg: .*: worker .* broke the protocol \(item in hand outside "
                         r"its range\) and died$", r.err, re.M), (args, r)
        assert len(re.findall("crashed with", r.err)) <= 1, (args, r)
        nothing_left(d, r, out)


def test_header_restored(d):
    # A worker that zeroes the array's .npy header, or rewrites it as an
    # object array's whose pickle runs under np.load(allow_pickle=True):
    # the parent writes its own header back before the commit.
    want = reference(d)
    for attack in ("zerohead", "picklehead"):
        jpegs(d, attack)
        runs = [(args, env_for(d)) for args in schedules()]
        runs.append((["--sandbox", "off"], env_for(d, SBX_UNCONFINED="1")))
        for args, env in runs:
            r, out = load(d, args, env)
            ok(r)
            arr = np.load(out, allow_pickle=False)
            assert arr.dtype == np.uint8 and arr.shape == want.shape, (attack, args)
            # (The pickle itself went where row 0's first bytes are.)
            rows = slice(1, N) if attack == "picklehead" else slice(0, N)
            assert np.array_equal(arr[rows], want[rows]), (attack, args)
            nothing_left(d, r)


def test_split_parts_apart(d):
    # With --split, a worker of part a cannot reach part b's array, which
    # the parent made (and mapped) before part a's pool started: each
    # pool's workers map only their own part's. What it would scribble
    # shows in the rows part b's workers never write: a file that cannot
    # be opened (a dangling link), whose row must stay zero.
    want = reference(d)
    src, paths = jpegs(d, "otherpart", marked=3)
    bad = N // 2 + 3
    os.remove(paths[bad])
    os.symlink(os.path.join(d, "nowhere.jpg"), paths[bad])
    for args, env in ((["-j", "2"], env_for(d)),
                      (["-j", "1", "--sandbox", "off"], env_for(d, SBX_UNCONFINED="1"))):
        r, out = load(d, ["-k", "--split", "a=0.5,b=0.5"] + args, env)
        ok(r, 3)
        a = np.load(os.path.join(d, "out.a.npy"))
        b = np.load(os.path.join(d, "out.b.npy"))
        assert np.array_equal(a, want[:N // 2]), (args, "part a changed")
        for i in range(N // 2, N):
            row = b[i - N // 2]
            if i == bad:
                assert not row.any(), (args, "part b's skipped row is not zero")
            else:
                assert np.array_equal(row, want[i]), (args, "part b's row %d changed" % i)
        nothing_left(d, r)


def test_sandbox_option(d):
    src, _ = jpegs(d)
    outs = []
    for mode in ("auto", "require", "off"):
        out = os.path.join(d, "%s.npy" % mode)
        r = ok(run("load", "-q", "--sandbox", mode, "-o", out, src))
        assert r.err == "", r
        outs.append(np.load(out))
    assert all(np.array_equal(outs[0], o) for o in outs[1:])
    r = run("load", "-q", "--sandbox", "maybe", "-o", os.path.join(d, "x.npy"), src)
    assert r.code == 2 and "invalid --sandbox 'maybe'" in r.err, r
    assert "--sandbox auto|require|off" in ok(run("load", "--help")).out


def test_kernel_without_seccomp(d):
    src, _ = jpegs(d)
    env = env_for(d, SBX_NO_SECCOMP="1")
    out = os.path.join(d, "auto.npy")
    r = ok(run("load", "-q", "-o", out, src, env=env))
    warns = [ln for ln in r.err.splitlines() if "no seccomp" in ln]
    assert len(warns) == 1 and warns[0].startswith("parimg: warning: "), r
    assert np.load(out).shape == (N, 24, 32, 3)
    out = os.path.join(d, "req.npy")
    r = run("load", "-q", "--sandbox=require", "-o", out, src, env=env)
    assert r.code == 1 and re.search(r"^parimg: --sandbox=require: .*no seccomp", r.err, re.M), r
    nothing_left(d, r, out)
    r = ok(run("load", "-q", "--sandbox=off", "-o", os.path.join(d, "off.npy"), src, env=env))
    assert r.err == "", r


def test_workers_are_confined(d):
    # Seccomp mode 2 in a worker's /proc status while it decodes: a load
    # long enough to look at its workers.
    src = os.path.join(d, "big")
    rng = np.random.default_rng(2)
    for i in range(200):
        save_image(os.path.join(src, "b%03d.jpg" % i),
                   rng.integers(0, 256, (256, 256, 3), dtype=np.uint8), quality=90)
    p = subprocess.Popen([harness.BIN, "load", "-q", "-j", "2", "-o", os.path.join(d, "b.npy"),
                          src], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    modes = set()
    try:
        while p.poll() is None and 2 not in modes:
            for pid in os.listdir("/proc"):
                try:
                    with open("/proc/%s/stat" % pid) as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) != p.pid:
                            continue
                    with open("/proc/%s/status" % pid) as f:
                        for ln in f:
                            if ln.startswith("Seccomp:"):
                                modes.add(int(ln.split()[1]))
                except (OSError, ValueError, IndexError):
                    pass
    finally:
        p.wait(timeout=60)
    assert p.returncode == 0, p.stderr.read()
    # (A worker just forked is in mode 0 until it has set itself up.)
    assert 2 in modes, "workers in seccomp modes %r, never 2 (filter)" % modes


harness.main(globals())
