#!/usr/bin/python3
"""Command-line tests for decoding an archive's members while it is listed
(issue 30, src/cmd/load_early.c). With -c, --resize and -j2 or more, load
starts speculators that decode a tar's members in archive order while the
parent lists it; the workers then copy those rows instead of decoding them.
Every output (array, labels, classes, manifest, split parts) and every
message must be byte for byte those of the load without them
(PARIMG_EARLY=off), for a plain, gzip, zstd, xz and bzip2 tar, confined and
not, at -j2 and -j7. PARIMG_EARLY=wait has the parent wait for the
speculators, so that every row really comes from them (PARIMG_TIMING's
early_rows counts them); the default run (no wait) must give the same
bytes whatever it had time to speculate. Bad members must be reported as
without speculation, and no speculator may outlive the load. The oracle
is the load of the extracted tree.

Run: /usr/bin/python3 tests/cli_early_test.py ./parimg [test_name...]
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
from harness import names, ok, run  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PHOTOS = os.path.join(HERE, "data", "photos")
ROW = ("-c", "3", "--resize", "40x32")


def tree(d, classes=3, per=9):
    """A class tree of the repository's photos as JPEG and PNG, under names
    that sort differently naturally and bytewise, a hidden file and a
    non-image among them."""
    from PIL import Image
    root = os.path.join(d, "tree")
    srcs = sorted(f for f in os.listdir(PHOTOS) if f.endswith(".png"))
    k = 0
    for c in range(classes):
        cdir = os.path.join(root, "class_%d" % (c * 5))
        os.makedirs(cdir)
        for i in range(per):
            im = Image.open(os.path.join(PHOTOS, srcs[k % len(srcs)])).convert("RGB")
            im = im.resize((64 + 7 * (k % 5), 48 + 5 * (k % 3)))
            ext = ".jpg" if k % 3 else ".png"
            im.save(os.path.join(cdir, "img_%d%s" % (i * 4, ext)), quality=90)
            k += 1
        with open(os.path.join(cdir, "notes.txt"), "w") as f:
            f.write("not an image\n")
        first = sorted(os.listdir(cdir))[0]
        shutil.copyfile(os.path.join(cdir, first), os.path.join(cdir, ".hidden" + first[-4:]))
    return root


def archives(d, root):
    """ROOT as a tar of every kind, packed by tar(1) in its own order."""
    out = {}
    for kind, flag in (("tar", None), ("tar.gz", "-z"), ("tar.zst", "--zstd"),
                       ("tar.xz", "-J"), ("tar.bz2", "-j")):
        path = os.path.join(d, "t." + kind)
        cmd = ["tar"] + ([flag] if flag else []) + ["-cf", path, "."]
        subprocess.run(cmd, cwd=root, check=True)
        out[kind] = path
    return out


def load(d, tag, args, early, code=0):
    """parimg load ARGS with PARIMG_EARLY=EARLY (None: unset); the Result,
    every file it wrote by name, and the rows the speculators gave."""
    out = os.path.join(d, "out_" + tag)
    os.makedirs(out)
    timing = os.path.join(d, "timing_" + tag)
    env = dict(os.environ, PARIMG_TIMING=timing)
    env.pop("PARIMG_EARLY", None)
    if early:
        env["PARIMG_EARLY"] = early
    args = [a.replace("@", out + "/") for a in args]
    r = ok(run("load", "-q", *args, env=env), code)
    files = harness.file_bytes(out)
    early = {"early_rows": 0, "early_slots": 0}
    if os.path.exists(timing):
        with open(timing) as f:
            for line in f:
                k, _, v = line.partition(" ")
                if k in early:
                    early[k] = int(v)
    # Each image member is taken up once at most, and only rows taken up
    # can be copied.
    assert early["early_rows"] <= early["early_slots"], early
    return r, files, early["early_rows"]


def same_with_and_without(d, tag, args, code=0, jobs=("2", "7"), all_rows=None):
    """ARGS loaded with speculation off, waited for and left to itself, at
    each -j: the same files and messages every time. With ALL_ROWS, the
    waited run must have taken that many rows from the speculators."""
    want = None
    for j in jobs:
        for early in ("off", "wait", None):
            r, files, n = load(d, "%s_%s_%s" % (tag, j, early), ["-j", j] + list(args),
                               early, code)
            if early == "off":
                assert n == 0, n
            if early == "wait" and all_rows is not None:
                assert n == all_rows, (tag, j, n, all_rows)
            # Which worker met a bad file, and in which order they spoke,
            # is the schedule's; what they said is not.
            err = sorted(re.sub(r" \[worker [^]]*\]$", "", line)
                         for line in re.sub(r"out_[^/]*/", "OUT/",
                                            r.err.replace(d, "D")).splitlines())
            got = ("\n".join(err), files)
            if want is None:
                want = got
            assert got == want, (tag, j, early, got[0], want[0], sorted(got[1]))
    return want


def test_every_tar_same_bytes_as_the_tree(d):
    root = tree(d)
    _, tree_files, _ = load(d, "tree", ["--labels", "@y.npy", "-o", "@x.npy", *ROW, root], "off")
    for kind, path in archives(d, root).items():
        _, files = same_with_and_without(d, kind, ["--labels", "@y.npy", "-o", "@x.npy",
                                                   *ROW, path], all_rows=27)
        assert files == tree_files, kind


def test_shuffle_split_manifest_classes_same_bytes(d):
    root = tree(d, classes=4, per=7)
    a = archives(d, root)
    for kind in ("tar", "tar.gz"):
        same_with_and_without(d, "split_" + kind, [
            "--labels", "@y.npy", "--classes", "@classes.txt", "--manifest", "@m.txt",
            "--shuffle", "--seed", "5", "--split", "train=0.5,val=0.25,test=0.25",
            "-o", "@x.npy", *ROW, "--dtype", "f4", "--normalize", "imagenet",
            "--layout", "nchw", a[kind]], all_rows=28)


def test_unconfined_same_bytes(d):
    root = tree(d)
    a = archives(d, root)
    same_with_and_without(d, "off", ["--sandbox", "off", "-o", "@x.npy", *ROW, a["tar.gz"]],
                          all_rows=27)


def test_broken_members_reported_as_without(d):
    """A truncated JPEG, a text file named .png and an image over
    --max-pixels: each speculator fails them, the workers decode them again
    and report them as they would have; under -k the same rows are left
    zero."""
    root = tree(d, classes=2, per=5)
    cdir = os.path.join(root, "class_0")
    with open(os.path.join(cdir, "img_4.jpg"), "rb") as f:
        data = f.read()
    with open(os.path.join(cdir, "img_8.jpg"), "wb") as f:
        f.write(data[:len(data) // 3])
    with open(os.path.join(cdir, "zz_text.png"), "w") as f:
        f.write("this is not a PNG\n")
    harness.save_image(os.path.join(root, "class_5", "big_1.png"),
                       __import__("numpy").zeros((300, 300, 3), "uint8"))
    a = archives(d, root)
    for kind in ("tar", "tar.gz", "tar.zst"):
        err, _ = same_with_and_without(d, "bad_" + kind, ["-o", "@x.npy", *ROW, "--max-pixels",
                                                           "60000", a[kind]], code=1)
        assert "parimg: " in err, err
        err, files = same_with_and_without(d, "badk_" + kind, [
            "-k", "--manifest", "@m.txt", "-o", "@x.npy", *ROW, "--max-pixels", "60000",
            a[kind]], code=3)
        for m in ("img_8.jpg", "zz_text.png", "big_1.png"):
            assert m in err, (m, err)
        assert "x.npy" in files


def test_many_members_slots_and_order(d):
    """More members than one speculator reaches, in an order tar(1) chose:
    part speculated, part not, the same bytes; and at -j7 on this machine
    (at most the processors but one speculate) as well."""
    src = os.path.join(d, "_pool")
    ok(run("gen", "-q", "-n", 300, "-s", "24x20", "--seed", 3, "-o", src))
    a = archives(d, src)
    for kind in ("tar", "tar.gz"):
        same_with_and_without(d, "many_" + kind, ["-o", "@x.npy", *ROW, a[kind]],
                              all_rows=300)


def test_no_speculator_outlives_the_load(d):
    """After a load that succeeds, one that fails on a bad member, and one
    refused after the listing (a split part's output exists), no process
    of it is left; nor after its parent is killed while listing."""
    root = tree(d, classes=2, per=4)
    with open(os.path.join(root, "class_0", "img_4.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff broken")
    a = archives(d, root)
    out = os.path.join(d, "marker_out_xyz.npy")
    for early in ("wait", None):
        env = dict(os.environ)
        if early:
            env["PARIMG_EARLY"] = early
        r = run("load", "-q", "-f", "-j2", *ROW, "-o", out, a["tar.gz"], env=env)
        ok(r, 1)
        names(r, a["tar.gz"] + ":class_0/img_4.jpg")
        assert not harness.procs_mentioning("marker_out_xyz"), early
        assert not os.path.exists(out)
    # The parent killed while it lists a large tar.gz: its speculators go too.
    big = os.path.join(d, "_big")
    ok(run("gen", "-q", "-n", 4000, "-s", "32x32", "--seed", 4, "-o", big))
    bz = os.path.join(d, "big.tar.bz2")
    subprocess.run(["tar", "-jcf", bz, "."], cwd=big, check=True)
    p = subprocess.Popen([harness.BIN, "load", "-q", "-j2", *ROW, "-o",
                          os.path.join(d, "marker_kill_xyz.npy"), bz],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    p.send_signal(signal.SIGKILL)
    p.wait()
    for _ in range(50):
        if not harness.procs_mentioning("marker_kill_xyz"):
            break
        time.sleep(0.1)
    assert not harness.procs_mentioning("marker_kill_xyz")


def test_not_where_the_shape_is_unknown(d):
    """Without -c, --resize, or at -j1, nothing is speculated; the bytes
    are the same."""
    src = os.path.join(d, "_pool")
    ok(run("gen", "-q", "-n", 6, "-s", "24x20", "--seed", 3, "-o", src))
    a = archives(d, src)
    for k, args in enumerate((["-c", "3", "-j2"], ["--resize", "40x32", "-j2"], [*ROW, "-j1"])):
        r, files, n = load(d, "shape_%d" % k, ["-o", "@x.npy", *args, a["tar.gz"]], "wait")
        assert n == 0, (args, n)


harness.main(globals())
