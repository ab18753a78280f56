"""The two ways people usually turn an image into MNIST input, to measure the predictor against.

- `plain_recipe`: the common 20-line MNIST recipe: invert if the background
  is light, threshold, crop to the ink, fit in a 20x20 box, put the centre of
  mass at the centre of 28x28.
- `naive`: resize the whole image to 28x28 and invert it (what the seed
  script and most tutorials do).

Both return float32 (28, 28) in [0, 1], white ink on black, as the model takes.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps


def grayscale(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("L"), dtype=np.float32) / 255


def naive(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        small = image.convert("L").resize((28, 28))
    return 1 - np.asarray(small, dtype=np.float32) / 255


def plain_recipe(path: Path) -> np.ndarray:
    gray = grayscale(path)
    if np.median(gray) > 0.5:
        gray = 1 - gray
    gray = np.where(gray > (gray.min() + gray.max()) / 2, gray, 0)
    rows, cols = np.nonzero(gray)
    if len(rows) == 0:
        return np.zeros((28, 28), np.float32)
    crop = gray[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    scale = 20 / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    digit = np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.LANCZOS)).clip(0, 1)
    canvas = np.zeros((28, 28), np.float32)
    top, left = (28 - digit.shape[0]) // 2, (28 - digit.shape[1]) // 2
    canvas[top:top + digit.shape[0], left:left + digit.shape[1]] = digit
    mass = canvas.sum()
    row_centre = (canvas.sum(axis=1) * np.arange(28)).sum() / mass
    col_centre = (canvas.sum(axis=0) * np.arange(28)).sum() / mass
    return np.roll(canvas, (round(14 - row_centre), round(14 - col_centre)), axis=(0, 1))


BASELINES = {"plain": plain_recipe, "naive": naive}
