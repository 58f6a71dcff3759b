#!/usr/bin/python3
"""recipe_torchvision.py - the PyTorch recipe "parimg load --layout nchw
--normalize" replaces, for the benchmark: sorted(glob) of DIR's files, a
Dataset opening each with Pillow and converting it to RGB, torchvision's
Compose([Resize(S), CenterCrop(S), ToTensor(), Normalize(MEAN, STD)]), a
DataLoader(num_workers=J, batch_size=B), and every batch copied into one
float32 (N, 3, S, S) .npy (numpy.lib.format.open_memmap), as parimg writes.

    recipe_torchvision.py [-j J] [--size S] [--batch B] [--stretch] [--uint8] -o OUT.npy DIR

--uint8 ends with PILToTensor() instead of ToTensor() + Normalize: the
batches stacked into one uint8 (N, 3, S, S) array, what "parimg load
--layout nchw" writes. --stretch resizes to (S, S) ignoring the aspect ratio (parimg's default
--fit), instead of Resize(S) + CenterCrop(S) (--fit cover). MEAN and STD are
the ImageNet figures (--normalize imagenet).

Prints "seconds S": from before the glob to the array flushed to OUT
(imports excluded), as recipe_pillow.py does.
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

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class Files(Dataset):
    def __init__(self, paths, tf):
        self.paths, self.tf = paths, tf

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        with Image.open(self.paths[i]) as im:
            return self.tf(im.convert("RGB"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--stretch", action="store_true")
    ap.add_argument("--uint8", action="store_true")
    ap.add_argument("-o", required=True)
    ap.add_argument("dir")
    args = ap.parse_args()
    s = args.size
    geometry = [T.Resize((s, s))] if args.stretch else [T.Resize(s), T.CenterCrop(s)]
    tail = [T.PILToTensor()] if args.uint8 else [T.ToTensor(), T.Normalize(MEAN, STD)]
    tf = T.Compose(geometry + tail)

    t0 = time.perf_counter()
    paths = sorted(p for p in glob.glob(os.path.join(args.dir, "*")) if os.path.isfile(p))
    out = np.lib.format.open_memmap(args.o, mode="w+", dtype=np.uint8 if args.uint8 else np.float32,
                                    shape=(len(paths), 3, s, s))
    i = 0
    loader = DataLoader(Files(paths, tf), batch_size=args.batch, num_workers=args.j)
    with torch.no_grad():
        for batch in loader:
            out[i:i + len(batch)] = batch.numpy()
            i += len(batch)
    out.flush()
    del out
    print(f"seconds {time.perf_counter() - t0:.6f}")


if __name__ == "__main__":
    main()
