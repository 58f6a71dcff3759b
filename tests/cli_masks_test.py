#!/usr/bin/python3
"""Command-line tests of "load --masks DIR --masks-out M.npy" (or --masks
ARCHIVE, a tar, zip or compressed tar of the masks): segmentation
masks paired with their images (VOC's JPEGImages/x.jpg and
SegmentationClass/x.png), put through the image's geometry. The oracle is
Pillow: each mask equals np.asarray of Image.open(m) (exif_transpose'd
where asked), resize(..., Image.NEAREST), then cropped (cover) or pasted on
a canvas of --mask-pad (contain), bit for bit; the images equal a load
without masks.

With --ragged, each mask at its image's size, against torchvision's
Resize(S, interpolation=NEAREST), and its index against the images'.

Run: /usr/bin/python3 tests/cli_masks_test.py ./parimg [test_name...]
"""
import os
import struct
import sys
import tarfile

import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402
import photos  # noqa: E402
from harness import contain, cover, names, ok, pack_archive, run  # noqa: E402

# Palette masks hold VOC's values: classes 0..20 and 255, its "ignore".
VALUES = np.array(list(range(21)) + [255], np.uint8)
SIZES = [(320, 213), (213, 320), (301, 224), (224, 500), (37, 29), (500, 375)]


def exif_block(o):
    """A TIFF-structured EXIF block (no prefix) holding Orientation O."""
    return (b"MM" + struct.pack(">HI", 42, 8) + struct.pack(">H", 1) +
            struct.pack(">HHIHH", 0x0112, 3, 1, o, 0) + struct.pack(">I", 0))


def palette_mask(rng, w, h):
    """A W x H palette image of VALUES in blobs (as a mask is: regions,
    with a border of 255), with a palette of random colours."""
    small = rng.choice(VALUES, size=(max(1, h // 8), max(1, w // 8)))
    m = np.asarray(Image.fromarray(small, "L").resize((w, h), Image.NEAREST)).copy()
    m[::7, :] = 255
    im = Image.fromarray(m, "P")
    im.putpalette([int(v) for v in rng.integers(0, 256, 768)])
    return im


def voc(d, sizes=SIZES, seed=0, exif=None):
    """D/voc/JPEGImages/imK.jpg (crops of the photos) and
    D/voc/SegmentationClass/imK.png (palette masks of the same size), with
    EXIF orientation EXIF[k] in both where given. (images, masks) dirs."""
    rng = np.random.default_rng(seed)
    jpg, seg = os.path.join(d, "voc", "JPEGImages"), os.path.join(d, "voc", "SegmentationClass")
    os.makedirs(jpg, exist_ok=True)
    os.makedirs(seg, exist_ok=True)
    names_ = ["astronaut", "chelsea", "coffee", "hubble", "rocket"]
    for k, (w, h) in enumerate(sizes):
        im = photos.photo(names_[k % len(names_)]).resize((w, h), Image.BILINEAR)
        m = palette_mask(rng, w, h)
        kw, mkw = {}, {}
        if exif and exif[k]:
            kw["exif"] = b"Exif\0\0" + exif_block(exif[k])
            mkw["exif"] = exif_block(exif[k])
        im.save(os.path.join(jpg, "im%d.jpg" % k), quality=90, **kw)
        m.save(os.path.join(seg, "im%d.png" % k), **mkw)
    return jpg, seg


def pillow_mask(path, tw, th, fit="stretch", pad=0, turn=False):
    """What a user's Pillow code makes of mask PATH."""
    im = Image.open(path)
    im.load()
    if turn:
        im = ImageOps.exif_transpose(im)
    assert im.mode == "P", im.mode
    if fit == "cover":
        (nw, nh), (x, y) = cover(im.width, im.height, tw, th)
        im = im.resize((nw, nh), Image.NEAREST).crop((x, y, x + tw, y + th))
    elif fit == "contain":
        (nw, nh), (x, y) = contain(im.width, im.height, tw, th)
        canvas = Image.new("P", (tw, th), pad)
        canvas.paste(im.resize((nw, nh), Image.NEAREST), (x, y))
        im = canvas
    else:
        im = im.resize((tw, th), Image.NEAREST)
    return np.asarray(im)


def load(d, *args, code=0, out="x.npy", masks="m.npy"):
    """load -f with ARGS into D/OUT and D/MASKS: (images, masks), or the
    Result when CODE is not 0."""
    x, m = os.path.join(d, out), os.path.join(d, masks)
    r = ok(run("load", "-q", "-f", "-o", x, "--masks-out", m, *args), code)
    if code and code != 3:
        return r
    return np.load(x), np.load(m)


def masks_of(seg, n):
    return [os.path.join(seg, "im%d.png" % k) for k in range(n)]


def test_cover_masks_equal_pillow_and_images_are_unchanged(d):
    jpg, seg = voc(d)
    x, m = load(d, "--masks", seg, "--resize", "224x224", "--fit", "cover", jpg)
    assert m.shape == (len(SIZES), 224, 224) and m.dtype == np.uint8, m.shape
    for k, p in enumerate(masks_of(seg, len(SIZES))):
        want = pillow_mask(p, 224, 224, "cover")
        assert (m[k] == want).all(), (k, int((m[k] != want).sum()))
    assert set(np.unique(m)) <= set(VALUES.tolist()) and 255 in m and 20 in m
    # The images are those of a load without masks.
    ok(run("load", "-q", "-f", "-o", os.path.join(d, "plain.npy"), "--resize", "224x224",
           "--fit", "cover", jpg))
    assert (np.load(os.path.join(d, "plain.npy")) == x).all()
    # Unconfined workers open the masks themselves: the same arrays.
    x2, m2 = load(d, "--sandbox", "off", "--masks", seg, "--resize", "224x224", "--fit",
                  "cover", jpg, out="x2.npy", masks="m2.npy")
    assert (x2 == x).all() and (m2 == m).all()
    # The image's filter, sample type, layout and normalisation are never
    # the mask's: NEAREST and the indices as they are.
    x3, m3 = load(d, "--masks", seg, "--resize", "224x224", "--fit", "cover", "--filter",
                  "lanczos", "-t", "f4", "--layout", "nchw", "--normalize", "imagenet", jpg,
                  out="x3.npy", masks="m3.npy")
    assert x3.shape == (len(SIZES), 3, 224, 224) and x3.dtype == np.float32
    assert m3.dtype == np.uint8 and (m3 == m).all()


def test_stretch_and_no_resize(d):
    jpg, seg = voc(d, sizes=[(64, 48), (31, 70)])
    _, m = load(d, "--masks", seg, "--resize", "40x30", jpg)
    for k, p in enumerate(masks_of(seg, 2)):
        assert (m[k] == pillow_mask(p, 40, 30)).all(), k
    jpg, seg = voc(os.path.join(d, "same"), sizes=[(50, 40)] * 3)
    _, m = load(d, "--masks", seg, jpg)
    for k, p in enumerate(masks_of(seg, 3)):
        assert (m[k] == harness.pil(p)).all(), k


def test_contain_pads_masks_with_mask_pad(d):
    jpg, seg = voc(d)
    for pad in (None, 255):
        args = ["--mask-pad", str(pad)] if pad is not None else []
        x, m = load(d, "--masks", seg, "--resize", "224x224", "--fit", "contain", "--pad", "114",
                    *args, jpg)
        for k, p in enumerate(masks_of(seg, len(SIZES))):
            want = pillow_mask(p, 224, 224, "contain", pad or 0)
            assert (m[k] == want).all(), (pad, k, int((m[k] != want).sum()))
        # The images' margins are --pad's, whatever --mask-pad says.
        assert (x[1, :, 0] == 114).all()


def test_exif_transpose_turns_each_mask_by_its_own_orientation(d):
    sizes = [(60, 40), (60, 40), (45, 28), (45, 28)]
    orient = [6, 3, 8, 1]
    jpg, seg = voc(d, sizes=sizes, exif=orient)
    x, m = load(d, "--masks", seg, "--exif-transpose", "--resize", "32x32", "--fit", "cover", jpg)
    for k, p in enumerate(masks_of(seg, len(sizes))):
        want = pillow_mask(p, 32, 32, "cover", turn=True)
        assert (m[k] == want).all(), (k, orient[k])
    # Images equal a load without masks.
    ok(run("load", "-q", "-f", "-o", os.path.join(d, "plain.npy"), "--exif-transpose",
           "--resize", "32x32", "--fit", "cover", jpg))
    assert (np.load(os.path.join(d, "plain.npy")) == x).all()
    # Without --exif-transpose, both as stored.
    _, m = load(d, "--masks", seg, "--resize", "32x32", "--fit", "cover", jpg)
    for k, p in enumerate(masks_of(seg, len(sizes))):
        assert (m[k] == pillow_mask(p, 32, 32, "cover")).all(), k
    # A mask without the tag, its image tagged: the sizes differ once the
    # image is turned.
    palette_mask(np.random.default_rng(1), 60, 40).save(os.path.join(seg, "im0.png"))
    r = load(d, "--masks", seg, "--exif-transpose", "--resize", "32x32", jpg, code=1)
    names(r, os.path.join(jpg, "im0.jpg"), "its mask .*im0.png: 60x40, its image 40x60")


def aligned_tree(d, n=12):
    """Class folders of small PNG images, image i all of value 10 * i, with
    masks (in the same folders under masks/) all of index i."""
    root, mdir = os.path.join(d, "train"), os.path.join(d, "masks")
    for i in range(n):
        cls = "c%d" % (i % 3)
        harness.save_image(os.path.join(root, cls, "i%02d.png" % i),
                           np.full((6, 5, 3), 10 * i, np.uint8))
        im = Image.fromarray(np.full((6, 5), i, np.uint8), "P")
        im.putpalette([0] * 768)
        os.makedirs(os.path.join(mdir, cls), exist_ok=True)
        im.save(os.path.join(mdir, cls, "i%02d.png" % i))
    return root, mdir


def check_rows(x, y, m):
    """Each row's image, label and mask are one pair's."""
    for k in range(len(x)):
        i = int(m[k, 0, 0])
        assert (m[k] == i).all() and (x[k] == 10 * i).all(), k
        assert y[k] == i % 3, (k, i, y[k])


def test_shuffle_split_and_merged_shards_keep_rows_aligned(d):
    root, mdir = aligned_tree(d)
    y = os.path.join(d, "y.npy")
    args = ["--masks", mdir, "--labels", y, "--shuffle", "--seed", "3", root]
    x, m = load(d, *args)
    check_rows(x, np.load(y), m)
    assert sorted(m[:, 0, 0].tolist()) == list(range(12))
    # A split: each part's masks file, named as its images'.
    ok(run("load", "-q", "-f", "-o", os.path.join(d, "s.npy"), "--masks-out",
           os.path.join(d, "sm.npy"), "--split", "train=0.75,val=0.25", *args))
    got = []
    for part in ("train", "val"):
        xs, ys, ms = (np.load(os.path.join(d, "%s.%s.npy" % (n, part))) for n in ("s", "y", "sm"))
        check_rows(xs, ys, ms)
        got.append(ms)
    assert [len(g) for g in got] == [9, 3]
    assert (np.concatenate(got) == m).all()
    # Three shards, merged: the unsharded arrays.
    for k in range(3):
        ok(run("load", "-q", "-f", "-o", os.path.join(d, "x.%d.npy" % k), "--masks-out",
               os.path.join(d, "m.%d.npy" % k), "--shard", "%d/3" % k, "--masks", mdir,
               "--labels", os.path.join(d, "y.%d.npy" % k), "--shuffle", "--seed", "3", root))
    parts = lambda n: [os.path.join(d, "%s.%d.npy" % (n, k)) for k in range(3)]  # noqa: E731
    ok(run("merge", "-q", "-f", "-o", os.path.join(d, "xm.npy"), "--labels",
           os.path.join(d, "ym.npy"), *parts("x"), *parts("y")))
    ok(run("merge", "-q", "-f", "-o", os.path.join(d, "mm.npy"), *parts("m")))
    xm, ym, mm = (np.load(os.path.join(d, n)) for n in ("xm.npy", "ym.npy", "mm.npy"))
    assert (xm == x).all() and (mm == m).all() and (ym == np.load(y)).all()


def test_masks_found_by_relative_path_at_any_depth(d):
    root, mdir = aligned_tree(d, 6)
    # Another folder holds an image of the same stem: it is not the mask.
    Image.fromarray(np.full((6, 5), 99, np.uint8), "L").save(os.path.join(mdir, "i00.png"))
    x, m = load(d, "-r", "--masks", mdir, root)
    for k in range(len(x)):
        i = int(m[k, 0, 0])
        assert (m[k] == i).all() and (x[k] == 10 * i).all() and i != 99, k


def test_missing_or_two_masks(d):
    jpg, seg = voc(d, sizes=[(40, 30)] * 4)
    os.remove(os.path.join(seg, "im1.png"))
    harness.save_image(os.path.join(seg, "im2.bmp"), np.zeros((30, 40), np.uint8))
    before = harness.listing(d)
    r = load(d, "--masks", seg, "--resize", "20x20", jpg, code=1)
    names(r, os.path.join(jpg, "im1.jpg"), "no mask: no image file %s/im1\\.\\* in --masks" % seg)
    names(r, os.path.join(jpg, "im2.jpg"), "two masks of its name: %s and %s" % (
        os.path.join(seg, "im2.bmp"), os.path.join(seg, "im2.png")))
    names(r, seg, "2 of 4 images have no mask, or two")
    assert harness.listing(d) == before, "an output was written"
    # -k skips the pairs: both rows zero, exit 3.
    r = ok(run("load", "-f", "-k", "-o", os.path.join(d, "x.npy"), "--masks-out",
               os.path.join(d, "m.npy"), "--masks", seg, "--resize", "20x20", jpg), 3)
    names(r, os.path.join(jpg, "im1.jpg"), "no mask")
    names(r, os.path.join(jpg, "im2.jpg"), "two masks")
    names(r, os.path.join(d, "x.npy"), "2 of 4 rows skipped")
    x, m = np.load(os.path.join(d, "x.npy")), np.load(os.path.join(d, "m.npy"))
    for k in (1, 2):
        assert not x[k].any() and not m[k].any(), k
    for k in (0, 3):
        assert x[k].any() and (m[k] == pillow_mask(os.path.join(seg, "im%d.png" % k), 20,
                                                   20)).all(), k


def test_size_mismatch_names_both_files(d):
    jpg, seg = voc(d, sizes=[(40, 30)] * 3)
    palette_mask(np.random.default_rng(1), 41, 30).save(os.path.join(seg, "im1.png"))
    r = load(d, "--masks", seg, "--resize", "20x20", jpg, code=1)
    names(r, os.path.join(jpg, "im1.jpg"), "its mask %s: 41x30, its image 40x30" %
          os.path.join(seg, "im1.png"))
    assert not [n for n in os.listdir(d) if n.endswith(".npy")]
    x, m = load(d, "-k", "--masks", seg, "--resize", "20x20", jpg, code=3)
    assert not x[1].any() and not m[1].any() and x[0].any() and x[2].any()


def ragged_rows(flat, index):
    """The rows of a ragged array, by its (offset, H, W, C) index."""
    return [flat[o:o + h * w * c].reshape((h, w, c) if c > 1 else (h, w)) for o, h, w, c in index]


def test_ragged_masks_keep_their_images_sizes(d):
    """--ragged: the masks are ragged too, M.npy and M.index.npy, each at
    its image's size: torchvision's Resize(S, NEAREST) of Pillow's mask
    (turned first under --exif-transpose); shards merge with --index."""
    sizes = [(60, 40), (45, 28), (37, 29), (64, 48), (28, 45)]
    jpg, seg = voc(d, sizes=sizes, exif=[6, 0, 3, 0, 8])
    from torchvision import transforms as T
    nearest = T.Resize(24, interpolation=T.InterpolationMode.NEAREST)
    x, m = load(d, "--ragged", "--resize", "24", "--exif-transpose", "--masks", seg, jpg)
    xi, mi = (np.load(os.path.join(d, n)) for n in ("x.index.npy", "m.index.npy"))
    assert (mi[:, 1:3] == xi[:, 1:3]).all() and (mi[:, 3] == 1).all(), (xi, mi)
    for k, got in enumerate(ragged_rows(m, mi)):
        im = ImageOps.exif_transpose(Image.open(os.path.join(seg, "im%d.png" % k)))
        want = np.asarray(nearest(im))
        assert got.shape == want.shape and (got == want).all(), k
    # Without --resize: each mask as it is (turned).
    _, m = load(d, "--ragged", "--exif-transpose", "--masks", seg, jpg)
    for k, got in enumerate(ragged_rows(m, np.load(os.path.join(d, "m.index.npy")))):
        im = ImageOps.exif_transpose(Image.open(os.path.join(seg, "im%d.png" % k)))
        assert (got == np.asarray(im)).all(), k
    # Two shards, merged with --index: the unsharded masks and index.
    for k in range(2):
        ok(run("load", "-q", "-f", "-o", os.path.join(d, "x.%d.npy" % k), "--masks-out",
               os.path.join(d, "m.%d.npy" % k), "--shard", "%d/2" % k, "--ragged", "--resize",
               "24", "--exif-transpose", "--masks", seg, jpg))
    ok(run("merge", "-q", "-f", "-o", os.path.join(d, "mm.npy"), "--index",
           os.path.join(d, "mm.index.npy"), os.path.join(d, "m.0.npy"), os.path.join(d, "m.1.npy")))
    _, m = load(d, "--ragged", "--resize", "24", "--exif-transpose", "--masks", seg, jpg)
    assert (np.load(os.path.join(d, "mm.npy")) == m).all()
    assert (np.load(os.path.join(d, "mm.index.npy")) == np.load(os.path.join(d, "m.index.npy"))).all()
    # -k: a missing mask's row is 0x0 in both indexes.
    os.remove(os.path.join(seg, "im2.png"))
    x, m = load(d, "-k", "--ragged", "--resize", "24", "--masks", seg, jpg, code=3)
    xi, mi = (np.load(os.path.join(d, n)) for n in ("x.index.npy", "m.index.npy"))
    assert (xi[2, 1:3] == 0).all() and (mi[2, 1:3] == 0).all()
    assert not m[mi[2, 0]:mi[3, 0]].any() and (mi[[0, 1, 3, 4], 1:3] == xi[[0, 1, 3, 4], 1:3]).all()


def test_hostile_masks(d):
    """A mask that is a link to a file that is no image is refused before a
    worker reads it (confined or not); a FIFO is no mask at all; nothing
    hangs, nothing is written."""
    jpg, seg = voc(d, sizes=[(40, 30)] * 2)
    secret = os.path.join(d, "secret.txt")
    with open(secret, "w") as f:
        f.write("root:x:0:0\n")
    os.remove(os.path.join(seg, "im1.png"))
    os.symlink(secret, os.path.join(seg, "im1.png"))
    for sandbox in ("auto", "off"):
        r = load(d, "--sandbox", sandbox, "--masks", seg, jpg, code=1)
        names(r, os.path.join(jpg, "im1.jpg"), "its mask %s: not a supported image" %
              os.path.join(seg, "im1.png"))
        assert "root:x" not in r.err
    os.remove(os.path.join(seg, "im1.png"))
    os.mkfifo(os.path.join(seg, "im1.png"))
    r = load(d, "--masks", seg, jpg, code=1)
    names(r, os.path.join(jpg, "im1.jpg"), "no mask")
    assert not [n for n in os.listdir(d) if n.endswith(".npy")]


def test_mask_modes(d):
    """Gray masks are their values; a 1-bit PNG gives 0 and 1 (Pillow's
    mode 1); colour, alpha, 16-bit and GIF palettes are refused by name."""
    img = os.path.join(d, "img")
    mdir = os.path.join(d, "masks")
    rng = np.random.default_rng(2)
    v = rng.choice(VALUES, size=(9, 11))
    harness.save_image(os.path.join(img, "a.png"), np.zeros((9, 11, 3), np.uint8))
    harness.save_image(os.path.join(mdir, "a.png"), v, "L")
    _, m = load(d, "--masks", mdir, img)
    assert (m[0] == v).all()
    harness.save_image(os.path.join(mdir, "a.png"), v > 10, "1")
    _, m = load(d, "--masks", mdir, img)
    assert (m[0] == np.asarray(Image.open(os.path.join(mdir, "a.png"))).astype(np.uint8)).all()
    assert set(np.unique(m).tolist()) == {0, 1}
    # A gray JPEG is its gray values, as Pillow's mode L.
    os.remove(os.path.join(mdir, "a.png"))
    harness.save_image(os.path.join(mdir, "a.jpg"), v, "L", quality=95)
    _, m = load(d, "--masks", mdir, img)
    assert (m[0] == harness.pil(os.path.join(mdir, "a.jpg"))).all()
    os.remove(os.path.join(mdir, "a.jpg"))
    for name, arr, mode, why in (
            ("a.png", np.zeros((9, 11, 3), np.uint8), "RGB", "3 channels \\(colour"),
            ("a.png", np.zeros((9, 11, 2), np.uint8), "LA", "2 channels \\(gray and alpha"),
            ("a.png", np.zeros((9, 11), np.uint16), "I;16", "16-bit"),
            ("a.gif", v, "P", "GIF palette mask")):
        path = harness.save_image(os.path.join(mdir, name), arr, mode)
        r = load(d, "--masks", mdir, img, code=1)
        names(r, os.path.join(img, "a.png"), "its mask %s: .*%s" % (path, why))
        os.remove(path)


def test_masks_from_archives_equal_masks_from_a_directory(d):
    """--masks ARCHIVE: its members are the masks, paired by the same rule;
    the arrays equal those from the folder bit for bit, confined or not,
    the images from a folder or from an archive, a .tar.gz past the memory
    budget (spilled to disk) too."""
    jpg, seg = voc(d)
    geo = ["--resize", "224x224", "--fit", "cover"]
    x, m = load(d, "--masks", seg, *geo, jpg)
    imgs = pack_archive(jpg, os.path.join(d, "imgs.tar"))
    for ext in ("tar", "zip", "tar.gz"):
        arch = pack_archive(seg, os.path.join(d, "masks." + ext))
        for sandbox in ("auto", "off"):
            for src in (jpg, imgs):
                x2, m2 = load(d, "--sandbox", sandbox, "--masks", arch, *geo, src,
                              out="x2.npy", masks="m2.npy")
                assert (x2 == x).all() and (m2 == m).all(), (ext, sandbox, src)
    # A compressed tar of masks past the archive memory budget: on disk.
    env = dict(os.environ, PARIMG_ARCHIVE_MEMORY="4K")
    xb, mb = os.path.join(d, "xb.npy"), os.path.join(d, "mb.npy")
    ok(run("load", "-q", "-f", "-o", xb, "--masks-out", mb, "--masks",
           os.path.join(d, "masks.tar.gz"), *geo, jpg, env=env))
    assert (np.load(xb) == x).all() and (np.load(mb) == m).all()
    # --ragged: as from the folder.
    _, mr = load(d, "--ragged", "--resize", "24", "--masks", seg, jpg)
    ir = np.load(os.path.join(d, "m.index.npy"))
    _, mr2 = load(d, "--ragged", "--resize", "24", "--masks", os.path.join(d, "masks.zip"),
                  imgs, out="x2.npy", masks="m2.npy")
    assert (mr2 == mr).all() and (np.load(os.path.join(d, "m2.index.npy")) == ir).all()


def test_masks_archive_keeps_rows_aligned_by_relative_path(d):
    """Masks in class folders of a tar: shuffle and split keep each row's
    image, label and mask together, as from the folder."""
    root, mdir = aligned_tree(d)
    arch = pack_archive(mdir, os.path.join(d, "masks.tar"))
    y = os.path.join(d, "y.npy")
    x, m = load(d, "--masks", arch, "--labels", y, "--shuffle", "--seed", "3", root)
    check_rows(x, np.load(y), m)
    assert sorted(m[:, 0, 0].tolist()) == list(range(12))
    ok(run("load", "-q", "-f", "-o", os.path.join(d, "s.npy"), "--masks-out",
           os.path.join(d, "sm.npy"), "--split", "train=0.75,val=0.25", "--masks", arch,
           "--labels", y, "--shuffle", "--seed", "3", root))
    got = []
    for part in ("train", "val"):
        xs, ys, ms = (np.load(os.path.join(d, "%s.%s.npy" % (n, part))) for n in ("s", "y", "sm"))
        check_rows(xs, ys, ms)
        got.append(ms)
    assert (np.concatenate(got) == m).all()


def test_masks_archive_missing_mismatched_and_hostile(d):
    """A mask missing from the archive is named ARCHIVE:MEMBER.* before
    anything is written; a size mismatch names the member; -k skips; a
    truncated or corrupt masks archive is refused by its name with nothing
    written."""
    jpg, seg = voc(d, sizes=[(40, 30)] * 3)
    os.remove(os.path.join(seg, "im1.png"))
    palette_mask(np.random.default_rng(1), 41, 30).save(os.path.join(seg, "im2.png"))
    arch = pack_archive(seg, os.path.join(d, "masks.tar"))
    before = harness.listing(d)
    r = load(d, "--masks", arch, "--resize", "20x20", jpg, code=1)
    names(r, os.path.join(jpg, "im1.jpg"), "no mask: no image member %s:im1\\.\\* in --masks" %
          arch)
    names(r, arch, "1 of 3 images have no mask, or two")
    assert harness.listing(d) == before, "an output was written"
    os.remove(os.path.join(seg, "im2.png"))
    palette_mask(np.random.default_rng(1), 40, 30).save(os.path.join(seg, "im1.png"))
    palette_mask(np.random.default_rng(1), 41, 30).save(os.path.join(seg, "im2.png"))
    arch = pack_archive(seg, os.path.join(d, "masks2.zip"))
    before = harness.listing(d)
    for sandbox in ("auto", "off"):
        r = load(d, "--sandbox", sandbox, "--masks", arch, "--resize", "20x20", jpg, code=1)
        names(r, os.path.join(jpg, "im2.jpg"), "its mask %s:im2.png: 41x30, its image 40x30" %
              arch)
    assert not [n for n in os.listdir(d) if n.endswith(".npy")]
    x, m = load(d, "-k", "--masks", arch, "--resize", "20x20", jpg, code=3)
    assert not x[2].any() and not m[2].any() and x[0].any() and x[1].any()
    for k in (0, 1):
        assert (m[k] == pillow_mask(os.path.join(seg, "im%d.png" % k), 20, 20)).all(), k
    for n in os.listdir(d):
        if n.endswith(".npy"):
            os.remove(os.path.join(d, n))
    # Hostile archives: cut short, corrupt, a member escaping with "..".
    tar = pack_archive(seg, os.path.join(d, "masks3.tar"))
    tgz = pack_archive(seg, os.path.join(d, "masks3.tar.gz"))
    with open(tar, "rb") as f:
        tb = f.read()
    with open(tgz, "rb") as f:
        gb = f.read()
    bad = {"cut.tar": tb[:1024 + 300], "cut.tar.gz": gb[:len(gb) // 2],
           "junk.tar.gz": gb[:10] + bytes(range(256)) * 8}
    dot = os.path.join(d, "dot.tar")
    with tarfile.open(dot, "w") as t:
        t.add(os.path.join(seg, "im0.png"), "../im0.png")
    for name, data in bad.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    before = harness.listing(d)
    for p, who in [(os.path.join(d, n), os.path.join(d, n)) for n in bad] + [
            (dot, dot + ":../im0.png")]:
        r = load(d, "--masks", p, jpg, code=1)
        names(r, who)
        assert harness.listing(d) == before, (p, "an output was written")
    # The INPUT archive itself is not its own masks.
    imgs = pack_archive(jpg, os.path.join(d, "imgs.tar"))
    r = load(d, "--masks", imgs, imgs, code=1)
    names(r, imgs, "--masks names an INPUT archive")


def test_usage_errors(d):
    jpg, seg = voc(d, sizes=[(20, 10)])
    x = os.path.join(d, "x.npy")
    for args, why in ((["--masks", seg], "--masks needs --masks-out"),
                      (["--masks-out", "m.npy"], "--masks-out needs --masks"),
                      (["--masks", seg, "--masks-out", "m.npy", "--mask-pad", "9"],
                       "--mask-pad needs --fit contain"),
                      (["--masks", seg, "--masks-out", "m.npy", "--resize", "9x9", "--fit",
                        "contain", "--mask-pad", "256"], "invalid --mask-pad"),
                      (["--masks", seg, "--masks-out", x], "name the same file")):
        r = ok(run("load", "-o", x, *args, jpg), 2)
        assert why in r.err, (args, r)
    r = ok(run("load", "-o", x, "--masks", os.path.join(seg, "im0.png"), "--masks-out",
               os.path.join(d, "m.npy"), jpg), 1)
    names(r, os.path.join(seg, "im0.png"), "--masks takes a directory")
    # An existing masks file is not replaced without -f.
    with open(os.path.join(d, "m.npy"), "w") as f:
        f.write("keep")
    r = ok(run("load", "-o", x, "--masks", seg, "--masks-out", os.path.join(d, "m.npy"), jpg), 1)
    names(r, os.path.join(d, "m.npy"), "file exists")


if __name__ == "__main__":
    harness.main(globals())
