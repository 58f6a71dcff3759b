#!/usr/bin/python3
"""Command-line tests for "parimg gen": exit status, messages and the files
it leaves behind. The oracles are Pillow (decoding) and numpy (pixels), never
parimg's own code.

Run: /usr/bin/python3 tests/cli_gen_test.py ./parimg [test_name...]
"""
import hashlib
import os
import re
import resource
import select
import signal
import stat
import subprocess
import sys
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
from harness import file_bytes, listing, ok, run, sanitized  # noqa: E402

SRC = os.path.normpath(os.path.join(harness.HERE, "..", "src", "cmd"))


# ---------------------------------------------------------------- helpers

def gen(d, *args, code=0, **kw):
    """Run "parimg gen ARGS" in D; assert the exit status. A successful run
    with a pipe for stderr (not a terminal) must be silent on both streams."""
    r = ok(run("gen", *args, cwd=d, **kw), code)
    if code == 0:
        assert r.out == "" and r.err == "", "successful gen printed something: %r" % r
    return r


def names(n, prefix="image_", ext="png", digits=0):
    return sorted("%s%0*d.%s" % (prefix, digits, i, ext) for i in range(n))


def assert_listing(d, expected):
    got = listing(d)
    if got != sorted(expected):
        extra = sorted(set(got) - set(expected))
        missing = sorted(set(expected) - set(got))
        raise AssertionError("%s: unexpected files %r, missing %r" % (d, extra[:10], missing[:10]))


def decode(path):
    """(Pillow format, mode, size, pixels) of PATH, fully decoded."""
    with Image.open(path) as im:
        im.load()
        return im.format, im.mode, im.size, np.asarray(im)


def pixels(path):
    return decode(path)[3]


def usage_error(r, what=""):
    """Exit 2, nothing on stdout, a "parimg: " message, and a pointer to --help."""
    assert r.code == 2, "%s: expected exit 2, got %r" % (what, r)
    assert r.out == "", "%s: usage error wrote to stdout: %r" % (what, r)
    lines = r.err.splitlines()
    assert any(l.startswith("parimg: ") and len(l) > len("parimg: ") for l in lines), \
        "%s: no 'parimg: ...' line: %r" % (what, r)
    assert any("--help" in l for l in lines), "%s: no line mentioning --help: %r" % (what, r)


def run_memory_capped(args, cwd):
    """Run parimg with its address space capped at 1 GiB, so that a size check
    that fails to stop the run ends in a failed malloc, not in the OOM killer.
    ASan binaries need a huge address space, so they get ASan's own cap."""
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                           ":allocator_may_return_null=1:max_allocation_size_mb=1024").lstrip(":")
    limit = None
    if not sanitized():
        def limit():
            resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    proc = subprocess.run([harness.BIN] + [str(a) for a in args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60, preexec_fn=limit)
    return harness.Result(proc)


def read_pty(fd, timeout=0.5):
    data = b""
    while True:
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return data
        try:
            chunk = os.read(fd, 65536)
        except OSError:     # EIO: the other side is closed
            return data
        if not chunk:
            return data
        data += chunk


def run_with_tty_stderr(args, cwd):
    """Run parimg with stderr on a pseudo-terminal; (exit status, stdout, tty bytes)."""
    master, slave = os.openpty()
    try:
        p = subprocess.Popen([harness.BIN] + [str(a) for a in args], cwd=cwd, stdout=subprocess.PIPE,
                             stderr=slave, stdin=subprocess.DEVNULL)
        os.close(slave)
        slave = None
        out, _ = p.communicate(timeout=60)
        return p.returncode, out, read_pty(master)
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)


# ---------------------------------------------------------------- defaults

def test_defaults_2000_gray_100x100_pngs(d):
    gen(d)
    # Exactly the 2000 images: no temporary or hidden files left behind.
    assert_listing(d, names(2000))
    mask = os.umask(0)
    os.umask(mask)
    for n in names(2000):
        p = os.path.join(d, n)
        st = os.lstat(p)
        assert stat.S_ISREG(st.st_mode), "%s is not a regular file" % n
        assert st.st_mode & 0o777 == 0o666 & ~mask, "%s: mode %o" % (n, st.st_mode & 0o777)
        fmt, mode, size, a = decode(p)
        assert (fmt, mode, size) == ("PNG", "L", (100, 100)), (n, fmt, mode, size)
        assert a.shape == (100, 100) and a.dtype == np.uint8, (n, a.shape, a.dtype)


# ------------------------------------------------- sizes, channels, formats

def test_channels_give_pillow_modes(d):
    for c, want in ((1, "L"), (2, "LA"), (3, "RGB"), (4, "RGBA")):
        out = os.path.join(d, "c%d" % c)
        gen(d, "-n", 3, "-s", "37x21", "-c", c, "-o", out)
        assert_listing(out, names(3))
        for n in names(3):
            fmt, mode, size, a = decode(os.path.join(out, n))
            assert (fmt, mode, size) == ("PNG", want, (37, 21)), (c, n, fmt, mode, size)
            assert a.shape[:2] == (21, 37), (c, a.shape)


def test_formats_bmp_tga_jpg(d):
    cases = (("bmp", "BMP", 3), ("bmp", "BMP", 4), ("bmp", "BMP", 1),
             ("tga", "TGA", 1), ("tga", "TGA", 2), ("tga", "TGA", 4),
             ("jpg", "JPEG", 1), ("jpg", "JPEG", 3))
    for ext, pil, c in cases:
        out = os.path.join(d, "%s%d" % (ext, c))
        gen(d, "-n", 4, "-s", "37x21", "-c", c, "-F", ext, "-o", out)
        assert_listing(out, names(4, ext=ext))
        for n in names(4, ext=ext):
            fmt, mode, size, _ = decode(os.path.join(out, n))
            assert (fmt, size) == (pil, (37, 21)), (ext, c, n, fmt, size)
    # Long option spelling, too.
    out = os.path.join(d, "long")
    gen(d, "--format", "tga", "-n", 1, "-o", out)
    assert_listing(out, ["image_0.tga"])


def test_png_tga_bmp_pixels_agree(d):
    """The pixels depend only on seed, index, size and channels, not the format."""
    for c in (1, 2, 3, 4):
        arr = {}
        for ext in ("png", "tga", "bmp"):
            if ext == "bmp" and c == 2:
                continue
            out = os.path.join(d, "%s%d" % (ext, c))
            gen(d, "-n", 3, "-s", "37x21", "-c", c, "--seed", 7, "-F", ext, "-o", out)
            arr[ext] = [pixels(os.path.join(out, n)) for n in names(3, ext=ext)]
        for i in range(3):
            png = arr["png"][i]
            assert np.array_equal(png, arr["tga"][i]), "png and tga differ: -c %d image %d" % (c, i)
            if c == 1:
                # Pillow reads stb's 24-bit gray BMP as RGB with R = G = B.
                bmp = arr["bmp"][i]
                assert bmp.ndim == 3 and bmp.shape[2] == 3, bmp.shape
                for k in range(3):
                    assert np.array_equal(png, bmp[..., k]), "png and bmp differ: -c 1 image %d" % i
            elif c != 2:
                assert np.array_equal(png, arr["bmp"][i]), "png and bmp differ: -c %d image %d" % (c, i)
        # Different images really are different.
        assert not np.array_equal(arr["png"][0], arr["png"][1])


def test_jpg_quality(d):
    runs = {}
    for q in ("50", "90", "100", None):
        out = os.path.join(d, "q%s" % q)
        args = ["-n", 3, "-s", "64x48", "-c", 3, "-F", "jpg", "-o", out]
        if q:
            args += ["--quality", q]
        gen(d, *args)
        assert_listing(out, names(3, ext="jpg"))
        runs[q] = file_bytes(out)
    assert runs["50"] != runs["90"], "--quality 50 and 90 gave the same bytes"
    for n in runs["50"]:
        assert runs["50"][n] != runs["100"][n], "--quality made no difference to %s" % n
    assert runs[None] == runs["90"], "the default quality is not the documented 90"
    # At quality 100 the JPEG holds the same noise as the PNG, give or take.
    png = os.path.join(d, "png")
    gen(d, "-n", 3, "-s", "64x48", "-c", 3, "-o", png)
    for i in range(3):
        a = pixels(os.path.join(png, "image_%d.png" % i)).astype(int)
        b = pixels(os.path.join(d, "q100", "image_%d.jpg" % i)).astype(int)
        assert np.abs(a - b).mean() < 4, "jpg q100 is far from the png: image %d" % i


def test_format_channel_combinations_refused(d):
    for args in (["-F", "jpg", "-c", 2], ["-F", "jpg", "-c", 4], ["-F", "bmp", "-c", 2]):
        out = os.path.join(d, "out")
        r = run("gen", "-n", 2, "-o", out, *args, cwd=d)
        usage_error(r, " ".join(map(str, args)))
        assert not os.path.exists(out), "%s: refused but created %s: %r" % (args, listing(d), r)
        assert listing(d) == [], (args, listing(d))


# --------------------------------------------------------------- the noise

def check_noise_set(d, jobs):
    gen(d, "-j", jobs)
    assert_listing(d, names(2000))
    hist = np.zeros(256, dtype=np.int64)
    seen = {}
    for n in names(2000):
        a = pixels(os.path.join(d, n))
        assert a.shape == (100, 100)
        hist += np.bincount(a.ravel(), minlength=256)
        h = hashlib.sha256(a.tobytes()).hexdigest()
        assert h not in seen, "-j %s: %s and %s have the same pixels" % (jobs, seen[h], n)
        seen[h] = n
    assert len(seen) == 2000
    total = hist.sum()
    assert total == 2000 * 100 * 100
    mean = float((hist * np.arange(256)).sum()) / total
    assert abs(mean - 127.5) < 1, "-j %s: mean pixel %.3f" % (jobs, mean)
    assert (hist > 0).all(), "-j %s: byte values never seen: %r" % (jobs, np.flatnonzero(hist == 0))
    # Roughly uniform: every value within 10% of its expected count (78125).
    expect = total / 256
    assert np.abs(hist - expect).max() < 0.1 * expect, "-j %s: histogram far from uniform" % jobs


def test_noise_uniform_and_distinct_j2(d):
    check_noise_set(d, 2)


def test_noise_uniform_and_distinct_j8(d):
    check_noise_set(d, 8)


def test_channels_are_not_copies(d):
    """Each channel is its own noise, not one plane repeated."""
    gen(d, "-n", 2, "-s", "50x40", "-c", 4)
    for n in names(2):
        a = pixels(os.path.join(d, n))
        for i in range(4):
            for j in range(i + 1, 4):
                assert not np.array_equal(a[..., i], a[..., j]), (n, i, j)


# ------------------------------------------------------------- determinism

def test_deterministic_across_jobs_schedules_runs(d):
    ref_dir = os.path.join(d, "ref")
    gen(d, "-n", 1000, "-j", 1, "-o", ref_dir)
    ref = file_bytes(ref_dir)
    assert sorted(ref) == names(1000)
    variants = [["-j", 2], ["-j", 3], ["-j", 7, "--schedule", "static"], ["-j", 16],
                ["-j", 2, "--schedule", "dynamic"], ["-j", 16, "--schedule", "dynamic"],
                ["-j", 1]]
    for k, args in enumerate(variants):
        out = os.path.join(d, "v%d" % k)
        gen(d, *(args + ["-n", 1000, "-o", out]))
        got = file_bytes(out)
        assert sorted(got) == sorted(ref), (args, sorted(set(got) ^ set(ref))[:5])
        diff = [n for n in ref if got[n] != ref[n]]
        assert not diff, "%s: %d files differ from -j 1, e.g. %s" % (args, len(diff), diff[:3])


def test_seed(d):
    for name, args in (("default", []), ("s0", ["--seed", 0]), ("s1", ["--seed", 1]),
                       ("s1b", ["--seed", 1]), ("big", ["--seed", "18446744073709551615"])):
        gen(d, "-n", 50, "-o", os.path.join(d, name), *args)
    default, s0, s1 = (file_bytes(os.path.join(d, x)) for x in ("default", "s0", "s1"))
    assert default == s0, "the default seed is not the documented 0"
    assert file_bytes(os.path.join(d, "s1b")) == s1, "--seed 1 twice gave different files"
    for n in names(50):
        a0 = pixels(os.path.join(d, "s0", n))
        a1 = pixels(os.path.join(d, "s1", n))
        ab = pixels(os.path.join(d, "big", n))
        assert not np.array_equal(a0, a1), "--seed 0 and 1 give the same %s" % n
        assert not np.array_equal(a0, ab), "--seed 0 and 2^64-1 give the same %s" % n
    # (seed 0, image 1) and (seed 1, image 0) are unrelated, not shifted copies.
    assert not np.array_equal(pixels(os.path.join(d, "s0", "image_1.png")),
                              pixels(os.path.join(d, "s1", "image_0.png")))


# ------------------------------------------------------------------ naming

def test_digits(d):
    gen(d, "-n", 12, "--digits", 5)
    assert_listing(d, names(12, digits=5))
    assert "image_00000.png" in listing(d) and "image_00011.png" in listing(d)
    # Fewer digits than the index needs: no truncation.
    out = os.path.join(d, "two")
    gen(d, "-n", 120, "--digits", 2, "-o", out)
    assert_listing(out, names(120, digits=2))
    assert "image_119.png" in listing(out)
    # Padding changes the name only, never the pixels.
    plain = os.path.join(d, "plain")
    gen(d, "-n", 12, "-o", plain)
    for i in range(12):
        with open(os.path.join(plain, "image_%d.png" % i), "rb") as f1, \
                open(os.path.join(d, "image_%05d.png" % i), "rb") as f2:
            assert f1.read() == f2.read(), i


def test_prefix(d):
    gen(d, "-n", 3, "-p", "foo_")
    assert_listing(d, ["foo_0.png", "foo_1.png", "foo_2.png"])
    out = os.path.join(d, "empty")
    gen(d, "-n", 2, "--prefix", "", "-o", out)
    assert_listing(out, ["0.png", "1.png"])
    for n in ("0.png", "1.png"):
        assert decode(os.path.join(out, n))[:3] == ("PNG", "L", (100, 100))


def test_output_creates_nested_directory(d):
    gen(d, "-n", 3, "-o", "a/b/c")
    assert_listing(os.path.join(d, "a"), ["b"])
    assert_listing(os.path.join(d, "a", "b"), ["c"])
    assert_listing(os.path.join(d, "a", "b", "c"), names(3))
    assert listing(d) == ["a"]
    # An absolute path, with a trailing slash, into an existing directory.
    out = os.path.join(d, "x") + "/"
    os.mkdir(out)
    gen(d, "-n", 2, "--output", out)
    assert_listing(out, names(2))
    # "." is the current directory.
    sub = os.path.join(d, "dot")
    os.mkdir(sub)
    gen(sub, "-n", 2, "-o", ".")
    assert_listing(sub, names(2))


def test_count_zero_and_one(d):
    gen(d, "-n", 0)
    assert listing(d) == [], listing(d)
    gen(d, "-n", 1)
    assert_listing(d, ["image_0.png"])
    assert decode(os.path.join(d, "image_0.png"))[:3] == ("PNG", "L", (100, 100))
    # Image 0 is the same whatever the count.
    more = os.path.join(d, "more")
    gen(d, "-n", 5, "-o", more)
    with open(os.path.join(d, "image_0.png"), "rb") as f1, \
            open(os.path.join(more, "image_0.png"), "rb") as f2:
        assert f1.read() == f2.read()


def test_more_jobs_than_images(d):
    for sched in ("static", "dynamic"):
        out = os.path.join(d, sched)
        gen(d, "-n", 3, "-j", 16, "--schedule", sched, "-o", out)
        assert_listing(out, names(3))


def test_long_options(d):
    gen(d, "--count", 3, "--size", "5x4", "--channels", 3, "--output", "o", "--prefix", "p",
        "--format", "tga", "--seed", 3, "--jobs", 2, "--schedule", "dynamic", "--quiet",
        "--digits", 2)
    out = os.path.join(d, "o")
    assert_listing(out, ["p00.tga", "p01.tga", "p02.tga"])
    assert decode(os.path.join(out, "p01.tga"))[:3] == ("TGA", "RGB", (5, 4))
    gen(d, "--count", 3, "--size", "5x4", "--channels", 3, "--output", "o", "--prefix", "p",
        "--format", "tga", "--seed", 3, "--force", "--digits", 2)
    assert_listing(out, ["p00.tga", "p01.tga", "p02.tga"])


# ------------------------------------------------------------------ levels

def test_levels_decode_to_same_pixels(d):
    ref = None
    sizes = {}
    for level in range(13):
        out = os.path.join(d, "l%d" % level)
        gen(d, "-n", 4, "-s", "40x30", "-c", 3, "--level", level, "-o", out)
        assert_listing(out, names(4))
        arrs = []
        for n in names(4):
            p = os.path.join(out, n)
            with Image.open(p) as im:
                im.verify()     # checks the chunk CRCs
            fmt, mode, size, a = decode(p)
            assert (fmt, mode, size) == ("PNG", "RGB", (40, 30)), (level, n)
            arrs.append(a)
        sizes[level] = os.path.getsize(os.path.join(out, "image_0.png"))
        if ref is None:
            ref = arrs
        for i in range(4):
            assert np.array_equal(arrs[i], ref[i]), "--level %d changes image %d" % (level, i)
    # Level 0 is stored: at least the raw scanlines (one filter byte per row).
    assert sizes[0] >= 30 * (40 * 3 + 1), sizes


def test_level_9_default_size(d):
    gen(d, "-n", 20, "--level", 9)
    assert_listing(d, names(20))
    ref = os.path.join(d, "ref")
    gen(d, "-n", 20, "-o", ref)
    for n in names(20):
        p = os.path.join(d, n)
        with Image.open(p) as im:
            im.verify()
        assert np.array_equal(pixels(p), pixels(os.path.join(ref, n))), n


# ------------------------------------------------------------ no clobbering

def test_no_clobber_refuses_and_touches_nothing(d):
    out = os.path.join(d, "out")
    os.mkdir(out)
    victim = os.path.join(out, "image_5.png")
    with open(victim, "wb") as f:
        f.write(b"precious, not a png\n")
    os.utime(victim, (1000000000, 1000000000))
    r = run("gen", "-n", 10, "-o", out, cwd=d)
    ok(r, 1)
    assert r.out == "", r
    assert r.err == "parimg: %s/image_5.png: file exists (use -f to replace it)\n" % out, r
    assert listing(out) == ["image_5.png"], "gen wrote files before refusing: %r" % listing(out)
    with open(victim, "rb") as f:
        assert f.read() == b"precious, not a png\n"
    assert os.stat(victim).st_mtime == 1000000000
    # -j 1 and dynamic scheduling refuse just the same.
    for args in (["-j", 1], ["-j", 4, "--schedule", "dynamic"]):
        r = ok(run("gen", "-n", 10, "-o", out, *args, cwd=d), 1)
        assert "image_5.png: file exists" in r.err, r
        assert listing(out) == ["image_5.png"], (args, listing(out))

    # With -f it replaces the file with the real image 5.
    gen(d, "-n", 10, "-o", out, "-f")
    assert_listing(out, names(10))
    ref = os.path.join(d, "ref")
    gen(d, "-n", 10, "-o", ref)
    for n in names(10):
        with open(os.path.join(out, n), "rb") as f1, open(os.path.join(ref, n), "rb") as f2:
            assert f1.read() == f2.read(), n


def test_no_clobber_in_current_directory(d):
    with open(os.path.join(d, "image_5.png"), "wb") as f:
        f.write(b"x")
    r = ok(run("gen", "-n", 10, cwd=d), 1)
    assert r.err == "parimg: image_5.png: file exists (use -f to replace it)\n", r
    assert listing(d) == ["image_5.png"], listing(d)
    # A file outside the range is not in the way.
    r = ok(run("gen", "-n", 5, cwd=d), 0)
    assert_listing(d, names(5) + ["image_5.png"])
    with open(os.path.join(d, "image_5.png"), "rb") as f:
        assert f.read() == b"x"


def test_no_clobber_dangling_symlink(d):
    """A dangling symlink is in the way too: gen must not write through it."""
    os.symlink(os.path.join(d, "elsewhere"), os.path.join(d, "image_1.png"))
    r = ok(run("gen", "-n", 3, cwd=d), 1)
    assert "image_1.png: file exists" in r.err, r
    assert listing(d) == ["image_1.png"], listing(d)


# ------------------------------------------------------------ usage errors

USAGE_CASES = [
    ["-n", "-1"], ["-n", "abc"], ["-n", "1.5"], ["-n", ""], ["-n", " 5"], ["-n", "5 "],
    ["-n", "99999999999999999999999"],
    ["-s", "0x5"], ["-s", "5x0"], ["-s", "100"], ["-s", "10x10x10"], ["-s", "axb"],
    ["-s", "-5x5"], ["-s", "x5"], ["-s", "5x"],
    ["-c", "0"], ["-c", "7"], ["-c", "5"], ["-c", "one"],
    ["-F", "gif"], ["-F", "PNG"], ["-F", ""],
    ["--quality", "0"], ["--quality", "101"],
    ["--level", "13"], ["--level", "-1"],
    ["--digits", "x"], ["--digits", "65"],
    ["--seed", "-1"], ["--seed", "18446744073709551616"], ["--seed", "0x10"],
    ["-j", "0"], ["-j", "abc"], ["-j", "1025"],
    ["--schedule", "fast"], ["--schedule", ""],
    ["--bogus"], ["-Z"], ["-n"], ["stray"], ["-n", "3", "stray"],
    ["-p", "a/b"], ["-p", "/abs"],
]


def test_usage_errors(d):
    for args in USAGE_CASES:
        r = run("gen", "-o", "out", *args, cwd=d)
        usage_error(r, "gen -o out " + " ".join(args))
        assert listing(d) == [], "%s: left %r" % (args, listing(d))
    # The same without -o: nothing in the current directory either.
    for args in (["-n", "-1"], ["-c", "7"], ["stray"]):
        usage_error(run("gen", *args, cwd=d), " ".join(args))
        assert listing(d) == [], (args, listing(d))


def test_usage_error_messages_name_the_value(d):
    for args, word in ((["-n", "abc"], "abc"), (["-s", "axb"], "axb"), (["-c", "7"], "7"),
                       (["-F", "gif"], "gif"), (["--schedule", "fast"], "fast"),
                       (["-j", "0"], "--jobs"), (["--level", "13"], "13"),
                       (["stray"], "stray")):
        r = run("gen", *args, cwd=d)
        usage_error(r, " ".join(args))
        first = r.err.splitlines()[0]
        assert first.startswith("parimg: ") and word in first, (args, r)


def test_getopt_errors_follow_message_convention(d):
    """Unknown options and missing arguments are reported like every other
    error: one "parimg: " line naming the option, then the --help hint."""
    for args, word in ((["--bogus"], "--bogus"), (["-Z"], "Z"), (["-n"], "n"),
                       (["--count"], "--count")):
        r = run("gen", *args, cwd=d)
        usage_error(r, " ".join(args))
        for line in r.err.splitlines():
            assert line.startswith("parimg: ") or "--help" in line, \
                "%s: stderr line without the 'parimg: ' prefix: %r" % (args, line)
        assert any(l.startswith("parimg: ") and word in l for l in r.err.splitlines()), \
            "%s: no 'parimg: ' line names the option: %r" % (args, r.err)


def test_sizes_too_large_refused_up_front(d):
    """Sizes no encoder can hold are usage errors found before any work: no
    directory, no files, no attempt to allocate the pixels."""
    for args in (["-s", "4294967295x4294967295"], ["-s", "70000x70000", "-c", 4],
                 ["-s", "16777216x16777216", "-c", 4], ["-s", "16777217x1"],
                 ["-s", "4294967296x1"], ["-F", "tga", "-s", "65536x1"],
                 ["-F", "jpg", "-s", "1x65536"]):
        out = os.path.join(d, "out")
        r = run_memory_capped(["gen", "-n", 1, "-o", out] + args, cwd=d)
        usage_error(r, " ".join(map(str, args)))
        assert not os.path.exists(out), \
            "%s: refused but created the output directory %s" % (args, listing(out))
        assert listing(d) == [], (args, listing(d))
    # The largest sizes that are allowed still parse (nothing big is written: -n 0).
    for args in (["-F", "tga", "-s", "65535x1"], ["-s", "16777216x1"]):
        gen(d, "-n", 0, *args)
    assert listing(d) == []


# ---------------------------------------------------------- runtime errors

def test_output_is_a_regular_file(d):
    f = os.path.join(d, "file")
    with open(f, "w") as fh:
        fh.write("keep")
    r = ok(run("gen", "-n", 3, "-o", f, cwd=d), 1)
    assert r.out == "" and r.err == "parimg: %s: not a directory\n" % f, r
    assert listing(d) == ["file"]
    with open(f) as fh:
        assert fh.read() == "keep"


def test_output_under_a_regular_file(d):
    f = os.path.join(d, "file")
    with open(f, "w") as fh:
        fh.write("keep")
    for sub in ("sub", "sub/deeper"):
        r = ok(run("gen", "-n", 3, "-o", os.path.join(f, sub), cwd=d), 1)
        assert r.out == "", r
        assert re.fullmatch(r"parimg: %s/sub(/deeper)?: not a directory\n" % re.escape(f),
                            r.err, re.I), r
        assert listing(d) == ["file"], listing(d)
        with open(f) as fh:
            assert fh.read() == "keep"


def test_output_directory_not_writable(d):
    # Tests run as root, where mode bits do not stop a write; /proc/self is a
    # directory nobody can create files in.
    target = "/proc/self"
    if not os.path.isdir(target):
        print("note: %s missing, unwritable-directory case skipped" % target)
        return
    r = run("gen", "-n", 2, "-o", target, cwd=d)
    if r.code == 0:
        print("note: %s was writable here, unwritable-directory case skipped" % target)
        return
    ok(r, 1)
    assert r.out == "", r
    lines = r.err.splitlines()
    assert len(lines) == 1, "expected one message: %r" % r
    assert re.match(r"parimg: /proc/self(/image_[01]\.png)?: \S", lines[0]), r
    assert listing(d) == []


def test_interrupted_run_leaves_no_temporary_files(d):
    """Killed halfway, gen leaves only whole images and no temporary files,
    and dies of the signal (so a shell sees 128+n)."""
    args = [harness.BIN, "gen", "-n", 400, "-s", "400x400", "-c", 3, "--level", 12, "-j", 2]
    p = subprocess.Popen([str(a) for a in args], cwd=d, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    # Wait for the first image, then interrupt.
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10 and p.poll() is None:
        if any(not n.startswith(".") for n in os.listdir(d)):
            break
        time.sleep(0.01)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    if p.returncode == 0:
        print("note: gen finished before SIGTERM; interruption case not exercised")
        return
    assert p.returncode == -signal.SIGTERM, \
        "expected death by SIGTERM, got %r (stderr %r)" % (p.returncode, err)
    left = listing(d)
    hidden = [n for n in left if n.startswith(".") or not n.endswith(".png")]
    assert not hidden, "temporary files left behind: %r" % hidden
    assert 0 < len(left) < 400, len(left)
    print("  (interrupted with %d of 400 images written)" % len(left))
    for n in left:
        assert n in names(400), n
        assert decode(os.path.join(d, n))[:3] == ("PNG", "RGB", (400, 400)), n


# --------------------------------------------------------------- top level

def test_top_level_help_and_version(d):
    r = ok(run("--help", cwd=d))
    assert r.err == "", r
    assert re.search(r"^\s+gen\s", r.out, re.M) and re.search(r"^\s+load\s", r.out, re.M), r
    assert r.out.startswith("usage: parimg"), r
    r = ok(run("-h", cwd=d))
    assert "gen" in r.out and "load" in r.out
    r = ok(run("--version", cwd=d))
    assert re.fullmatch(r"parimg \d+\.\d+\.\d+\n", r.out) and r.err == "", r


def test_top_level_usage_errors(d):
    r = ok(run(cwd=d), 2)
    assert r.out == "" and r.err.startswith("usage: parimg"), r
    assert "gen" in r.err and "load" in r.err, r
    r = ok(run("frob", cwd=d), 2)
    assert r.out == "", r
    assert r.err.splitlines()[0] == "parimg: 'frob' is not a parimg command", r
    assert "--help" in r.err, r
    assert listing(d) == []


def gen_long_options():
    """The long option names in gen.c's getopt table, OPT_COMMON_LONG expanded."""
    with open(os.path.join(SRC, "gen.c")) as f:
        gen_c = f.read()
    with open(os.path.join(SRC, "opt.h")) as f:
        opt_h = f.read()
    m = re.search(r"longopts\[\]\s*=\s*\{(.*?)\n\};", gen_c, re.S)
    assert m, "no longopts[] table in src/cmd/gen.c"
    table = m.group(1)
    opts = re.findall(r'\{\s*"([^"]+)"', table)
    if "OPT_COMMON_LONG" in table:
        m = re.search(r"#define\s+OPT_COMMON_LONG\b((?:[^\n]*\\\n)*[^\n]*)", opt_h)
        assert m, "no OPT_COMMON_LONG in src/cmd/opt.h"
        opts += re.findall(r'\{\s*"([^"]+)"', m.group(1))
    return opts


def test_gen_help_lists_every_long_option(d):
    opts = gen_long_options()
    # A sanity check on the parsing itself.
    for o in ("count", "size", "channels", "jobs", "schedule", "verbose", "force"):
        assert o in opts, (o, opts)
    for args in (["--help"], ["-h"], ["-n", "5", "--help"]):
        r = ok(run("gen", *args, cwd=d))
        assert r.err == "" and r.out.startswith("usage: parimg gen"), r
        for o in opts:
            assert re.search(r"--%s\b" % re.escape(o), r.out), "--%s missing from gen --help" % o
    assert listing(d) == [], "gen --help wrote files: %r" % listing(d)


def test_stdout_write_errors(d):
    with open("/dev/full", "w") as full:
        for args in (["--help"], ["--version"], ["gen", "--help"]):
            p = subprocess.run([harness.BIN] + args, cwd=d, stdout=full,
                               stderr=subprocess.PIPE, text=True, timeout=30)
            assert p.returncode != 0, "%s > /dev/full exited 0" % args
            assert p.stderr.startswith("parimg: ") and "standard output" in p.stderr, \
                (args, p.stderr)


# ------------------------------------------------------- verbose and quiet

VERBOSE_RE = re.compile(r"parimg: worker (\d+): items (\d+)-(\d+), (\d+(?:\.\d+)?) s")


def check_verbose_static(d, n, jobs):
    out = os.path.join(d, "v%d_%d" % (n, jobs))
    r = ok(run("gen", "-v", "-n", n, "-j", jobs, "--schedule", "static", "-o", out, cwd=d))
    assert r.out == "", r
    lines = r.err.splitlines()
    ranges = []
    for line in lines:
        m = VERBOSE_RE.fullmatch(line)
        assert m, "not a worker line: %r" % line
        ranges.append(tuple(int(g) for g in m.groups()[:3]))
    workers = [w for w, _, _ in ranges]
    assert len(set(workers)) == len(workers), "a worker reported twice: %r" % lines
    assert all(0 <= w < jobs for w in workers), lines
    assert len(lines) == min(n, jobs), "expected %d worker lines: %r" % (min(n, jobs), lines)
    # The ranges cover 0..n-1 exactly once.
    items = sorted(i for _, a, b in ranges for i in range(a, b + 1))
    assert items == list(range(n)), lines
    assert_listing(out, names(n))


def test_verbose_one_line_per_worker(d):
    check_verbose_static(d, 10, 2)
    check_verbose_static(d, 2000, 3)
    check_verbose_static(d, 2, 4)
    # Dynamic, the default: one line per worker too, the counts adding up.
    out = os.path.join(d, "dyn")
    r = ok(run("gen", "-v", "-n", 500, "-j", 3, "-o", out, cwd=d))
    lines = r.err.splitlines()
    assert 1 <= len(lines) <= 3, r
    assert all(re.match(r"parimg: worker [0-2]: ", l) for l in lines), r
    counts = [int(m.group(1)) for m in (re.search(r"(\d+) items", l) for l in lines) if m]
    if len(counts) == len(lines):
        assert sum(counts) == 500, lines
    assert_listing(out, names(500))


def test_quiet_and_non_terminal_stderr_are_silent(d):
    for args in (["-q"], [], ["--quiet", "-j", 3]):
        out = os.path.join(d, "o%d" % len(args))
        r = ok(run("gen", "-n", 300, "-o", out, *args, cwd=d))
        assert r.err == "" and r.out == "", (args, r)
        assert_listing(out, names(300))


def test_progress_only_on_a_terminal(d):
    code, out, tty = run_with_tty_stderr(["gen", "-n", 300, "-q", "-o", "q"], d)
    assert code == 0 and out == b"", (code, out, tty)
    assert tty == b"", "-q printed on the terminal: %r" % tty
    code, out, tty = run_with_tty_stderr(["gen", "-n", 300, "-o", "p"], d)
    assert code == 0 and out == b"", (code, out, tty)
    text = tty.decode("utf-8", "replace")
    assert "300/300" in text, "no final progress on a terminal: %r" % text
    assert text.endswith("\n"), "progress line not ended: %r" % text
    assert_listing(os.path.join(d, "q"), names(300))
    assert_listing(os.path.join(d, "p"), names(300))


harness.main(globals())
