#!/usr/bin/python3
"""Command-line tests for datasets kept as class folders: "load --labels"
(and --classes), --shuffle/--seed, --split, and "merge --labels". The
oracles are a Python reference of torchvision's ImageFolder written from
its documented rules (find_classes: sorted subdirectories; make_dataset:
sorted(os.walk(followlinks=True)), each folder's files sorted, kept by
extension), a Python copy of the shuffle's algorithm (xoshiro256** seeded
by splitmix64, Fisher-Yates, Lemire's bounded draw), Keras's split
arithmetic, Pillow for the rows and numpy for the arrays. The guide's
(docs/guide.md) worked example is run as written.

Run: /usr/bin/python3 tests/cli_dataset_test.py ./parimg [test_name...]
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
from harness import names, ok, pil, run  # noqa: E402

ROOT = os.path.normpath(os.path.join(harness.HERE, ".."))
# torchvision.datasets.folder.IMG_EXTENSIONS
IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
# What "parimg load DIR" picks up (filelist.c).
PARIMG_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tga", ".pgm", ".ppm",
                     ".pnm", ".tif", ".tiff")


# ------------------------------------------------- the ImageFolder reference

def image_folder(root, extensions=IMG_EXTENSIONS, skip_hidden=False):
    """(classes, [(path, label)]) by torchvision's rules: classes are the
    subdirectories sorted by name (code point order: bytewise for UTF-8),
    numbered from 0; each class's folders as sorted(os.walk(followlinks=True))
    lists them, each folder's files sorted; a file is kept when its name,
    lowercased, ends with one of EXTENSIONS. An empty class raises
    FileNotFoundError, as ImageFolder does by default. SKIP_HIDDEN drops
    names starting with '.' at every level (parimg's rule on top)."""
    def hidden(name):
        return skip_hidden and name.startswith(".")
    classes = sorted(e.name for e in os.scandir(root) if e.is_dir() and not hidden(e.name))
    samples, empty = [], []
    for label, c in enumerate(classes):
        found = False
        for dirpath, dirs, files in sorted(os.walk(os.path.join(root, c), followlinks=True)):
            if any(hidden(part) for part in os.path.relpath(dirpath, root).split(os.sep)):
                continue
            for f in sorted(files):
                if not hidden(f) and f.lower().endswith(extensions):
                    samples.append((os.path.join(dirpath, f), label))
                    found = True
        if not found:
            empty.append(c)
    if empty:
        raise FileNotFoundError("Found no valid file for the classes %s" % ", ".join(sorted(empty)))
    return classes, samples


# -------------------------------------------------- the shuffle's algorithm

M64 = (1 << 64) - 1


def splitmix64(x):
    x = (x + 0x9e3779b97f4a7c15) & M64
    z = ((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9) & M64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
    return x, z ^ (z >> 31)


class Xoshiro:
    """rng.c's stream (SEED, INDEX): xoshiro256** keyed by splitmix64."""

    def __init__(self, seed, index):
        key = seed ^ splitmix64(index)[1]
        self.s = []
        for _ in range(4):
            key, v = splitmix64(key)
            self.s.append(v)

    def next(self):
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M64  # noqa: E731
        result = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def below(self, bound):
        m = self.next() * bound
        if m & M64 < bound:
            while m & M64 < (1 << 64) % bound:
                m = self.next() * bound
        return m >> 64


def permutation(seed, n):
    """load --shuffle's row order: row i is the sorted list's item perm[i]."""
    perm, r = list(range(n)), Xoshiro(seed, M64)
    for i in range(n, 1, -1):
        j = r.below(i)
        perm[i - 1], perm[j] = perm[j], perm[i - 1]
    return perm


# ---------------------------------------------------------------- helpers

def lines(path):
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        return f.read().splitlines()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def pool(d, n, size="8x6", c=1):
    """N distinct gray images made by parimg gen, for building trees."""
    src = os.path.join(d, "_pool_%d_%s_%d" % (n, size, c))
    if not os.path.isdir(src):
        ok(run("gen", "-q", "-n", n, "-s", size, "-c", c, "--seed", 5, "-o", src))
    return [os.path.join(src, "image_%d.png" % i) for i in range(n)]


def tree(d, spec, size="8x6"):
    """Build D/tree from SPEC: {relative path: None for an image (a distinct
    one each), bytes for a file of those bytes, "->TARGET" for a symbolic
    link, "/" for an empty folder}."""
    root = os.path.join(d, "tree")
    imgs = iter(pool(d, sum(v is None for v in spec.values()), size))
    for rel, v in spec.items():
        path = os.path.join(root, rel)
        os.makedirs(path if v == "/" else os.path.dirname(path), exist_ok=True)
        if v is None:
            shutil.copyfile(next(imgs), path)
        elif isinstance(v, bytes):
            with open(path, "wb") as f:
                f.write(v)
        elif v.startswith("->"):
            os.symlink(v[2:], path)
    return root


def labelled(d, root, *args, out="x.npy", labels="y.npy", classes="classes.txt", code=0, **kw):
    """parimg load --labels of ROOT with a manifest; the Result."""
    r = run("load", "-q", "--labels", os.path.join(d, labels),
            "--classes", os.path.join(d, classes), "--manifest", os.path.join(d, "rows.txt"),
            "-o", os.path.join(d, out), *args, root, **kw)
    return ok(r, code)


def check_rows(d, paths, out="x.npy"):
    """Row i of the array is the decoding of PATHS[i] (Pillow)."""
    x = np.load(os.path.join(d, out))
    assert len(x) == len(paths), (x.shape, len(paths))
    for i, p in enumerate(paths):
        assert np.array_equal(x[i], pil(p)), "row %d is not %s" % (i, p)


def check_against(d, root, classes, samples):
    """Classes file, manifest, labels and rows are those of the reference."""
    assert lines(os.path.join(d, "classes.txt")) == classes
    assert lines(os.path.join(d, "rows.txt")) == [p for p, _ in samples]
    y = np.load(os.path.join(d, "y.npy"))
    assert y.dtype == np.int64 and y.shape == (len(samples),), (y.dtype, y.shape)
    assert y.tolist() == [c for _, c in samples]
    check_rows(d, [p for p, _ in samples])


def nothing_written(d, *keep):
    """Only KEEP (and the tree, the image pool) in D: no output, no temp."""
    left = sorted(n for n in os.listdir(d) if n != "tree" and not n.startswith("_pool")
                  and n not in keep)
    assert not left, "left behind: %r" % left


# Names that sort differently bytewise and naturally (class_10 < class_2
# bytewise), by case (Zebra < apple), beyond ASCII (ñu after zz), and
# folders whose sorted paths are not a depth-first walk ("sub-x" sorts
# between "sub" and "sub/deeper", as '-' < '/'); files directly in a class
# folder come before its subfolders' even when they sort after them.
MIXED = {
    "Zebra/img_9.png": None, "Zebra/img_10.png": None, "Zebra/IMG_1.PNG": None,
    "apple/b.png": None, "apple/z.png": None, "apple/sub/a.png": None,
    "apple/sub/deeper/a.png": None, "apple/sub-x/c.png": None,
    "apple/notes.txt": b"not an image\n", "apple/sub/data.json": b"{}",
    "apple/img.png.bak": b"backup",
    "class_10/x.png": None, "class_2/x_2.png": None, "class_2/x_10.png": None,
    "class_2/x_1.png": None,
    "zz/a.png": None, "\u00f1u/a.png": None, "\u00f1u/b.bmp.png": None,
    "stray.png": None,      # beside the classes: not a row
}


# ------------------------------------------------------ labels and classes

def test_order_name_is_image_folders_order(d):
    root = tree(d, MIXED)
    classes, samples = image_folder(root)
    assert classes == ["Zebra", "apple", "class_10", "class_2", "zz", "\u00f1u"], classes
    labelled(d, root, "--order", "name")
    check_against(d, root, classes, samples)
    # The subtle one: apple's folders in sorted(os.walk()) order.
    assert [p[len(root) + 1:] for p, _ in samples if "/apple/" in p] == [
        "apple/b.png", "apple/z.png", "apple/sub/a.png", "apple/sub-x/c.png",
        "apple/sub/deeper/a.png"]


def test_natural_order_numbers_classes_the_same(d):
    root = tree(d, MIXED)
    classes, samples = image_folder(root)
    labelled(d, root)       # the default, --order natural
    # The same classes and numbers; only files within a folder move.
    assert lines(os.path.join(d, "classes.txt")) == classes
    rows = lines(os.path.join(d, "rows.txt"))
    assert sorted(rows) == sorted(p for p, _ in samples)
    got = [os.path.relpath(p, root) for p in rows]
    assert got[:3] == ["Zebra/IMG_1.PNG", "Zebra/img_9.png", "Zebra/img_10.png"], got
    assert [g for g in got if g.startswith("class_2/")] == [
        "class_2/x_1.png", "class_2/x_2.png", "class_2/x_10.png"], got
    label = dict(samples)
    y = np.load(os.path.join(d, "y.npy"))
    assert y.tolist() == [label[p] for p in rows]
    assert y.tolist() == sorted(y.tolist()), "rows not grouped by class in label order"
    check_rows(d, rows)


def test_order_none_keeps_classes_numbered_by_name(d):
    root = tree(d, MIXED)
    classes, samples = image_folder(root)
    labelled(d, root, "--order", "none")
    assert lines(os.path.join(d, "classes.txt")) == classes
    rows = lines(os.path.join(d, "rows.txt"))
    label = dict(samples)
    assert sorted(rows) == sorted(label)
    y = np.load(os.path.join(d, "y.npy")).tolist()
    assert y == [label[p] for p in rows] and y == sorted(y)


def test_symlinks_followed_like_os_walk_followlinks(d):
    other = os.path.join(d, "elsewhere")
    spec = {"cat/a.png": None, "dog/a.png": None, "../elsewhere/x/b.png": None,
            "../elsewhere/y/c.png": None, "cat/more": "->../../elsewhere/x",
            "bird": "->../elsewhere/y"}
    root = tree(d, spec)
    assert os.path.isdir(other)
    classes, samples = image_folder(root)
    assert classes == ["bird", "cat", "dog"]
    labelled(d, root, "--order", "name")
    check_against(d, root, classes, samples)


def test_hidden_names_and_extensions_parimg_does_not_share(d):
    """The documented differences: hidden names are skipped at every level
    (ImageFolder would make .ipynb_checkpoints a class), and the extensions
    are load's own (.gif, .tga, .pnm besides ImageFolder's)."""
    spec = {"a/x.png": None, "a/.hidden.png": None, "a/.cache/y.png": None,
            "a/pic.tga": None, "b/y.png": None, "b/z.tif": None, "b/w.gif": None,
            ".ipynb_checkpoints/a.png": None}
    root = tree(d, spec)
    # The tga, gif and tif files hold PNG bytes: load goes by content, not by name.
    labelled(d, root, "--order", "name")
    classes, samples = image_folder(root, PARIMG_EXTENSIONS, skip_hidden=True)
    assert classes == ["a", "b"]
    assert [os.path.relpath(p, root) for p, _ in samples] == ["a/pic.tga", "a/x.png", "b/w.gif",
                                                              "b/y.png", "b/z.tif"]
    check_against(d, root, classes, samples)
    full = image_folder(root)
    assert ".ipynb_checkpoints" in full[0] and len(full[1]) == 6


def test_empty_class_is_an_error_like_image_folder(d):
    spec = {"cat/a.png": None, "dog/": "/", "fish/readme.txt": b"none yet", "owl/b.png": None}
    root = tree(d, spec)
    try:
        image_folder(root)
        raise AssertionError("the reference accepted empty classes")
    except FileNotFoundError as e:
        assert "dog, fish" in str(e)
    r = labelled(d, root, code=1)
    names(r, os.path.join(root, "dog"), "no image files in this class folder")
    names(r, os.path.join(root, "fish"), "no image files in this class folder")
    nothing_written(d)


def test_no_class_folders(d):
    root = tree(d, {"a.png": None})
    r = labelled(d, root, code=1)
    names(r, root, "no class folders")
    r = labelled(d, os.path.join(root, "a.png"), code=1)
    names(r, os.path.join(root, "a.png"), "Not a directory")
    nothing_written(d)


def test_unreadable_class_folder_is_an_error_naming_it(d):
    """Tests run as root, whom chmod 000 does not stop: the LD_PRELOAD shim
    (tests/lib/crash_preload.c) fails opendir() of a path with DENYME in it."""
    env = harness.preload_env("crash_preload", d)
    for bad in ("cat_DENYME", "dog/sub_DENYME"):
        root = tree(d, {"cat/a.png": None, "dog/b.png": None, bad + "/c.png": None})
        r = labelled(d, root, code=1, env=env)
        assert r.err == "parimg: %s: Permission denied\n" % os.path.join(root, bad), r
        nothing_written(d, "shim.so")
        shutil.rmtree(root)


def test_symlink_loop_is_an_error(d):
    root = tree(d, {"cat/a.png": None, "cat/sub/b.png": None, "cat/sub/up": "->.."})
    r = labelled(d, root, code=1)
    names(r, os.path.join(root, "cat", "sub", "up"), "symbolic link loop")
    nothing_written(d)


def test_existing_labels_or_classes_not_overwritten_without_f(d):
    """Refused before any work: under the shim, listing the class folder
    holding DENYME, or probing the image named CRASHME, would fail."""
    root = tree(d, {"cat/a_CRASHME.png": None, "dog_DENYME/b.png": None})
    env = harness.preload_env("crash_preload", d)
    for name in ("y.npy", "classes.txt"):
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(b"precious")
        before = os.stat(path).st_mtime_ns
        r = labelled(d, root, code=1, env=env)
        assert r.err == "parimg: %s: file exists (use -f to replace it)\n" % path, r
        assert read(path) == b"precious" and os.stat(path).st_mtime_ns == before
        nothing_written(d, name, "shim.so")
        labelled(d, root, "-f")
        assert np.load(os.path.join(d, "y.npy")).tolist() == [0, 1]
        assert lines(os.path.join(d, "classes.txt")) == ["cat", "dog_DENYME"]
        for n in ("x.npy", "y.npy", "classes.txt", "rows.txt"):
            os.unlink(os.path.join(d, n))


def test_labels_usage_errors(d):
    root = tree(d, {"cat/a.png": None})
    x, y = os.path.join(d, "x.npy"), os.path.join(d, "y.npy")
    cases = [
        (["--classes", "c.txt", "-o", x, root], "--classes needs --labels"),
        (["--seed", "3", "-o", x, root], "--seed needs --shuffle"),
        (["--labels", y, "-o", x, root, root], "--labels takes one INPUT"),
        (["--labels", y, "-o", x, "-"], "--labels takes one INPUT"),
        (["--labels", x, "-o", x, root], "named for two of the outputs"),
        (["--labels", y, "--classes", y, "-o", x, root], "named for two of the outputs"),
        (["--seed", "-1", "--shuffle", "-o", x, root], "invalid --seed"),
    ]
    for split in ("0.9", "0.5,0.6", "0,1", "a=0.5,a=0.5", "a=0.5,0.5", "a b=0.5,c=0.5",
                  "0.2,0.2,0.2,0.4", "train=nan,val=0.5", "=0.5,b=0.5", "0.5,,0.5"):
        cases.append((["--split", split, "-o", x, root], "invalid --split"))
    for args, msg in cases:
        r = run("load", *args)
        ok(r, 2)
        assert r.err.startswith("parimg: ") and msg in r.err and "--help" in r.err, (args, r)
    nothing_written(d)


# ---------------------------------------------------------------- shuffle

def shuffle_tree(d, n_per_class=(7, 5, 9, 4)):
    spec = {}
    for k, n in enumerate(n_per_class):
        for i in range(n):
            spec["c%d/img_%d.png" % (k, i)] = None
    return tree(d, spec)


def test_shuffle_is_the_documented_permutation(d):
    root = shuffle_tree(d)
    labelled(d, root, "--order", "name", out="s.npy", labels="sy.npy")
    sorted_rows = lines(os.path.join(d, "rows.txt"))
    sorted_y = np.load(os.path.join(d, "sy.npy")).tolist()
    for seed in ("0", "1", "18446744073709551615"):
        labelled(d, root, "-f", "--order", "name", "--shuffle", "--seed", seed)
        perm = permutation(int(seed), len(sorted_rows))
        rows = lines(os.path.join(d, "rows.txt"))
        assert rows == [sorted_rows[p] for p in perm], seed
        assert np.load(os.path.join(d, "y.npy")).tolist() == [sorted_y[p] for p in perm]
        check_rows(d, rows)
    # No --seed is seed 0.
    labelled(d, root, "-f", "--order", "name", "--shuffle", out="z.npy")
    assert lines(os.path.join(d, "rows.txt")) == [sorted_rows[p] for p in permutation(0, 25)]


def test_shuffle_without_labels(d):
    src = os.path.join(d, "flat")
    ok(run("gen", "-q", "-n", 30, "-s", "5x4", "-o", src))
    ok(run("load", "-q", "--shuffle", "--seed", 4, "--manifest", os.path.join(d, "m.txt"),
           "-o", os.path.join(d, "x.npy"), src))
    want = ["%s/image_%d.png" % (src, i) for i in permutation(4, 30)]
    assert lines(os.path.join(d, "m.txt")) == want
    check_rows(d, want)


def test_shuffle_same_for_every_jobs_schedule_and_shard(d):
    root = shuffle_tree(d, (40, 33, 27))
    outs = []
    for k, args in enumerate((["-j", 1], ["-j", 2, "--schedule", "static"],
                              ["-j", 3, "--schedule", "dynamic"], ["-j", 7])):
        labelled(d, root, "--shuffle", "--seed", 11, *args, out="x%d.npy" % k,
                 labels="y%d.npy" % k, classes="c%d.txt" % k)
        outs.append((read(os.path.join(d, "x%d.npy" % k)), read(os.path.join(d, "y%d.npy" % k)),
                     read(os.path.join(d, "rows.txt"))))
        os.unlink(os.path.join(d, "rows.txt"))
    assert all(o == outs[0] for o in outs[1:]), "the rows depend on -j or --schedule"
    # 4 shards, merged with their labels, equal the single run.
    xs, ys = [], []
    for k in range(4):
        xs.append(os.path.join(d, "x-%d.npy" % k))
        ys.append(os.path.join(d, "y-%d.npy" % k))
        ok(run("load", "-q", "--shard", "%d/4" % k, "-j", 1 + k % 2, "--shuffle", "--seed", 11,
               "--labels", ys[-1], "--manifest", os.path.join(d, "m-%d.txt" % k), "-o", xs[-1], root))
    ok(run("merge", "-q", "-o", os.path.join(d, "xm.npy"), "--labels", os.path.join(d, "ym.npy"),
           *(xs + ys)))
    assert read(os.path.join(d, "xm.npy")) == outs[0][0]
    assert read(os.path.join(d, "ym.npy")) == outs[0][1]
    assert b"".join(read(os.path.join(d, "m-%d.txt" % k)) for k in range(4)) == outs[0][2]


# ---------------------------------------------------------------- splits

def keras_split(n, val):
    """Keras's get_training_or_validation_split: (train, validation) counts."""
    num_val = int(val * n)
    return n - num_val, num_val


def test_split_disjoint_covering_reproducible(d):
    root = shuffle_tree(d, (11, 6, 9, 3))      # 29 rows
    labelled(d, root, "--shuffle", "--seed", 2, out="all.npy", labels="ally.npy")
    whole = lines(os.path.join(d, "rows.txt"))
    all_x, all_y = np.load(os.path.join(d, "all.npy")), np.load(os.path.join(d, "ally.npy"))
    for spec, parts in (("train=0.8,val=0.2", [("train", 0.8), ("val", 0.2)]),
                        ("0.7,0.2,0.1", [("train", 0.7), ("val", 0.2), ("test", 0.1)])):
        for again in (0, 1):
            labelled(d, root, "-f", "--shuffle", "--seed", 2, "--split", spec)
            got, begin = {}, 0
            sizes = [int(f * 29) for _, f in parts[1:]]
            sizes.insert(0, 29 - sum(sizes))
            if len(parts) == 2:
                assert tuple(sizes) == keras_split(29, 0.2)
            for (name, _), size in zip(parts, sizes):
                rows = lines(os.path.join(d, "rows.%s.txt" % name))
                x = np.load(os.path.join(d, "x.%s.npy" % name))
                y = np.load(os.path.join(d, "y.%s.npy" % name))
                assert len(rows) == len(x) == len(y) == size, (name, len(rows), len(x), size)
                assert rows == whole[begin:begin + size], name
                assert np.array_equal(x, all_x[begin:begin + size])
                assert np.array_equal(y, all_y[begin:begin + size])
                got[name] = [read(os.path.join(d, n % name)) for n in
                             ("x.%s.npy", "y.%s.npy", "rows.%s.txt")]
                begin += size
            assert begin == 29
            if again:
                assert got == first, "a second run gave other parts"
            first = got
            assert lines(os.path.join(d, "classes.txt")) == ["c0", "c1", "c2", "c3"]
            assert not os.path.exists(os.path.join(d, "x.npy"))
        for name, _ in parts:
            for n in ("x.%s.npy", "y.%s.npy", "rows.%s.txt"):
                os.unlink(os.path.join(d, n % name))


def test_split_shards_merge_to_each_part(d):
    root = shuffle_tree(d, (10, 10, 7))
    labelled(d, root, "--shuffle", "--split", "train=0.75,val=0.25")
    for k in range(3):
        ok(run("load", "-q", "--shuffle", "--split", "train=0.75,val=0.25", "--shard", "%d/3" % k,
               "--labels", os.path.join(d, "y-%d.npy" % k), "-o", os.path.join(d, "x-%d.npy" % k),
               root))
    for part in ("train", "val"):
        xs = [os.path.join(d, "x-%d.%s.npy" % (k, part)) for k in range(3)]
        ys = [os.path.join(d, "y-%d.%s.npy" % (k, part)) for k in range(3)]
        ok(run("merge", "-q", "-o", os.path.join(d, "m.npy"), "--labels", os.path.join(d, "my.npy"),
               *(xs + ys)))
        assert read(os.path.join(d, "m.npy")) == read(os.path.join(d, "x.%s.npy" % part))
        assert read(os.path.join(d, "my.npy")) == read(os.path.join(d, "y.%s.npy" % part))
        os.unlink(os.path.join(d, "m.npy"))
        os.unlink(os.path.join(d, "my.npy"))


def test_split_without_shuffle_warns_and_takes_sorted_runs(d):
    root = shuffle_tree(d, (6, 4))
    r = run("load", "--split", "0.6,0.4", "--labels", os.path.join(d, "y.npy"),
            "-o", os.path.join(d, "x.npy"), root)
    ok(r)
    assert r.err == "parimg: --split without --shuffle: the rows are in class order, so the " \
                    "parts hold different classes\n", r
    assert np.load(os.path.join(d, "y.train.npy")).tolist() == [0] * 6
    assert np.load(os.path.join(d, "y.val.npy")).tolist() == [1] * 4


def test_split_refuses_any_existing_part(d):
    root = shuffle_tree(d, (4, 4))
    path = os.path.join(d, "y.val.npy")
    with open(path, "wb") as f:
        f.write(b"precious")
    r = labelled(d, root, "--shuffle", "--split", "0.5,0.5", code=1)
    assert r.err == "parimg: %s: file exists (use -f to replace it)\n" % path, r
    nothing_written(d, "y.val.npy")


# ------------------------------------------------- merge --labels refusals

def test_merge_labels_refusals(d):
    root = shuffle_tree(d, (5, 4))
    xs, ys = [], []
    for k in range(2):
        xs.append(os.path.join(d, "x-%d.npy" % k))
        ys.append(os.path.join(d, "y-%d.npy" % k))
        ok(run("load", "-q", "--shard", "%d/2" % k, "--labels", ys[-1], "-o", xs[-1], root))
    out, lab = os.path.join(d, "m.npy"), os.path.join(d, "ml.npy")
    r = ok(run("merge", "-o", out, "--labels", lab, *(xs + ys[:1])), 2)
    assert "not as many labels parts" in r.err, r
    r = ok(run("merge", "-o", out, "--labels", out, *(xs + ys)), 2)
    r = ok(run("merge", "-o", out, "--labels", lab, *(ys + xs)), 1)
    names(r, xs[0], "not labels")
    r = ok(run("merge", "-o", out, "--labels", lab, xs[0], xs[1], ys[1], ys[0]), 1)
    names(r, ys[1], "5 labels for the 4 rows of %s" % re.escape(xs[0]))
    # The labels cannot be written: neither output appears.
    r = ok(run("merge", "-o", out, "--labels", os.path.join(d, "no", "ml.npy"), *(xs + ys)), 1)
    assert not os.path.exists(out), r
    with open(lab, "wb") as f:
        f.write(b"precious")
    r = ok(run("merge", "-o", out, "--labels", lab, *(xs + ys)), 1)
    assert r.err == "parimg: %s: file exists (use -f to replace it)\n" % lab, r
    assert not os.path.exists(out) and read(lab) == b"precious"
    hidden = [n for n in os.listdir(d) if n.startswith(".")]
    assert not hidden, hidden


# ------------------------------------------------ an interrupted labelled load

def temps(d):
    found = []
    for dirpath, _, files in os.walk(d):
        found += [os.path.join(dirpath, n) for n in files if n.startswith(".") and n.endswith(".tmp")]
    return found


def test_interrupted_labelled_load_leaves_neither_file(d):
    src = os.path.join(d, "src")
    root = os.path.join(d, "big")
    ok(run("gen", "-q", "-n", 300, "-s", "256x256", "-c", 3, "-F", "jpg", "-o", src))
    for i in range(300):
        c = os.path.join(root, "c%d" % (i % 3))
        os.makedirs(c, exist_ok=True)
        os.link(os.path.join(src, "image_%d.jpg" % i), os.path.join(c, "%d.jpg" % i))
    out = os.path.join(d, "out")
    os.makedirs(out)
    for sig, group in ((signal.SIGINT, True), (signal.SIGTERM, False)):
        p = subprocess.Popen([harness.BIN, "load", "-q", "-j", "2", "--resize", "16x16",
                              "--labels", os.path.join(out, "y.npy"), "--classes",
                              os.path.join(out, "c.txt"), "--shuffle", "-o",
                              os.path.join(out, "x.npy"), root],
                             stderr=subprocess.PIPE, start_new_session=True)
        try:
            end = time.monotonic() + 20
            while len(temps(out)) < 2:      # the array's and the labels'
                assert p.poll() is None, "load ended before the signal: %r" % (p.communicate(),)
                assert time.monotonic() < end, "no temporary files seen"
                time.sleep(0.002)
            time.sleep(0.05)
            assert p.poll() is None, "load ended before the signal"
            if group:
                os.killpg(p.pid, sig)
            else:
                p.send_signal(sig)
            p.communicate(timeout=10)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        assert p.returncode == -sig, p.returncode
        assert os.listdir(out) == [], "left behind: %r" % os.listdir(out)
        assert not harness.procs_mentioning(root), "workers left running"


# ------------------------------------------------ the guide's worked example

def test_readme_worked_example(d):
    """The guide's ImageFolder example, run as written: its shell block
    with this parimg first on PATH, then its Python block, whose asserts
    check that x[i] is an image of class classes[y[i]]."""
    harness.run_readme_example(d, "worked example")


harness.main(globals())
