"""Split the ink of a written number into its digits, left to right.

The image is read once as for a single digit (polarity, lighting, stroke
strength: see preprocessing.py), sized by the row's height; then its ink is
cut into digits, and each becomes a 28x28 MNIST digit of its own.
"""

from pathlib import Path

import cv2
import numpy as np

from mnist_digits.preprocessing import Ink, as_mnist, read_ink, read_ink_file

Box = tuple[int, int, int, int]  # left, top, width, height

INK_LEVEL = 0.3  # intensity from which a pixel counts as ink when the row is cut
# Marks lower than this fraction of the tallest digit (dots, a decimal point,
# specks) are not digits.
SHORTEST_DIGIT = 0.4
# Pieces that share this much of the narrower one's width are one digit: the
# bar of a 5, an open 4, the crossbar of a 7, the dot over a 1.
SHARED_WIDTH = 0.5
# A blob wider than this times a digit's height (the row's median) is several
# touching digits, each about DIGIT_WIDTH times as wide as it is tall (MNIST's
# median is 0.8; 10 % are under 0.5, 10 % over 1.05).
WIDEST_DIGIT = 1.1
DIGIT_WIDTH = 0.8
# Ink this many times wider than tall, in separate pieces each at least
# CLEARLY_A_DIGIT of the tallest one's height, is a row of digits.
ROW_ASPECT = 1.2
CLEARLY_A_DIGIT = 0.6


def pieces_as_digits(stats: np.ndarray) -> list[list[int]]:
    """Connected pieces (OpenCV stats rows) grouped into digits, left to right."""
    order = sorted(range(len(stats)), key=lambda index: stats[index, cv2.CC_STAT_LEFT])
    digits: list[list[int]] = []
    spans: list[tuple[int, int]] = []
    for index in order:
        left, width = stats[index, cv2.CC_STAT_LEFT], stats[index, cv2.CC_STAT_WIDTH]
        for number, (span_left, span_right) in enumerate(spans):
            shared = min(span_right, left + width) - max(span_left, left)
            if shared >= SHARED_WIDTH * min(width, span_right - span_left):
                digits[number].append(index)
                spans[number] = (min(span_left, left), max(span_right, left + width))
                break
        else:
            digits.append([index])
            spans.append((left, left + width))
    return digits


def cut_columns(ink: np.ndarray, count: int) -> list[int]:
    """Where to cut a blob of `count` touching digits: near each equal share of
    its width, at the column where the blob is lowest from top to bottom.
    Two digits meet where their outlines dip (between two round tops), while
    the inside of a 0 still spans its full height."""
    has_ink = ink.any(axis=0)
    top, bottom = np.argmax(ink, axis=0), ink.shape[0] - np.argmax(ink[::-1], axis=0)
    extent = np.where(has_ink, bottom - top, 0)
    share = ink.shape[1] / count
    cuts = [0]
    for index in range(1, count):
        low, high = round((index - 0.3) * share), round((index + 0.3) * share)
        cuts.append(low + int(np.argmin(extent[low:high + 1])))
    return [*cuts, ink.shape[1]]


def split_row(intensity: np.ndarray) -> list[tuple[np.ndarray, Box]]:
    """The digits in a row of ink (float intensities): each one's intensities,
    cropped to it, and its box in the row's pixels; left to right."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats((intensity > INK_LEVEL).view(np.uint8), 8)
    if count == 1:
        return []
    blobs = [np.isin(labels, np.asarray(members) + 1) for members in pieces_as_digits(stats[1:])]
    boxes = [cv2.boundingRect(blob.view(np.uint8)) for blob in blobs]
    row_height = float(np.median([height for _, _, _, height in boxes]))  # a digit's, most of them separate
    digits = []
    for mask, (left, top, width, height) in zip(blobs, boxes, strict=True):
        wide = width > WIDEST_DIGIT * row_height
        columns = cut_columns(mask[top:top + height, left:left + width],
                              max(1, round(width / (DIGIT_WIDTH * row_height))) if wide else 1)
        for start, end in zip(columns, columns[1:], strict=False):
            part = np.zeros_like(mask)
            part[top:top + height, left + start:left + end] = mask[top:top + height, left + start:left + end]
            digits.append((part, cv2.boundingRect(part.view(np.uint8))))
    tallest = max(box[3] for _, box in digits)
    found = []
    for part, (left, top, width, height) in digits:
        if height < SHORTEST_DIGIT * tallest:
            continue
        # The soft rim below INK_LEVEL belongs to the digit it surrounds.
        rim = cv2.dilate(part.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
        digit = np.where(rim, intensity, 0)
        rim_left, rim_top, rim_width, rim_height = cv2.boundingRect((digit > 0).view(np.uint8))
        found.append((digit[rim_top:rim_top + rim_height, rim_left:rim_left + rim_width], (left, top, width, height)))
    return sorted(found, key=lambda digit: digit[1][0])


def in_image(ink: Ink, box: Box) -> Box:
    """A box in the ink's pixels as one in the original image's."""
    left, top, width, height = box
    return (round(ink.left + left / ink.scale), round(ink.top + top / ink.scale),
            max(1, round(width / ink.scale)), max(1, round(height / ink.scale)))


def digits_of(ink: Ink) -> list[tuple[np.ndarray, Box]]:
    """Each digit in a row of ink, left to right: its 28x28 model input and
    its box in the image's pixels."""
    return [(as_mnist(digit), in_image(ink, box)) for digit, box in split_row(ink.intensity)]


def number_digits(gray: np.ndarray) -> list[tuple[np.ndarray, Box]]:
    """digits_of() the number in a grayscale uint8 image."""
    return digits_of(read_ink(gray, size_by_height=True))


def number_file_digits(path: Path) -> list[tuple[np.ndarray, Box]]:
    """digits_of() the number in the image at `path`."""
    return digits_of(read_ink_file(path, size_by_height=True))


def digits_in_a_row(ink: Ink) -> int:
    """How many digits side by side the ink of an image read as one digit
    clearly holds: separate pieces, each nearly as tall as the tallest, in a
    row wider than it is tall; else 1. (A wide 0 is not cut in two here.)"""
    height, width = ink.intensity.shape
    if width < ROW_ASPECT * height:
        return 1
    count, labels, stats, _ = cv2.connectedComponentsWithStats((ink.intensity > INK_LEVEL).view(np.uint8), 8)
    heights = []
    for members in pieces_as_digits(stats[1:]):
        tops = stats[np.asarray(members) + 1, cv2.CC_STAT_TOP]
        bottoms = tops + stats[np.asarray(members) + 1, cv2.CC_STAT_HEIGHT]
        heights.append(bottoms.max() - tops.min())
    tall = [height for height in heights if height >= CLEARLY_A_DIGIT * max(heights, default=0)]
    return len(tall) if len(tall) > 1 else 1
