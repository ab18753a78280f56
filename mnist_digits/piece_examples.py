"""Pieces of written numbers, each labelled whole digit or not, to train the
piece checker on.

Where digits touch, --number cuts their ink every way it may be cut, and the
digit model reads each piece; but that model has only seen whole digits, and
is as sure of the tail of a 3 as of a 3. So rows of 1-4 MNIST digits are
drawn here as a pen would, apart, close or overlapping, and cut exactly as
--number cuts a user's image (segmentation.every_piece); each piece is labelled
by how much of which digit's ink it holds.
"""

import cv2
import numpy as np

from mnist_digits.preprocessing import ImageError, read_ink
from mnist_digits.segmentation import INK_LEVEL, every_piece, ink_digits

DIGITS_PER_ROW = [1, 2, 2, 3, 3, 4]
GAPS = (-0.15, 0.5)  # between digits, in widths: overlapping by 15 % to half a digit apart
# A piece holding this much of one digit's ink, and at most SOME_OF another's,
# is that digit; one holding less than PART of every digit's, or more than
# MUCH_OF a second one's, is not a digit. The pieces between are left out.
WHOLE, SOME_OF = 0.9, 0.2
PART, MUCH_OF = 0.7, 0.35


def digit_ink(digit: np.ndarray, height: int, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit's ink (0-1), cropped and drawn `height` pixels tall with
    a sharper edge, by a pen a little thinner or bolder than MNIST's."""
    rows, columns = np.nonzero(digit > 30)
    crop = digit[rows.min():rows.max() + 1, columns.min():columns.max() + 1].astype(np.float32) / 255
    width = max(1, round(crop.shape[1] * height / crop.shape[0]))
    ink = cv2.resize(crop, (width, height), interpolation=cv2.INTER_CUBIC)
    ink = np.clip((ink - 0.5) * rng.uniform(1.5, 3) + 0.5, 0, 1)
    pen = round(rng.uniform(-0.03, 0.05) * height)
    if pen:
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(pen) + 1,) * 2)
        ink = (cv2.dilate if pen > 0 else cv2.erode)(ink, disc)
    return ink


def row_of_digits(digits: list[np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The digits written in a row, dark on white paper, and where each one's
    ink is (a mask per digit, in the page's pixels)."""
    height = int(rng.integers(40, 140))
    inks = [digit_ink(digit, max(8, round(height * rng.uniform(0.85, 1.1))), rng) for digit in digits]
    mean_width = np.mean([ink.shape[1] for ink in inks])
    lefts = np.cumsum([0] + [ink.shape[1] + round(rng.uniform(*GAPS) * mean_width) for ink in inks[:-1]])
    lefts -= lefts.min()
    tops = np.array([round(rng.uniform(-0.06, 0.06) * height + (height - ink.shape[0]) / 2) for ink in inks])
    tops -= tops.min()
    margin = round(0.4 * height)
    page_height = max(top + ink.shape[0] for ink, top in zip(inks, tops, strict=True)) + 2 * margin
    page_width = max(left + ink.shape[1] for ink, left in zip(inks, lefts, strict=True)) + 2 * margin
    page = np.zeros((page_height, page_width), np.float32)
    masks = np.zeros((len(inks), page_height, page_width), bool)
    for number, (ink, left, top) in enumerate(zip(inks, lefts, tops, strict=True)):
        where = slice(margin + top, margin + top + ink.shape[0]), slice(margin + left, margin + left + ink.shape[1])
        np.maximum(page[where], ink, out=page[where])
        masks[number][where] = ink > 0.5
    return (255 * (1 - page)).astype(np.uint8), masks


def labelled_pieces(page: np.ndarray, masks: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """Each piece every_piece() cuts the page's ink into, as its 28x28 model
    input, with its label: 1 one whole digit, 0 not."""
    try:
        ink = read_ink(page, size_by_height=True)
    except ImageError:
        return []
    height, width = ink.intensity.shape
    # Each digit's mask, sampled at the ink's pixels.
    left, top, scale = ink.placement
    rows = np.clip((top + (np.arange(height) + 0.5) / scale).astype(int), 0, page.shape[0] - 1)
    columns = np.clip((left + (np.arange(width) + 0.5) / scale).astype(int), 0, page.shape[1] - 1)
    owned = masks[:, rows[:, None], columns[None, :]] & (ink.intensity > INK_LEVEL)
    totals = np.maximum(owned.sum(axis=(1, 2)), 1)
    labels, groups = ink_digits(ink.intensity)
    examples = []
    for piece in every_piece(ink.intensity):
        left, _, piece_width, _ = piece.box
        inside = np.zeros_like(ink.intensity, dtype=bool)
        for ids, (group_left, _, group_width, _) in groups:  # the piece's own blob, not one above or below it
            if group_left <= left and left + piece_width <= group_left + group_width:
                inside[:, left:left + piece_width] |= np.isin(labels[:, left:left + piece_width], ids)
        shares = np.sort((owned & inside).sum(axis=(1, 2)) / totals)[::-1]
        second = shares[1] if len(shares) > 1 else 0.0
        if shares[0] >= WHOLE and second <= SOME_OF:
            examples.append((piece.image, 1))
        elif shares[0] < PART or second > MUCH_OF:
            examples.append((piece.image, 0))
    return examples


def piece_examples(images: np.ndarray, rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Pieces of `rows` rows of digits drawn from `images` (MNIST uint8), as
    model inputs (N, 28, 28) and labels (N,)."""
    rng = np.random.default_rng(seed)
    examples = []
    for _ in range(rows):
        digits = images[rng.integers(0, len(images), rng.choice(DIGITS_PER_ROW))]
        examples.extend(labelled_pieces(*row_of_digits(list(digits), rng)))
    if not examples:
        return np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int32)
    pieces, labels = zip(*examples, strict=True)
    return np.stack(pieces).astype(np.float32), np.array(labels, np.int32)
