#!/usr/bin/python3
"""Command-line tests for the parallel listing (issue 30): class folders
(load --labels), the subfolders of a directory under -r and several
directories given are listed on threads, then laid down in order by a
prefix sum over the folders' counts. Every output (array, labels, classes,
manifest, split parts) and every message must be byte for byte those of
the listing on one thread (PARIMG_LIST_THREADS=1, the serial walk), at
-j1, -j2 and -j7, on trees with many folders, nested and empty folders,
hidden entries, links and unreadable folders; and the rows are those of
Python's own walk (an oracle we did not write: os.walk, sorted as
ImageFolder sorts).

Run: /usr/bin/python3 tests/cli_listing_test.py ./parimg [test_name...]
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
from harness import ok, run  # noqa: E402

THREADS = ("1", "2", "7", None)     # None: the default, the processors online


def pool(d, n):
    src = os.path.join(d, "_pool")
    if not os.path.isdir(src):
        ok(run("gen", "-q", "-n", n, "-s", "6x5", "--seed", 9, "-o", src))
    return [os.path.join(src, "image_%d.png" % i) for i in range(n)]


def many_folders(d, classes=40, nested=True):
    """A class tree: CLASSES folders of 0 to 6 images (names that sort
    differently naturally and bytewise), some with nested folders, hidden
    files and folders, a non-image, and a link to a folder."""
    root = os.path.join(d, "tree")
    imgs = pool(d, 8)
    k = 0
    for c in range(classes):
        cdir = os.path.join(root, "c_%d" % c)
        os.makedirs(cdir)
        for i in range(c % 7):
            shutil.copyfile(imgs[k % 8], os.path.join(cdir, "img_%d.png" % (i * 5)))
            k += 1
        if nested and c % 3 == 0:
            for sub in ("s_10", "s_2", "s_2-x", "s_2/deep"):
                os.makedirs(os.path.join(cdir, sub), exist_ok=True)
                shutil.copyfile(imgs[k % 8], os.path.join(cdir, sub, "a_%d.png" % c))
                k += 1
        if c % 5 == 0:
            os.makedirs(os.path.join(cdir, ".hidden"))
            shutil.copyfile(imgs[0], os.path.join(cdir, ".hidden", "h.png"))
            shutil.copyfile(imgs[1], os.path.join(cdir, ".h.png"))
            with open(os.path.join(cdir, "notes.txt"), "w") as f:
                f.write("not an image\n")
        if c % 11 == 4:
            os.makedirs(os.path.join(cdir, "empty_sub"))
    os.makedirs(os.path.join(root, ".git", "objects"))
    shutil.copyfile(imgs[2], os.path.join(root, ".git", "objects", "x.png"))
    os.symlink("c_1", os.path.join(root, "link_to_c1"))
    return root


def load(d, tag, args, env_threads, code=0, env=None, stdin=""):
    """parimg load ARGS with the listing on ENV_THREADS threads; the
    Result and every file it wrote, by name, as bytes."""
    out = os.path.join(d, "out_" + tag)
    os.makedirs(out)
    env = dict(env or os.environ)
    env.pop("PARIMG_LIST_THREADS", None)
    if env_threads:
        env["PARIMG_LIST_THREADS"] = env_threads
    args = [a.replace("@", out + "/") for a in args]
    r = ok(run("load", "-q", *args, env=env, stdin=stdin), code)
    files = {}
    for name in sorted(os.listdir(out)):
        with open(os.path.join(out, name), "rb") as f:
            files[name] = f.read()
    shutil.rmtree(out)
    return r, files


def same_every_way(d, args, code=0, env=None, jobs=("1", "2", "7"), stdin=""):
    """ARGS' outputs and messages at each -j and listing threads, all
    equal to the serial listing's at -j1. The reference's files."""
    ref = None
    for j in jobs:
        for t in THREADS:
            r, files = load(d, "j%s_t%s" % (j, t), ["-j", j] + args, t, code, env, stdin)
            got = (r.err, r.out, files)
            if ref is None:
                ref = got
                assert code != 0 or files, "nothing written: %r" % r
            assert got == ref, "-j%s, %s listing threads differ:\n%r\n%r" % (
                j, t, got[:2], ref[:2])
    return ref


def python_rows(root, recursive_dirs=None):
    """ImageFolder's rows of the class tree ROOT by os.walk (followlinks,
    hidden names skipped, sorted as sorted(os.walk) gives them, each
    folder's files sorted bytewise): [(path, label)], classes."""
    classes = sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))
    rows = []
    for label, c in enumerate(classes):
        for dirpath, dirs, files in sorted(os.walk(os.path.join(root, c), followlinks=True)):
            rel = os.path.relpath(dirpath, root)
            if any(p.startswith(".") for p in rel.split(os.sep)):
                continue
            for f in sorted(files):
                if not f.startswith(".") and f.endswith(".png"):
                    rows.append((os.path.join(dirpath, f), label))
    return rows, classes


# ------------------------------------------------------------------ tests

def test_class_tree_same_bytes_and_rows_as_pythons_walk(d):
    root = many_folders(d, nested=True)
    os.makedirs(os.path.join(root, "c_0", "x_empty"))
    same_every_way(d, ["--labels", "@y.npy", "-o", "@x.npy", root], code=1)
    # c_7, c_14... have no image: empty classes are refused, the same
    # messages for each listing; with files in every class:
    for c in range(40):
        cdir = os.path.join(root, "c_%d" % c)
        shutil.copyfile(pool(d, 8)[c % 8], os.path.join(cdir, "zz_last.png"))
    _, _, files = same_every_way(d, ["--order", "name", "--labels", "@y.npy", "--classes",
                                     "@classes.txt", "--manifest", "@rows.txt", "-o", "@x.npy",
                                     root])
    rows, classes = python_rows(root)
    assert files["classes.txt"].decode().splitlines() == classes
    assert files["rows.txt"].decode().splitlines() == [p for p, _ in rows]
    import numpy as np
    y = np.frombuffer(files["y.npy"][-8 * len(rows):], dtype="<i8")
    assert y.tolist() == [lab for _, lab in rows]


def test_empty_classes_reported_in_order(d):
    root = many_folders(d, classes=30, nested=False)
    err, _, files = same_every_way(d, ["--labels", "@y.npy", "-o", "@x.npy", root], code=1)
    lines = err.splitlines()
    want = ["parimg: %s: no image files in this class folder" % os.path.join(root, "c_%d" % c)
            for c in sorted(range(30), key=lambda c: "c_%d" % c) if c % 7 == 0]
    assert lines == want, lines
    assert not files


def test_shuffle_and_split_same_bytes(d):
    root = many_folders(d, classes=41)
    for c in range(0, 41, 7):
        shutil.copyfile(pool(d, 8)[3], os.path.join(root, "c_%d" % c, "only.png"))
    same_every_way(d, ["--labels", "@y.npy", "--classes", "@classes.txt", "--manifest",
                       "@rows.txt", "--shuffle", "--seed", "11", "--split",
                       "train=0.7,val=0.2,test=0.1", "-o", "@x.npy", root])


def test_recursive_and_several_directories_same_bytes(d):
    root = many_folders(d, classes=25)
    same_every_way(d, ["-r", "--manifest", "@rows.txt", "-o", "@x.npy", root])
    same_every_way(d, ["-r", "--order", "none", "--manifest", "@rows.txt", "-o", "@x.npy",
                       root])
    dirs = [os.path.join(root, "c_%d" % c) for c in (12, 3, 5, 0, 19)]
    lone = pool(d, 8)[4]
    for rec in ([], ["-r"]):
        for order in ("natural", "name", "none"):
            ref = same_every_way(d, rec + ["--order", order, "--manifest", "@rows.txt", "-o",
                                           "@x.npy", dirs[0], lone, dirs[1], dirs[2], "-",
                                           dirs[3], dirs[4]],
                                 jobs=("2",), stdin=pool(d, 8)[7] + "\n")
            assert ref[2]["rows.txt"]
    # Python's walk of each directory, in the order given, then sorted
    # bytewise (--order name) as load sorts the whole list:
    r, files = load(d, "py", ["-r", "--order", "name", "--manifest", "@rows.txt", "-o",
                              "@x.npy"] + dirs, "7")
    want = []
    for x in dirs:
        for dirpath, dnames, fnames in os.walk(x, followlinks=False):
            dnames[:] = [n for n in dnames if not n.startswith(".")]
            want += [os.path.join(dirpath, f) for f in fnames
                     if not f.startswith(".") and f.endswith(".png")]
    assert files["rows.txt"].decode().splitlines() == sorted(want)


def test_unreadable_folders_same_message(d):
    """The first unreadable folder in walk order is the one named, after the
    empty classes before it, whichever thread met it first."""
    env = harness.preload_env("crash_preload", d)
    root = many_folders(d, classes=30)
    for bad in ("c_25/s_DENYME", "c_3/s_2/deep_DENYME", "c_17_DENYME", "c_9/z_DENYME"):
        path = os.path.join(root, bad)
        os.makedirs(path)
        shutil.copyfile(pool(d, 8)[5], os.path.join(path, "p.png"))
    err, _, _ = same_every_way(d, ["--labels", "@y.npy", "-o", "@x.npy", root], code=1, env=env)
    assert err.splitlines()[-1] == "parimg: %s: Permission denied" % os.path.join(
        root, "c_17_DENYME"), err
    err, _, _ = same_every_way(d, ["-r", "-o", "@x.npy", root], code=1, env=env)
    assert err == "parimg: %s: Permission denied\n" % os.path.join(root, "c_17_DENYME"), err
    dirs = [os.path.join(root, c) for c in ("c_4", "c_25", "c_9", "c_3")]
    err, _, _ = same_every_way(d, ["-r", "-o", "@x.npy"] + dirs, code=1, env=env)
    assert err == "parimg: %s: Permission denied\n" % os.path.join(root, "c_25", "s_DENYME"), err
    err, _, _ = same_every_way(d, ["-o", "@x.npy", dirs[0], root + "/c_17_DENYME", dirs[2]],
                               code=1, env=env)
    assert err == "parimg: %s: Permission denied\n" % os.path.join(root, "c_17_DENYME"), err


def test_link_loop_and_line_break_same_message(d):
    root = many_folders(d, classes=20)
    os.symlink("..", os.path.join(root, "c_8", "up"))
    err, _, _ = same_every_way(d, ["--labels", "@y.npy", "-o", "@x.npy", root], code=1)
    assert "symbolic link loop" in err, err
    os.unlink(os.path.join(root, "c_8", "up"))
    shutil.copyfile(pool(d, 8)[6], os.path.join(root, "c_13", "bad\nname.png"))
    for args in (["--labels", "@y.npy"], ["-r"]):
        err, _, _ = same_every_way(d, args + ["-o", "@x.npy", root], code=1)
        assert "line break" in err, err


def test_self_open_spans_same_bytes_as_unconfined(d):
    """Confined workers that open their own inputs are handed up to 1,024
    of them a message; links out of the root among them (opened by the
    parent on request) and archive members (handed as descriptors) break
    the spans. The bytes are --sandbox off's at every -j."""
    imgs = pool(d, 8)
    root = os.path.join(d, "many")
    os.makedirs(root)
    outside = os.path.join(d, "outside")
    os.makedirs(outside)
    shutil.copyfile(imgs[7], os.path.join(outside, "far.png"))
    for i in range(2500):
        if i in (40, 1500, 2499):
            os.symlink(os.path.join(outside, "far.png"), os.path.join(root, "img_%d.png" % i))
        else:
            shutil.copyfile(imgs[i % 7], os.path.join(root, "img_%d.png" % i))
    tar = os.path.join(d, "few.tar")
    subprocess.run(["tar", "-cf", tar, "-C", os.path.dirname(imgs[0])] +
                   [os.path.basename(p) for p in imgs[:5]], check=True)
    for args in ([root], [root, tar, os.path.join(outside, "far.png")]):
        ref = None
        for j in ("1", "2", "7"):
            for mode in ("auto", "off"):
                r, files = load(d, "j%s_%s" % (j, mode), ["-j", j, "--sandbox", mode,
                                                          "--manifest", "@rows.txt",
                                                          "-o", "@x.npy"] + args, None)
                if ref is None:
                    ref = (r.err, files)
                    assert len(files["rows.txt"].decode().splitlines()) >= 2500
                assert (r.err, files) == ref, "-j%s --sandbox %s differs" % (j, mode)


harness.main(globals())
