#!/usr/bin/python3
"""Command-line tests of labels written down beside the images: "load
--labels-from" (CSV, TSV, JSON Lines), Hugging Face's metadata.csv and
metadata.jsonl, --multi-label, --targets, --label-regex and --unlabelled,
with shuffle, split, shard + merge and --ragged. The oracles are Python's
csv, json and re modules, NumPy (float32(float(s)) for targets) and plain
"load" of the same files for the images.

Run: /usr/bin/python3 tests/cli_labels_test.py ./parimg [test_name...]
"""
import csv
import io
import json
import os
import re
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
from harness import load_labels, names, ok, run, save_image  # noqa: E402


def images(d, n, sub="train", ext=".png"):
    """N 4x4 images in D/SUB, image i all of value i (so a row names its
    image); their names, without extension, in a scrambled order."""
    root = os.path.join(d, sub)
    os.makedirs(root, exist_ok=True)
    ids = ["id%03d" % ((i * 7) % n) for i in range(n)]
    for i in range(n):
        save_image(os.path.join(root, "id%03d%s" % (i, ext)), np.full((4, 4, 3), i, np.uint8))
    return root, ids


def write(path, text, newline=""):
    with open(path, "w", encoding="utf-8", newline=newline) as f:
        f.write(text)
    return path


def kaggle(d, n=12):
    """A Kaggle-style folder: train/ and a train.csv (BOM, CRLF, ids
    without extension, string labels, one with a comma, quoted); the
    csv module's rows."""
    root, ids = images(d, n)
    classes = ["cat", "dog", "bird, small", "ant"]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["id", "label", "score"])
    for k, i in enumerate(ids):
        w.writerow([i, classes[k % 4], "%.7g" % (k / 3)])
    table = write(os.path.join(d, "train.csv"), "\ufeff" + out.getvalue())
    with open(table, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    return root, table, rows


def test_kaggle_layout(d):
    root, table, rows = kaggle(d)
    assert '"bird, small"' in open(table, encoding="utf-8").read()
    cls = os.path.join(d, "classes.txt")
    x, y, man = load_labels(d, root, "--labels-from", table, "--classes", cls)
    by_id = {r["id"]: r["label"] for r in rows}
    names_sorted = sorted(set(by_id.values()))
    want = [names_sorted.index(by_id[os.path.basename(p)[:-4]]) for p in man]
    assert y.dtype == np.int64 and y.tolist() == want, (y, want)
    assert open(cls).read().splitlines() == names_sorted
    # Each image row is the image its label's row names, and the images are
    # exactly plain load's.
    plain = os.path.join(d, "plain.npy")
    ok(run("load", "-q", "-o", plain, root))
    assert np.array_equal(x, np.load(plain))
    assert [int(v) for v in x[:, 0, 0, 0]] == [int(os.path.basename(p)[2:5]) for p in man]


def test_tsv_and_integer_labels(d):
    root, ids = images(d, 6)
    table = write(os.path.join(d, "t.tsv"), "image\tlabel\n" +
                  "".join("%s.png\t%d\n" % (i, 10 - int(i[2:])) for i in ids))
    x, y, man = load_labels(d, root, "--labels-from", table)
    assert y.tolist() == [10 - int(os.path.basename(p)[2:5]) for p in man]
    r = load_labels(d, root, "--labels-from", table, "--classes", os.path.join(d, "c"), code=1)
    names(r, table, "the labels are integers")


def test_reconciliation(d):
    root, ids = images(d, 10)
    for gone in ("id002", "id005", "id007"):
        os.remove(os.path.join(root, gone + ".png"))
    for extra in ("new1", "new2"):
        save_image(os.path.join(root, extra + ".png"), np.zeros((4, 4, 3), np.uint8))
    lines = ["id,label"] + ["%s,%d" % (i, int(i[2:]) % 3) for i in ids] + ["id001,1"]
    table = write(os.path.join(d, "t.csv"), "\n".join(lines) + "\n")
    r = load_labels(d, root, "--labels-from", table, code=1)
    problems = [l for l in r.err.splitlines() if "problems matching" not in l]
    assert len(problems) == 6, r
    for gone in ("id002", "id005", "id007"):
        names(r, "%s:%d" % (table, lines.index("%s,%d" % (gone, int(gone[2:]) % 3)) + 1),
              "'%s' names no image" % gone)
    for extra in ("new1", "new2"):
        names(r, os.path.join(root, extra + ".png"), "no row of")
    names(r, "%s:%d" % (table, len(lines)), "'id001' names .*again")
    assert "6 problems" in r.err and "nothing written" in r.err, r
    assert sorted(os.listdir(d)) == ["t.csv", "train"], os.listdir(d)
    # A table for the images left, and the two unlisted ones skipped.
    kept = [l for l in lines[1:-1] if l.split(",")[0] not in ("id002", "id005", "id007")]
    write(table, "id,label\n" + "\n".join(kept) + "\n")
    r = load_labels(d, root, "--labels-from", table, code=1)
    x, y, man = load_labels(d, root, "--labels-from", table, "--unlabelled", "skip")
    assert len(man) == 7 and x.shape[0] == 7 and y.shape == (7,), man
    assert not any("new" in p for p in man)
    r = ok(run("load", "-o", os.path.join(d, "z.npy"), "--labels", os.path.join(d, "zy.npy"),
               "--labels-from", table, "--unlabelled", "skip", root))
    assert "2 images of %s without a row skipped" % root in r.err, r


def test_ambiguous_key(d):
    root = os.path.join(d, "in")
    for sub in ("a", "b"):
        os.makedirs(os.path.join(root, sub))
        save_image(os.path.join(root, sub, "x.png"), np.zeros((4, 4, 3), np.uint8))
    table = write(os.path.join(d, "t.csv"), "path,label\nx.png,1\n")
    r = load_labels(d, root, "--labels-from", table, code=1)
    names(r, table + ":2", "'x.png' matches two images, %s and %s" %
          (re.escape(os.path.join(root, "a", "x.png")), re.escape(os.path.join(root, "b", "x.png"))))
    write(table, "path,label\na/x.png,1\nb/x,2\n")
    x, y, man = load_labels(d, root, "--labels-from", table)
    assert y.tolist() == [1, 2], y


def test_hugging_face_metadata(d):
    root = os.path.join(d, "ds")
    os.makedirs(os.path.join(root, "sub"))
    meta = []
    for i in range(8):
        name = ("sub/" if i % 2 else "") + "p%d.png" % i
        save_image(os.path.join(root, name), np.full((4, 4, 3), i, np.uint8))
        meta.append({"file_name": name, "label": ["zebra", "émeu", "ant"][i % 3],
                     "caption": "a \"quoted\", caption\n%d" % i})
    write(os.path.join(root, "metadata.jsonl"),
          "".join(json.dumps(m) + "\n" for m in reversed(meta)))
    x1, y1, m1 = load_labels(d, root)
    os.remove(os.path.join(root, "metadata.jsonl"))
    out = io.StringIO()
    w = csv.DictWriter(out, ["file_name", "caption", "label"])
    w.writeheader()
    w.writerows(meta)
    write(os.path.join(root, "metadata.csv"), out.getvalue())
    x2, y2, m2 = load_labels(d, root)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2) and m1 == m2
    by = {m["file_name"]: m["label"] for m in meta}
    classes = sorted(set(by.values()))
    assert y1.tolist() == [classes.index(by[os.path.relpath(p, root)]) for p in m1]
    # Both at once is refused; --labels-from wins over either.
    write(os.path.join(root, "metadata.jsonl"), json.dumps(meta[0]) + "\n")
    r = load_labels(d, root, code=1)
    names(r, root, "both metadata.csv and metadata.jsonl")
    x3, y3, m3 = load_labels(d, root, "--labels-from", os.path.join(root, "metadata.csv"))
    assert np.array_equal(y3, y2)


def test_multi_label_and_targets(d):
    root, ids = images(d, 9)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["image_name", "tags", "a", "b"])
    tags = ["haze primary", "clear", "primary water road", "", "clear water"]
    vals = ["0.1", "1e-45", "-3.4028235e38", "16777217", "  2.5 ", "1.00000005960464478",
            "nan", "-0", "7"]
    for k, i in enumerate(ids):
        w.writerow([i, tags[k % 5], vals[k], vals[-1 - k]])
    table = write(os.path.join(d, "planet.csv"), out.getvalue())
    with open(table, newline="") as f:
        rows = {r["image_name"]: r for r in csv.DictReader(f)}
    cls = os.path.join(d, "c.txt")
    x, y, man = load_labels(d, root, "--labels-from", table, "--label-column", "tags",
                            "--multi-label", " ", "--classes", cls)
    names_sorted = sorted({t for r in rows.values() for t in r["tags"].split(" ") if t})
    want = np.zeros((len(man), len(names_sorted)), np.uint8)
    for k, p in enumerate(man):
        for t in rows[os.path.basename(p)[:-4]]["tags"].split(" "):
            if t:
                want[k, names_sorted.index(t)] = 1
    assert y.dtype == np.uint8 and np.array_equal(y, want), (y, want)
    assert open(cls).read().splitlines() == names_sorted
    x, y, man = load_labels(d, root, "--labels-from", table, "--targets", "b,a")
    want = np.array([[np.float32(float(rows[os.path.basename(p)[:-4]][c])) for c in ("b", "a")]
                     for p in man], np.float32)
    assert y.dtype == np.float32 and y.shape == (9, 2)
    assert y.tobytes() == want.tobytes(), (y, want)
    # A cell that is no number names its line; nothing is written.
    write(table, out.getvalue().replace(",7\r\n", ",seven\r\n"))
    os.remove(os.path.join(d, "x.npy"))
    r = load_labels(d, root, "--labels-from", table, "--targets", "b", code=1)
    names(r, table + ":2", "'seven' in column 'b' is not a number")
    assert not os.path.exists(os.path.join(d, "x.npy"))


def test_label_regex(d):
    root = os.path.join(d, "dogs-vs-cats")
    os.makedirs(os.path.join(root, "more"))
    files = ["cat.1.jpg", "dog.2.jpg", "cat.10.jpg", "more/dog.3.jpg", "wolf.4.jpg"]
    for i, f in enumerate(files):
        save_image(os.path.join(root, f), np.full((8, 8, 3), 40 * i, np.uint8))
    rx = r"([a-z]+)\.[0-9]+\.jpg$"
    x, y, man = load_labels(d, root, "--label-regex", rx, "--classes", os.path.join(d, "c"))
    got = [re.search(rx, os.path.relpath(p, root)).group(1) for p in man]
    assert y.tolist() == [sorted(set(got)).index(g) for g in got], (y, got)
    assert open(os.path.join(d, "c")).read().split() == ["cat", "dog", "wolf"]
    # Against the relative path: a folder can be the class too.
    x, y, man = load_labels(d, root, "--label-regex", r"^([a-z]+)/", "--unlabelled", "skip")
    assert man == [os.path.join(root, "more/dog.3.jpg")] and y.tolist() == [0]
    r = load_labels(d, root, "--label-regex", r"^([a-z]+)/", code=1)
    names(r, os.path.join(root, "cat.1.jpg"), "--label-regex .* does not match")
    r = load_labels(d, root, "--label-regex", "[a-z]+", code=2)
    assert "no capture group" in r.err, r


def test_shuffle_split_shard_ragged_keep_rows_aligned(d):
    root, ids = images(d, 20)
    table = write(os.path.join(d, "t.jsonl"), "".join(
        json.dumps({"id": i, "label": int(i[2:]), "t": int(i[2:]) / 4}) + "\n" for i in ids))
    x, y, man = load_labels(d, root, "--labels-from", table, "--shuffle", "--seed", "3")
    assert [int(v) for v in x[:, 0, 0, 0]] == y.tolist() and y.tolist() != sorted(y.tolist())
    xo, yo = os.path.join(d, "s.npy"), os.path.join(d, "sy.npy")
    ok(run("load", "-q", "-o", xo, "--labels", yo, "--labels-from", table, "--targets", "t",
           "--shuffle", "--split", "train=0.75,val=0.25", root))
    for part in ("train", "val"):
        xs, ys = np.load(xo[:-4] + "." + part + ".npy"), np.load(yo[:-4] + "." + part + ".npy")
        assert np.array_equal(xs[:, 0, 0, 0].astype(np.float32) / 4, ys[:, 0]), part
    parts = []
    for k in range(3):
        px, py = os.path.join(d, "p%d.npy" % k), os.path.join(d, "py%d.npy" % k)
        ok(run("load", "-q", "-o", px, "--labels", py, "--labels-from", table, "--targets", "t",
               "--shard", "%d/3" % k, root))
        parts.append((px, py))
    mx, my = os.path.join(d, "mx.npy"), os.path.join(d, "my.npy")
    ok(run("merge", "-q", "-o", mx, "--labels", my, *[p[0] for p in parts], *[p[1] for p in parts]))
    assert np.array_equal(np.load(mx)[:, 0, 0, 0] / 4, np.load(my)[:, 0]) and len(np.load(my)) == 20
    ok(run("load", "-q", "-o", os.path.join(d, "r.npy"), "--ragged", "--labels",
           os.path.join(d, "ry.npy"), "--labels-from", table, root))
    flat, ry = np.load(os.path.join(d, "r.npy")), np.load(os.path.join(d, "ry.npy"))
    assert [int(v) for v in flat[::48]] == ry.tolist()


def test_kaggle_zip(d):
    root, table, rows = kaggle(d, 8)
    z = os.path.join(d, "train.zip")
    with zipfile.ZipFile(z, "w") as f:
        for n in sorted(os.listdir(root)):
            f.write(os.path.join(root, n), "train/" + n)
    x, y, man = load_labels(d, z, "--labels-from", table)
    assert man[0].startswith(z + ":train/"), man
    by_id = {r["id"]: r["label"] for r in rows}
    classes = sorted(set(by_id.values()))
    assert y.tolist() == [classes.index(by_id[p.rsplit("/", 1)[1][:-4]]) for p in man]
    plain = os.path.join(d, "plain.npy")
    ok(run("load", "-q", "-o", plain, root))
    assert np.array_equal(x, np.load(plain))


MALFORMED = [
    ("quote.csv", 'id,label\nid000,a\nid001,"b\n', 3, "a quote not closed"),
    ("after.csv", 'id,label\nid000,"a"b\n', 2, "text after a closing quote"),
    ("fields.csv", "id,label\nid000,a\nid001\n", 3, "1 field, the header has 2"),
    ("utf8.csv", b"id,label\nid000,a\nid001,\xe9\n", 3, "invalid UTF-8"),
    ("obj.jsonl", '{"id": "id000", "label": 1}\n["id001", 2]\n', 2, "not a JSON object"),
    ("json.jsonl", '{"id": "id000", "label": 1}\n{"id": "id001" "label": 2}\n', 2,
     "a ',' or '}' missing"),
    ("nested.jsonl", '{"id": "id000", "label": [1]}\n', 1, "'label' is an array or object"),
    ("nolabel.jsonl", '{"id": "id000", "label": 1}\n{"id": "id001"}\n', 2, "no 'label' for"),
]


def test_malformed_tables(d):
    root, ids = images(d, 2)
    for name, text, line, why in MALFORMED:
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(text if isinstance(text, bytes) else text.encode())
        r = load_labels(d, root, "--labels-from", path, code=1)
        names(r, "%s:%d" % (path, line), re.escape(why))
        assert not any(n.endswith(".npy") for n in os.listdir(d)), (name, os.listdir(d))
    table = write(os.path.join(d, "cols.csv"), "name,label\nid000,1\n")
    r = load_labels(d, root, "--labels-from", table, code=1)
    names(r, table, "no path column")
    r = load_labels(d, root, "--labels-from", table, "--path-column", "name", "--label-column",
                    "cls", code=1)
    names(r, table, "no column 'cls'")
    r = load_labels(d, root, "--labels-from", os.path.join(d, "none.csv"), code=1)
    names(r, os.path.join(d, "none.csv"), "No such file")


def test_usage_errors(d):
    root, ids = images(d, 2)
    x = os.path.join(d, "x.npy")
    for args, why in ((["--labels-from", "t.csv"], "needs --labels"),
                      (["--labels", "y.npy", "--labels-from", "t", "--label-regex", "(a)"],
                       "choose one"),
                      (["--labels", "y.npy", "--labels-from", "t", "--multi-label", " ",
                        "--targets", "a"], "choose one"),
                      (["--labels", "y.npy", "--unlabelled", "maybe"], "invalid --unlabelled"),
                      (["--labels", "y.npy", "--label-regex", "(a"], "invalid --label-regex")):
        r = ok(run("load", "-o", x, *args, root), 2)
        assert why in r.err, r


if __name__ == "__main__":
    harness.main(globals())
