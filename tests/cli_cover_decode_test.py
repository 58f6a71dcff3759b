#!/usr/bin/python3
"""Command-line tests of --fit cover's partial JPEG decode (issue 22): a JPEG
resized under cover is decoded only where the resize reads it (columns
cropped, rows above skipped, the decode stopped after the last), and that
must give, byte for byte, the array of the whole decode (PARIMG_FULL_DECODE
set) and of Pillow's resize then crop. Over every filter and sampling
(4:4:4, 4:2:2, 4:2:0, 4:4:0, and 4:1:1, progressive, arithmetic, CMYK and
YCCK, which are decoded whole), odd sizes, restart markers, gray, portrait
and landscape, -c 1/3/4 and u2, with and without --draft.
Run as: /usr/bin/python3 tests/cli_cover_decode_test.py ./parimg [TEST...]
"""
import os
import shutil
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
import photos  # noqa: E402
from harness import ok, run  # noqa: E402

FILTERS = ("nearest", "box", "bilinear", "hamming", "bicubic", "lanczos")
PIL_FILTERS = {"nearest": Image.NEAREST, "box": Image.BOX, "bilinear": Image.BILINEAR,
               "hamming": Image.HAMMING, "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS}
MODES = {1: "L", 3: "RGB", 4: "RGBA"}
# Square, wide (rows cropped), tall (columns cropped), odd, tiny; with
# --draft the first three are at most half the large fixtures' size.
TARGETS = ((64, 64), (100, 30), (30, 100), (151, 97), (7, 5))
SAMPLINGS = {"444": "1x1", "422": "2x1", "420": "2x2", "440": "1x2", "411": "4x1"}


def fixtures(d):
    """The photo fixtures' JPEGs, and larger ones made here (several iMCUs
    cut by the crop on each side): every sampling, landscape and portrait,
    with and without restart markers, gray, progressive, at odd sizes."""
    fx = photos.build(os.path.join(d, "photos"))
    src = os.path.join(d, "src")
    os.makedirs(src)
    paths = []
    for name, path in sorted(fx.items()):
        # lenient_jpeg_entropy: damaged entropy-coded data, which libjpeg
        # only warns about; the window must still come out as whole.
        if name.startswith("jpeg_") or name == "lenient_jpeg_entropy":
            paths.append(shutil.copy(path, os.path.join(src, os.path.basename(path))))
    land = photos.photo("chelsea").resize((643, 427), Image.BICUBIC)
    port = photos.photo("astronaut").resize((389, 611), Image.BICUBIC)
    made = {}
    for kind, s in SAMPLINGS.items():
        made["land_" + kind] = photos.cjpeg(land, "-sample", s, "-quality", "90")
        made["port_" + kind] = photos.cjpeg(port, "-sample", s, "-quality", "90")
        made["land_%s_restart" % kind] = photos.cjpeg(land, "-sample", s, "-restart", "1")
        made["port_%s_restart_blocks" % kind] = photos.cjpeg(port, "-sample", s, "-restart", "5B")
    made["land_gray"] = photos.cjpeg(land, "-grayscale")
    made["port_gray_restart"] = photos.cjpeg(port, "-grayscale", "-restart", "1")
    made["land_progressive"] = photos.cjpeg(land, "-progressive")
    made["port_arithmetic"] = photos.cjpeg(port, "-arithmetic")
    made["odd_97x61_420"] = photos.cjpeg(photos.crop(land, 97, 61), "-sample", "2x2")
    made["odd_61x97_422"] = photos.cjpeg(photos.crop(port, 61, 97), "-sample", "2x1")
    for name, data in sorted(made.items()):
        path = os.path.join(src, name + ".jpg")
        with open(path, "wb") as f:
            f.write(data)
        paths.append(path)
    return paths


def load(d, paths, args, full):
    """load's array of PATHS (in that order) with ARGS; the whole decode
    when FULL."""
    env = dict(os.environ)
    env.pop("PARIMG_FULL_DECODE", None)
    if full:
        env["PARIMG_FULL_DECODE"] = "1"
    out = os.path.join(d, "full.npy" if full else "part.npy")
    ok(run("load", "-q", "-f", "--order", "none", "-o", out, *args, "-",
           stdin="".join(p + "\n" for p in paths), env=env))
    return np.load(out)


def same_as_whole_decode(d, paths, args):
    part, full = load(d, paths, args, False), load(d, paths, args, True)
    for k, p in enumerate(paths):
        assert np.array_equal(part[k], full[k]), "%s %s: the partial decode differs" % (
            os.path.basename(p), " ".join(args))
    return part


def test_every_filter_and_target_matches_the_whole_decode(d):
    paths = fixtures(d)
    for f in FILTERS:
        for tw, th in TARGETS:
            for draft in ("--no-draft", "--draft"):
                same_as_whole_decode(d, paths, ["--resize", "%dx%d" % (tw, th), "--fit", "cover",
                                                "--filter", f, draft])


def test_channels_and_depths_match_the_whole_decode(d):
    paths = fixtures(d)
    for args in (["-c", "1"], ["-c", "2"], ["-c", "4"], ["-t", "u2"], ["-c", "1", "-t", "u2"],
                 ["-t", "f4", "--scale"], ["-c", "3", "--layout", "nchw", "--normalize", "imagenet"]):
        for f in ("nearest", "bilinear", "lanczos"):
            for tw, th in TARGETS[:3]:
                for draft in ("--no-draft", "--draft"):
                    same_as_whole_decode(d, paths, args + ["--resize", "%dx%d" % (tw, th),
                                                           "--fit", "cover", "--filter", f, draft])


def test_partial_decode_is_pillows_resize_then_crop(d):
    # The contract itself: Pillow's decode, resize to the cover size, crop.
    paths = [p for p in fixtures(d) if "cmyk" not in p and "ycck" not in p]
    for c in (1, 3):
        for f in FILTERS:
            for tw, th in ((64, 64), (100, 30), (30, 100)):
                got = load(d, paths, ["-c", str(c), "--resize", "%dx%d" % (tw, th), "--fit",
                                      "cover", "--filter", f], False)
                for k, p in enumerate(paths):
                    with Image.open(p) as im:
                        im = im.convert(MODES[c])
                    w, h = im.size
                    if tw * h >= th * w:
                        nw, nh = tw, tw * h // w
                    else:
                        nw, nh = th * w // h, th
                    if nw < 1 or nh < 1:
                        continue
                    x, y = int(round((nw - tw) / 2.0)), int(round((nh - th) / 2.0))
                    want = np.asarray(im.resize((nw, nh), PIL_FILTERS[f]).crop(
                        (x, y, x + tw, y + th)))
                    if c == 1:
                        want = want[:, :, None]
                    assert np.array_equal(got[k].reshape(want.shape), want), (p, c, f, tw, th)


def test_truncated_files_are_still_refused(d):
    # A decode stopped early would not see a file cut short: those without
    # their end marker are decoded whole, and refused as before.
    fx = photos.build(os.path.join(d, "photos"))
    for name, path in sorted(fx.items()):
        if not name.startswith("bad_jpeg_trunc"):
            continue
        for args in ((), ("--draft",)):
            r = run("load", "-q", "-f", "--resize", "30x100", "--fit", "cover", *args, "-o",
                    os.path.join(d, "o.npy"), path)
            want = run("load", "-q", "-f", "--resize", "30x100", "--fit", "cover", *args, "-o",
                       os.path.join(d, "o.npy"), path,
                       env=dict(os.environ, PARIMG_FULL_DECODE="1"))
            assert r.code == want.code and r.err == want.err, (name, r, want)


harness.main(globals())
