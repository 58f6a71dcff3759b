#!/usr/bin/python3
"""Command-line tests for archives as inputs: tar (ustar, pax, GNU), tar.gz,
tar.zst, tar.xz, tar.bz2 and zip (stored and deflated), built here from the
photo fixtures (tests/lib/photos.py) with Python's tarfile and zipfile and the
tar, zstd and zip commands. The oracle is load -r of the same tree, extracted:
the arrays, labels, classes, splits, shards and ragged indexes must be the
same bytes, and the manifest the same member paths. Then webdataset shards
(.cls labels), check on an archive, and hostile archives: truncated, corrupt,
bombs, absolute, ../ and duplicate names, each refused with its exit status
and nothing left behind.

Run: /usr/bin/python3 tests/cli_archive_test.py ./parimg [test_name...]
"""
import base64
import gzip
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
import photos  # noqa: E402
from harness import names, ok, run  # noqa: E402

FIX_DIR = os.path.join(tempfile.gettempdir(), "parimg-archive-fixtures-%d" % os.getuid())
ROW = ("-c", "3", "--resize", "40x30")

# The class tree: name -> fixture (None: text). Hidden and non-image members
# and an inner archive must be skipped, a PNG named .jpg read as a PNG.
TREE = {
    "cat/jpeg_baseline.jpg": "jpeg_baseline",
    "cat/image_2.png": "png_rgb",
    "cat/image_10.png": "png_gray",
    "cat/sub/webp_lossy.webp": "webp_lossy",
    "cat/sub/deeper/gif_palette.gif": "gif_palette",
    "cat/.hidden.png": "png_rgba",
    "dog/named_png_as.jpg": "named_png_as.jpg",
    "dog/jpeg_progressive.jpg": "jpeg_progressive",
    "dog/notes.txt": None,
    "dog/inner.tar": "TAR",
    "dog/a b/jpeg_420.jpg": "jpeg_420",
    "emu/x/png_rgba.png": "png_rgba",
    ".git/objects.png": "png_rgb",
    "top.png": "png_gray",
}


def fixtures():
    return photos.build(FIX_DIR)


def member_bytes():
    fx = fixtures()
    out = {}
    for name, kind in TREE.items():
        if kind is None:
            out[name] = b"not an image\n"
        elif kind == "TAR":
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as t:
                data = open(fx["png_rgb"], "rb").read()
                ti = tarfile.TarInfo("inside.png")
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            out[name] = buf.getvalue()
        else:
            out[name] = open(fx[kind], "rb").read()
    return out


def make_tree(root, files=None):
    for name, data in (files or member_bytes()).items():
        p = os.path.join(root, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    return root


def py_tar(path, files, fmt=tarfile.PAX_FORMAT, mode="w"):
    with tarfile.open(path, mode, format=fmt) as t:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return path


def py_zip(path, files, method=zipfile.ZIP_DEFLATED, prefix=""):
    with zipfile.ZipFile(path, "w", method) as z:
        for name, data in files.items():
            z.writestr(prefix + name, data)
    return path


def sh(*cmd, cwd=None):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def every_archive(d, tree):
    """{label: path} of the tree in every format and maker."""
    files = member_bytes()
    a = {}
    a["ustar"] = py_tar(os.path.join(d, "t.ustar"), files, tarfile.USTAR_FORMAT)
    a["pax"] = py_tar(os.path.join(d, "t.pax.tar"), files, tarfile.PAX_FORMAT)
    a["gnu"] = py_tar(os.path.join(d, "t.gnu.tar"), files, tarfile.GNU_FORMAT)
    a["zip_deflated"] = py_zip(os.path.join(d, "d.zip"), files)
    a["zip_stored"] = py_zip(os.path.join(d, "s.zip"), files, zipfile.ZIP_STORED)
    # zip64 headers, and members compressed as libarchive alone inflates
    # them (bzip2, lzma: copied through the memory file).
    a["zip64"] = os.path.join(d, "z64.zip")
    with zipfile.ZipFile(a["zip64"], "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            with z.open(name, "w", force_zip64=True) as f:
                f.write(data)
    a["zip_bzip2"] = py_zip(os.path.join(d, "b.zip"), files, zipfile.ZIP_BZIP2)
    a["zip_lzma"] = py_zip(os.path.join(d, "l.zip"), files, zipfile.ZIP_LZMA)
    a["tar_cmd"] = os.path.join(d, "cmd.tar")
    sh("tar", "cf", a["tar_cmd"], ".", cwd=tree)
    a["tar_gz"] = os.path.join(d, "t.tar.gz")
    sh("tar", "czf", a["tar_gz"], ".", cwd=tree)
    # A gzipped zip: inflated whole, its deflated members inflated again
    # by the workers from the inflated bytes.
    a["zip_gz"] = os.path.join(d, "d.zip.gz")
    open(a["zip_gz"], "wb").write(gzip.compress(open(a["zip_deflated"], "rb").read()))
    a["tar_zst"] = os.path.join(d, "t.tar.zst")
    sh("tar", "--zstd", "-cf", a["tar_zst"], ".", cwd=tree)
    a["tar_xz"] = os.path.join(d, "t.txz")
    sh("tar", "cJf", a["tar_xz"], ".", cwd=tree)
    a["tar_bz2"] = os.path.join(d, "t.tbz2")
    sh("tar", "cjf", a["tar_bz2"], ".", cwd=tree)
    a["zip_cmd"] = os.path.join(d, "cmd.zip")
    sh("zip", "-qr", a["zip_cmd"], ".", cwd=tree)
    # The bytes, not the name, choose the reader.
    a["misnamed"] = os.path.join(d, "data.bin")
    shutil.copy(a["tar_zst"], a["misnamed"])
    return a


def load(d, *args, code=0, env=None):
    return ok(run("load", "-q", *args, cwd=d, env=env), code)


def npy(path):
    return open(path, "rb").read()


def manifest(path, prefix):
    rows = open(path).read().splitlines()
    assert all(r.startswith(prefix) for r in rows), (prefix, rows[:3])
    return [r[len(prefix):] for r in rows]


def listing(d):
    return sorted(os.listdir(d))


# ------------------------------------------------------------ same rows

def test_every_format_equals_extracted_tree(d):
    tree = make_tree(os.path.join(d, "tree"))
    arcs = every_archive(d, tree)
    load(d, *ROW, "-r", "-o", "want.npy", "--manifest", "want.txt", "tree")
    want = manifest(os.path.join(d, "want.txt"), "tree/")
    assert len(want) == 10, want     # no hidden, text, inner-archive member
    assert "cat/image_2.png" in want and want.index("cat/image_2.png") < want.index(
        "cat/image_10.png"), want   # natural order over member paths
    for label, path in arcs.items():
        r = load(d, *ROW, "-f", "-o", "got.npy", "--manifest", "got.txt", path)
        assert r.err == "", (label, r)
        got = manifest(os.path.join(d, "got.txt"), path + ":")
        got = [g[2:] if g.startswith("./") else g for g in got]
        assert got == want, (label, got, want)
        assert npy(os.path.join(d, "got.npy")) == npy(os.path.join(d, "want.npy")), label


def test_recursive_directories(d):
    tree = make_tree(os.path.join(d, "tree"))
    load(d, *ROW, "-o", "flat.npy", "--manifest", "flat.txt", "tree")
    assert open(os.path.join(d, "flat.txt")).read().splitlines() == ["tree/top.png"]
    load(d, *ROW, "--recursive", "-o", "deep.npy", "--manifest", "deep.txt", "tree")
    rows = open(os.path.join(d, "deep.txt")).read().splitlines()
    assert len(rows) == 10 and not any("/." in r for r in rows), rows
    # Natural order over the whole paths, as for an archive.
    assert rows[0] == "tree/cat/image_2.png", rows


def test_mixed_inputs_and_lists(d):
    tree = make_tree(os.path.join(d, "tree"))
    arcs = every_archive(d, tree)
    single = fixtures()["jpeg_baseline"]
    shutil.copy(single, os.path.join(d, "one.jpg"))
    stdin = "%s\n%s\n" % (arcs["zip_stored"], arcs["tar_gz"])
    r = ok(run("load", "-q", *ROW, "-o", "m.npy", "--manifest", "m.txt", "--order", "none",
               "one.jpg", arcs["pax"], "-", "tree", cwd=d, stdin=stdin))
    assert r.err == ""
    rows = open(os.path.join(d, "m.txt")).read().splitlines()
    assert rows[0] == "one.jpg" and len(rows) == 1 + 10 * 3 + 1, rows
    assert rows[1].startswith(arcs["pax"] + ":") and rows[-1] == "tree/top.png"
    a = np.load(os.path.join(d, "m.npy"))
    load(d, *ROW, "-o", "pax.npy", "--order", "none", arcs["pax"])
    assert a.shape == (32, 30, 40, 3)
    assert (a[1:11] == np.load(os.path.join(d, "pax.npy"))).all()


def labels_run(d, tag, src, *extra):
    load(d, *ROW, "-f", "-o", tag + ".npy", "--labels", tag + ".y.npy", "--classes",
         tag + ".cls", "--manifest", tag + ".txt", *extra, src)
    return [npy(os.path.join(d, tag + s)) for s in (".npy", ".y.npy", ".cls")]


def test_labels_classes_shuffle_match_tree(d):
    tree = make_tree(os.path.join(d, "tree"))
    arcs = every_archive(d, tree)
    wrapped = os.path.join(d, "wrap")
    make_tree(os.path.join(wrapped, "dataset"))
    sh("zip", "-qr", os.path.join(d, "wrapped.zip"), "dataset", cwd=wrapped)
    sh("tar", "--zstd", "-cf", os.path.join(d, "wrapped.tar.zst"), "dataset", cwd=wrapped)
    for extra in ((), ("--shuffle", "--seed", "7"), ("--order", "name")):
        want = labels_run(d, "want", "tree", *extra)
        assert want[2] == b"cat\ndog\nemu\n", want[2]
        for label in ("ustar", "gnu", "zip_deflated", "tar_zst", "zip_cmd", "tar_cmd"):
            assert labels_run(d, label, arcs[label], *extra) == want, (label, extra)
        # One common top folder (as after unzip): the classes are under it.
        for w in ("wrapped.zip", "wrapped.tar.zst"):
            assert labels_run(d, "w", w, *extra) == want, (w, extra)


def test_split_shard_merge_ragged_match_tree(d):
    tree = make_tree(os.path.join(d, "tree"))
    arc = every_archive(d, tree)["tar_gz"]
    for src, tag in (("tree", "dir"), (arc, "arc")):
        rec = ("-r",) if src == "tree" else ()
        load(d, *ROW, *rec, "-o", tag + ".npy", "--labels", tag + ".y.npy", "--shuffle",
             "--split", "train=0.6,val=0.4", src)
        for k in (0, 1):
            load(d, *ROW, *rec, "--shard", "%d/2" % k, "-o", "%s-%d.npy" % (tag, k), src)
        ok(run("merge", "-q", "-o", tag + "-merged.npy", tag + "-0.npy", tag + "-1.npy",
               cwd=d))
        load(d, "-c", "3", "--ragged", "--resize", "20", *rec, "-o", tag + "-r.npy", src)
    for s in ("train.npy", "val.npy", "y.train.npy", "y.val.npy", "-merged.npy", "-r.npy",
              "-r.index.npy"):
        a, b = "dir" + ("." if s[0] != "-" else "") + s, "arc" + ("." if s[0] != "-" else "") + s
        assert npy(os.path.join(d, a)) == npy(os.path.join(d, b)), s
    merged = np.load(os.path.join(d, "arc-merged.npy"))
    load(d, *ROW, "-o", "whole.npy", arc)
    assert (merged == np.load(os.path.join(d, "whole.npy"))).all()


def test_sandbox_off_and_require_agree(d):
    tree = make_tree(os.path.join(d, "tree"))
    arcs = every_archive(d, tree)
    for label in ("pax", "zip_deflated", "tar_xz"):
        load(d, *ROW, "-f", "--sandbox", "off", "-o", "off.npy", arcs[label])
        r = run("load", "-q", *ROW, "-f", "--sandbox", "require", "-o", "on.npy", arcs[label],
                cwd=d)
        if r.code != 0 and "sandbox" in r.err:
            return      # this kernel cannot confine: nothing to compare
        ok(r)
        assert npy(os.path.join(d, "off.npy")) == npy(os.path.join(d, "on.npy")), label


def test_more_archives_than_workers_keep(d):
    """Confined workers keep the first 32 archives' descriptors (their
    members handed over by none) and are handed the rest's: 40 shards, some
    tar, some zip, some tar.gz (inflated: read from memory), in a list, as
    -j1, -j2 and -j3 with and without the sandbox, with labels and a
    shuffle: the same bytes each time."""
    files = {k: v for k, v in member_bytes().items()
             if TREE[k] not in (None, "TAR") and not any(c.startswith(".") for c in k.split("/"))}
    names = sorted(files)
    listed = []
    for s in range(40):
        shard = {"s%02d/%s" % (s, n): files[n] for n in names[s % 3::3]}
        path = os.path.join(d, "shard-%02d.%s" % (s, ("tar", "zip", "tar.gz")[s % 3]))
        if s % 3 == 1:
            py_zip(path, shard)
        else:
            py_tar(path, shard, mode="w:gz" if s % 3 == 2 else "w")
        listed.append(path)
    stdin = "\n".join(listed) + "\n"
    want = None
    for sandbox in ("off", "auto"):
        for j in ("1", "2", "3"):
            ok(run("load", "-q", *ROW, "-f", "-j", j, "--sandbox", sandbox, "--shuffle",
                   "--seed", "7", "-o", "got.npy", "-", cwd=d, stdin=stdin))
            got = npy(os.path.join(d, "got.npy"))
            want = want or got
            assert got == want, (sandbox, j)
    rows = sum(len(names[s % 3::3]) for s in range(40))
    assert np.load(os.path.join(d, "got.npy")).shape == (rows, 30, 40, 3)


def tar_bytes(files, mode="w"):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def zip_bytes(files, method=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_recurse_archives_tar_of_tars(d):
    files = member_bytes()
    files = {k: v for k, v in files.items()
             if k.startswith(("cat/", "dog/", "emu/")) and not k.endswith(".tar")}
    tree = make_tree(os.path.join(d, "tree"), files)
    per = {c: {k[len(c) + 1:]: v for k, v in files.items() if k.startswith(c + "/")}
           for c in ("cat", "dog", "emu")}
    # ImageNet's layout: one archive per class, of every kind.
    inner = {"cat.tar": tar_bytes(per["cat"]), "dog.tar.gz": tar_bytes(per["dog"], "w:gz"),
             "emu.zip": zip_bytes(per["emu"])}
    py_tar(os.path.join(d, "outer.tar"), inner)
    py_tar(os.path.join(d, "outer.tar.xz"), inner, mode="w:xz")
    py_zip(os.path.join(d, "outer.zip"), inner, zipfile.ZIP_STORED)
    # Inflated whole: cat.tar and emu.zip read in place in the inflated
    # bytes, dog.tar.gz copied out to the memory file.
    py_tar(os.path.join(d, "outer.tar.gz"), inner, mode="w:gz")
    want = labels_run(d, "want", "tree", "--shuffle")
    assert want[2] == b"cat\ndog\nemu\n"
    for outer in ("outer.tar", "outer.tar.xz", "outer.zip", "outer.tar.gz"):
        got = labels_run(d, "got", outer, "--shuffle", "--recurse-archives")
        assert got == want, outer
        rows = open(os.path.join(d, "got.txt")).read().splitlines()
        assert any(r.startswith(outer + ":cat/") for r in rows), rows
    load(d, *ROW, "-r", "-o", "plain.npy", "tree")
    load(d, *ROW, "--recurse-archives", "-o", "flat.npy", "outer.tar")
    assert npy(os.path.join(d, "plain.npy")) == npy(os.path.join(d, "flat.npy"))
    # Without the option an inner archive is a non-image member.
    r = load(d, *ROW, "-o", "none.npy", "outer.tar", code=1)
    assert "no image" in r.err, r
    # A corrupt inner archive is refused, named.
    bad = dict(inner)
    bad["dog.tar.gz"] = inner["dog.tar.gz"][:len(inner["dog.tar.gz"]) // 2]
    py_tar(os.path.join(d, "bad.tar"), bad)
    r = load(d, *ROW, "--recurse-archives", "-o", "bad.npy", "bad.tar", code=1)
    assert r.err.startswith("parimg: bad.tar:dog") and "gzip" in r.err, r
    assert not os.path.exists(os.path.join(d, "bad.npy"))
    # An inner archive's rows named as a folder's: refused as duplicates.
    png = per["cat"]["image_2.png"]
    py_tar(os.path.join(d, "clash.tar"), {"cat/image_2.png": png,
                                          "cat.tar": tar_bytes({"image_2.png": png})})
    refused(d, "clash.tar", "clash.tar:cat/image_2.png", "duplicate", "--recurse-archives")
    # Archives nested too deep.
    deep = tar_bytes(per["cat"])
    for k in range(5):
        deep = tar_bytes({"l%d.tar" % k: deep})
    open(os.path.join(d, "deep.tar"), "wb").write(deep)
    refused(d, "deep.tar", "deep.tar:l4/l3/l2/l1.tar", "deeper", "--recurse-archives")
    doc = json.loads(ok(run("check", "-q", "--recurse-archives", "--format", "json",
                            "outer.tar", cwd=d)).out)
    assert doc["files"] == len([k for k in files if k.endswith((".png", ".jpg", ".webp",
                                                                 ".gif")) and "/." not in k])


# ----------------------------------------------------------- webdataset

def test_webdataset_cls_labels(d):
    fx = fixtures()
    kinds = ["jpeg_baseline", "png_rgb", "webp_lossy", "png_gray", "jpeg_progressive"]
    files, want = {}, {}
    for k, kind in enumerate(kinds):
        key = "shard/%06d" % (k * 7 % 5)
        ext = os.path.splitext(fx[kind])[1]
        files[key + ext] = open(fx[kind], "rb").read()
        files[key + ".cls"] = b"%d\n" % (10 * k + 3)
        files[key + ".json"] = b"{}"
        want[key + ext] = 10 * k + 3
    py_tar(os.path.join(d, "wds.tar"), files)
    load(d, *ROW, "-o", "x.npy", "--labels", "y.npy", "--classes", "c.txt", "--manifest",
         "m.txt", "wds.tar")
    rows = manifest(os.path.join(d, "m.txt"), "wds.tar:")
    assert rows == sorted(want), rows
    y = np.load(os.path.join(d, "y.npy"))
    assert y.tolist() == [want[r] for r in rows], (y, rows)
    assert open(os.path.join(d, "c.txt")).read() == "".join(
        "%d\n" % v for v in sorted(set(want.values())))
    # An image without its KEY.cls: refused, naming it.
    del files["shard/000000.cls"]
    py_tar(os.path.join(d, "bad.tar"), files)
    r = load(d, *ROW, "-o", "z.npy", "--labels", "zy.npy", "bad.tar", code=1)
    names(r, "bad.tar:shard/000000.jpg", "cls")
    files["shard/000000.cls"] = b"seven"
    py_tar(os.path.join(d, "bad2.tar"), files)
    r = load(d, *ROW, "-o", "z.npy", "--labels", "zy.npy", "bad2.tar", code=1)
    names(r, "bad2.tar:shard/000000.cls", "decimal")
    assert not os.path.exists(os.path.join(d, "z.npy"))


# ------------------------------------------------------------------ check

def test_check_archive_equals_tree(d):
    tree = make_tree(os.path.join(d, "tree"))
    arcs = every_archive(d, tree)
    want = json.loads(ok(run("check", "-q", "-r", "--format", "json", "tree", cwd=d)).out)
    for label in ("pax", "zip_deflated", "tar_zst"):
        got = json.loads(ok(run("check", "-q", "--format", "json", arcs[label], cwd=d)).out)
        for k in ("files", "images", "broken", "formats", "width", "height"):
            assert got[k] == want[k], (label, k, got[k], want[k])
        strip = lambda g, p: sorted(x[len(p):].lstrip("./") for x in g["paths"])  # noqa: E731
        assert sorted(strip(g, arcs[label] + ":") for g in got["duplicates"]) == \
            sorted(strip(g, "tree/") for g in want["duplicates"]), label
        assert got["duplicates"], "named_png_as.jpg is png_rgb's bytes"
    doc = json.loads(ok(run("check", "-q", "--labels", "--format", "json", arcs["zip_cmd"],
                            cwd=d)).out)
    tree_doc = json.loads(ok(run("check", "-q", "--labels", "--format", "json", "tree",
                                 cwd=d)).out)
    assert json.dumps(doc["classes"], sort_keys=True) == json.dumps(tree_doc["classes"],
                                                                    sort_keys=True)


# ------------------------------------------------------------- hostile

def refused(d, path, subject, reason, *extra, code=1, env=None):
    before = listing(d)
    r = load(d, *ROW, *extra, "-o", "out.npy", "--manifest", "out.txt", path, code=code, env=env)
    names(r, subject, reason)
    assert listing(d) == before, (path, listing(d))
    return r


def test_truncated_and_corrupt_archives(d):
    tree = make_tree(os.path.join(d, "tree"))
    arcs = every_archive(d, tree)
    for label in ("gnu", "tar_gz", "tar_zst", "tar_xz", "zip_deflated", "zip_stored"):
        data = open(arcs[label], "rb").read()
        cut = os.path.join(d, "cut-" + os.path.basename(arcs[label]))
        open(cut, "wb").write(data[:len(data) * 2 // 3])
        r = load(d, *ROW, "-o", "out.npy", cut, code=1)
        assert r.err.startswith("parimg: " + cut), (label, r)
        assert not os.path.exists(os.path.join(d, "out.npy"))
        os.unlink(cut)
    # Not an archive at all behind an archive's magic.
    open(os.path.join(d, "fake.zip"), "wb").write(b"PK\3\4" + b"\xff" * 100)
    refused(d, "fake.zip", "fake.zip", "")
    open(os.path.join(d, "fake.gz"), "wb").write(b"\x1f\x8b" + b"\xff" * 100)
    refused(d, "fake.gz", "fake.gz", "")


def test_corrupt_member_named_and_skipped_with_k(d):
    fx = fixtures()
    good = open(fx["png_rgb"], "rb").read()
    files = {"a.png": good, "b.png": open(fx["bad_png_trunc_idat"], "rb").read()
             if "bad_png_trunc_idat" in fx else good[:300], "c.png": good}
    for path in (py_tar(os.path.join(d, "c.tar"), files), py_zip(os.path.join(d, "c.zip"), files)):
        refused(d, os.path.basename(path), os.path.basename(path) + ":b.png", "")
        r = load(d, *ROW, "-k", "-f", "-o", "k.npy", os.path.basename(path), code=3)
        names(r, os.path.basename(path) + ":b.png", "")
        a = np.load(os.path.join(d, "k.npy"))
        assert a.shape[0] == 3 and not a[1].any() and a[0].any() and a[2].any()


def test_corrupt_deflate_stream_in_zip(d):
    png = open(fixtures()["png_rgb"], "rb").read()
    py_zip(os.path.join(d, "z.zip"), {"a.png": png, "b.png": png[::-1] + png, "c.png": png})
    z = bytearray(open(os.path.join(d, "z.zip"), "rb").read())
    info = zipfile.ZipFile(os.path.join(d, "z.zip")).getinfo("b.png")
    at = info.header_offset + 30 + len("b.png") + len(info.extra) + 50
    z[at:at + 40] = b"\xff" * 40
    open(os.path.join(d, "bad.zip"), "wb").write(bytes(z))
    refused(d, "bad.zip", "bad.zip:b.png", "")
    r = load(d, *ROW, "-k", "-o", "k.npy", "bad.zip", code=3)
    names(r, "bad.zip:b.png", "")
    a = np.load(os.path.join(d, "k.npy"))
    assert not a[1].any() and a[0].any() and a[2].any()


def test_hostile_names(d):
    png = open(fixtures()["png_rgb"], "rb").read()
    py_tar(os.path.join(d, "abs.tar"), {"/etc/passwd.png": png})
    refused(d, "abs.tar", "abs.tar:/etc/passwd.png", "absolute or ../")
    py_tar(os.path.join(d, "up.tar"), {"a/../../x.png": png})
    refused(d, "up.tar", "up.tar:a/../../x.png", "absolute or ../")
    py_zip(os.path.join(d, "up.zip"), {"../x.png": png})
    refused(d, "up.zip", "up.zip:../x.png", "absolute or ../")
    py_tar(os.path.join(d, "dup.tar"), {"x.png": png, "./x.png": png})
    refused(d, "dup.tar", "dup.tar:x.png", "duplicate")
    py_tar(os.path.join(d, "nl.tar"), {"a\nb.png": png})
    refused(d, "nl.tar", "nl.tar:a\\x0ab.png", "newline")
    # A CR ends a line too, to Python's universal newlines and splitlines().
    py_tar(os.path.join(d, "cr.tar"), {"a\rb.png": png})
    refused(d, "cr.tar", "cr.tar:a\\x0db.png", "line break")
    # "./" prefixes and doubled slashes name the same place as without.
    py_tar(os.path.join(d, "dots.tar"), {"./a//b/./x.png": png})
    load(d, *ROW, "-o", "o.npy", "--manifest", "o.txt", "dots.tar")
    assert open(os.path.join(d, "o.txt")).read() == "dots.tar:a/b/x.png\n"
    assert not any(os.path.exists(p) for p in ("/etc/passwd.png", os.path.join(d, "x.png")))


def test_bombs_and_huge_sizes(d):
    # A header claiming 8 GiB in a tiny tar.
    png = open(fixtures()["png_gray"], "rb").read()
    ti = tarfile.TarInfo("big.png")
    ti.size = 8 << 30
    open(os.path.join(d, "huge.tar"), "wb").write(ti.tobuf(tarfile.GNU_FORMAT) + png)
    refused(d, "huge.tar", "huge.tar:big.png", "over the member limit|past the archive")
    ti.size = 1 << 20
    open(os.path.join(d, "short.tar"), "wb").write(ti.tobuf(tarfile.GNU_FORMAT) + png)
    refused(d, "short.tar", "short.tar:big.png", "past the archive's end")
    # 64 MiB of zeros: over --max-pixels' budget before a byte is inflated.
    py_zip(os.path.join(d, "bomb.zip"), {"b.png": b"\0" * (64 << 20)})
    refused(d, "bomb.zip", "bomb.zip:b.png", "member limit", "--max-pixels", "1000000")
    # A bomb that lies: its headers say 1000 bytes, the stream inflates to 64 MiB.
    z = bytearray(open(os.path.join(d, "bomb.zip"), "rb").read())
    real = struct.pack("<I", 64 << 20)
    k = z.find(real)
    while k >= 0:
        z[k:k + 4] = struct.pack("<I", 1000)
        k = z.find(real, k + 4)
    open(os.path.join(d, "liar.zip"), "wb").write(bytes(z))
    refused(d, "liar.zip", "liar.zip:b.png", "declared size")
    py_tar(os.path.join(d, "bomb.tar"), {"b.png": b"\0" * (8 << 20)})
    sh("gzip", "-9", os.path.join(d, "bomb.tar"))
    refused(d, "bomb.tar.gz", "bomb.tar.gz:b.png", "member limit", "--max-pixels", "100000")


def test_no_image_members(d):
    py_tar(os.path.join(d, "text.tar"), {"a.txt": b"x", "b/c.json": b"{}"})
    r = load(d, *ROW, "-o", "o.npy", "text.tar", code=1)
    assert "no image" in r.err, r
    assert not os.path.exists(os.path.join(d, "o.npy"))


# ------------------------------------------------------------- memory budget

# A 1,042-byte .tar.bz2 of four 256 MiB members of zeros (m0.png to m3.png,
# GNU headers), made by zero_tar_bz2() below (9 s of bzip2: kept here).
BZ2_BOMB = base64.b64decode(
    "QlpoOTFBWSZTWaqtJsMFfjxbgMqAQAF1gAAQYINeAAAIIAB1CSU/UgNB6hoBFUDCABp6nE5QKgCqomIgICqom2s6VvpJAQCSSQiA"
    "ys24R1AiaHEJ1is0ctntubeWiIqqgCqon5igrJMprIcE8W+Ar8cgAGAAAAQQABhAJqMhUBLUhUBLmKCskymshwTxb4CvxyAAYAAA"
    "BBAAGEAmoyFQEtSFQEuYoKyTKayHBPFvgK/HIABgAAAEEAAYQCajIVAS1IVAS5igrJMprIcE8W+Ar8cgAGAAAAQQABhAJqMhUBLU"
    "hUBLmKCskymszX6i54CVJC3AZUAgALrAAAgwQa8AAAQQADqG1CnqA0ZDQCKppoyAA09SOayRQBVUSk1AQFVRL9MaVlPASQkgAEJh"
    "mxvG0UkCsqGI6s9LTDuvb1t5aIjIVAFVRPzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFfjkAAwAA"
    "ACCAAMIBNRkKgJakKgJcxQVkmU1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCW"
    "pCoCXMUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1l1DHFnAPUBW4DKgEABdYAAEGCDXgAACCAAdQ2oKBkGhoB"
    "FU0GIAGnqRzSSKAKqiTwUBAVVErpOlZUyEkJIABCYZsrxrEgcSpYh+ntW2Mu69vvby0RFRUAVVE/MUFZJlNZDgni3wFfjkAAwAAA"
    "CCAAMIBNRkKgJakKgJcxQVkmU1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWp"
    "CoCXMUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWQgH"
    "k5QAv7pbgMqAQAFdgAAQYINeAAAIIAB1DahIBk9QaARVNBiABp6kc0kigCqok8FAQFVRK6TpWVMhJCSAAQmGbK8VigE0WrEO09V4"
    "xwd17ebeWiIqKgCqon5igrJMprIcE8W+Ar8cgAGAAAAQQABhAJqMhUBLUhUBLmKCskymshwTxb4CvxyAAYAAABBAAGEAmoyFQEtS"
    "FQEuYoKyTKayHBPFvgK/HIABgAAAEEAAYQCajIVAS1IVAS5igrJMprIcE8W+Ar8cgAGAAAAQQABhAJqMhUBLUhUBLmKCskymshwT"
    "xb4CvxyAAYAAABBAAGEAmoyFQEtSFQEuYoKyTKaz2Kqu7AEU6IABgEAAEEAAYZgKU0wlRIbESokPF3JFOFCQGhY4fA==")
CHUNK = 16 << 20


def tar_header(name, size):
    ti = tarfile.TarInfo(name)
    ti.size = size
    return ti.tobuf(tarfile.GNU_FORMAT)


def zero_tar_bz2(members=4, size=256 << 20):
    """How BZ2_BOMB was made."""
    import bz2
    c, out = bz2.BZ2Compressor(9), []
    for i in range(members):
        out.append(c.compress(tar_header("m%d.png" % i, size)))
        out += [c.compress(bytes(CHUNK)) for _ in range(size // CHUNK)]
    return b"".join(out + [c.compress(bytes(1024)), c.flush()])


def zero_tar_gz(members=4, size=256 << 20):
    """A .tar.gz of MEMBERS members of SIZE zeros (a multiple of 16 MiB), as
    gzip members one after another (one 16 MiB member compressed once,
    repeated): about 1 KB a MiB, so past inflate_whole's cap of 32 times its
    size plus 64 MiB."""
    zeros = gzip.compress(bytes(CHUNK), 9)
    out = []
    for i in range(members):
        out.append(gzip.compress(tar_header("m%d.png" % i, size)))
        out += [zeros] * (size // CHUNK)
    return b"".join(out + [gzip.compress(bytes(1024))])


def budget(cap):
    env = dict(os.environ)
    env["PARIMG_ARCHIVE_MEMORY"] = cap
    return env


def over_budget(d, path, cap, *extra):
    """PATH is refused under a PARIMG_ARCHIVE_MEMORY of CAP, naming it,
    within seconds, nothing written, by load and check alike."""
    t = time.time()
    refused(d, path, path, "memory budget", *extra, env=budget(cap))
    assert time.time() - t < 20, time.time() - t
    r = ok(run("check", "-q", *extra, path, cwd=d, env=budget(cap)), 1)
    names(r, path, "memory budget")


def test_bz2_bomb_over_the_memory_budget(d):
    open(os.path.join(d, "bomb.tar.bz2"), "wb").write(BZ2_BOMB)
    assert len(BZ2_BOMB) < 1100
    over_budget(d, "bomb.tar.bz2", "64M")
    # A value that is no size is an error, naming the variable.
    r = load(d, *ROW, "-o", "out.npy", "bomb.tar.bz2", code=1, env=budget("lots"))
    names(r, "PARIMG_ARCHIVE_MEMORY", "not a size")


def test_tar_gz_bomb_streamed_within_the_budget(d):
    # Past inflate_whole's cap, streamed through libarchive: budgeted too.
    data = zero_tar_gz()
    assert len(data) < 1200000, len(data)
    open(os.path.join(d, "bomb.tar.gz"), "wb").write(data)
    over_budget(d, "bomb.tar.gz", "64M")
    # Within inflate_whole's cap (32 times 48 KB plus 64 MiB), inflated
    # whole: the budget caps that too, and the stream it falls back to.
    open(os.path.join(d, "small.tar.gz"), "wb").write(zero_tar_gz(1, 48 << 20))
    over_budget(d, "small.tar.gz", "32M")


def test_budget_is_one_for_the_run(d):
    # Two archives of 48 MiB of members each: either alone fits 64 MiB,
    # both do not; the second is refused, named.
    for name in ("a.tar.gz", "b.tar.gz"):
        open(os.path.join(d, name), "wb").write(zero_tar_gz(1, 48 << 20))
    for name in ("a.tar.gz", "b.tar.gz"):
        r = load(d, *ROW, "-o", "out.npy", name, code=1, env=budget("64M"))
        assert "memory budget" not in r.err, r
    refused(d, "b.tar.gz", "b.tar.gz", "memory budget", "a.tar.gz", env=budget("64M"))


def noise_tree(root, n=12, size=(320, 240)):
    """N noise PNGs (about 230 KB each: 2.8 MB, which compress hardly at
    all) in two class folders."""
    rng = np.random.default_rng(30)
    for i in range(n):
        p = os.path.join(root, "c%d" % (i % 2), "n%02d.png" % i)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        harness.save_image(p, rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    return root


def test_compressed_tar_larger_than_the_budget_spills(d):
    """A compressed tar whose members are several times the memory budget
    (PARIMG_ARCHIVE_MEMORY, here 512 KiB against 2.8 MB) loads, equal to its
    extracted folder, its copy on disk beside the output and none left
    behind; cut or corrupt past the budget, it is refused naming it, with
    nothing written."""
    tree = noise_tree(os.path.join(d, "tree"))
    want = os.path.join(d, "want.npy")
    load(d, "-r", "--sandbox", "off", "-o", want, tree)
    arcs = {"gz": ("czf",), "zst": ("--zstd", "-cf"), "xz": ("cJf",), "bz2": ("cjf",)}
    for ext, flags in sorted(arcs.items()):
        arc = os.path.join(d, "t.tar." + ext)
        sh("tar", *flags, arc, "c0", "c1", cwd=tree)
        assert os.path.getsize(arc) > 2 << 20, (ext, os.path.getsize(arc))
        outdir = os.path.join(d, "out")
        os.makedirs(outdir, exist_ok=True)
        out = os.path.join(outdir, "x.npy")
        for args in (["-j", "2"], ["-j", "1", "--sandbox", "off"]):
            r = load(d, *args, "-f", "-o", out, arc, env=budget("512K"))
            assert r.err == "", (ext, r)
            assert npy(out) == npy(want), (ext, args)
            assert os.listdir(outdir) == ["x.npy"], os.listdir(outdir)
        data = open(arc, "rb").read()
        bad = os.path.join(d, "bad.tar." + ext)
        for label, body in (("cut", data[:len(data) * 2 // 3]),
                            ("corrupt", data[:len(data) // 2] +
                             bytes(b ^ 0xFF for b in data[len(data) // 2:len(data) // 2 + 64]) +
                             data[len(data) // 2 + 64:])):
            open(bad, "wb").write(body)
            if os.path.exists(out):
                os.remove(out)
            r = load(d, "-o", out, bad, code=1, env=budget("512K"))
            assert r.err.startswith("parimg: " + bad), (ext, label, r)
            assert os.listdir(outdir) == [], (ext, label, os.listdir(outdir))
        os.remove(bad)
        os.remove(arc)


def unset_size_zip(path, size=128 << 20):
    """A zip of inner.tar (one member of SIZE zeros), deflated, its sizes in
    a data descriptor and its central directory cut off: libarchive reads it
    as a stream, and the member's size is unset when its header is read."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = c.compress(tar_header("x.png", size))
    data += b"".join(c.compress(bytes(CHUNK)) for _ in range(size // CHUNK))
    data += c.compress(bytes(1024)) + c.flush()
    local = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 8, 8, 0, 0, 0, 0, 0, 9, 0) + b"inner.tar"
    desc = struct.pack("<IIII", 0x08074b50, 0, len(data), 512 + size + 1024)
    open(path, "wb").write(local + data + desc)


def test_inner_archive_with_unset_size_capped(d):
    unset_size_zip(os.path.join(d, "nest.zip"))
    # Copied into memory: the budget, and the member limit, hold it.
    over_budget(d, "nest.zip", "32M", "--recurse-archives")
    t = time.time()
    refused(d, "nest.zip", "nest.zip:inner.tar", "member limit", "--recurse-archives",
            "--max-pixels", "1000000")
    assert time.time() - t < 20


def test_overlapping_zip_entries(d):
    png = open(fixtures()["png_rgb"], "rb").read()
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        z = bytearray(zip_bytes({"a.png": png, "b.png": png}, method))
        # The second central directory entry names the first's local header.
        cd = z.find(b"PK\1\2")
        cd2 = z.find(b"PK\1\2", cd + 4)
        struct.pack_into("<I", z, cd2 + 42, 0)
        open(os.path.join(d, "ov.zip"), "wb").write(bytes(z))
        refused(d, "ov.zip", "ov.zip", "overlap")
        # Or starts inside the first's data.
        struct.pack_into("<I", z, cd2 + 42, 40)
        open(os.path.join(d, "ov.zip"), "wb").write(bytes(z))
        refused(d, "ov.zip", "ov.zip", "overlap|bad zip central directory")
    # Entries that declare more than deflate gives from the archive's
    # bytes (1032 to 1): refused, an image among them or not.
    z = bytearray(zip_bytes({"a.png": png, "notes.txt": b"x" * 100}))
    cd = z.find(b"PK\1\2")
    cd2 = z.find(b"PK\1\2", cd + 4)
    struct.pack_into("<I", z, cd2 + 24, 0xfffffff0)
    open(os.path.join(d, "liar.zip"), "wb").write(bytes(z))
    refused(d, "liar.zip", "liar.zip", "more than deflate gives")
    # The unpatched archive loads.
    open(os.path.join(d, "fine.zip"), "wb").write(zip_bytes({"a.png": png, "b.png": png}))
    load(d, *ROW, "-o", "o.npy", "fine.zip")


if __name__ == "__main__":
    harness.main(globals())
