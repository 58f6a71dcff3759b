#!/usr/bin/python3
"""Every "use X" hint in parimg's errors, run as typed: each case makes the
error, takes the options the message names (its own words, from stderr),
puts them in place of the options that failed, and checks that the command
then succeeds.

    tests/cli_hints_test.py ./parimg [test_name ...]
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
import harness  # noqa: E402
from harness import ok, run  # noqa: E402


def tree(d):
    """A class tree d/train/{cat,dog} of small JPEGs (gray cats, colour
    dogs), and d/mixed: two PNGs of different sizes."""
    rng = np.random.default_rng(31)
    for cls, n, mode in (("cat", 3, "L"), ("dog", 2, "RGB")):
        os.makedirs(os.path.join(d, "train", cls))
        for i in range(n):
            a = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
            Image.fromarray(a).convert(mode).save(os.path.join(d, "train", cls, "%d.jpg" % i))
    os.makedirs(os.path.join(d, "mixed"))
    Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8)).save(
        os.path.join(d, "mixed", "a.png"))
    Image.fromarray(rng.integers(0, 256, (20, 30), dtype=np.uint8)).save(
        os.path.join(d, "mixed", "b.png"))


def hint(r, pattern):
    """The words of the hint PATTERN's group captures from R's stderr."""
    m = re.search(pattern, r.err, re.M)
    assert m, "no hint %r in:\n%r" % (pattern, r)
    return m.group(1).split()


def replace(args, old, new):
    """ARGS with the run of words OLD (or nothing, when OLD is empty: NEW
    goes before the last word, the input) replaced by NEW."""
    if not old:
        return args[:-1] + new + args[-1:]
    for i in range(len(args)):
        if args[i:i + len(old)] == old:
            return args[:i] + new + args[i + len(old):]
    raise AssertionError("%r not in %r" % (old, args))


def check_hint(d, args, code, pattern, old, want=0):
    """Run ARGS (failing with CODE), take the hint PATTERN names, put it in
    place of OLD, and run again: exit WANT. Returns the second Result."""
    r = run(*args, cwd=d)
    assert r.code == code, r
    fixed = replace(args, old, hint(r, pattern))
    r2 = run(*fixed, cwd=d)
    assert r2.code == want, (fixed, r2)
    return r2


def test_resize_short_side_hints(d):
    tree(d)
    base = ["load", "-q", "-o", "x.npy", "--resize", "16", "train/cat"]
    check_hint(d, base, 2, r"CenterCrop\(16\) use (--resize \S+ --fit cover);",
               ["--resize", "16"])
    a = np.load(os.path.join(d, "x.npy"))
    assert a.shape == (3, 16, 16), a.shape
    base[3] = "y.npy"
    check_hint(d, base, 2, r"for Resize\(16\) alone, (--ragged --resize 16)$",
               ["--resize", "16"])
    # check has no --ragged: its hint names what it has.
    check_hint(d, ["check", "-q", "--resize", "16", "train"], 2,
               r"CenterCrop\(16\), (--resize \S+ --fit cover)$", ["--resize", "16"])
    # --ragged with --resize WxH: the sides it names.
    r = check_hint(d, ["load", "-q", "-o", "z.npy", "--ragged", "--resize", "16x12", "mixed"],
                   2, r"use (--resize \d+) \(the shorter", ["--resize", "16x12"])
    check_hint(d, ["load", "-q", "-f", "-o", "z.npy", "--ragged", "--resize", "16x12",
                   "mixed"], 2, r"or (--max-side \d+) \(the longer", ["--resize", "16x12"])


def test_size_mismatch_hints(d):
    tree(d)
    check_hint(d, ["load", "-q", "-o", "a.npy", "mixed"], 1, r"use (--resize \d+x\d+) to",
               [])
    assert np.load(os.path.join(d, "a.npy")).shape == (2, 24, 32)
    check_hint(d, ["load", "-q", "-o", "b.npy", "mixed"], 1, r"or (--ragged) to keep", [])


def test_class_tree_hints(d):
    tree(d)
    check_hint(d, ["load", "-q", "-o", "x.npy", "train"], 1, r"class folders\? use (\S+ \S+)\)",
               [])
    assert os.path.exists(os.path.join(d, "Y.npy"))
    os.unlink(os.path.join(d, "Y.npy"))
    # bench's --labels is a flag: its hint says so.
    check_hint(d, ["bench", "-r", "1", "-j", "1", "train"], 1,
               r"class folders\? use (--labels)\)", [])
    check_hint(d, ["load", "-q", "-o", "c.npy", "--classes", "c.txt", "train"], 2,
               r"needs (--labels \S+)$", [])


def test_option_pair_hints(d):
    tree(d)
    cases = [
        (["load", "-q", "-o", "a.npy", "--seed", "3", "train/cat"], r"needs (--shuffle)", []),
        (["bench", "-r", "1", "-j", "1", "--seed", "3", "train/cat"], r"needs (--shuffle)", []),
        (["load", "-q", "-o", "b.npy", "--resize", "8x8", "--pad", "3", "train/cat"],
         r"needs (--fit contain)", []),
        (["load", "-q", "-o", "c.npy", "--scale", "train/cat"], r"needs (--dtype f4)", []),
        (["load", "-q", "-o", "d.npy", "--normalize", "imagenet", "-t", "u1", "train/dog"],
         r"needs (--dtype f4)", ["-t", "u1"]),
        (["load", "-q", "-o", "e.npy", "--index", "e.idx.npy", "mixed"], r"needs (--ragged)", []),
        (["load", "-q", "-o", "f.npy", "--max-side", "8", "mixed"], r"needs (--ragged)", []),
        (["gen", "-q", "-n", "2", "-F", "jpg", "-c", "4", "-o", "g"], r"use (-c 1) or 3", ["-c", "4"]),
        (["gen", "-q", "-n", "2", "-F", "bmp", "-c", "2", "-o", "h"], r"use (-c 1), 3", ["-c", "2"]),
        (["gen", "-q", "-n", "2", "-p", "x/y", "-o", "i"], r"\((use -o) for", None),
    ]
    for args, pattern, old in cases:
        if old is None:     # a hint that says where, not what: the message alone
            r = run(*args, cwd=d)
            assert r.code == 2 and re.search(pattern, r.err), r
            continue
        check_hint(d, args, 2, pattern, old)
    r = check_hint(d, ["check", "-q", "-0", "train"], 2, r"goes with (--list-broken)", [])
    # A file that exists: -f, as the message says.
    ok(run("load", "-q", "-o", "x.npy", "train/cat", cwd=d))
    check_hint(d, ["load", "-q", "-o", "x.npy", "train/cat"], 1, r"\(use (-f) to replace", [])


if __name__ == "__main__":
    harness.main(globals())
