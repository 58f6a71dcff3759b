# bench_masks.sh - section u (issue 26, segmentation masks): u1, "load
# --masks" of the photo corpus (photo_corpus.py's same/, 1000 500x375
# JPEGs) each paired with a 500x375 palette PNG mask (classes 0-20 and 255
# in blobs, as VOC's), -j2 --resize 224x224 --fit cover, against the same
# load without masks; u2, against the PyTorch recipe users write (a
# Dataset reading image and mask with Pillow, torchvision's Resize +
# CenterCrop, NEAREST for the mask, DataLoader(num_workers=2):
# scripts/bench/recipes/recipe_masks.py), the two pairs of arrays asserted
# identical; u3, the masks from a tar of them (--masks M.tar: the
# archive's members, read as image members are) against the folder.
# Sourced by bench.sh, or alone:
#   sh scripts/bench/bench.sh masks                      (MASKS_RUNS=N, default 5)
# shellcheck shell=sh disable=SC2154

MRUNS=${MASKS_RUNS:-5}
PC=${PHOTO_CORPUS:-$S/photos}
if [ ! -d "$PC/same" ]; then
	$PY scripts/bench/photo_corpus.py -j2 --only same "$PC" | sed 's/^/   corpus: /'
fi
echo
if [ ! -d "$PC/same" ]; then
	skip u "no photo corpus (mate-backgrounds not installed)"
else
	D=$PC/same M=$S/masks
	# One mask per photo, of its size, made once (not timed).
	$PY - "$D" "$M" <<'PY'
import os, sys
import numpy as np
from PIL import Image
src, dst = sys.argv[1:]
os.makedirs(dst, exist_ok=True)
rng = np.random.default_rng(26)
values = np.array(list(range(21)) + [255], np.uint8)
palette = [int(v) for v in rng.integers(0, 256, 768)]
for name in sorted(os.listdir(src)):
    with Image.open(os.path.join(src, name)) as im:
        w, h = im.size
    small = rng.choice(values, size=(max(1, h // 16), max(1, w // 16)))
    m = Image.fromarray(small, "L").resize((w, h), Image.NEAREST)
    m = Image.fromarray(np.asarray(m), "P")
    m.putpalette(palette)
    m.save(os.path.join(dst, os.path.splitext(name)[0] + ".png"))
PY
	nc=$(ls "$D" | wc -l)
	echo "u1. $nc 500x375 JPEGs, -j2 --resize 224x224 --fit cover: with palette PNG masks vs without;"
	echo "u2. vs a Dataset of Pillow image + mask, DataLoader(num_workers=2); load average $(loadavg)"
	L="$PARIMG load -q -c 3 -j2 --order name --resize 224x224 --fit cover -o $S/x.npy"
	tar -C "$M" -cf "$S/masks.tar" .
	out=$(bt "$MRUNS" "rm -f $S/x.npy" "$L $D" \
		"rm -f $S/x.npy $S/m.npy" "$L --masks $M --masks-out $S/m.npy $D" \
		"rm -f $S/tx.npy $S/tm.npy" \
		"$PY scripts/bench/recipes/recipe_masks.py -j 2 --size 224 -o $S/tx.npy --masks-out $S/tm.npy $D $M" \
		"rm -f $S/x.npy $S/m.npy" "$L --masks $S/masks.tar --masks-out $S/m.npy $D")
	pl=$(line "$out" 1) mk=$(line "$out" 2) py=$(line "$out" 3) mt=$(line "$out" 4)
	row "load (no masks)" "$(wall "$pl")" "$(cpu "$pl")"
	row "load --masks" "$(wall "$mk")" "$(cpu "$mk")"
	row "load --masks M.tar" "$(wall "$mt")" "$(cpu "$mt")"
	row "Dataset + DataLoader(num_workers=2)" "$(wall "$py")" "$(cpu "$py")"
	info "--masks / no masks: wall, CPU" "$(ratio "$(first "$mk")" "$(first "$pl")")x, $(ratio "$(cpu "$mk")" "$(cpu "$pl")")x"
	info "u3. --masks M.tar / --masks DIR: wall, CPU" "$(ratio "$(first "$mt")" "$(first "$mk")")x, $(ratio "$(cpu "$mt")" "$(cpu "$mk")")x"
	# The same arrays both ways, or this compares different work.
	rm -f "$S/x.npy" "$S/m.npy" "$S/tx.npy" "$S/tm.npy"
	$L --masks "$M" --masks-out "$S/m.npy" "$D"
	$PY scripts/bench/recipes/recipe_masks.py -j 2 --size 224 -o "$S/tx.npy" --masks-out "$S/tm.npy" \
		"$D" "$M" >/dev/null
	same=$($PY -c 'import numpy as np, sys
a, b, c, d = (np.load(p, mmap_mode="r") for p in sys.argv[1:])
print("identical" if a.shape == c.shape and np.array_equal(a, c) and b.shape == d.shape
      and np.array_equal(b, d) else "DIFFER")' "$S/x.npy" "$S/m.npy" "$S/tx.npy" "$S/tm.npy")
	info "images and masks vs the recipe's" "$same"
	r=$(ratio "$(first "$mk")" "$(first "$pl")")
	goal u1 "--masks <= 1.25x load without (wall)" "${r}x" "$(le "$r" 1.25)"
	r=$(ratio "$(first "$py")" "$(first "$mk")")
	ok=$(ge "$r" 5)
	[ "$same" = identical ] || ok=0
	goal u2 "--masks >= 5x the DataLoader recipe, identical" "${r}x" "$ok"
	rm -rf "$S/x.npy" "$S/m.npy" "$S/tx.npy" "$S/tm.npy" "$S/masks.tar" "$M"
fi
