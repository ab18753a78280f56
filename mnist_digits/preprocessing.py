"""Turn a user's image into the 28x28 digit that MNIST would have made of it.

MNIST digits are white ink on black, size-normalised to fit a 20x20 box
keeping their aspect ratio, and placed in 28x28 with their centre of mass at
the centre. Users bring phone photos, paint-program drawings and scans, so
before imitating that we undo what the camera and the paper did: orientation,
transparency, ink polarity, uneven light, paper tint and noise.
"""

import functools
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from mnist_digits.model import IMAGE_SIZE

DIGIT_BOX = 20
# The digit is found on a copy at most COARSE_SIDE pixels wide and tall, then
# read again from the original at a size where it is about FINE_DIGIT_SIDE.
COARSE_SIDE = 128
FINE_DIGIT_SIDE = 64
# Strokes are told from shadows by width: narrower than this fraction of the
# image (while the digit's size is unknown), then of the digit's height.
COARSE_STROKE_LIMIT = 1 / 3
FINE_STROKE_LIMIT = 0.6
# Ink that differs from the paper by less than this is taken for noise.
MIN_INK_CONTRAST = 0.12
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic", ".heif",
                  ".avif", ".ppm", ".pgm", ".pbm", ".pnm", ".ico", ".jfif"}


class ImageError(Exception):
    """The image could not be read or holds no digit; the message says why."""


@functools.cache
def enable_heif() -> None:
    """Let Pillow read HEIC/HEIF, the format of iPhone photos (a plugin: loaded when needed)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()


def open_image(path: Path) -> Image.Image:
    try:
        return Image.open(path)
    except UnidentifiedImageError:
        enable_heif()
        return Image.open(path)


def load_image(path: Path) -> Image.Image:
    """Open an image as Pillow decodes it: first frame, EXIF orientation applied."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = open_image(path)
            if image.format == "JPEG":
                # Decode big photos at 1/2, 1/4 or 1/8 scale, keeping at least
                # twice the coarse size: several times faster, the same digit.
                image.draft(image.mode, (2 * COARSE_SIDE, 2 * COARSE_SIDE))
            image = ImageOps.exif_transpose(image)
            image.load()
    except FileNotFoundError:
        raise ImageError("no such file") from None
    except IsADirectoryError:
        raise ImageError("is a directory") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("image is too large (possible decompression bomb)") from None
    except UnidentifiedImageError:
        raise ImageError("not an image file Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"cannot decode image ({error})") from None
    if min(image.size) < 1:
        raise ImageError("image is empty")
    return image


def to_grayscale(image: Image.Image) -> Image.Image:
    """Luminance as an "L" (0-255) or "F" (0-1) image, transparency flattened.

    A drawing exported with a transparent background is ink on nothing: it is
    put on a background that contrasts with its ink, never on black by default.
    """
    if image.mode in ("I;16", "I;16L", "I;16B", "I", "F"):
        pixels = np.asarray(image, dtype=np.float32)
        peak = 65535.0 if pixels.max() > 255 else 255.0
        if image.mode == "F" and pixels.max() <= 1:
            peak = 1.0
        return Image.fromarray(np.clip(pixels / peak, 0, 1))
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if not has_alpha:
        return image.convert("L")
    rgba = image.convert("RGBA")
    alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255
    luminance = np.asarray(rgba.convert("L"), dtype=np.float32) / 255
    opaque = alpha > 0.5
    if opaque.all() or not opaque.any():
        return Image.fromarray(luminance)
    background = 1.0 if np.median(luminance[opaque]) < 0.5 else 0.0
    return Image.fromarray(alpha * luminance + (1 - alpha) * background)


def pixels(gray: Image.Image, size: tuple[int, int] | None = None,
           box: tuple[float, float, float, float] | None = None) -> np.ndarray:
    """A region of a grayscale image, box-filtered to `size`, as floats in [0, 1]."""
    if size is not None and (size != gray.size or box is not None):
        gray = gray.resize(size, Image.Resampling.BOX, box=box)
    values = np.asarray(gray, dtype=np.float32)
    return values / 255 if gray.mode == "L" else values


def paper_level(gray: np.ndarray, dark_ink: bool, size: int) -> np.ndarray:
    """The paper's brightness at each pixel: the image without its strokes.

    A grey-scale closing (opening, for light ink) with a `size` square removes
    every stroke narrower than `size` and keeps what is wider: shadows, the
    table around a sheet, gradients and tint, sharp edges included.
    """
    morphology = ndimage.grey_closing if dark_ink else ndimage.grey_opening
    return morphology(gray, size=(size, size))


def quantiles(values: np.ndarray, fractions: list[float]) -> list[float]:
    """Values at these fractions of the sorted values: np.percentile without its overhead."""
    flat = values.ravel()
    ranks = [min(len(flat) - 1, int(fraction * len(flat))) for fraction in fractions]
    ordered = np.partition(flat, ranks)
    return [float(ordered[rank]) for rank in ranks]


def ink_is_dark(gray: np.ndarray) -> bool:
    """Paper covers most of an image, so the median is paper; the ink lies
    on whichever side of it the extreme pixels reach further."""
    low, median, high = quantiles(gray, [0.005, 0.5, 0.995])
    return median - low >= high - median


def ink_strength(gray: np.ndarray, dark_ink: bool, stroke_limit: int) -> np.ndarray:
    """How strongly each pixel differs from the paper, in [0, 1], counting
    only strokes narrower than `stroke_limit` pixels."""
    paper = paper_level(gray, dark_ink, stroke_limit)
    if dark_ink:
        # Light and shadow multiply: relative darkness is the ink's own.
        return np.clip(1 - gray / np.maximum(paper, 1e-3), 0, 1)
    return np.clip(gray - paper, 0, 1)


def otsu_threshold(values: np.ndarray) -> float:
    """The threshold that best separates two groups of values in [0, 1]."""
    bins = 128
    weights = np.bincount(np.minimum(values.ravel() * bins, bins - 1).astype(np.intp), minlength=bins)
    edges = np.linspace(0, 1, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    below, total = np.cumsum(weights), weights.sum()
    sum_below, sum_total = np.cumsum(weights * centres), (weights * centres).sum()
    above = total - below
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (sum_below * total - sum_total * below) ** 2 / (below * above)
    return float(edges[1:][np.nanargmax(between[:-1])])


def border_labels(labels: np.ndarray) -> np.ndarray:
    """The labels that occur on the image's edge."""
    return np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))


def digit_mask(ink: np.ndarray) -> np.ndarray:
    """The pixels of the digit: the ink, without specks and page edges."""
    labels, count = ndimage.label(ink, structure=np.ones((3, 3)))
    if count == 0:
        return ink
    areas = np.bincount(labels.ravel())[1:]
    touches_border = np.isin(np.arange(1, count + 1), border_labels(labels))
    inner_areas = np.where(touches_border, 0, areas)
    # Shadows, page edges and the table reach the border; a digit rarely does,
    # unless the image is cropped tightly around it and nothing else is there.
    candidates = inner_areas if inner_areas.max() >= 0.02 * areas.max() else areas
    keep = candidates >= 0.1 * candidates.max()
    return keep[labels - 1] & (labels > 0)


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """The mask with every enclosed hole filled (one labelling, not scipy's iterations)."""
    labels, _ = ndimage.label(~mask)
    return mask | ~np.isin(labels, border_labels(labels))


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the True pixels, right and bottom exclusive."""
    rows, cols = np.nonzero(mask)
    return cols.min(), rows.min(), cols.max() + 1, rows.max() + 1


def fit_in_box(digit: np.ndarray) -> np.ndarray:
    """Resize, keeping the aspect ratio, so the longer side is DIGIT_BOX."""
    height, width = digit.shape
    scale = DIGIT_BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(digit.astype(np.float32)).resize(size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized, dtype=np.float32), 0, 1)


def centre_by_mass(digit: np.ndarray) -> np.ndarray:
    """Place the digit in 28x28 with its centre of mass at the centre.

    MNIST's "centre" is pixel (14, 14), counting from 0: that is where its
    digits' centres of mass lie (mean 13.99, 14.00 over the training set).
    """
    canvas = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    height, width = digit.shape
    mass_row, mass_col = ndimage.center_of_mass(digit)
    top = int(np.clip(round(IMAGE_SIZE / 2 - mass_row), 0, IMAGE_SIZE - height))
    left = int(np.clip(round(IMAGE_SIZE / 2 - mass_col), 0, IMAGE_SIZE - width))
    canvas[top:top + height, left:left + width] = digit
    return canvas


def locate_digit(coarse: np.ndarray) -> tuple[bool, float, np.ndarray]:
    """On a coarse image: whether the ink is dark, its threshold, and its mask."""
    dark_ink = ink_is_dark(coarse)
    strength = ink_strength(coarse, dark_ink, max(3, round(max(coarse.shape) * COARSE_STROKE_LIMIT)))
    if np.count_nonzero(strength > 1.5 * MIN_INK_CONTRAST) < 2:
        raise ImageError("no digit found")
    # Ink is darker, relative to its paper, than a shadow: at least 60 % as
    # dark as the strongest ink (a faint pencil is faint all over).
    strongest, = quantiles(strength, [0.995])
    threshold = max(otsu_threshold(strength), MIN_INK_CONTRAST, 0.6 * strongest)
    mask = digit_mask(strength > threshold)
    if not mask.any():
        raise ImageError("no digit found")
    return dark_ink, threshold, mask


def mnist_like(gray: Image.Image) -> np.ndarray:
    """28x28 float32 in [0, 1], white ink on black, from a grayscale image.

    The digit is found on a coarse copy (fast, and blind to paper texture);
    then only its region is read again, at a size where the digit is about
    FINE_DIGIT_SIDE pixels, for the strokes' detail.
    """
    width, height = gray.size
    coarse_scale = min(1.0, COARSE_SIDE / max(width, height))
    coarse_size = (max(1, round(width * coarse_scale)), max(1, round(height * coarse_scale)))
    dark_ink, threshold, mask = locate_digit(pixels(gray, coarse_size))

    # The digit's region, with a margin for faint rims, in coarse and original pixels.
    left, top, right, bottom = bounding_box(mask)
    digit_side = max(right - left, bottom - top) / coarse_scale
    margin = 1 + 0.05 * max(right - left, bottom - top)
    box = (max(0, left - margin), max(0, top - margin),
           min(coarse_size[0], right + margin), min(coarse_size[1], bottom + margin))
    region = (box[0] / coarse_scale, box[1] / coarse_scale,  # rounding must not leave the image
              min(width, box[2] / coarse_scale), min(height, box[3] / coarse_scale))
    fine_scale = min(1.0, FINE_DIGIT_SIDE / digit_side)
    fine_size = (max(1, round((region[2] - region[0]) * fine_scale)),
                 max(1, round((region[3] - region[1]) * fine_scale)))
    stroke_limit = max(3, round(digit_side * fine_scale * FINE_STROKE_LIMIT))
    fine = ink_strength(pixels(gray, fine_size, region), dark_ink, stroke_limit)

    # Strokes wider than the coarse limit come out hollow there: fill them.
    near_digit = fill_holes(ndimage.maximum_filter(mask, size=3))
    near_digit = np.asarray(Image.fromarray(near_digit).resize(fine_size, Image.Resampling.NEAREST, box=box))
    ink = (fine > threshold) & near_digit
    if not ink.any():
        raise ImageError("no digit found")
    stroke, = quantiles(fine[ink], [0.75])
    digit = np.clip((fine - threshold / 2) / max(stroke - threshold / 2, 1e-3), 0, 1) * near_digit
    left, top, right, bottom = bounding_box(ink)
    return centre_by_mass(fit_in_box(digit[top:bottom, left:right]))


def preprocess_file(path: Path) -> np.ndarray:
    """The 28x28 model input made from the image at `path`."""
    return mnist_like(to_grayscale(load_image(path)))
