#!/usr/bin/python3
"""Command-line tests for "parimg check --quality": cleanvision's image
quality measures, each against its formula computed here with Pillow and
NumPy (cleanvision is not packaged in Debian; these are its steps), the
flags on ImageMagick-made images, --threshold and --list flagged.

Run: /usr/bin/python3 tests/cli_quality_test.py ./parimg [test_name...]
"""
import csv
import io
import json
import math
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
import photos  # noqa: E402
from harness import ok, run  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image, ImageFilter, ImageStat  # noqa: E402

PHOTOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "photos")


def ref_measures(path):
    """cleanvision's per-image properties of Image.open(PATH): brightness
    from the channel means, blurriness and the gray histogram's std of a
    copy at most 64 pixels a side, entropy of the gray image."""
    with Image.open(path) as im:
        im.load()
        mean = ImageStat.Stat(im).mean
        r, g, b = mean[:3] if len(mean) >= 3 else (mean[0],) * 3
        bright = math.sqrt(0.241 * (r * r) + 0.691 * (g * g) + 0.068 * (b * b)) / 255
        ratio = max(im.width, im.height) / 64
        small = (im.resize((max(int(im.width // ratio), 1), max(int(im.height // ratio), 1)))
                 if ratio > 1 else im.copy()).convert("L")
        blur = float(np.sqrt(ImageStat.Stat(small.filter(ImageFilter.FIND_EDGES)).var[0]))
        std = float(np.std(small.histogram()))
        entropy = im.convert("L").entropy()
    return {"brightness": bright, "blurriness": blur, "grayscale_std": std, "entropy": entropy}


def check_csv(*args, cwd=None, code=0):
    r = ok(run("check", "-q", "--quality", "--format", "csv", *args, cwd=cwd), code)
    return list(csv.DictReader(io.StringIO(r.out)))


def check_json(*args, cwd=None, code=0):
    return json.loads(ok(run("check", "-q", "--quality", "--format", "json", *args,
                             cwd=cwd), code).out)


def flags_of(doc):
    return {os.path.basename(f["path"]): set(f["flags"]) for f in doc["flagged"]["files"]}


def test_measures_equal_cleanvisions_formulas_on_the_photo_fixtures(d):
    fx = photos.good(photos.build(os.path.join(d, "fx")))
    paths = sorted(os.path.join(PHOTOS, f) for f in os.listdir(PHOTOS) if f.endswith(".png"))
    # Where Pillow's mode is what parimg decodes (RGB or L): cleanvision
    # measures palette and CMYK images on their indices and inks.
    for p in sorted(fx.values()):
        with Image.open(p) as im:
            if im.mode in ("RGB", "L"):
                paths.append(p)
    rows = check_csv(*paths)
    assert len(rows) == len(paths) and len(paths) > 12, (len(rows), len(paths))
    for row in rows:
        assert row["status"] == "ok", row
        want = ref_measures(row["path"])
        for key, v in want.items():
            assert abs(float(row[key]) - v) <= 1e-9, (row["path"], key, row[key], v)


def flagged_dataset(d):
    """The photos at 160 px wide, and ImageMagick's dark, blurred, gray-as-RGB
    and 2000x100 variants of one of them."""
    src = os.path.join(d, "src")
    os.makedirs(src, exist_ok=True)
    for f in ("astronaut", "camera", "chelsea", "coffee", "rocket"):
        subprocess.run(["convert", os.path.join(PHOTOS, f + ".png"), "-resize", "160x",
                        os.path.join(src, f + ".png")], check=True)
    c = os.path.join(src, "chelsea.png")
    for out, args in (("dark.png", ["-evaluate", "multiply", "0.1"]),
                      ("blurred.png", ["-blur", "0x4"]),
                      ("gray_rgb.png", ["-colorspace", "gray", "-define", "png:color-type=2"]),
                      ("wide.png", ["-resize", "2000x100!"])):
        subprocess.run(["convert", c] + args + [os.path.join(src, out)], check=True)
    with Image.open(os.path.join(src, "gray_rgb.png")) as im:
        assert im.mode == "RGB", im.mode
    return src


def test_imagemagick_variants_are_flagged(d):
    src = flagged_dataset(d)
    doc = check_json(src)
    fl = flags_of(doc)
    assert "dark" in fl.get("dark.png", set()), fl
    assert "blurry" in fl.get("blurred.png", set()), fl
    assert "grayscale" in fl.get("gray_rgb.png", set()), fl
    assert "odd_aspect_ratio" in fl.get("wide.png", set()), fl
    # The originals are not: none is dark, blurred, gray as RGB or odd.
    for f in ("astronaut.png", "chelsea.png", "coffee.png"):
        assert f not in fl, (f, fl)
    assert "grayscale" not in fl.get("camera.png", set()), fl   # stored gray: not flagged
    q = doc["flagged"]
    assert q["counts"]["dark"] == sum("dark" in v for v in fl.values()), q
    assert q["thresholds"] == {"dark": 0.22, "light": 0.05, "blurry": 0.29,
                               "low_information": 0.3, "odd_aspect_ratio": 0.35,
                               "odd_size_iqr": 3.0}, q
    for f in q["files"]:
        want = ref_measures(f["path"])
        for key, v in want.items():
            assert abs(f[key] - v) <= 1e-9, (f, key, v)
        b = 1 - math.exp(-0.01 * f["blurriness"])
        s = 1 - math.exp(-0.01 * f["grayscale_std"])
        assert abs(f["blurry_score"] - min(b + (s if s > 0.18 else 0), 1)) <= 1e-12, f
    # Dataset-relative figures, as NumPy computes them.
    sizes, aspects = [], []
    for name in sorted(os.listdir(src)):
        with Image.open(os.path.join(src, name)) as im:
            sizes.append(math.sqrt(im.width) * math.sqrt(im.height))
            aspects.append(im.width / im.height)
    q1, q3 = np.percentile(sizes, [25, 75])
    assert abs(q["size_q1"] - q1) <= 1e-9 and abs(q["size_q3"] - q3) <= 1e-9, (q, q1, q3)
    assert abs(q["aspect_ratio_median"] - np.median(aspects)) <= 1e-12, q
    wide = [f for f in q["files"] if f["path"].endswith("wide.png")][0]
    m = np.median(aspects)
    assert abs(wide["aspect_score"] - min(20 / m, m / 20)) <= 1e-12, wide


def test_odd_size_against_the_datasets_spread(d):
    src = os.path.join(d, "sizes")
    os.makedirs(src, exist_ok=True)
    for i, w in enumerate((200, 210, 220, 230, 240, 250, 2400)):
        subprocess.run(["convert", "-size", "%dx%d" % (w, w), "plasma:", "-seed", str(i),
                        os.path.join(src, "p%d.png" % i)], check=True)
    fl = flags_of(check_json(src))
    assert {k for k, v in fl.items() if "odd_size" in v} == {"p6.png"}, fl


def test_list_flagged_and_thresholds(d):
    src = flagged_dataset(d)
    r = ok(run("check", "-q", "--quality", "--list", "flagged", src))
    listed = {os.path.basename(p) for p in r.out.splitlines()}
    assert set(flags_of(check_json(src))) == listed and "dark.png" in listed, (listed, r)
    # Thresholds at 0 flag nothing of those measured against them; light at
    # 1 flags every image.
    args = ["--threshold", "dark=0", "--threshold", "blurry=0", "--threshold",
            "low-information=0", "--threshold", "odd-aspect=0", "--threshold", "odd-size=1e6"]
    fl = flags_of(check_json(*args, src))
    assert all(v <= {"grayscale"} for v in fl.values()), fl
    fl = flags_of(check_json("--threshold", "light=1", src))
    assert len(fl) == len(os.listdir(src)) and all("light" in v for v in fl.values()), fl
    # -0, and the table names every flag.
    r = ok(run("check", "-q", "--quality", "--list", "flagged", "-0", src))
    assert r.out.endswith("\0") and len(r.out.split("\0")) == len(listed) + 1, r
    r = ok(run("check", "-q", "--quality", src))
    assert "flagged (cleanvision's quality flags):" in r.out and "odd_aspect_ratio" in r.out, r


def test_without_quality_no_flags_and_usage_errors(d):
    src = os.path.join(d, "one")
    os.makedirs(src, exist_ok=True)
    shutil.copy(os.path.join(PHOTOS, "chelsea.png"), src)
    doc = json.loads(ok(run("check", "-q", "--format", "json", src)).out)
    assert doc["flagged"] is None, doc
    rows = list(csv.DictReader(io.StringIO(ok(run("check", "-q", "--format", "csv", src)).out)))
    assert rows[0]["flags"] == "" and rows[0]["brightness"] == "", rows
    for args, msg in ((["--list", "flagged", src], "--list flagged needs --quality"),
                      (["--threshold", "dark=0.1", src], "--threshold goes with --quality"),
                      (["--quality", "--threshold", "dim=0.1", src], "invalid --threshold"),
                      (["--quality", "--threshold", "dark=2", src], "invalid --threshold"),
                      (["--quality", "--threshold", "dark=", src], "invalid --threshold"),
                      (["--quality", "--threshold", "odd-size=-1", src], "invalid --threshold"),
                      (["--quality", "--threshold", "dark=nan", src], "invalid --threshold")):
        r = run("check", *args)
        assert r.code == 2 and msg in r.err and not r.out, (args, r)


if __name__ == "__main__":
    harness.main(globals())
