#!/usr/bin/python3
"""Command-line tests for what "parimg check" finds beyond broken files:
imagehash's dhash and phash (bit for bit against a NumPy/SciPy reference
of imagehash's definitions), near-duplicate groups, pixel duplicates,
leakage between inputs, --list and load --exclude.

Run: /usr/bin/python3 tests/cli_near_test.py ./parimg [test_name...]
"""
import csv
import io
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
import nearcorpus  # noqa: E402
import photos  # noqa: E402
from harness import ok, run  # noqa: E402

import numpy as np  # noqa: E402
import scipy.fftpack  # noqa: E402
from PIL import Image  # noqa: E402


def _hex(bits):
    """imagehash's str(): the flattened bits, first bit most significant."""
    return "%016x" % int("".join("1" if b else "0" for b in bits.flatten()), 2)


def ref_hashes(path):
    """imagehash.dhash and imagehash.phash of Image.open(PATH), as imagehash
    4.3 defines them (it is not packaged in Debian; these are its steps)."""
    with Image.open(path) as im:
        gray = im.convert("L")
    d = np.asarray(gray.resize((9, 8), Image.LANCZOS))
    p = np.asarray(gray.resize((32, 32), Image.LANCZOS))
    low = scipy.fftpack.dct(scipy.fftpack.dct(p, axis=0), axis=1)[:8, :8]
    return _hex(d[:, 1:] > d[:, :-1]), _hex(low > np.median(low))


def check_csv(*args, cwd=None, code=0):
    r = ok(run("check", "-q", "--near", "--format", "csv", *args, cwd=cwd), code)
    return list(csv.DictReader(io.StringIO(r.out)))


def assert_parity(rows, cwd=None):
    n = 0
    for row in rows:
        if row["status"] != "ok":
            continue
        path = os.path.join(cwd, row["path"]) if cwd else row["path"]
        want = ref_hashes(path)
        assert (row["dhash"], row["phash"]) == want, (row["path"], row["mode"], row, want)
        n += 1
    return n


def test_hashes_match_imagehash_on_the_photo_fixtures(d):
    fx = photos.good(photos.build(os.path.join(d, "fx")))
    rows = check_csv(*sorted(fx.values()))
    assert assert_parity(rows) == len(fx), rows


def test_hashes_match_imagehash_on_gen_images_of_every_channel_count(d):
    dirs = []
    for c in (1, 2, 3, 4):
        for fmt, size in (("png", "37x23"), ("bmp", "8x9"), ("jpg", "300x200"), ("tga", "1x1")):
            if (fmt == "jpg" and c in (2, 4)) or (fmt == "bmp" and c == 2):
                continue
            out = "g%d%s" % (c, fmt)
            ok(run("gen", "-q", "-n", "4", "-s", size, "-c", str(c), "-F", fmt, "-o", out,
                   "--seed", str(c), cwd=d))
            dirs.append(out)
    rows = check_csv(*dirs, cwd=d)
    assert assert_parity(rows, cwd=d) == len(rows) > 50, rows


def test_hashes_tie_as_scipy_does_on_flat_and_symmetric_images(d):
    """A flat image's AC terms, and the zero terms of a symmetric one, are
    exactly zero in scipy's DCT: the median ties with them, and the bits
    agree only if parimg's are exactly zero too."""
    imgs = {"black": np.zeros((50, 70), np.uint8), "white": np.full((9, 9), 255, np.uint8),
            "colour": np.full((30, 30, 3), (200, 10, 40), np.uint8)}
    a = np.zeros((64, 64), np.uint8)
    a[:, 32:] = 200
    imgs["half"] = a
    imgs["halfv"] = a.T.copy()
    b = np.zeros((64, 64), np.uint8)
    b[16:48, 16:48] = 255
    imgs["box"] = b
    c = np.zeros((64, 64), np.uint8)
    c[::2, ::2] = 255
    imgs["grid"] = c
    for name, arr in imgs.items():
        Image.fromarray(arr).save(os.path.join(d, name + ".png"))
    rows = check_csv(".", cwd=d)
    assert assert_parity(rows, cwd=d) == len(imgs), rows


def test_without_near_no_hashes_and_no_near_key(d):
    ok(run("gen", "-q", "-n", "2", "-o", "g", cwd=d))
    r = ok(run("check", "-q", "--format", "csv", "g", cwd=d))
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert [(r["near_group"], r["dhash"], r["phash"]) for r in rows] == [("", "", "")] * 2, rows
    doc = json.loads(ok(run("check", "-q", "--format", "json", "g", cwd=d)).out)
    assert doc["near_duplicates"] is None, doc
    assert "near" not in ok(run("check", "-q", "g", cwd=d)).out


def test_near_distance_is_checked(d):
    ok(run("gen", "-q", "-n", "2", "-o", "g", cwd=d))
    for args, msg in ((["--near-distance", "3"], "goes with --near"),
                      (["--near", "--near-distance", "33"], "invalid --near-distance"),
                      (["--near", "--near-distance", "-1"], "invalid --near-distance"),
                      (["--near", "--near-distance", "7x"], "invalid --near-distance"),
                      (["--near", "--near-distance", ""], "invalid --near-distance")):
        r = ok(run("check", "-q", *args, "g", cwd=d), 2)
        assert msg in r.err, (args, r)
    doc = json.loads(ok(run("check", "-q", "--near", "--near-distance", "32", "--format",
                            "json", "g", cwd=d)).out)
    assert doc["near_duplicates"]["distance"] == 32, doc


def _groups(doc):
    return [[m["path"] for m in g["members"]] for g in doc["near_duplicates"]["groups"]]


def test_imagemagick_variants_land_in_their_base_group(d):
    """Recall at the default threshold: 40 photos, 8 ImageMagick variants
    each (-quality 30, -resize 50% and 200%, -crop 98%, -modulate 105, PNG
    and WebP re-encodes, -strip): each base and its variants are one group,
    and no group holds two bases."""
    bases = nearcorpus.bases(os.path.join(d, "b"))
    assert len(bases) == 40, bases
    var = nearcorpus.variants(bases)
    doc = json.loads(ok(run("check", "-q", "--near", "--format", "json", "b", cwd=d)).out)
    groups = [sorted(g) for g in _groups(doc)]
    assert doc["near_duplicates"]["distance"] == 7, doc["near_duplicates"]
    want = sorted(sorted(os.path.relpath(p, d) for p in [b] + v) for b, v in var.items())
    assert sorted(groups) == want, (groups, want)
    for g in doc["near_duplicates"]["groups"]:
        first = g["members"][0]
        assert first["distance"] == 0 and all(0 <= m["nearest"] <= 7 for m in g["members"]), g
        assert all(m["distance"] == bin(int(m["phash"], 16) ^ int(first["phash"], 16)).count("1")
                   for m in g["members"]), g


def test_ten_thousand_distinct_images_make_no_group(d):
    """Precision at the default threshold: the photos' textured tiles and
    gen's noise, 10,000 images, no two near."""
    tiles = nearcorpus.tiles(os.path.join(d, "t"))
    ok(run("gen", "-q", "-n", str(10000 - len(tiles)), "-s", "16x16", "-c", "3", "-o", "g",
           cwd=d))
    doc = json.loads(ok(run("check", "-q", "--near", "--format", "json", "t", "g", cwd=d),
                        ).out)
    assert doc["images"] == 10000 and _groups(doc) == [], _groups(doc)[:5]


def test_near_groups_in_the_table_csv_and_across_classes(d):
    """A photo and its re-encode in two classes: one near group, flagged
    across classes in the table and JSON; the CSV numbers it."""
    for c in ("cat", "dog"):
        os.makedirs(os.path.join(d, "train", c))
    src = os.path.join(photos.PHOTOS, "chelsea.png")
    subprocess.run(["convert", src, os.path.join(d, "train", "cat", "a.png")], check=True)
    subprocess.run(["convert", src, "-quality", "40", os.path.join(d, "train", "dog", "b.jpg")],
                   check=True)
    subprocess.run(["convert", os.path.join(photos.PHOTOS, "rocket.png"),
                    os.path.join(d, "train", "dog", "c.png")], check=True)
    r = ok(run("check", "-q", "--near", "--labels", "train", cwd=d))
    assert "near duplicates (phash within 7 bits): 1 group\nnear group 1 (across classes):\n" \
        "  train/cat/a.png  (0 from the first, nearest " in r.out, r.out
    doc = json.loads(ok(run("check", "-q", "--near", "--labels", "--format", "json", "train",
                            cwd=d)).out)
    g = doc["near_duplicates"]["groups"]
    assert len(g) == 1 and g[0]["cross_class"] and _groups(doc) == [["train/cat/a.png",
                                                                      "train/dog/b.jpg"]], g
    rows = check_csv("--labels", "train", cwd=d)
    assert [r["near_group"] for r in rows] == ["1", "1", ""], rows
    # With -c 3 the hashes are the same (gray from the converted samples).
    rows3 = check_csv("--labels", "-c", "3", "train", cwd=d)
    assert [(r["dhash"], r["phash"]) for r in rows3] == [(r["dhash"], r["phash"]) for r in rows]


XXH_SHIM = r"""
#include <stddef.h>
#include <xxhash.h>
/* Every hash the same: each file a candidate of every other. */
XXH128_hash_t XXH3_128bits(const void *p, size_t n)
{
	XXH128_hash_t h = { 1, 2 };
	(void)p;
	(void)n;
	return h;
}
"""


def test_pixel_duplicates_are_the_same_samples_in_other_bytes(d):
    """One photo as PNG, BMP and a PNG with a comment: one pixel group and
    no byte group; a byte copy joins both; its JPEG joins neither. With
    every hash made to collide (a preloaded XXH3), the same groups: the
    samples are compared, not trusted to the hash."""
    src = os.path.join(photos.PHOTOS, "chelsea.png")
    os.makedirs(os.path.join(d, "p"))
    subprocess.run(["convert", src, "p/a.png"], cwd=d, check=True)
    subprocess.run(["convert", "p/a.png", "p/b.bmp"], cwd=d, check=True)
    subprocess.run(["convert", "p/a.png", "-set", "comment", "x", "p/e.png"], cwd=d, check=True)
    subprocess.run(["convert", "p/a.png", "-quality", "95", "p/0.jpg"], cwd=d, check=True)
    subprocess.run(["cp", "p/0.jpg", "p/1.jpg"], cwd=d, check=True)
    subprocess.run(["convert", os.path.join(photos.PHOTOS, "coffee.png"), "p/f.png"], cwd=d,
                   check=True)
    doc = json.loads(ok(run("check", "-q", "--format", "json", "p", cwd=d)).out)
    assert doc["pixel_duplicates"] == [{"cross_class": False,
                                        "paths": ["p/a.png", "p/b.bmp", "p/e.png"]}], doc
    assert [g["paths"] for g in doc["duplicates"]] == [["p/0.jpg", "p/1.jpg"]], doc
    subprocess.run(["cp", "p/a.png", "p/c.png"], cwd=d, check=True)
    doc = json.loads(ok(run("check", "-q", "--format", "json", "p", cwd=d)).out)
    want = [["p/a.png", "p/b.bmp", "p/c.png", "p/e.png"]]
    assert [g["paths"] for g in doc["pixel_duplicates"]] == want, doc
    shim = os.path.join(d, "xxh.so")
    open(shim + ".c", "w").write(XXH_SHIM)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", shim, shim + ".c"], check=True, timeout=60)
    env = dict(os.environ, LD_PRELOAD=shim)
    for sandbox in ("auto", "off"):
        forged = json.loads(ok(run("check", "-q", "--sandbox", sandbox, "--format", "json", "p",
                                   cwd=d, env=env)).out)
        assert forged["pixel_duplicates"] == doc["pixel_duplicates"], forged
        assert forged["duplicates"] == doc["duplicates"], forged
    rows = list(csv.DictReader(io.StringIO(ok(run("check", "-q", "--format", "csv", "p",
                                                  cwd=d)).out)))
    assert [(r["path"], r["pixel_group"]) for r in rows] == [
        ("p/0.jpg", ""), ("p/1.jpg", ""), ("p/a.png", "1"), ("p/b.bmp", "1"), ("p/c.png", "1"),
        ("p/e.png", "1"), ("p/f.png", "")], rows
    r = ok(run("check", "-q", "p", cwd=d))
    assert "pixel duplicates (the same decoded samples, other bytes): 1 group\npixel group 1:" \
        "\n  p/a.png\n  p/b.bmp\n  p/c.png\n  p/e.png\n" in r.out, r.out
    doc = json.loads(ok(run("check", "-q", "--no-duplicates", "--format", "json", "p",
                            cwd=d)).out)
    assert doc["pixel_duplicates"] is None, doc


def test_leaks_between_train_and_val(d):
    """Five train images in val (two byte copies, one PNG of the JPEG's
    pixels, one JPEG q80 and one resized to 90%), beside three val images
    of their own: exactly those five are leaks, each with its kind and
    the train file it repeats; without --near, the three found by bytes
    and pixels; with one input, no leak key."""
    bases = nearcorpus.bases(os.path.join(d, "src"), 13)
    os.makedirs(os.path.join(d, "train"))
    os.makedirs(os.path.join(d, "val"))
    for i, b in enumerate(bases[:10]):
        subprocess.run(["cp", b, os.path.join(d, "train", "t%d.jpg" % i)], check=True)
    for i, b in enumerate(bases[10:]):
        subprocess.run(["cp", b, os.path.join(d, "val", "own%d.jpg" % i)], check=True)
    t = lambda i: os.path.join(d, "train", "t%d.jpg" % i)  # noqa: E731
    v = lambda n: os.path.join(d, "val", n)  # noqa: E731
    subprocess.run(["cp", t(1), v("copy1.jpg")], check=True)
    subprocess.run(["cp", t(2), v("copy2.jpg")], check=True)
    subprocess.run(["convert", t(3), v("pixels3.png")], check=True)
    subprocess.run(["convert", t(4), "-quality", "80", v("q80_4.jpg")], check=True)
    subprocess.run(["convert", t(5), "-resize", "90%", v("r90_5.jpg")], check=True)
    doc = json.loads(ok(run("check", "-q", "--near", "--format", "json", "train", "val",
                            cwd=d)).out)
    got = sorted((x["path"], x["input"], x["kind"], x["of"], x["of_input"]) for x in doc["leaks"])
    want = sorted([("val/copy1.jpg", "val", "exact", "train/t1.jpg", "train"),
                   ("val/copy2.jpg", "val", "exact", "train/t2.jpg", "train"),
                   ("val/pixels3.png", "val", "pixel", "train/t3.jpg", "train"),
                   ("val/q80_4.jpg", "val", "near", "train/t4.jpg", "train"),
                   ("val/r90_5.jpg", "val", "near", "train/t5.jpg", "train")])
    assert got == want, (got, want)
    r = ok(run("check", "-q", "--near", "train", "val", cwd=d))
    assert "leaks between inputs: 5 files\n  val/copy1.jpg  (exact duplicate of train/t1.jpg)\n" \
        in r.out, r.out
    # Given the other way round, the train files are the leaks.
    doc = json.loads(ok(run("check", "-q", "--near", "--format", "json", "val", "train",
                            cwd=d)).out)
    assert sorted(x["path"] for x in doc["leaks"]) == ["train/t%d.jpg" % i for i in range(1, 6)]
    doc = json.loads(ok(run("check", "-q", "--format", "json", "train", "val", cwd=d)).out)
    assert [x["kind"] for x in doc["leaks"]] == ["exact", "exact", "pixel"], doc["leaks"]
    doc = json.loads(ok(run("check", "-q", "--format", "json", "train", cwd=d)).out)
    assert doc["leaks"] is None, doc


def leaky_dataset(d):
    """train/ (t0..t5), val/ (two own images, a byte copy of t1, a PNG of
    t2's pixels, a JPEG q80 of t3), and a byte copy of t0 inside train."""
    bases = nearcorpus.bases(os.path.join(d, "src"), 8)
    for sub in ("train", "val"):
        os.makedirs(os.path.join(d, sub))
    t = lambda i: os.path.join(d, "train", "t%d.jpg" % i)  # noqa: E731
    v = lambda n: os.path.join(d, "val", n)  # noqa: E731
    for i, b in enumerate(bases[:6]):
        subprocess.run(["cp", b, t(i)], check=True)
    for i, b in enumerate(bases[6:]):
        subprocess.run(["cp", b, v("own%d.jpg" % i)], check=True)
    subprocess.run(["cp", t(0), os.path.join(d, "train", "t0_again.jpg")], check=True)
    subprocess.run(["cp", t(1), v("copy1.jpg")], check=True)
    subprocess.run(["convert", t(2), v("pixels2.png")], check=True)
    subprocess.run(["convert", t(3), "-quality", "80", v("q80_3.jpg")], check=True)


def test_list_prints_what_to_drop(d):
    """--list KIND prints, of each group, every member but the first in row
    order (what to drop), the leaks, or the broken files; -0 ends them with
    NULs; the kinds that need an option say so."""
    leaky_dataset(d)
    with open(os.path.join(d, "val", "broken.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    lst = lambda *a: run("check", "-q", *a, cwd=d)  # noqa: E731
    r = ok(lst("--list", "duplicates", "train", "val"), 3)
    assert r.out.splitlines() == ["train/t0_again.jpg", "val/copy1.jpg"], r.out
    r = ok(lst("--list", "pixel", "train", "val"), 3)
    assert r.out.splitlines() == ["val/pixels2.png"], r.out
    r = ok(lst("--near", "--list", "near", "train", "val"), 3)
    assert r.out.splitlines() == ["train/t0_again.jpg", "val/copy1.jpg", "val/pixels2.png",
                                  "val/q80_3.jpg"], r.out
    r = ok(lst("--near", "--list", "leaks", "train", "val"), 3)
    assert r.out.splitlines() == ["val/copy1.jpg", "val/pixels2.png", "val/q80_3.jpg"], r.out
    r = ok(lst("--list", "broken", "-0", "train", "val"), 3)
    assert r.out == "val/broken.png\0", r.out
    assert ok(lst("--list-broken", "train", "val"), 3).out == "val/broken.png\n"
    for args, why in ((["--list", "near"], "--list near needs --near"),
                      (["--list", "leaks"], "--list leaks needs several INPUTs"),
                      (["--list", "pixel", "--no-duplicates"], "needs the duplicate search"),
                      (["--list", "odd"], "invalid --list 'odd'"),
                      (["--list", "broken", "--format", "json"], "in no --format")):
        r = ok(lst(*args, "train"), 2)
        assert why in r.err, (args, r)


def test_load_exclude_drops_the_listed_rows(d):
    """check --list leaks (newline and -0 lists) fed to load --exclude drops
    exactly those rows, with their labels; a list made on other paths says
    how many of its paths matched nothing."""
    leaky_dataset(d)
    leaks = ok(run("check", "-q", "--near", "--list", "leaks", "train", "val", cwd=d)).out
    for name, text in (("leaks.txt", leaks), ("leaks0.txt", leaks.replace("\n", "\0"))):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
        ok(run("load", "-f", "-c", "3", "--resize", "32x32", "--exclude", name,
               "--manifest", "m.txt", "-o", "x.npy", "train", "val", cwd=d))
        with open(os.path.join(d, "m.txt")) as f:
            rows = f.read().splitlines()
        assert not set(rows) & set(leaks.split()), rows
        assert len(rows) == 7 + 5 - 3 and np.load(os.path.join(d, "x.npy")).shape[0] == 9
    # Labels go with their rows.
    os.makedirs(os.path.join(d, "tree", "a"))
    os.makedirs(os.path.join(d, "tree", "b"))
    for k in range(3):
        for cls in "ab":
            subprocess.run(["cp", os.path.join(d, "train", "t%d.jpg" % (k + (cls == "b") * 3)),
                            os.path.join(d, "tree", cls, "%d.jpg" % k)], check=True)
    with open(os.path.join(d, "ex.txt"), "w") as f:
        f.write("tree/a/1.jpg\ntree/b/0.jpg\nelsewhere/x.jpg\n")
    r = ok(run("load", "-f", "--exclude", "ex.txt", "--labels", "y.npy", "--manifest", "m.txt",
               "-c", "3", "--resize", "16x16", "-o", "x.npy", "tree", cwd=d))
    assert "ex.txt: 1 of its paths name no input row (excluded 2)" in r.err, r
    with open(os.path.join(d, "m.txt")) as f:
        assert f.read().splitlines() == ["tree/a/0.jpg", "tree/a/2.jpg", "tree/b/1.jpg",
                                         "tree/b/2.jpg"]
    assert np.load(os.path.join(d, "y.npy")).tolist() == [0, 0, 1, 1]
    with open(os.path.join(d, "all.txt"), "w") as f:
        f.write("".join("tree/%s/%d.jpg\n" % (c, k) for c in "ab" for k in range(3)))
    r = ok(run("load", "-f", "--exclude", "all.txt", "-o", "x.npy", "tree/a", "tree/b", cwd=d), 1)
    assert "all.txt: every input row is excluded" in r.err, r


def split_dataset(d):
    """train/ and val/ of 14 photos between them, with copies spread over
    both: byte copies, PNGs of a JPEG's pixels, JPEG q80 and 90% resizes,
    so that every kind of group can span two parts of a split."""
    bases = nearcorpus.bases(os.path.join(d, "src"), 14)
    for sub in ("train", "val"):
        os.makedirs(os.path.join(d, sub))
    dst = lambda i, name: os.path.join(d, "train" if i % 3 else "val", name)  # noqa: E731
    for i, b in enumerate(bases):
        subprocess.run(["cp", b, dst(i, "b%02d.jpg" % i)], check=True)
    for i in range(0, 12, 3):
        subprocess.run(["cp", bases[i], dst(i + 1, "copy%02d.jpg" % i)], check=True)
        subprocess.run(["convert", bases[i + 1], dst(i, "pix%02d.png" % (i + 1))], check=True)
        subprocess.run(["convert", bases[i + 2], "-quality", "80",
                        dst(i + 2, "q80_%02d.jpg" % (i + 2))], check=True)
    subprocess.run(["convert", bases[13], "-resize", "90%", dst(0, "r90_13.jpg")], check=True)


def want_leaks(rows, part_of, names):
    """The leaks by their definition, from check's CSV rows (its groups, in
    row order) and each path's part as load wrote it: of every exact, then
    pixel, then near group, the members of a later part than its earliest
    one's, each with the first file (in row order) of that earliest part,
    a file counted once, under its strongest kind."""
    leaks = {}
    for col, kind in (("duplicate_group", "exact"), ("pixel_group", "pixel"),
                      ("near_group", "near")):
        groups = {}
        for r in rows:
            if r[col]:
                groups.setdefault(r[col], []).append(r["path"])
        for members in groups.values():
            low = min(part_of[p] for p in members)
            first = next(p for p in members if part_of[p] == low)
            for p in members:
                if part_of[p] > low and p not in leaks:
                    leaks[p] = (p, names[part_of[p]], kind, first, names[low])
    return sorted(leaks.values())


def test_leaks_across_split_parts_are_loads_parts(d):
    """check --split (with --shuffle and --seed, as load applies them) puts
    each file in the part load --split writes its row to (read back from
    load's per-part manifests), and lists as leaks exactly the exact,
    pixel and near-duplicate groups' members that span two parts, in
    JSON, the table and --list leaks; several INPUTs are one set of rows,
    as load reads them, and a class tree is cut as load --labels cuts it."""
    split_dataset(d)
    seen = set()
    for inputs in (["train", "val"], ["."]):
        for split, extra in (("train=0.7,val=0.3", []), ("0.5,0.3,0.2", ["--shuffle"]),
                             ("a=0.6,b=0.4", ["--shuffle", "--seed", "11"]),
                             ("a=0.5,b=0.5", ["--shuffle", "--seed", "12345678901234"])):
            args = ["--split", split] + extra
            # "." is a class tree (src/, train/, val/): check cuts it as load --labels.
            tree = ["--labels", "y.npy"] if inputs == ["."] else ["-r"]
            ok(run("load", "-f", *tree, "-c", "3", "--resize", "16x16", "--manifest", "m.txt",
                   *args, "-o", "x.npy", *inputs, cwd=d))
            names = [x.split("=")[0] for x in split.split(",")] if "=" in split \
                else ["train", "val", "test"][:len(split.split(","))]
            part_of = {}
            for i, name in enumerate(names):
                with open(os.path.join(d, "m.%s.txt" % name)) as f:
                    for p in f.read().splitlines():
                        part_of[p] = i
            rows = check_csv(*args, *inputs, cwd=d)
            assert sorted(r["path"] for r in rows) == sorted(part_of), (rows, part_of)
            want = want_leaks(rows, part_of, names)
            doc = json.loads(ok(run("check", "-q", "--near", "--format", "json", *args, *inputs,
                                    cwd=d)).out)
            got = sorted((x["path"], x["part"], x["kind"], x["of"], x["of_part"])
                         for x in doc["leaks"])
            assert got == want, (args, inputs, got, want)
            seen |= {w[2] for w in want}
            lst = ok(run("check", "-q", "--near", "--list", "leaks", *args, *inputs, cwd=d)).out
            order = [r["path"] for r in rows]
            assert lst.splitlines() == sorted({w[0] for w in want}, key=order.index), lst
            table = ok(run("check", "-q", "--near", *args, *inputs, cwd=d)).out
            assert "leaks between split parts: %d file%s\n" % (
                len(want), "" if len(want) == 1 else "s") in table, table
            for p, part, kind, of, of_part in want:
                assert "  %s [%s]  (%s duplicate of %s [%s])\n" % (p, part, kind, of, of_part) \
                    in table, (table, p)
    assert seen == {"exact", "pixel", "near"}, seen
    # One part alone leaks nothing; several INPUTs without --split are inputs.
    doc = json.loads(ok(run("check", "-q", "--format", "json", "--split", "0.5,0.5", "val",
                            cwd=d)).out)
    assert isinstance(doc["leaks"], list), doc
    doc = json.loads(ok(run("check", "-q", "--format", "json", "train", "val", cwd=d)).out)
    assert all("input" in x for x in doc["leaks"]) and doc["leaks"], doc["leaks"]
    for args, why in ((["--seed", "3"], "--seed needs --shuffle"),
                      (["--shuffle"], "--shuffle goes with --split"),
                      (["--split", "train=0.7,val=0.2"], "invalid --split"),
                      (["--split", "0.5", "--shuffle"], "invalid --split"),
                      (["--all", "--no-duplicates"], "contradict"),
                      (["--list", "leaks"], "needs several INPUTs (train/ val/) or --split")):
        r = ok(run("check", "-q", *args, "val", cwd=d), 2)
        assert why in r.err, (args, r)


def test_all_turns_on_every_opt_in_analysis(d):
    """check --all is --near and --quality together, in every format, and
    their lists and options go with it."""
    leaky_dataset(d)
    for fmt in ("json", "csv", "table"):
        a = ok(run("check", "-q", "--all", "--format", fmt, "train", "val", cwd=d)).out
        b = ok(run("check", "-q", "--near", "--quality", "--format", fmt, "train", "val",
                   cwd=d)).out
        assert a == b, (fmt, a, b)
        c = ok(run("check", "-q", "--format", fmt, "train", "val", cwd=d)).out
        assert a != c, fmt
    doc = json.loads(ok(run("check", "-q", "--all", "--format", "json", "train", cwd=d)).out)
    assert doc["near_duplicates"] is not None and doc["flagged"] is not None, doc
    for kind in ("near", "flagged", "leaks"):
        a = ok(run("check", "-q", "--all", "--list", kind, "train", "val", cwd=d)).out
        b = ok(run("check", "-q", "--near", "--quality", "--list", kind, "train", "val",
                   cwd=d)).out
        assert a == b, (kind, a, b)
    a = ok(run("check", "-q", "--all", "--near-distance", "3", "--threshold", "dark=0.5",
               "--format", "json", "train", "val", cwd=d)).out
    b = ok(run("check", "-q", "--near", "--quality", "--near-distance", "3", "--threshold",
               "dark=0.5", "--format", "json", "train", "val", cwd=d)).out
    assert a == b


if __name__ == "__main__":
    harness.main(globals())
