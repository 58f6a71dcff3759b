#!/usr/bin/python3
"""Command-line tests for the tensors a model takes: "parimg load --layout
nchw" and "--normalize" against torchvision 0.14's own transforms (Resize,
CenterCrop, ToTensor, PILToTensor, Normalize) on the photo fixtures of
tests/lib/photos.py, with np.array_equal, never allclose; "--stats" against
NumPy's float64 mean and std of the same array, for every -j, schedule and
shard ("merge --stats"); "--normalize stats --stats-from"; merge refusing
mixed layouts; and the usage errors.
Run as: /usr/bin/python3 tests/cli_tensor_test.py ./parimg [TEST...]
"""
import atexit
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
import photos  # noqa: E402
from harness import names, ok, run  # noqa: E402

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
_fixtures = None


def all_fixtures():
    """tests/lib/photos.py's fixtures, built once per run (removed at exit)."""
    global _fixtures
    if _fixtures is None:
        d = tempfile.mkdtemp(prefix="parimg-tensor-fx-")
        atexit.register(shutil.rmtree, d, True)
        _fixtures = photos.build(d)
    return _fixtures


def fixtures():
    """The valid photo fixtures, name-sorted: every decoder and kind."""
    return sorted(photos.good(all_fixtures()).values())


def broken():
    """The broken fixtures, name-sorted."""
    return sorted(photos.broken(all_fixtures()).values())


def load(d, files, *args, out="a.npy", code=0):
    """Load FILES in the order given; the array (or None on failure)."""
    path = os.path.join(d, out)
    ok(run("load", "-q", "-f", "--order", "none", *args, "-o", path, *files), code)
    return np.load(path) if code in (0, 3) and os.path.exists(path) else None


def torch_stack(files, tf, mode="RGB"):
    """What a torchvision pipeline TF gives for each file, stacked."""
    ims = []
    for f in files:
        with Image.open(f) as im:
            ims.append(tf(im.convert(mode)))
    return torch.stack(ims).numpy()


def assert_equal(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape,
                                                                 want.dtype, want.shape)
    if not np.array_equal(got, want):
        bad = np.argwhere(got != want)
        raise AssertionError("%d values differ, first at %s: %r, want %r" % (
            len(bad), bad[0], got[tuple(bad[0])], want[tuple(bad[0])]))


# ---------------------------------------------------------------- layout, normalize

def test_cover_nchw_imagenet_equals_torchvision(d):
    files = fixtures()
    got = load(d, files, "-c", "3", "--resize", "224x224", "--fit", "cover",
               "--layout", "nchw", "--normalize", "imagenet")
    want = torch_stack(files, T.Compose([T.Resize(224), T.CenterCrop(224), T.ToTensor(),
                                         T.Normalize(*IMAGENET)]))
    assert_equal(got, want)


def test_stretch_nchw_normalize_equals_torchvision(d):
    files = fixtures()
    got = load(d, files, "-c", "3", "--resize", "160x120", "--layout", "nchw",
               "--normalize", "0.5,0.25,0.125:0.3,0.2,0.1")
    want = torch_stack(files, T.Compose([T.Resize((120, 160)), T.ToTensor(),
                                         T.Normalize((0.5, 0.25, 0.125), (0.3, 0.2, 0.1))]))
    assert_equal(got, want)


def test_gray_as_three_channels_and_one(d):
    files = [f for f in fixtures() if "gray" in os.path.basename(f)]
    files.append(os.path.join(photos.PHOTOS, "camera.png"))
    assert len(files) >= 4
    got = load(d, files, "-c", "3", "--resize", "96x96", "--fit", "cover", "--layout", "nchw",
               "--normalize", "imagenet")
    tf = [T.Resize(96), T.CenterCrop(96), T.ToTensor()]
    assert_equal(got, torch_stack(files, T.Compose(tf + [T.Normalize(*IMAGENET)])))
    got = load(d, files, "-c", "1", "--resize", "96x96", "--fit", "cover", "--layout", "nchw",
               "--normalize", "0.45:0.226")
    assert_equal(got, torch_stack(files, T.Compose(tf + [T.Normalize((0.45,), (0.226,))]), "L"))


def test_nhwc_normalize_is_nchw_transposed(d):
    files = fixtures()[:12]
    nchw = load(d, files, "-c", "3", "--resize", "64x48", "--layout", "nchw",
                "--normalize", "imagenet", out="n.npy")
    nhwc = load(d, files, "-c", "3", "--resize", "64x48", "--normalize", "imagenet")
    assert nhwc.shape == (len(files), 48, 64, 3)
    assert_equal(nhwc, np.ascontiguousarray(nchw.transpose(0, 2, 3, 1)))


def test_f8_is_the_float64_pipeline(d):
    """-t f8 --normalize: ToTensor and Normalize with torch's default dtype
    float64, the same operations in double."""
    files = fixtures()
    got = load(d, files, "-c", "3", "-t", "f8", "--resize", "224x224", "--fit", "cover",
               "--layout", "nchw", "--normalize", "imagenet")
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        want = torch_stack(files, T.Compose([T.Resize(224), T.CenterCrop(224), T.ToTensor(),
                                             T.Normalize(*IMAGENET)]))
    finally:
        torch.set_default_dtype(old)
    assert_equal(got, want)


def test_nchw_u1_equals_pil_to_tensor(d):
    files = fixtures()
    got = load(d, files, "-c", "3", "--resize", "72x72", "--fit", "cover",
               "--layout", "nchw")
    want = torch_stack(files, T.Compose([T.Resize(72), T.CenterCrop(72), T.PILToTensor()]))
    assert_equal(got, want)


def test_nchw_without_resize(d):
    """Same-size images (the decoders' straight-into-the-row path when
    NHWC): u1 and u2 planes, and --scale's ToTensor."""
    files = []
    for i, n in enumerate(photos.RGB_PHOTOS):
        files.append(harness.save_image(os.path.join(d, "in", "%d.png" % i),
                                        np.asarray(photos.crop(photos.photo(n), 61, 47))))
    got = load(d, files, "--layout", "nchw")
    assert_equal(got, torch_stack(files, T.PILToTensor()))
    got = load(d, files, "--layout", "nchw", "-t", "u2")
    assert_equal(got, torch_stack(files, T.PILToTensor()).astype(np.uint16) * 257)
    got = load(d, files, "--layout", "nchw", "-t", "f4", "--scale")
    assert_equal(got, torch_stack(files, T.ToTensor()))
    got = load(d, files, "--layout", "nchw", "--normalize", "imagenet")
    assert_equal(got, torch_stack(files, T.Compose([T.ToTensor(), T.Normalize(*IMAGENET)])))


def test_one_channel_nchw_keeps_its_axis(d):
    files = [os.path.join(photos.PHOTOS, "camera.png")]
    got = load(d, files, "--layout", "nchw", "--resize", "32x16")
    assert got.shape == (1, 1, 16, 32), got.shape


# ---------------------------------------------------------------- --stats

def numpy_stats(a, nchw=False):
    """NumPy's float64 figures of u1 array A over every axis but channels."""
    x = a.astype(np.float64) / 255
    axes = (0, 2, 3) if nchw else (0, 1, 2)
    return x.mean(axis=axes), x.std(axis=axes), x.min(axis=axes), x.max(axis=axes)


def read_stats(d, name):
    with open(os.path.join(d, name)) as f:
        return json.load(f)


def assert_stats(s, a, nchw=False):
    mean, std, lo, hi = numpy_stats(a, nchw)
    np.testing.assert_allclose(s["mean"], mean, rtol=1e-9, atol=0)
    np.testing.assert_allclose(s["std"], std, rtol=1e-9, atol=0)
    assert s["min"] == list(lo) and s["max"] == list(hi), (s, lo, hi)
    assert s["rows"] == a.shape[0] and s["channels"] == 3
    assert s["samples"] == a.size // 3


def test_stats_equal_numpy(d):
    files = fixtures()
    a = load(d, files, "-c", "3", "--resize", "64x48", "--stats", os.path.join(d, "s.json"))
    s = read_stats(d, "s.json")
    assert_stats(s, a)
    # The exact sums: on the 16-bit scale, an 8-bit v counting as 257 v.
    x = a.reshape(-1, 3).astype(np.int64) * 257
    assert s["scale"] == 65535 and s["sum"] == [int(v) for v in x.sum(axis=0)]
    assert s["sum_squares"] == [int(v) for v in (x * x).sum(axis=0)]


def test_stats_are_before_normalisation_in_any_layout(d):
    files = fixtures()
    a = load(d, files, "-c", "3", "--resize", "64x48", "--stats", os.path.join(d, "u.json"))
    load(d, files, "-c", "3", "--resize", "64x48", "--layout", "nchw", "--normalize",
         "imagenet", "--stats", os.path.join(d, "n.json"), out="n.npy")
    with open(os.path.join(d, "u.json"), "rb") as f, open(os.path.join(d, "n.json"), "rb") as g:
        assert f.read() == g.read()
    assert_stats(read_stats(d, "u.json"), a)
    # u2 resizes at 16 bits: its own figures, on [0,1] as samples / 65535.
    w = load(d, files, "-c", "3", "--resize", "64x48", "-t", "u2", "--layout", "nchw",
             "--stats", os.path.join(d, "w.json"), out="w.npy")
    s, x = read_stats(d, "w.json"), w.astype(np.float64) / 65535
    np.testing.assert_allclose(s["mean"], x.mean(axis=(0, 2, 3)), rtol=1e-9, atol=0)
    np.testing.assert_allclose(s["std"], x.std(axis=(0, 2, 3)), rtol=1e-9, atol=0)
    assert s["max"] == list(x.max(axis=(0, 2, 3)))


def test_stats_same_for_every_jobs_and_schedule(d):
    files = fixtures()
    outs = []
    for j in ("1", "2", "3"):
        for sched in ("static", "dynamic"):
            p = os.path.join(d, "s%s%s.json" % (j, sched))
            load(d, files, "-c", "3", "--resize", "50x40", "-j", j, "--schedule", sched,
                 "--stats", p)
            with open(p, "rb") as f:
                outs.append(f.read())
    assert all(o == outs[0] for o in outs)


def test_three_shards_merged_equal_one_run(d):
    files = fixtures()
    a = load(d, files, "-c", "3", "--resize", "50x40", "--stats", os.path.join(d, "all.json"))
    parts = []
    for k in range(3):
        p = os.path.join(d, "p%d.json" % k)
        load(d, files, "-c", "3", "--resize", "50x40", "--shard", "%d/3" % k, "--stats", p,
             out="p%d.npy" % k)
        parts.append(p)
        assert read_stats(d, "p%d.json" % k)["rows"] < len(files)
    m = os.path.join(d, "m.json")
    ok(run("merge", "--stats", m, *parts))
    with open(m, "rb") as f, open(os.path.join(d, "all.json"), "rb") as g:
        assert f.read() == g.read()
    assert_stats(read_stats(d, "m.json"), a)
    r = ok(run("merge", "--stats", m, *parts), 1)
    names(r, m, "file exists")
    ok(run("merge", "-f", "--stats", m, *parts))


def test_empty_shards_merge_too(d):
    files = fixtures()[:3]
    load(d, files, "-c", "3", "--resize", "20x20", "--stats", os.path.join(d, "all.json"))
    parts = []
    for k in range(8):
        p = os.path.join(d, "p%d.json" % k)
        load(d, files, "-c", "3", "--resize", "20x20", "--shard", "%d/8" % k, "--stats", p,
             out="p%d.npy" % k)
        parts.append(p)
    empty = [read_stats(d, "p%d.json" % k) for k in range(8)]
    empty = [s for s in empty if s["rows"] == 0]
    assert empty and empty[0]["mean"] == [None] * 3 and empty[0]["sum"] == [0] * 3
    m = os.path.join(d, "m.json")
    ok(run("merge", "--stats", m, *parts))
    with open(m, "rb") as f, open(os.path.join(d, "all.json"), "rb") as g:
        assert f.read() == g.read()


def test_bench_passes_layout_and_normalize_on(d):
    r = ok(run("bench", "-r", "1", "-j", "1", "--dir", d, "--resize", "40x30", "--layout",
               "nchw", "--normalize", "imagenet", *fixtures()[:4]))
    assert "4 images 40x30, 3 channels" in r.out, r.out


def test_stats_count_skipped_rows_as_their_zeros(d):
    files = fixtures()[:6] + broken()[:1]
    a = load(d, files, "-k", "-c", "3", "--resize", "40x30", "--stats",
             os.path.join(d, "s.json"), code=3)
    assert not a[-1].any()
    assert_stats(read_stats(d, "s.json"), a)


def test_no_stats_file_when_the_load_fails(d):
    load(d, fixtures()[:3] + broken()[:1], "-c", "3", "--resize", "40x30", "--stats",
         os.path.join(d, "s.json"), code=1)
    assert harness.listing(d) == [], harness.listing(d)


def test_stats_with_split(d):
    files = fixtures()
    load(d, files, "-c", "3", "--resize", "40x30", "--split", "train=0.75,val=0.25",
         "--stats", os.path.join(d, "s.json"))
    for part in ("train", "val"):
        a = np.load(os.path.join(d, "a.%s.npy" % part))
        assert_stats(read_stats(d, "s.%s.json" % part), a)


def test_normalize_stats_from_a_train_split(d):
    files = fixtures()
    train, val = files[::2], files[1::2]
    load(d, train, "-c", "3", "--resize", "64x64", "--fit", "cover", "--stats",
         os.path.join(d, "train.json"), out="train.npy")
    s = read_stats(d, "train.json")
    got = load(d, val, "-c", "3", "--resize", "64x64", "--fit", "cover", "--layout", "nchw",
               "--normalize", "stats", "--stats-from", os.path.join(d, "train.json"))
    want = torch_stack(val, T.Compose([T.Resize(64), T.CenterCrop(64), T.ToTensor(),
                                       T.Normalize(s["mean"], s["std"])]))
    assert_equal(got, want)
    # Its channels must match the output's.
    r = run("load", "-q", "-c", "1", "--resize", "8x8", "--normalize", "stats", "--stats-from",
            os.path.join(d, "train.json"), "-o", os.path.join(d, "x.npy"), *val)
    ok(r, 2)
    assert "--normalize" in r.err and "3 values for 1 channel" in r.err, r.err


# ---------------------------------------------------------------- merge, errors

def test_merge_refuses_mixed_layouts(d):
    files = fixtures()[:4]
    for args, out in (((), "h.npy"), (("--layout", "nchw"), "c.npy")):
        load(d, files, "-c", "3", "--resize", "32x24", *args, out=out)
        load(d, files, "-c", "1", "--resize", "32x24", *args, out="1" + out)
    for a, b in (("h.npy", "c.npy"), ("c.npy", "h.npy"), ("1h.npy", "1c.npy")):
        r = ok(run("merge", "-q", "-o", os.path.join(d, "m.npy"), os.path.join(d, a),
                   os.path.join(d, b)), 1)
        names(r, os.path.join(d, b), "layout")
    ok(run("merge", "-q", "-o", os.path.join(d, "m.npy"), os.path.join(d, "c.npy"),
           os.path.join(d, "c.npy")))
    assert np.load(os.path.join(d, "m.npy")).shape == (8, 3, 24, 32)


def test_usage_errors(d):
    f = fixtures()[0]
    o = os.path.join(d, "o.npy")
    cases = [
        (["--layout", "chw"], "--layout"),
        (["--normalize", "imagenet", "-t", "u1"], "--normalize"),
        (["--normalize", "imagenet", "-t", "u2"], "--normalize"),
        (["--normalize", "imagenet", "-t", "f4", "--scale"], "--normalize"),
        (["--normalize", "1,2:3"], "--normalize"),
        (["--normalize", "1:0"], "--normalize"),
        (["--normalize", "0.5:1e-60"], "--normalize"),
        (["--normalize", "1,2:3,4:5"], "--normalize"),
        (["--normalize", "x"], "--normalize"),
        (["--normalize", "imagenet", "-c", "1"], "--normalize"),
        (["--normalize", "0.5:0.5"], "--normalize"),     # 1 value, 3 channels probed
        (["--normalize", "stats"], "--stats-from"),
        (["--stats-from", os.path.join(d, "s.json")], "--stats-from"),
        (["--stats"], "--stats"),
    ]
    for args, opt in cases:
        r = run("load", "-q", "-o", o, f, *args)
        assert r.code == 2 and opt in r.err, (args, r)
        assert "Try 'parimg load --help'" in r.err, r
    assert harness.listing(d) == []
    r = ok(run("merge", "--stats", os.path.join(d, "m.json"), "-o", o, o), 2)
    assert "--stats" in r.err
    r = ok(run("bench", "--normalize", "stats", f), 2)
    assert "--normalize" in r.err


def test_stats_from_bad_files(d):
    f = fixtures()[0]
    bad = os.path.join(d, "bad.json")
    with open(bad, "w") as g:
        g.write('{"mean": [0.5, 0.5, 0.5], "std": [0.2, 0.2, 0.2]}')
    r = ok(run("load", "-q", "-c", "3", "--normalize", "stats", "--stats-from", bad,
               "-o", os.path.join(d, "o.npy"), f), 1)
    names(r, bad, "not a statistics file")
    r = ok(run("merge", "--stats", os.path.join(d, "m.json"), bad), 1)
    names(r, bad, "not a statistics file")
    missing = os.path.join(d, "none.json")
    r = ok(run("merge", "--stats", os.path.join(d, "m.json"), missing), 1)
    names(r, missing, "No such file")
    assert harness.listing(d) == ["bad.json"]


def test_help_lists_the_options(d):
    out = ok(run("load", "--help")).out
    for opt in ("--layout", "--normalize", "--stats FILE", "--stats-from"):
        assert opt in out, opt
    assert "--stats" in ok(run("merge", "--help")).out


if __name__ == "__main__":
    harness.main(globals())
