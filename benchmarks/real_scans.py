"""Real low-resolution scans: 13 people's handwriting counted in 8x8 blocks
(the UCI optdigits test set, as scikit-learn ships it), upscaled to blurry
64x64 images, with their labels.

    python benchmarks/real_scans.py /tmp/real_scans [--upscaling nearest]
    python benchmarks/user_images_accuracy.py /tmp/real_scans

Each digit was normalised to fill its 32x32 frame (stretched, not kept in
proportion), then each 4x4 block's ink counted (0-16). Each of the 1,797 is
written once, in one of four kinds that take turns: bilinear or bicubic
upscaling, dark ink on white or white on black (`--upscaling` chooses others:
nearest repeats each block's pixel, as a pixelated enlargement does).
"""

import argparse
import csv
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

SIDE = 64
UPSCALING = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC,
             "nearest": Image.Resampling.NEAREST}
INK = ("dark", "light")


def as_scan(blocks: np.ndarray, upscaling: str, ink: str) -> Image.Image:
    """8x8 ink counts (0-16) as a SIDE x SIDE grayscale image."""
    level = np.rint(blocks * 255 / 16).astype(np.uint8)
    return Image.fromarray(255 - level if ink == "dark" else level).resize((SIDE, SIDE), UPSCALING[upscaling])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--upscaling", nargs="+", choices=UPSCALING, default=["bilinear", "bicubic"])
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    digits = load_digits()
    kinds = [(upscaling, ink) for ink in INK for upscaling in args.upscaling]
    with open(args.out / "labels.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "digit", "kind", "index"])
        for index, (blocks, digit) in enumerate(zip(digits.images, digits.target, strict=True)):
            upscaling, ink = kinds[index % len(kinds)]
            name = f"scan_{index:04d}_{digit}.png"
            as_scan(blocks, upscaling, ink).save(args.out / name)
            writer.writerow([name, digit, f"{upscaling}_{ink}_ink", index])
    print(f"{len(digits.target)} scans in {args.out}")


if __name__ == "__main__":
    main()
