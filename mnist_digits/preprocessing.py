"""Turn a user's image into the 28x28 digit that MNIST would have made of it.

MNIST digits are white ink on black, size-normalised to fit a 20x20 box
keeping their aspect ratio, and placed in 28x28 with their centre of mass at
the centre. Users bring phone photos, paint-program drawings and scans, so
before imitating that we undo what the camera and the paper did: orientation,
transparency, ink polarity, uneven light, paper tint and noise; and what the
pen did: a thin or pale stroke becomes one as wide and as bright as MNIST's.
"""

import functools
import warnings
from pathlib import Path
from typing import BinaryIO, NamedTuple

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mnist_digits.model import IMAGE_SIZE

DIGIT_BOX = 20
# The digit is found on a copy at most COARSE_SIDE pixels wide and tall, then
# read again from the original at a size where it is about FINE_DIGIT_SIDE.
COARSE_SIDE = 128
FINE_DIGIT_SIDE = 64
# Strokes are told from shadows by width: narrower than this fraction of the
# image (while the digit's size is unknown: a thick marker digit that fills
# the frame has strokes a third of it wide), then of the digit's height.
COARSE_STROKE_LIMIT = 1 / 2
FINE_STROKE_LIMIT = 0.6
# MNIST's strokes, measured with stroke_width() on its training digits, in
# 28x28 pixels: median 2.3, and 5 % are thinner than 1.6. Strokes thinner
# than that are thickened to the median (thinning thick ones did not help).
MNIST_STROKE_WIDTH = 2.3
THINNEST_MNIST_STROKE = 1.6
# Thickening thin strokes keeps a loop open if it is at least this large, in
# square MNIST pixels: closed, a thin pen's 8 reads as 1 or 6.
HOLE_MIN_AREA = 0.5
# Ink polarity is voted on in neighbourhoods this fraction of the image wide;
# a vote this close to even is undecided. The paper's level is the peak of a
# histogram smoothed over PAPER_LEVELS grey levels (a sheet under a gradient
# is one level, not many).
POLARITY_NEIGHBOURHOOD = 1 / 3
UNDECIDED_VOTE = 0.15
PAPER_LEVELS = 41
# Ink differs from the paper by INK_OVER_NOISE times the paper's typical
# contrast (its noise), and by between MIN_CLEAN_INK_CONTRAST (a drawing
# app's image, no noise) and MIN_INK_CONTRAST (a grainy photo), of 255: on
# a clean photo, the faint bar of a thin pen's 7 is ink.
MIN_INK_CONTRAST = 31
MIN_CLEAN_INK_CONTRAST = 12
INK_OVER_NOISE = 12
# A blurred stroke's soft rim lies within RIM_WIDTH of the image's side of
# its clear core; soft ink reaching the border with less than SHADOW_EDGE_RIM
# of it that near is a shadow's edge.
RIM_WIDTH = 0.06
SHADOW_EDGE_RIM = 0.25
# A digit cropped tightly reaches the border too; where the ink kept inside
# is this many times smaller than ink reaching the border, it may be a speck
# on that digit, and the image is read both ways.
SPECK_BESIDE_BORDER_INK = 8
# A piece whose loops enclose other ink of at least this share of its own
# area is a box or a ring drawn around the digit, not part of it.
FRAMED_INK = 0.2
# The strongest ink is that of the strongest 0.5 % of the coarse copy's
# pixels, or of its strongest STRONGEST_INK_PIXELS where those are fewer: a
# small thin digit on a big page covers a few dozen, and the lines of ruled
# paper around it would set the level instead.
STRONGEST_INK_PIXELS = 24
# Clear ink rises from the paper by half the ink threshold within this many
# coarse pixels: a blurred coarse scan's stroke does, a soft shadow does not.
INK_EDGE_SPAN = 7
# Relative darkness is unstable on near-black paper: paper is taken as at least this bright.
DARKEST_PAPER = 48
# A pixel of an MNIST-like 28x28 this dark is its black background (a JPEG's noise included).
MNIST_BLACK = 16
# The share of the rim of a digit's box that its ink may cover, and the widest
# its strokes may be (28x28): more than 99.9 % of MNIST's training digits
# cover less, and all but 4 of the 60,000 have thinner strokes.
PAPER_RIM_SHARE = 0.5
PAPER_STROKE_WIDTH = 9
# A board on a page of another shade, read as ink, covers all the rim of its
# box (0.93-1 in screenshots of drawing apps' canvases) or most of its box
# and more than PAPER_RIM_SHARE of its rim; a digit whose strokes run along
# its box's sides, well under that (0.56 of its rim, 0.58 of its box: a
# painted 9). Of MNIST's training digits wider than a 1, none does either
# (the most: 0.51 of the rim, 0.78 of the box; both over half, none).
BOARD_RIM_SHARE = 0.9
BOARD_COVER = 0.7
# A board is read within its edge, this share of its side (2 px at least)
# all round: resampled, its outermost pixels are half board, half page, a
# line that was read as part of the digit. A canvas cropped close may leave
# a stroke 4 px from its edge.
BOARD_EDGE = 0.02
# A reading in the other polarity lies between a digit's strokes if it lies
# within its box, give or take this fraction of the box.
BETWEEN_STROKES_SLACK = 0.02
# An image this small on a side is not taken for an enlarged one.
PIXELATED_MIN_SIDE = 16
# The images are small: OpenCV's threads would cost more than they give, and
# folders are read by several processes already.
cv2.setNumThreads(1)
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


def load_gray(path: Path | BinaryIO) -> tuple[np.ndarray, float]:
    """The image as grayscale uint8 (to_grayscale()): first frame, EXIF
    orientation applied; and its pixels per pixel of the file (less than 1
    for a big JPEG)."""
    scale = 1.0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = open_image(path)
            if (gray := opaque_png_as_gray(image, path)) is not None:
                image.close()  # Pillow's file: decoding it would have closed it
                return gray, scale
            if image.format == "JPEG":
                # Decode big photos at 1/2, 1/4 or 1/8 scale, keeping at least
                # twice the coarse size, and colour ones as luminance only:
                # several times faster, the same digit.
                width = image.size[0]
                if drafted := image.draft("L", (2 * COARSE_SIDE, 2 * COARSE_SIDE)):
                    scale = drafted[1][2] / width
            ImageOps.exif_transpose(image, in_place=True)  # no copy when there is nothing to turn
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
    return to_grayscale(image), scale


def opaque_png_as_gray(image: Image.Image, path: Path | BinaryIO) -> np.ndarray | None:
    """An opaque 8-bit grey or colour PNG (opened, not yet decoded) with no
    EXIF to turn it by, decoded by OpenCV straight to grey: it takes a third
    less time than Pillow's decoding and conversion (big canvases and
    screenshots are PNGs), and differs by at most 1 level. None for any
    other image, or if OpenCV cannot decode it."""
    if image.format != "PNG" or image.mode not in ("L", "RGB") or "transparency" in image.info:
        return None
    if hasattr(path, "read"):  # an upload, in memory
        path.seek(0)
        data = path.read()
    else:
        data = Path(path).read_bytes()
    if b"eXIf" in data:
        return None
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)


def to_grayscale(image: Image.Image) -> np.ndarray:
    """Luminance as uint8 (H, W), transparency flattened.

    A drawing exported with a transparent background is ink on nothing: it is
    put on a background that contrasts with its ink, never on black by default.
    """
    if image.mode in ("I;16", "I;16L", "I;16B", "I", "F"):
        values = np.asarray(image, dtype=np.float32)
        peak = 65535.0 if values.max() > 255 else 255.0
        if image.mode == "F" and values.max() <= 1:
            peak = 1.0
        return to_uint8(values / peak)
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if not has_alpha:
        return np.asarray(image if image.mode == "L" else image.convert("L"))  # asarray copies once
    luminance, alpha = (np.asarray(band) for band in image.convert("LA").split())
    opaque = (alpha > 127).view(np.uint8)
    if opaque.all() or not opaque.any():
        return luminance
    ink, = histogram_quantiles(luminance, [0.5], where=opaque)
    if ink < 128:  # dark ink: on white, so flattened = 255 - alpha * (255 - luminance)
        return 255 - cv2.multiply(alpha, 255 - luminance, scale=1 / 255)
    return cv2.multiply(alpha, luminance, scale=1 / 255)  # light ink: on black


def to_uint8(values: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] as 0-255."""
    return (np.clip(values, 0, 1) * 255 + 0.5).astype(np.uint8)


def reduce_by(gray: np.ndarray, factor: int) -> np.ndarray:
    """`gray` box-averaged by a whole factor: OpenCV's fast path. A strip
    thinner than the factor keeps at least one pixel across."""
    factor = min(factor, *gray.shape)
    if factor <= 1:
        return gray
    rows, cols = gray.shape[0] // factor, gray.shape[1] // factor
    return cv2.resize(gray[:rows * factor, :cols * factor], (cols, rows), interpolation=cv2.INTER_AREA)


def shrink(gray: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`gray` box-averaged down to `size` (width, height): by a whole factor
    first, then the small remainder."""
    width, height = size
    gray = reduce_by(gray, min(gray.shape[1] // width, gray.shape[0] // height))
    if gray.shape != (height, width):
        gray = cv2.resize(gray, (width, height), interpolation=cv2.INTER_AREA)
    return gray


def histogram_quantiles(values: np.ndarray, fractions: list[float], where: np.ndarray | None = None) -> list[int]:
    """Values (uint8) at these fractions of the sorted values (of those `where` is nonzero)."""
    counts = np.cumsum(cv2.calcHist([values], [0], where, [256], [0, 256]))
    return [int(value) for value in np.searchsorted(counts, np.multiply(fractions, counts[-1]), side="right")]


class Polarity(NamedTuple):
    dark_ink: bool
    sure: bool  # False: the image hardly tells ink from paper; the other way is worth a try
    flat_paper: bool = False  # not sure, but the side of a flat paper's level


def ink_polarity(gray: np.ndarray) -> Polarity:
    """Whether the ink is darker than its paper, and how clearly the image says so.

    Ink is thin, so wherever there is contrast, most pixels are paper: nearer
    the brightest of their neighbourhood on dark-ink pages, the darkest on
    chalk-on-board ones. The edge of a hard shadow or of the table behind a
    sheet has as much on either side and does not sway the vote.
    """
    side = max(3, round(max(gray.shape) * POLARITY_NEIGHBOURHOOD))
    square = np.ones((side, side), np.uint8)
    brightest = cv2.dilate(gray, square, borderType=cv2.BORDER_REPLICATE).astype(np.int16)
    darkest = cv2.erode(gray, square, borderType=cv2.BORDER_REPLICATE).astype(np.int16)
    contrasted = brightest - darkest > MIN_INK_CONTRAST
    nearer_brightest = 2 * gray.astype(np.int16) > brightest + darkest
    voters, dark_votes = np.count_nonzero(contrasted), np.count_nonzero(nearer_brightest & contrasted)
    if abs(dark_votes - voters / 2) >= UNDECIDED_VOTE * voters:
        return Polarity(dark_votes >= voters / 2, sure=True)
    # A digit that fills its frame has as much ink as paper nearby: a thick
    # or blurred one, or a coarse scan. The flat paper's side is a good first guess.
    flat_paper_says = ink_side_of_flat_paper(gray)
    if flat_paper_says is None:
        return Polarity(dark_votes >= voters / 2, sure=False)
    return Polarity(flat_paper_says, sure=False, flat_paper=True)


def ink_side_of_flat_paper(gray: np.ndarray) -> bool | None:
    """Whether the ink is dark, where the paper (the image's most common level)
    has clear contrast on one side only, as on a flat background; else None."""
    counts = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel()
    paper = int(np.argmax(np.convolve(counts, np.ones(PAPER_LEVELS), mode="same")))
    darker, lighter = counts[:max(0, paper - MIN_INK_CONTRAST)].sum(), counts[paper + MIN_INK_CONTRAST + 1:].sum()
    few = 0.01 * gray.size
    if lighter <= few < darker:
        return True
    if darker <= few < lighter:
        return False
    return None


def ink_strength(gray: np.ndarray, dark_ink: bool, stroke_limit: int) -> np.ndarray:
    """How strongly each pixel differs from the paper (uint8, 0-255), counting
    only strokes narrower than `stroke_limit` pixels.

    The paper is a grey-scale closing of the image by a `stroke_limit`
    square: it removes every narrower stroke and keeps what is wider:
    shadows, the table around a sheet, gradients and tint. Light ink is read
    from the negative image, exactly as dark ink: the same scan reads the
    same in white on black as in black on white.

    A pixel is ink only if it is darker than the paper all around it. A
    shadow's slanted edge is a staircase of pixels, and the square cannot
    reach into its steps: the closing lifts them to the bright side's level,
    which would make a line of ink along the edge, across the digit.
    """
    square = np.ones((stroke_limit, stroke_limit), np.uint8)
    if not dark_ink:
        gray = cv2.bitwise_not(gray)
    paper = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, square, borderType=cv2.BORDER_REPLICATE)
    paper = cv2.erode(paper, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    # Light and shadow multiply: relative darkness is the ink's own.
    # np.maximum, not cv2.max: OpenCV 5.1 takes a number for a 4-channel
    # scalar, and a 1x1 image comes back 4x1.
    return cv2.divide(cv2.subtract(paper, gray), np.maximum(paper, np.uint8(DARKEST_PAPER)), scale=255)


def digit_mask(ink: np.ndarray, clear_ink: np.ndarray, keep_border_ink: bool = False) -> tuple[np.ndarray, bool]:
    """The pixels of the digit: the parts of the ink that hold some clear ink
    (hysteresis: a soft stroke stays whole), without specks, page edges,
    shadows' edges, a box or ring drawn around it and the dashes of a line
    far from it; and whether much more ink was left out for reaching the border."""
    ink = ink & ~shadow_edges(ink & ~clear_ink, clear_ink)
    count, labels, stats = connected_pieces(ink)
    areas = stats[1:, cv2.CC_STAT_AREA]
    areas = np.where(np.bincount(labels[clear_ink], minlength=count)[1:] > 0, areas, 0)
    if not areas.any():
        return np.zeros_like(ink), False
    touches_border = reach_border(stats[1:], ink.shape)
    inner_areas = np.where(touches_border, 0, areas)
    # Shadows, page edges and the table reach the border; a digit rarely does,
    # unless the image is cropped tightly around it and nothing else is there.
    use_inner = not keep_border_ink and inner_areas.max() >= 0.02 * areas.max()
    candidates = without_frame(labels, stats[1:], inner_areas if use_inner else areas)
    keep = np.concatenate([[False], without_far_dashes(stats[1:], candidates >= 0.1 * candidates.max())])
    border_areas = areas[touches_border]
    border_ink_left_out = use_inner and bool(np.any(border_areas >= SPECK_BESIDE_BORDER_INK * inner_areas.max()))
    return keep[labels], border_ink_left_out


def without_frame(labels: np.ndarray, stats: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """The pieces' areas (0: left out), less that of the widest-spread piece
    (OpenCV stats rows) where its loops enclose other pieces of at least
    FRAMED_INK of its own area: a box or a ring drawn around the digit. No
    digit holds that much ink in a loop."""
    boxes = stats[:, :4].T
    widest = int(np.argmax(np.where(areas > 0, boxes[2] * boxes[3], -1)))
    if np.count_nonzero(lies_within(boxes, boxes[:, widest]) & (areas > 0)) < 2:  # most images, cheaply
        return areas
    frame = labels == widest + 1
    enclosed = np.bincount(labels[fill_holes(frame) & ~frame], minlength=len(areas) + 1)[1:] > 0
    if areas[enclosed].sum() < FRAMED_INK * areas[widest]:
        return areas
    return np.where(np.arange(len(areas)) == widest, 0, areas)


def without_far_dashes(stats: np.ndarray, pieces: np.ndarray) -> np.ndarray:
    """These pieces (OpenCV stats rows) less the dashes (thin, level and
    long) further from every other piece than the largest of those is
    large: a ruled line that noise broke into dashes reaching no border,
    which would stretch a small digit's box; not a 7's or a 5's bar."""
    left, top, width, height = stats[:, :4].T.astype(np.int64)
    dashes = pieces & (height <= 2) & (width >= 3 * height)
    others = pieces & ~dashes
    if not others.any():
        return pieces
    reach = max(width[others].max(), height[others].max())
    gap_x = np.maximum(np.maximum(left[:, None] - (left + width)[others], left[others] - (left + width)[:, None]), 0)
    gap_y = np.maximum(np.maximum(top[:, None] - (top + height)[others], top[others] - (top + height)[:, None]), 0)
    return pieces & ~(dashes & (np.maximum(gap_x, gap_y) > reach).all(axis=1))


def shadow_edges(soft_ink: np.ndarray, clear_ink: np.ndarray) -> np.ndarray:
    """The soft ink that reaches the border and lies mostly away from clear
    ink: the edge of a shadow, which would join the digit where it passes by,
    not the soft rim of a stroke."""
    if not (soft_ink[0].any() or soft_ink[-1].any() or soft_ink[:, 0].any() or soft_ink[:, -1].any()):
        return np.zeros_like(soft_ink)  # most images: none reaches the border
    count, labels, stats = connected_pieces(soft_ink)
    touches_border, areas = reach_border(stats[1:], soft_ink.shape), stats[1:, cv2.CC_STAT_AREA]
    if not touches_border.any():
        return np.zeros_like(soft_ink)
    to_clear_ink = cv2.distanceTransform((~clear_ink).view(np.uint8), cv2.DIST_L2, 3)
    rim = np.bincount(labels[to_clear_ink <= RIM_WIDTH * max(soft_ink.shape)], minlength=count)[1:]
    return np.concatenate([[False], touches_border & (rim < SHADOW_EDGE_RIM * areas)])[labels]


def connected_pieces(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """OpenCV's 8-connected components of a mask: their count (the
    background's included), the label of each pixel and each one's stats."""
    count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
        mask.view(np.uint8), 8, cv2.CV_32S, cv2.CCL_GRANA)  # OpenCV's default is 3x slower here
    return count, labels, stats


def lies_within(box: "Box | np.ndarray", outer: "Box | np.ndarray", slack: float = 0) -> "np.ndarray | bool":
    """Whether the box (left, top, width, height: numbers, or arrays of
    them) lies within the outer one, give or take `slack`."""
    left, top, width, height = box
    outer_left, outer_top, outer_width, outer_height = outer
    return ((left >= outer_left - slack) & (top >= outer_top - slack)
            & (left + width <= outer_left + outer_width + slack) & (top + height <= outer_top + outer_height + slack))


def reach_border(stats: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Which connected components (OpenCV stats rows) reach the image's border."""
    left, top, width, height = stats[:, :4].T
    return (left == 0) | (top == 0) | (left + width == shape[1]) | (top + height == shape[0])


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """The mask with every enclosed hole filled: what a flood from outside cannot reach."""
    outside = cv2.copyMakeBorder(mask.view(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    cv2.floodFill(outside, None, (0, 0), 1)
    return mask | (outside[1:-1, 1:-1] == 0)


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the True pixels, right and bottom exclusive."""
    left, top, width, height = cv2.boundingRect(mask.view(np.uint8))
    return left, top, left + width, top + height


def fit_in_box(digit: np.ndarray, height: float | None = None) -> np.ndarray:
    """Resize, keeping the aspect ratio, so the longer side is DIGIT_BOX, or
    `height` is (Pillow's Lanczos: antialiased, as MNIST's own size
    normalisation was)."""
    scale = DIGIT_BOX / (height or max(digit.shape))
    size = (max(1, round(digit.shape[1] * scale)), max(1, round(digit.shape[0] * scale)))
    resized = Image.fromarray(digit).resize(size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized, dtype=np.float32), 0, 1)


def centre_by_mass(digit: np.ndarray) -> np.ndarray:
    """Place the digit in 28x28 with its centre of mass at the centre.

    MNIST's "centre" is pixel (14, 14), counting from 0: that is where its
    digits' centres of mass lie (mean 13.99, 14.00 over the training set).
    """
    canvas = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    height, width = digit.shape
    mass_row, mass_col = centre_of_mass(digit)
    top = min(max(round(IMAGE_SIZE / 2 - mass_row), 0), IMAGE_SIZE - height)
    left = min(max(round(IMAGE_SIZE / 2 - mass_col), 0), IMAGE_SIZE - width)
    canvas[top:top + height, left:left + width] = digit
    return canvas


def centre_of_mass(digit: np.ndarray) -> tuple[float, float]:
    """(row, column) of the digit's centre of mass, its intensities the mass.
    Not cv2.moments: it takes a float (N, 2) array, a digit fit in 20x2, for N points."""
    rows, cols = digit.sum(axis=1, dtype=np.float64), digit.sum(axis=0, dtype=np.float64)
    mass = rows.sum()
    return rows @ np.arange(len(rows)) / mass, cols @ np.arange(len(cols)) / mass


def shrink_keeping_ink(gray: np.ndarray, size: tuple[int, int], dark_ink: bool) -> np.ndarray:
    """`gray` shrunk to `size`, each pixel first the darkest (lightest, for light
    ink) of its neighbourhood: a pen line far thinner than a pixel of the small
    copy keeps its full contrast instead of fading into the paper."""
    block = min(gray.shape[1] // size[0], gray.shape[0])  # no larger than a strip is high
    if block > 1:
        square = np.ones((block, block), np.uint8)
        pooled = cv2.erode(gray, square) if dark_ink else cv2.dilate(gray, square)
        gray = pooled[block // 2::block, block // 2::block]  # one pixel a block: its darkest (lightest)
    return shrink(gray, size)


def locate_digit(coarse: np.ndarray, dark_ink: bool, keep_border_ink: bool = False) -> tuple[int, np.ndarray, bool]:
    """On a coarse image: the least contrast that counts as ink (0-255), the
    digit's mask, and whether ink reaching the border was left out of it."""
    strength = ink_strength(coarse, dark_ink, max(3, round(max(coarse.shape) * COARSE_STROKE_LIMIT)))
    typical, strongest = histogram_quantiles(strength, [0.5, 1 - min(0.005, STRONGEST_INK_PIXELS / strength.size)])
    min_contrast = int(np.clip(INK_OVER_NOISE * typical, MIN_CLEAN_INK_CONTRAST, MIN_INK_CONTRAST))
    if np.count_nonzero(strength > 1.5 * min_contrast) < 2:
        raise ImageError("no digit found")
    # Ink is darker, relative to its paper, than a shadow: at least 60 % as
    # dark as the strongest ink (a faint pencil is faint all over), and it
    # has an edge: a soft shadow as dark, too round for the paper's closing
    # to lift, has none. Softer pixels count where they continue such ink: a
    # blurred stroke stays whole.
    otsu, _ = cv2.threshold(strength, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    threshold = max(int(otsu), min_contrast, round(0.6 * strongest))
    edge = cv2.morphologyEx(strength, cv2.MORPH_GRADIENT, np.ones((INK_EDGE_SPAN, INK_EDGE_SPAN), np.uint8))
    mask, border_ink_left_out = digit_mask(strength > max(min_contrast, threshold // 2),
                                           (strength > threshold) & (edge > threshold // 2), keep_border_ink)
    if not mask.any():
        raise ImageError("no digit found")
    return min_contrast, mask, border_ink_left_out


def distance_to_paper(ink: np.ndarray) -> np.ndarray:
    """Each pixel's Euclidean distance to the nearest pixel without ink, the
    same on every call."""
    distance = cv2.distanceTransform(ink.view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    # Where no pixel is paper (a broad brush's 1, cropped to its ink),
    # OpenCV gives 2 ** 64, whose square overflows: no stroke is wider than the drawing.
    distance = np.minimum(distance, max(ink.shape))
    # Exact distances are roots of whole numbers; OpenCV's come within a few
    # 1e-7 of them, differently from call to call, which can tip the choice
    # of a stroke's middle pixels: the same image must give the same digit.
    return np.sqrt(np.rint(np.square(distance)))


def stroke_width(ink: np.ndarray) -> float:
    """Typical stroke width of a binary drawing, in its pixels: twice the
    distance from the strokes' middle lines to their edges."""
    distance = distance_to_paper(ink)
    middle = ink & (distance >= cv2.dilate(distance, np.ones((3, 3), np.uint8)))
    return 2 * float(np.median(distance[middle])) - 1 if middle.any() else 0.0


def normalise_stroke(digit: np.ndarray, pen: float | None = None) -> np.ndarray:
    """Thicken strokes that would be thinner than MNIST's once the digit is
    fit in its 20x20 box (`digit`: float, cropped to the ink; `pen`: its
    stroke width in its pixels, if measured already)."""
    box_pixel = DIGIT_BOX / max(digit.shape)  # one of our pixels, in MNIST pixels
    width = (stroke_width(digit > 0.5) if pen is None else pen) * box_pixel
    if width >= THINNEST_MNIST_STROKE:
        return digit
    radius = round((MNIST_STROKE_WIDTH - width) / 2 / box_pixel)
    if radius < 1:
        return digit
    nib = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    digit = cv2.copyMakeBorder(digit, *[radius] * 4, cv2.BORDER_CONSTANT, value=0)
    thick = cv2.dilate(digit, nib)
    kept = holes_filled_by(digit > 0.5, thick > 0.5, HOLE_MIN_AREA / box_pixel ** 2)
    thick[kept] = digit[kept]
    return thick


def holes_filled_by(before: np.ndarray, after: np.ndarray, min_area: float) -> np.ndarray:
    """The holes of the `before` mask (of at least `min_area` pixels) that the
    `after` mask covers entirely: the small loops of a thin-pen 8 or 9."""
    count, labels = cv2.connectedComponents((fill_holes(before) & ~before).view(np.uint8), connectivity=4)
    area = np.bincount(labels.ravel(), minlength=count)
    left_open = np.bincount(labels.ravel(), weights=~after.ravel(), minlength=count)
    filled = (area >= min_area) & (left_open == 0)
    filled[0] = False
    return filled[labels]


Box = tuple[int, int, int, int]  # left, top, width, height


class Placement(NamedTuple):
    """Where the pixels of an image's ink, or of a region of them, lie in the original image."""

    left: float = 0.0
    top: float = 0.0
    scale: float = 1.0  # these pixels per image pixel

    def of_region(self, left: int, top: int) -> "Placement":
        """Where a region whose corner is at (left, top) of these pixels lies."""
        return Placement(self.left + left / self.scale, self.top + top / self.scale, self.scale)

    def in_image(self, box: Box) -> Box:
        """A box in these pixels as one in the original image's."""
        left, top, width, height = box
        return (round(self.left + left / self.scale), round(self.top + top / self.scale),
                max(1, round(width / self.scale)), max(1, round(height / self.scale)))

    def moved_by(self, left: int, top: int) -> "Placement":
        """Where these pixels lie in an image that holds the original with its
        corner at (left, top)."""
        return Placement(self.left + left, self.top + top, self.scale)

    def in_original_of(self, scale: float) -> "Placement":
        """Where these pixels lie in the original of the image they were
        placed in, that image being the original scaled by `scale`."""
        return Placement(self.left / scale, self.top / scale, self.scale * scale)


class Ink(NamedTuple):
    """An image's ink as MNIST intensities, and where that lies in the image."""

    intensity: np.ndarray  # float32 in [0, 1], white ink, cropped to the ink
    placement: Placement  # where intensity's pixels lie in the image
    polarity: Polarity  # how the ink was told from the paper
    border_ink_left_out: bool  # ink reaching the border, far more than the digit's, was taken for shadow

    @property
    def box(self) -> Box:
        """Where the ink lies in the image."""
        return self.placement.in_image((0, 0, self.intensity.shape[1], self.intensity.shape[0]))


def read_ink(gray: np.ndarray, size_by_height: bool = False, dark_ink: bool | None = None,
             keep_border_ink: bool = False) -> Ink:
    """The ink of the digit (or the row of digits) in a grayscale uint8 image.

    The ink is found on a coarse copy (fast, and blind to paper texture); then
    only its region is read again, at a size where a digit is about
    FINE_DIGIT_SIDE pixels, for the strokes' detail: the region's larger side
    is one digit, or, with `size_by_height`, its height is (a row of digits).
    The ink is dark or light as the image says, unless `dark_ink` is given;
    ink reaching the border counts only with `keep_border_ink`, or where
    there is hardly any other.
    """
    height, width = gray.shape
    coarse_scale = min(1.0, COARSE_SIDE / max(width, height))
    coarse_size = (max(1, round(width * coarse_scale)), max(1, round(height * coarse_scale)))
    coarse_scale = coarse_size[0] / width  # as rounded, so coarse and original pixels line up
    # One pass over a big image: a copy at most 4x the coarse size, where a
    # pen line keeps most of its contrast (as big JPEGs are decoded, too).
    medium = reduce_by(gray, max(width, height) // (4 * COARSE_SIDE))
    polarity = ink_polarity(shrink(medium, coarse_size)) if dark_ink is None else Polarity(dark_ink, sure=True)
    dark_ink = polarity.dark_ink
    min_contrast, mask, border_ink_left_out = locate_digit(shrink_keeping_ink(medium, coarse_size, dark_ink),
                                                           dark_ink, keep_border_ink)

    # The digit's region with a margin for faint rims, in coarse then original pixels.
    left, top, right, bottom = bounding_box(mask)
    digit_side = (bottom - top if size_by_height else max(right - left, bottom - top)) / coarse_scale
    margin = 1 + round(0.05 * max(right - left, bottom - top))
    left, top = max(0, left - margin), max(0, top - margin)
    right, bottom = min(coarse_size[0], right + margin), min(coarse_size[1], bottom + margin)
    region_left, region_top = int(left / coarse_scale), int(top / coarse_scale)
    region = gray[region_top:int(np.ceil(bottom / coarse_scale)), region_left:int(np.ceil(right / coarse_scale))]
    fine_scale = min(1.0, FINE_DIGIT_SIDE / digit_side)
    fine_size = (max(1, round(region.shape[1] * fine_scale)), max(1, round(region.shape[0] * fine_scale)))
    stroke_limit = max(3, round(digit_side * fine_scale * FINE_STROKE_LIMIT))
    fine = ink_strength(shrink(region, fine_size), dark_ink, stroke_limit)

    # Strokes wider than the coarse limit come out hollow there: fill them.
    near_digit = fill_holes(cv2.dilate(mask.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool))
    near_digit = cv2.resize(near_digit[top:bottom, left:right].view(np.uint8), fine_size,
                            interpolation=cv2.INTER_NEAREST).view(bool)
    intensity = as_ink_intensity(fine, near_digit, min_contrast)
    ink_left, ink_top, ink_right, ink_bottom = bounding_box(intensity > 0)
    scale = fine_size[0] / region.shape[1]
    return Ink(intensity[ink_top:ink_bottom, ink_left:ink_right],
               Placement(region_left, region_top, scale).of_region(ink_left, ink_top), polarity, border_ink_left_out)


def readings(gray: np.ndarray) -> list[tuple[np.ndarray, Ink]]:
    """The model inputs the image may mean, each with the ink it was made
    from: the digit as the image most likely means it; then the other ways
    the image may mean it (the model, which knows digits, chooses): where it
    hardly tells ink from paper, as the other polarity reads it; where what
    it takes for ink looks_like_board(), the ink on_the_board(); where ink
    reaching the border was taken for shadow, with that ink. Where no digit
    is found the way the image seems to say: each polarity, with the ink
    reaching the border where none is found without it, unless what is
    found looks like paper (the brighter side of a blank photo)."""
    try:
        found = with_inputs([read_ink(gray)])
    except ImageError:
        found = [(image, ink) for dark_ink in (True, False)
                 for image, ink in with_inputs(other_reading(gray, dark_ink)
                                               or other_reading(gray, dark_ink, keep_border_ink=True))
                 if not looks_like_paper(image)]
        if not found:
            raise
    likely_image, likely = found[0]
    if not likely.polarity.sure:
        found += with_inputs(other_reading(gray, not likely.polarity.dark_ink))
    if looks_like_board(likely_image):
        found += with_inputs(on_the_board(gray, likely))
    for _, ink in list(found):
        if ink.border_ink_left_out:
            found += with_inputs(other_reading(gray, ink.polarity.dark_ink, keep_border_ink=True))
    return found


def on_the_board(gray: np.ndarray, board: Ink, size_by_height: bool = False) -> list[Ink]:
    """The ink on a board that was read as ink (looks_like_board()), read in
    the other polarity within the board's box; empty if none is found."""
    left, top, width, height = board.box
    side = min(width, height)
    edge = min(side // 3, max(2, round(BOARD_EDGE * side)))
    left, top, width, height = left + edge, top + edge, width - 2 * edge, height - 2 * edge
    found = other_reading(gray[top:top + height, left:left + width], not board.polarity.dark_ink,
                          size_by_height=size_by_height)
    return [ink._replace(placement=ink.placement.moved_by(left, top)) for ink in found]


def with_inputs(inks: list[Ink]) -> list[tuple[np.ndarray, Ink]]:
    """Each ink with the model input made from it."""
    return [(as_mnist(ink.intensity), ink) for ink in inks]


def other_reading(gray: np.ndarray, dark_ink: bool, keep_border_ink: bool = False,
                  size_by_height: bool = False) -> list[Ink]:
    """read_ink() with these choices made, as a list: empty if it finds no digit."""
    try:
        return [read_ink(gray, size_by_height, dark_ink, keep_border_ink)]
    except ImageError:
        return []


def as_ink_intensity(strength: np.ndarray, near_digit: np.ndarray, min_contrast: int) -> np.ndarray:
    """The digit's pixels as MNIST intensities in [0, 1] (strokes' cores at 1),
    from its ink strength (uint8)."""
    if not near_digit.any():
        raise ImageError("no digit found")
    # A thin pen is fainter here than on the coarse copy, which kept its
    # contrast: the ink's level is read again, from the digit's own pixels.
    peak, = histogram_quantiles(strength, [0.99], where=near_digit.view(np.uint8))
    ink = (strength > max(min_contrast / 2, peak / 2)) & near_digit
    if not ink.any():
        raise ImageError("no digit found")
    stroke, = histogram_quantiles(strength[ink], [0.75])
    base = max(min_contrast / 2, stroke / 4)
    digit = np.clip((strength.astype(np.float32) - base) / max(stroke - base, 1), 0, 1) * near_digit
    if not digit.any():
        raise ImageError("no digit found")
    return digit


def looks_like_paper(image: np.ndarray) -> bool:
    """Whether a model input (28x28, white ink on black) is rather paper read
    as ink: the paper between the strokes of a digit that fills its frame,
    which runs along the sides of its box, where a digit touches them at a
    few points; or the inside of a loop, a blot no pen makes."""
    return rim_share(in_its_box(image) > 0.5) > PAPER_RIM_SHARE or stroke_width(image > 0.5) > PAPER_STROKE_WIDTH


def looks_like_board(image: np.ndarray) -> bool:
    """Whether a model input is rather a board read as ink, the digit on it
    in the other polarity: a dark board on a light page (a blackboard on a
    wall, a drawing app's black canvas in a screenshot) or a light sheet on
    a dark one (a white canvas in a dark-mode app). It runs all round its
    box, or fills most of it and runs along its sides; and it is no 1,
    whose narrow box is all sides."""
    strokes = in_its_box(image) > 0.5
    if strokes.shape[1] < DIGIT_BOX / 2:
        return False
    rim = rim_share(strokes)
    return rim >= BOARD_RIM_SHARE or (rim > PAPER_RIM_SHARE and strokes.mean() >= BOARD_COVER)


def in_its_box(image: np.ndarray) -> np.ndarray:
    """The image cropped to the box of its pixels over 0 (or True)."""
    left, top, right, bottom = bounding_box(image > 0)
    return image[top:bottom, left:right]


def rim_share(box: np.ndarray) -> float:
    """The share of the sides of a box (a mask) that it covers."""
    return float(np.concatenate([box[0], box[-1], box[:, 0], box[:, -1]]).mean())


def as_mnist(digit: np.ndarray) -> np.ndarray:
    """28x28 float32 in [0, 1], white ink on black, from one digit's intensities
    cropped to its ink: MNIST's stroke width, 20x20 box and centre of mass
    (segmentation.at_row_scale fits a row's height instead)."""
    return centre_by_mass(fit_in_box(normalise_stroke(digit)))


def already_mnist(gray: np.ndarray) -> np.ndarray | None:
    """The model input of an image that is an MNIST digit already, as the
    model takes it; None for any other image. MNIST's digits are 28x28, at
    least 60 % black, their ink within 20x20 and their centre of mass in the
    middle pixel: preparing such an image again only loses detail (2,000
    MNIST test digits saved as PNGs read 99.2 % that way, 99.6 % as they are)."""
    if gray.shape != (IMAGE_SIZE, IMAGE_SIZE):
        return None
    for ink in (gray, 255 - gray):  # white on black, or its negative
        dark = ink <= MNIST_BLACK
        if dark.mean() < 0.6 or dark.all():
            continue
        left, top, right, bottom = bounding_box(~dark)
        if (max(bottom - top, right - left) <= DIGIT_BOX
                and all(abs(mass - IMAGE_SIZE / 2) <= 1 for mass in centre_of_mass(ink))):
            return ink.astype(np.float32) / 255
    return None


def equal_line_runs(gray: np.ndarray, axis: int) -> np.ndarray:
    """The lengths of the runs of identical neighbouring rows (axis 0) or columns (axis 1)."""
    differs = (np.diff(gray, axis=axis) != 0).any(axis=1 - axis)
    return np.diff(np.flatnonzero(np.concatenate([[True], differs, [True]])))


def unpixelated(gray: np.ndarray) -> np.ndarray:
    """A small picture enlarged by repeating its pixels (an 8x8 scan shown
    at 64x64) as if enlarged smoothly: its blocks' staircase edges are no
    pen's. Any other image as it is: some of its rows or columns differ
    from both neighbours."""
    if min(gray.shape) < PIXELATED_MIN_SIDE:
        return gray
    probes = np.linspace(1, gray.shape[1] - 2, 8).astype(int)  # most images end here, cheaply
    if any((gray[:, i] != gray[:, i - 1]).any() and (gray[:, i] != gray[:, i + 1]).any() for i in probes):
        return gray
    row_runs, column_runs = equal_line_runs(gray, 0), equal_line_runs(gray, 1)
    if min(row_runs.min(), column_runs.min()) < 2 or min(len(row_runs), len(column_runs)) < 4:
        return gray
    # Repeated pixels blurred by a box as wide as a block: linear interpolation.
    return cv2.blur(gray, (int(column_runs.min()), int(row_runs.min())), borderType=cv2.BORDER_REPLICATE)


def read_gray_and_scale(path: Path) -> tuple[np.ndarray, float]:
    """The image at `path` as grayscale uint8, oriented, flattened and
    unpixelated; and its pixels per pixel of the file (load_gray)."""
    gray, scale = load_gray(path)
    return unpixelated(gray), scale


def read_ink_file(path: Path, size_by_height: bool = False) -> Ink:
    """read_ink() of the image at `path`, or with `size_by_height` its
    read_row(), placed in the file's pixels (a big JPEG is decoded smaller)."""
    gray, scale = read_gray_and_scale(path)
    ink = read_row(gray) if size_by_height else read_ink(gray)
    return ink._replace(placement=ink.placement.in_original_of(scale))


def read_row(gray: np.ndarray) -> Ink:
    """read_ink() of a row of digits, sized by its height; where what it
    takes for ink runs along most of its box's sides (a board on a page of
    another shade), the ink on_the_board()."""
    ink = read_ink(gray, size_by_height=True)
    # Of the strokes alone, whose box a board's soft rim would widen. A row
    # of digits hardly touches its box's sides (at most a quarter of them in
    # 600 generated numbers).
    if rim_share(in_its_box(ink.intensity > 0.5)) > PAPER_RIM_SHARE:
        return (on_the_board(gray, ink, size_by_height=True) or [ink])[0]
    return ink


def digit_file_readings(path: Path) -> list[tuple[np.ndarray, Ink | None]]:
    """The 28x28 model inputs the image of one digit at `path` may mean, the
    likely one first, each with the ink it was made from: the image itself
    (no ink) if it is an MNIST digit already, else its readings()."""
    gray, _ = read_gray_and_scale(path)
    if (as_it_is := already_mnist(gray)) is not None:
        return [(as_it_is, None)]
    inputs = readings(gray)
    if len(inputs) == 1:
        return inputs
    # The model can be sure of paper read as ink (the paper between a
    # frame-filling digit's strokes looks like a 0 or a 1): such a reading
    # is never taken over one that looks like a digit, nor over the digit
    # whose strokes it lies between.
    digits = [(image, ink) for image, ink in inputs if not looks_like_paper(image)] or inputs
    likely = digits[0][1]
    return [(image, ink) for image, ink in digits if not lies_between_strokes(ink, likely)]


def lies_between_strokes(ink: Ink, digit: Ink) -> bool:
    """Whether `ink`, read in the other polarity than `digit`, lies within
    the digit's box and is at most half as large: the paper between its
    strokes. On flat paper, the likely reading is the digit or the paper
    between its strokes; a digit in the other polarity would hold this
    digit's ink between its strokes, not lie among them. (Under uneven
    light the likely reading may be a lit part of the page, which holds the
    digit.)"""
    if ink.polarity.dark_ink == digit.polarity.dark_ink or not digit.polarity.flat_paper:
        return False
    box, digit_box = ink.box, digit.box
    (*_, width, height), (*_, digit_width, digit_height) = box, digit_box
    return (bool(lies_within(box, digit_box, BETWEEN_STROKES_SLACK * max(digit_width, digit_height)))
            and width * height <= digit_width * digit_height / 2)


def preprocess_file(path: Path) -> np.ndarray:
    """The 28x28 model input made from the image of one digit at `path`, as
    predict() makes it: its likely reading (where that is in doubt, predict()
    may take another)."""
    return digit_file_readings(path)[0][0]
