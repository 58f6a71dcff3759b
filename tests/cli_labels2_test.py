#!/usr/bin/python3
"""Command-line tests of tables that live with the images: "load
--labels-from ARCHIVE:MEMBER" (a Kaggle zip's train.csv, in zip, tar and
tar.gz), Hugging Face's metadata files in split folders (directories and
archives, each image taking the deepest folder's), and "check
--labels-from" reporting a table's problems beside its usual report. The
oracles are Python's csv, json, zipfile and tarfile modules and plain
"load" of the extracted files.

Run: /usr/bin/python3 tests/cli_labels2_test.py ./parimg [test_name...]
"""
import csv
import io
import json
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
from harness import load_labels, names, ok, pack_archive, run, save_image  # noqa: E402


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return path


def kaggle(d, n=10):
    """A Kaggle-style layout in D/k: train/ (image i all of value i, named
    id%03d.png) and train.csv (BOM, CRLF, ids without extension, string
    labels, one quoted with a comma) in a scrambled order; the csv
    module's rows."""
    root = os.path.join(d, "k")
    for i in range(n):
        os.makedirs(os.path.join(root, "train"), exist_ok=True)
        save_image(os.path.join(root, "train", "id%03d.png" % i), np.full((4, 5, 3), i, np.uint8))
    classes = ["cat", "dog", "bird, small", "ant"]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["id", "label"])
    for k in range(n):
        w.writerow(["id%03d" % ((k * 7) % n), classes[k % 4]])
    table = write(os.path.join(root, "train.csv"), "\ufeff" + out.getvalue())
    with open(table, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    return root, table, rows


def test_kaggle_archive_member(d):
    root, table, rows = kaggle(d)
    plain = os.path.join(d, "plain.npy")
    ok(run("load", "-q", "-o", plain, os.path.join(root, "train")))
    by_id = {r["id"]: r["label"] for r in rows}
    classes = sorted(set(by_id.values()))
    for ext in ("zip", "tar", "tar.gz"):
        a = pack_archive(root, os.path.join(d, "train." + ext))
        cls = os.path.join(d, "classes.txt")
        x, y, man = load_labels(d, a, "--labels-from", a + ":train.csv", "--classes", cls)
        # The table is no row; the rows are the images, in load's order.
        assert man == [a + ":train/id%03d.png" % i for i in range(len(rows))], man
        assert y.tolist() == [classes.index(by_id[p[-9:-4]]) for p in man], (ext, y)
        assert np.array_equal(x, np.load(plain)), ext
        with open(cls) as f:
            assert f.read().splitlines() == classes
        # ./ and the like are cleaned, as member names are.
        x2, y2, man2 = load_labels(d, a, "--labels-from", a + ":./train.csv")
        assert np.array_equal(y2, y) and man2 == man


def test_archive_member_errors(d):
    root, table, rows = kaggle(d, 4)
    write(os.path.join(root, "bad.csv"), 'id,label\nid000,a\nid001,"b\n')
    write(os.path.join(root, "short.csv"), "id,label\nid000,a\nid001,b\nid007,c\n")
    a = pack_archive(root, os.path.join(d, "k.tar.gz"))
    other = pack_archive(root, os.path.join(d, "other.zip"))
    for member, where, why in (("bad.csv", ":bad.csv:3", "a quote not closed"),
                               ("short.csv", ":short.csv:4", "'id007' names no image"),
                               ("nope.csv", ":nope.csv", "no member 'nope.csv'"),
                               ("../x.csv", ":../x.csv", "no member name")):
        r = load_labels(d, a, "--labels-from", a + ":" + member, code=1)
        names(r, a + where, re.escape(why))
        assert not os.path.exists(os.path.join(d, "x.npy")), member
    # An image without a row, in the archive: named as its row would be.
    r = load_labels(d, a, "--labels-from", a + ":short.csv", code=1)
    names(r, a + ":train/id002.png", "no row of %s names it" %
          re.escape(a + ":short.csv"))
    r = load_labels(d, a, "--labels-from", other + ":train.csv", code=1)
    names(r, other + ":train.csv", "is not the INPUT archive")


def test_literal_file_wins(d):
    root, table, rows = kaggle(d, 4)
    a = pack_archive(root, os.path.join(d, "t.zip"))
    lit = write(a + ":train.csv", "id,label\nid000,9\nid001,8\nid002,7\nid003,6\n")
    x, y, man = load_labels(d, a, "--labels-from", lit)
    assert y.tolist() == [9, 8, 7, 6], y
    os.remove(lit)
    x, y, man = load_labels(d, a, "--labels-from", lit)
    classes = sorted(set(r["label"] for r in rows))
    by_id = {r["id"]: r["label"] for r in rows}
    assert y.tolist() == [classes.index(by_id["id%03d" % i]) for i in range(4)]


def hf_split_folders(d):
    """An imagefolder with a root metadata.jsonl (for other/) and split
    folders train/ (metadata.jsonl, its class subfolders ignored) and
    test/ (metadata.csv), file_name relative to each file's folder. The
    folder and the expected {path: label}."""
    root = os.path.join(d, "hf")
    want, meta = {}, {"": [], "train/": [], "test/": []}
    layout = [("train/", "cat/a.png", "x"), ("train/", "dog/b.png", "y"), ("train/", "c.png", "x"),
              ("test/", "d.png", "z"), ("test/", "e.png", "y"), ("", "other/f.png", "w")]
    for i, (split, name, label) in enumerate(layout):
        p = os.path.join(root, split + name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        save_image(p, np.full((3, 3, 3), 10 * i, np.uint8))
        want[split + name] = label
        meta[split].append({"file_name": name, "label": label, "note": "n,%d" % i})
    write(os.path.join(root, "metadata.jsonl"), "".join(json.dumps(m) + "\n" for m in meta[""]))
    write(os.path.join(root, "train", "metadata.jsonl"),
          "".join(json.dumps(m) + "\n" for m in reversed(meta["train/"])))
    out = io.StringIO()
    w = csv.DictWriter(out, ["note", "file_name", "label"])
    w.writeheader()
    w.writerows(meta["test/"])
    write(os.path.join(root, "test", "metadata.csv"), out.getvalue())
    return root, want


def test_hf_split_folders(d):
    root, want = hf_split_folders(d)
    classes = sorted(set(want.values()))
    x, y, man = load_labels(d, root)
    rel = [os.path.relpath(p, root) for p in man]
    assert sorted(rel) == sorted(want), rel
    assert y.tolist() == [classes.index(want[p]) for p in rel], y
    # The same arrays from the folder packed into each kind of archive.
    for ext in ("zip", "tar.gz"):
        a = pack_archive(root, os.path.join(d, "hf." + ext))
        xa, ya, mana = load_labels(d, a)
        assert [p.split(":", 1)[1] for p in mana] == rel, mana
        assert np.array_equal(xa, x) and np.array_equal(ya, y), ext
    # A row of the root's file naming a split folder's image names none:
    # train/ has its own.
    with open(os.path.join(root, "metadata.jsonl"), "a") as f:
        f.write(json.dumps({"file_name": "train/c.png", "label": "w"}) + "\n")
    r = load_labels(d, root, code=1)
    names(r, os.path.join(root, "metadata.jsonl") + ":2",
          "'train/c.png' names no image")
    # Two metadata files in one split folder: refused, naming the folder.
    write(os.path.join(root, "test", "metadata.jsonl"), "")
    r = load_labels(d, root, code=1)
    names(r, os.path.join(root, "test"), "both metadata.csv and metadata.jsonl")


def test_hf_split_only(d):
    """Split folders' metadata without a root one: an image under neither
    has no row (an error, or skipped)."""
    root, want = hf_split_folders(d)
    os.remove(os.path.join(root, "metadata.jsonl"))
    r = load_labels(d, root, code=1)
    names(r, os.path.join(root, "other", "f.png"),
          "no metadata.csv or metadata.jsonl above it")
    x, y, man = load_labels(d, root, "--unlabelled", "skip")
    assert len(man) == len(want) - 1 and not any("other" in p for p in man)
    a = pack_archive(root, os.path.join(d, "s.tar"))
    xa, ya, mana = load_labels(d, a, "--unlabelled", "skip")
    assert np.array_equal(xa, x) and np.array_equal(ya, y)


def test_check_reports_table(d):
    root, table, rows = kaggle(d, 6)
    train = os.path.join(root, "train")
    # 1 image deleted, 1 unlisted added, a duplicate row, a conflicting row.
    os.remove(os.path.join(train, "id003.png"))
    save_image(os.path.join(train, "new.png"), np.zeros((4, 5, 3), np.uint8))
    text = open(table, encoding="utf-8-sig", newline="").read()
    first = text.split("\r\n")[1]
    key = first.split(",")[0]
    text += first + "\r\n" + key + ",zebra\r\n"
    write(table, text)
    lines = text.split("\r\n")
    line_of = {ln.split(",")[0]: k + 1 for k, ln in enumerate(lines) if ln and k}
    r = ok(run("check", "-q", "--labels-from", table, train), 3)
    names(r, "%s:%d" % (table, line_of["id003"]), "'id003' names no image")
    names(r, os.path.join(train, "new.png"), "no row of %s names it" % re.escape(table))
    names(r, "%s:%d" % (table, len(lines) - 2), "names .* again \\(as line 2 does\\)")
    names(r, "%s:%d" % (table, len(lines) - 1),
          "names .* again, with another label than line 2's")
    assert "parimg check: 6 files, 6 images decoded, 0 broken" in r.out, r.out
    assert "labels table %s: 4 problems" % table in r.out, r.out
    r = ok(run("check", "-q", "--format", "json", "--labels-from", table, train), 3)
    j = json.loads(r.out)
    assert j["table_problems"] == 4 and j["labels_table"] == table and j["images"] == 6, j
    # A table that fits: exit 0; from the archive too.
    root2, table2, rows2 = kaggle(os.path.join(d, "b"), 5)
    r = ok(run("check", "-q", "--labels-from", table2, os.path.join(root2, "train")), 0)
    assert "labels table %s: 0 problems: one row for each image" % table2 in r.out, r.out
    a = pack_archive(root2, os.path.join(d, "b.zip"))
    r = ok(run("check", "-q", "--labels-from", a + ":train.csv", a), 0)
    assert "parimg check: 5 files, 5 images decoded" in r.out, r.out
    # A malformed table is check's own error; usage errors.
    bad = write(os.path.join(d, "bad.csv"), 'id,label\n"x\n')
    r = ok(run("check", "-q", "--labels-from", bad, train), 1)
    names(r, bad + ":2", "a quote not closed")
    for args, why in ((["--path-column", "id", train], "go with --labels-from"),
                      (["--labels-from", table, "--labels", train], "choose one"),
                      (["--labels-from", table, train, train], "one INPUT")):
        r = ok(run("check", "-q", *args), 2)
        assert why in r.err, r.err


if __name__ == "__main__":
    harness.main(globals())
