#!/usr/bin/python3
"""recipe_masks.py - the PyTorch recipe "parimg load --masks" replaces, for
the benchmark: a segmentation Dataset over sorted(glob) of IMAGES' files,
each opened with Pillow and converted to RGB, its mask (MASKS/STEM.png)
opened as it is (mode P: its indices), both through torchvision's
Resize(S) + CenterCrop(S) (the mask with InterpolationMode.NEAREST), a
DataLoader(num_workers=J, batch_size=B), and the batches copied into two
uint8 .npy files (numpy.lib.format.open_memmap): (N, S, S, 3) images and
(N, S, S) masks, what "parimg load --resize SxS --fit cover --masks MASKS
--masks-out" writes.

    recipe_masks.py [-j J] [--size S] [--batch B] -o OUT.npy --masks-out M.npy IMAGES MASKS

Prints "seconds S": from before the glob to both arrays flushed (imports
excluded), as the other recipes do.
"""
import argparse
import glob
import os
import time

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T


class Segmentation(Dataset):
    def __init__(self, paths, masks, size):
        self.paths, self.masks = paths, masks
        self.image_tf = T.Compose([T.Resize(size), T.CenterCrop(size)])
        self.mask_tf = T.Compose([T.Resize(size, interpolation=T.InterpolationMode.NEAREST),
                                  T.CenterCrop(size)])

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        stem = os.path.splitext(os.path.basename(self.paths[i]))[0]
        with Image.open(self.paths[i]) as im, \
                Image.open(os.path.join(self.masks, stem + ".png")) as m:
            x = np.asarray(self.image_tf(im.convert("RGB")))
            y = np.asarray(self.mask_tf(m))
        return torch.from_numpy(x.copy()), torch.from_numpy(y.copy())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("-o", required=True)
    ap.add_argument("--masks-out", required=True)
    ap.add_argument("images")
    ap.add_argument("masks")
    args = ap.parse_args()
    s = args.size

    t0 = time.perf_counter()
    paths = sorted(p for p in glob.glob(os.path.join(args.images, "*")) if os.path.isfile(p))
    out = np.lib.format.open_memmap(args.o, mode="w+", dtype=np.uint8, shape=(len(paths), s, s, 3))
    mout = np.lib.format.open_memmap(args.masks_out, mode="w+", dtype=np.uint8,
                                     shape=(len(paths), s, s))
    i = 0
    loader = DataLoader(Segmentation(paths, args.masks, s), batch_size=args.batch,
                        num_workers=args.j)
    with torch.no_grad():
        for x, y in loader:
            out[i:i + len(x)] = x.numpy()
            mout[i:i + len(y)] = y.numpy()
            i += len(x)
    out.flush()
    mout.flush()
    del out, mout
    print(f"seconds {time.perf_counter() - t0:.6f}")


if __name__ == "__main__":
    main()
