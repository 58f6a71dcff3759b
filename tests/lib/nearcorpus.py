#!/usr/bin/python3
"""nearcorpus.py - the near-duplicate fixtures of tests/cli_near_test.py,
made deterministically from the repository's photos (tests/data/photos):

  bases(dst)     40 distinct photos: crops of the photos (quadrants, centre,
                 halves, the whole), those with texture, as JPEG q92 (base_NN.jpg)
  variants(dst)  ImageMagick's variants of each base, which must land in its
                 group: -quality 30, -resize 50%, -resize 200%, -crop
                 98%x98%+2+2 +repage, -modulate 105, PNG and WebP re-encodes,
                 -strip (base_NN_KIND.EXT)
  distinct(dst, n)  N images that are no near-duplicates of each other: the
                 photos' textured 32x32 tiles (no two overlap), then gen's
                 noise (written by the caller's parimg)

Run as a script to print the phash distances the default threshold was
chosen from:  /usr/bin/python3 tests/lib/nearcorpus.py ./parimg DIR
"""
import csv
import io
import itertools
import os
import subprocess
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))	# tests/
PHOTOS = os.path.join(HERE, "data", "photos")
NAMES = ("astronaut", "camera", "chelsea", "coffee", "hubble", "rocket")
KINDS = (("q30", "jpg", ["-quality", "30"]), ("r50", "png", ["-resize", "50%"]),
         ("r200", "png", ["-resize", "200%"]),
         ("crop", "png", ["-crop", "98%x98%+2+2", "+repage"]),
         ("mod", "png", ["-modulate", "105"]), ("png", "png", []), ("webp", "webp", []),
         ("strip", "jpg", ["-strip"]))


def _crops(im):
    w, h = im.size
    return [im.crop((0, 0, w // 2, h // 2)), im.crop((w // 2, 0, w, h // 2)),
            im.crop((0, h // 2, w // 2, h)), im.crop((w // 2, h // 2, w, h)),
            im.crop((w // 4, h // 4, w // 4 + w // 2, h // 4 + h // 2)),
            im.crop((0, 0, w, h // 2)), im.crop((0, h // 2, w, h)),
            im.crop((0, 0, w // 2, h)), im]


def bases(dst, n=40):
    """N base photos as base_NN.jpg; their paths, in order. Crops with
    little in them (gray std under 30: a patch of sky) are left out: a
    near-flat image's low frequencies are all near its median, and its
    phash is noise (check's quality flags are for them)."""
    os.makedirs(dst, exist_ok=True)
    out = []
    for name in NAMES:
        with Image.open(os.path.join(PHOTOS, name + ".png")) as im:
            for c in _crops(im.convert("RGB")):
                if np.asarray(c.convert("L"), dtype=float).std() < 30:
                    continue
                if len(out) < n:
                    p = os.path.join(dst, "base_%02d.jpg" % len(out))
                    c.save(p, quality=92)
                    out.append(p)
    return out


def variants(paths):
    """ImageMagick's variants of each base: {base path: [variant paths]}."""
    res = {}
    for p in paths:
        stem = p[:-len(".jpg")]
        res[p] = []
        for kind, ext, args in KINDS:
            v = "%s_%s.%s" % (stem, kind, ext)
            subprocess.run(["convert", p, *args, v], check=True, timeout=60)
            res[p].append(v)
    return res


def tiles(dst):
    """The photos' 32x32 tiles with texture (gray std over 20), none
    overlapping another, as PNG; their paths."""
    os.makedirs(dst, exist_ok=True)
    out = []
    for name in NAMES:
        with Image.open(os.path.join(PHOTOS, name + ".png")) as im:
            im = im.convert("RGB")
            g = np.asarray(im.convert("L"), dtype=float)
            for y in range(0, im.size[1] - 31, 32):
                for x in range(0, im.size[0] - 31, 32):
                    if g[y:y + 32, x:x + 32].std() > 20:
                        p = os.path.join(dst, "%s_%d_%d.png" % (name, y, x))
                        im.crop((x, y, x + 32, y + 32)).save(p)
                        out.append(p)
    return out


def phashes(parimg, *args, cwd=None):
    """{path: (dhash, phash)} of parimg check's CSV."""
    r = subprocess.run([parimg, "check", "-q", "--near", "--format", "csv", *args], cwd=cwd,
                       capture_output=True, text=True, timeout=600)
    return {row["path"]: (int(row["dhash"], 16), int(row["phash"], 16))
            for row in csv.DictReader(io.StringIO(r.stdout)) if row["status"] == "ok"}


def _dist(a, b):
    return bin(a ^ b).count("1")


if __name__ == "__main__":
    parimg, d = os.path.abspath(sys.argv[1]), sys.argv[2]
    bs = bases(os.path.join(d, "b"))
    vs = variants(bs)
    ts = tiles(os.path.join(d, "t"))
    subprocess.run([parimg, "gen", "-q", "-n", str(10000 - len(ts)), "-s", "16x16", "-c", "3",
                    "-o", os.path.join(d, "g")], check=True)
    h = phashes(parimg, os.path.join(d, "b"), os.path.join(d, "t"), os.path.join(d, "g"))
    for which, k in (("dhash", 0), ("phash", 1)):
        worst = {}
        for b, vl in vs.items():
            for v in vl:
                kind = v.rsplit("_", 1)[1]
                worst[kind] = max(worst.get(kind, 0), _dist(h[b][k], h[v][k]))
        base_pairs = [_dist(h[a][k], h[b][k]) for a, b in itertools.combinations(bs, 2)]
        distinct = [v[k] for p, v in h.items() if "/b/" not in p]
        hist = {}
        # The closest pairs among the distinct images, by brute force per bucket.
        arr = np.array(distinct, dtype=np.uint64)
        mins = []
        for i in range(len(arr)):
            x = np.bitwise_xor(arr[i + 1:], arr[i])
            if len(x):
                c = np.unpackbits(x.view(np.uint8)).reshape(len(x), 64).sum(1)
                mins.append(int(c.min()))
        for m in mins:
            hist[m] = hist.get(m, 0) + 1
        print("%s: variants' worst distance by kind %s; closest distinct bases %d; "
              "distinct images' nearest-neighbour distances (count by distance) %s" %
              (which, worst, min(base_pairs), sorted(hist.items())[:8]))
