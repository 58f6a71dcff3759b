#!/usr/bin/python3
"""resize_pillow.py - the Pillow side of bench.sh's resize section.

  resize_pillow.py photo SRC.jpg OUT.png OUT.raw     make the input: the
      photograph's centre, 4:3, reduced to 500x375 (LANCZOS); PNG and raw RGB
  resize_pillow.py time IN.png TW TH FILTER[,FILTER...] [FIT [REPS]]
      per filter a line "FILTER median min max cpu" in milliseconds for one
      Image.resize((TW, TH), filter) of the decoded image (FIT cover: resize
      so as to cover TW x TH, then crop, as torchvision's Resize +
      CenterCrop), over REPS rounds of enough calls to last about 50 ms.
"""
import sys
import time

from PIL import Image

FILTERS = {"nearest": Image.NEAREST, "box": Image.BOX, "bilinear": Image.BILINEAR,
           "hamming": Image.HAMMING, "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS}


def photo(src, png, raw):
    with Image.open(src) as im:
        im = im.convert("RGB")
    s = min(im.width / 500, im.height / 375)
    box = ((im.width - 500 * s) / 2, (im.height - 375 * s) / 2,
           (im.width + 500 * s) / 2, (im.height + 375 * s) / 2)
    im = im.resize((500, 375), Image.LANCZOS, box=box)
    im.save(png)
    with open(raw, "wb") as f:
        f.write(im.tobytes())


def job(im, tw, th, f, fit):
    if fit != "cover":
        return lambda: im.resize((tw, th), f)
    w, h = im.size
    nw, nh = (tw, tw * h // w) if tw * h >= th * w else (th * w // h, th)
    x, y = int(round((nw - tw) / 2.0)), int(round((nh - th) / 2.0))
    return lambda: im.resize((nw, nh), f).crop((x, y, x + tw, y + th))


def timing(path, tw, th, names, fit="stretch", reps=15):
    with Image.open(path) as im:
        im.load()
    for name in names.split(","):
        run = job(im, tw, th, FILTERS[name], fit)
        n = 1
        while True:
            t0 = time.perf_counter()
            for _ in range(n):
                run()
            if time.perf_counter() - t0 > 0.05:
                break
            n *= 2
        walls, cpus = [], []
        for _ in range(reps):
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(n):
                run()
            walls.append((time.perf_counter() - t0) / n * 1e3)
            cpus.append((time.process_time() - c0) / n * 1e3)
        walls.sort()
        cpus.sort()
        print("%s %.4f %.4f %.4f %.4f" % (name, walls[len(walls) // 2], walls[0], walls[-1],
                                          cpus[len(cpus) // 2]))


if __name__ == "__main__":
    if sys.argv[1] == "photo":
        photo(*sys.argv[2:5])
    else:
        a = sys.argv[2:]
        timing(a[0], int(a[1]), int(a[2]), a[3], *(a[4:5]), *([int(a[5])] if len(a) > 5 else []))
