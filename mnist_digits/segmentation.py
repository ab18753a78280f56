"""Split the ink of a written number into its digits, left to right.

The image is read once as for a single digit (polarity, lighting, stroke
strength: see preprocessing.py), sized by the row's height; then its ink is
cut into pieces, and each becomes a 28x28 MNIST digit of its own. Where
digits touch, the ink offers several ways to cut it; the model reads every
piece, the piece checker says how likely each is to be one whole digit, and
best_cut() keeps the likeliest way.
"""

import math
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from mnist_digits.model import IMAGE_SIZE
from mnist_digits.preprocessing import (
    DIGIT_BOX,
    Box,
    Ink,
    Placement,
    as_mnist,
    centre_by_mass,
    fit_in_box,
    normalise_stroke,
    read_ink_file,
    read_row,
    stroke_width,
)

INK_LEVEL = 0.3  # intensity from which a pixel counts as ink when the row is cut
# Marks lower than this fraction of the tallest digit (dots, a decimal point,
# specks) are not digits.
SHORTEST_DIGIT = 0.4
# Pieces that share this much of the narrower one's width are one digit: the
# bar of a 5, an open 4, the crossbar of a 7, the dot over a 1.
SHARED_WIDTH = 0.5
# A blob wider than the row's digit height (the median) may be several
# touching digits. So may a narrower one wider than NARROW_PAIR digit
# heights (a 1 and its neighbour, two digits of a slanted font): its other
# ways to cut are read only where the piece checker doubts it is one digit.
# A blob may be cut where its columns hold the least ink, or span the least
# height, within CUT_WINDOW of a digit's height on either side; a piece is
# SLIMMEST_PIECE to WIDEST_PIECE digit heights wide (an upright 1 drawn with
# a fine pen is a tenth of its height wide, between cuts that hug it; a 0 in
# thick chalk or a flat 2 is up to 1.4, and at 1.3 had no piece).
MAY_BE_SEVERAL = 1.0
NARROW_PAIR = 0.6
CUT_WINDOW = 0.1
SLIMMEST_PIECE = 0.1
WIDEST_PIECE = 1.5
# MNIST fits its digits in a square by their longer side, and 90 % are
# narrower than tall (width over height: median 0.8, 90th percentile 1.05).
# A piece wider than tall costs this, per digit height of excess, in log
# probability: it is more often two digits the model reads as one.
WIDE_PIECE_COST = 1.0
# Ink between two neighbouring cuts that no piece covers (a joint, a
# serif, a sliver too low or too slim to be a digit) is left out at this
# cost, in log probability: as if read with 5 % confidence.
LEFT_OUT_COST = 3.0
# The whole row is read as one digit too (a wide 0 is not cut in two), but
# not where it is more than this many times wider than tall: of 5,742
# single-digit images, generated and real, the widest row was 2.7 times its
# height (a 2 with a long tail). There it stood in for pieces the piece
# checker ruled out, and six touching digits were read as one "2".
WIDEST_ONE_DIGIT_ROW = 3.0
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


def ink_digits(intensity: np.ndarray) -> tuple[np.ndarray, list[tuple[np.ndarray, Box]]]:
    """The ink's connected pieces (labels) and, for each digit they group
    into, left to right, its labels and box; boxes come from OpenCV's stats,
    not from a pass over the image for each digit."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats((intensity > INK_LEVEL).view(np.uint8), 8)
    digits = []
    for members in pieces_as_digits(stats[1:]):
        ids = np.asarray(members) + 1
        left, top = stats[ids, cv2.CC_STAT_LEFT].min(), stats[ids, cv2.CC_STAT_TOP].min()
        right = (stats[ids, cv2.CC_STAT_LEFT] + stats[ids, cv2.CC_STAT_WIDTH]).max()
        bottom = (stats[ids, cv2.CC_STAT_TOP] + stats[ids, cv2.CC_STAT_HEIGHT]).max()
        digits.append((ids, (int(left), int(top), int(right - left), int(bottom - top))))
    return labels, digits


class Piece(NamedTuple):
    """A stretch of a row of ink that may be one digit."""

    image: np.ndarray  # its 28x28 model input
    box: Box  # where it lies: in the image's pixels (or the row's, as split_row was told)
    first_cut: int  # it lies between these two of its row's cuts
    last_cut: int
    width: float  # in digit heights


IN_ROW_PIXELS = Placement()  # boxes in the row's own pixels


class Blob(NamedTuple):
    """A connected stretch of a row's ink that may be several digits."""

    mask: np.ndarray  # its pixels, in its region of the row (its box and a pixel around)
    intensity: np.ndarray  # the row's, in that region
    cuts: list[int]  # where it may be cut, in the region's columns
    first_cut: int  # the number of cuts[0] along the row
    digit_height: float  # the row's
    shortest: float  # the height a piece needs to be a digit
    pen: float  # its stroke width, measured once: a cut is no stroke's edge
    region: Placement  # where the region's pixels lie in the image

    def spans(self) -> list[tuple[int, int]]:
        """The pairs of cuts (indices) that a digit may lie between: from
        SLIMMEST_PIECE to WIDEST_PIECE digit heights apart."""
        spans = []
        for first, start in enumerate(self.cuts):
            for last in range(first + 1, len(self.cuts)):
                width = (self.cuts[last] - start) / self.digit_height
                if width > WIDEST_PIECE:
                    break
                if width >= SLIMMEST_PIECE:
                    spans.append((first, last))
        return spans

    def pieces(self, spans: list[tuple[int, int]]) -> list[Piece]:
        """Its pieces between those pairs of cuts that are tall enough and fit 28x28."""
        pieces = []
        for first, last in spans:
            found = piece_of(self.mask, self.intensity, self.cuts[first], self.cuts[last])
            if found is None:
                continue
            digit, box = found
            image = at_row_scale(digit, self.digit_height, self.pen) if box[3] >= self.shortest else None
            if image is not None:
                pieces.append(Piece(image, self.region.in_image(box), self.first_cut + first,
                                    self.first_cut + last, (self.cuts[last] - self.cuts[first]) / self.digit_height))
        return pieces


class NarrowBlob(NamedTuple):
    """A blob narrower than a digit is tall, yet wide enough to be two
    digits. It is read whole; its other ways to cut are made only where the
    piece checker doubts it is one digit, as it seldom does."""

    blob: Blob
    whole: int  # the index of its whole piece among the row's pieces

    def other_ways(self) -> list[Piece]:
        whole = (0, len(self.blob.cuts) - 1)
        return self.blob.pieces([span for span in self.blob.spans() if span != whole])


def cut_candidates(blob: np.ndarray, digit_height: float) -> list[int]:
    """Columns where touching digits in `blob` (cropped to its ink) may meet:
    its edges, and where a column holds the least ink, or spans the least
    height, of its neighbourhood. Two digits meet where little ink crosses
    (a thin joint) or where their outlines dip (between two round tops)."""
    has_ink = blob.any(axis=0)
    top, bottom = np.argmax(blob, axis=0), blob.shape[0] - np.argmax(blob[::-1], axis=0)
    side = 2 * max(1, round(CUT_WINDOW * digit_height)) + 1
    cuts = {0, blob.shape[1]}
    for profile in (blob.sum(axis=0), np.where(has_ink, bottom - top, 0)):
        profile = profile.astype(np.float32)[None]
        lowest = cv2.erode(profile, np.ones((1, side), np.uint8), borderType=cv2.BORDER_REPLICATE)[0]
        highest = cv2.dilate(profile, np.ones((1, side), np.uint8), borderType=cv2.BORDER_REPLICATE)[0]
        cuts.update(np.nonzero((profile[0] <= lowest) & (lowest < highest))[0].tolist())
    # Neighbouring columns cut alike: keep one of each run.
    apart = max(1, round(CUT_WINDOW * digit_height / 2))
    kept = [0]
    for cut in sorted(cuts)[1:]:
        if cut - kept[-1] >= apart:
            kept.append(cut)
    kept[-1] = blob.shape[1]
    return kept


def cuts_of(blob: np.ndarray, digit_height: float) -> list[int]:
    """cut_candidates() of a blob in its region, in the region's columns."""
    left, top, width, height = cv2.boundingRect(blob.view(np.uint8))
    return [left + cut for cut in cut_candidates(blob[top:top + height, left:left + width], digit_height)]


def at_row_scale(digit: np.ndarray, digit_height: float, pen: float) -> np.ndarray | None:
    """A piece as a 28x28 model input, sized by the row's digit height rather
    than by its own longer side (so that two digits read as one look as wide
    as they are); None where it would not fit, its strokes (`pen` pixels
    wide) thickened."""
    stroked = normalise_stroke(digit, pen)
    height = max(digit_height, stroked.shape[0])
    if round(stroked.shape[1] * DIGIT_BOX / height) > IMAGE_SIZE:
        return None
    return centre_by_mass(fit_in_box(stroked, height))


def piece_of(blob: np.ndarray, intensity: np.ndarray, left: int, right: int) -> tuple[np.ndarray, Box] | None:
    """The ink of `blob` between two columns with its soft rim (intensities,
    cropped to it), and its box; None where there is none."""
    start, stop = max(0, left - 1), min(blob.shape[1], right + 1)  # all the rim can reach
    part = np.zeros_like(blob[:, start:stop])
    part[:, left - start:right - start] = blob[:, left:right]
    if not part.any():
        return None
    rim = cv2.dilate(part.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)  # the rim below INK_LEVEL
    digit = np.where(rim, intensity[:, start:stop], 0)
    rim_left, rim_top, rim_width, rim_height = cv2.boundingRect((digit > 0).view(np.uint8))
    box_left, box_top, box_width, box_height = cv2.boundingRect(part.view(np.uint8))
    return (digit[rim_top:rim_top + rim_height, rim_left:rim_left + rim_width],
            (start + box_left, box_top, box_width, box_height))


def region_of(labels: np.ndarray, ids: np.ndarray, intensity: np.ndarray, box: Box,
              placement: Placement) -> tuple[np.ndarray, np.ndarray, Placement]:
    """A blob's pixels and the row's intensities in its region (its box, and
    a pixel around it for the soft rim), and where the region lies in the image."""
    left, top, width, height = box
    region_left, region_top = max(0, left - 1), max(0, top - 1)
    region = (slice(region_top, top + height + 1), slice(region_left, left + width + 1))
    return np.isin(labels[region], ids), intensity[region], placement.of_region(region_left, region_top)


def split_row(intensity: np.ndarray, placement: Placement = IN_ROW_PIXELS) -> tuple[list[Piece], list[NarrowBlob]]:
    """Every piece of a row of ink (float intensities) that may be a digit,
    with its cuts numbered along the row: a digit apart from the others
    spans one step, touching ones the ways they may be cut, and the whole
    ink, read as one digit as without --number, spans all (unless it is
    too wide for one digit: WIDEST_ONE_DIGIT_ROW). Narrow blobs are read
    whole, their other ways to cut made on demand (NarrowBlob)."""
    labels, digits = ink_digits(intensity)
    if not digits:
        return [], []
    digit_height = float(np.median([box[3] for _, box in digits]))  # most digits are apart
    shortest = SHORTEST_DIGIT * max(box[3] for _, box in digits)
    pieces: list[Piece] = []
    narrow_blobs: list[NarrowBlob] = []
    for ids, (left, top, width, height) in sorted(digits, key=lambda digit: digit[1][0]):
        if height < shortest:
            continue
        mask, ink, region = region_of(labels, ids, intensity, (left, top, width, height), placement)
        first = pieces[-1].last_cut if pieces else 0
        group = []
        if width > NARROW_PAIR * digit_height:
            blob = Blob(mask, ink, cuts_of(mask, digit_height), first, digit_height, shortest,
                        stroke_width(mask & (ink > 0.5)), region)
            spans = blob.spans()
            if width > MAY_BE_SEVERAL * digit_height:
                group = blob.pieces(spans)
            elif group := blob.pieces([(0, len(blob.cuts) - 1)]):
                if len(spans) > 1:
                    narrow_blobs.append(NarrowBlob(blob, len(pieces)))
        if not group:
            digit, box = piece_of(mask, ink, 0, mask.shape[1])
            group = [Piece(as_mnist(digit), region.in_image(box), first, first + 1, width / digit_height)]
        pieces.extend(group)
    last_cut = max((piece.last_cut for piece in pieces), default=0)
    height, width = intensity.shape
    if last_cut > 1 and width <= WIDEST_ONE_DIGIT_ROW * height:
        pieces.append(Piece(as_mnist(intensity), placement.in_image((0, 0, width, height)), 0, last_cut,
                            width / height))
    return pieces, narrow_blobs


def every_piece(intensity: np.ndarray) -> list[Piece]:
    """split_row()'s pieces with every narrow blob's other ways to cut, in
    row order: all that the piece checker may be asked about."""
    pieces, narrow_blobs = split_row(intensity)
    ways = {blob.whole: blob.other_ways() for blob in narrow_blobs}
    return [way for index, piece in enumerate(pieces)
            for way in sorted([piece, *ways.get(index, [])], key=lambda way: (way.first_cut, way.last_cut))]


def blob_spans(pieces: list[Piece]) -> set[tuple[int, int]]:
    """The cuts (first, last) between which each blob of ink lies, and the
    whole row: cuts that no piece but the row's crosses."""
    last_cut = max((piece.last_cut for piece in pieces), default=0)
    inner = [piece for piece in pieces if (piece.first_cut, piece.last_cut) != (0, last_cut)]
    crossed = {cut for piece in inner for cut in range(piece.first_cut + 1, piece.last_cut)}
    edges = sorted({0, last_cut, *(cut for piece in inner for cut in (piece.first_cut, piece.last_cut))} - crossed)
    return {*pairwise(edges), (0, last_cut)}


def best_cut(pieces: list[Piece], likelihoods: list[float]) -> list[int]:
    """Which pieces, left to right, make the likeliest reading (each piece's
    likelihood: the model's confidence, and the piece checker's): the most
    probable path from the first cut to the last. Ink between neighbouring
    cuts that no piece covers is left out, at LEFT_OUT_COST."""
    last_cut = max(piece.last_cut for piece in pieces)
    ending: list[list[int]] = [[] for _ in range(last_cut + 1)]
    for index, piece in enumerate(pieces):
        ending[piece.last_cut].append(index)
    best: list[tuple[float, list[int]]] = [(0.0, [])]
    for cut in range(1, last_cut + 1):
        ways = []
        if all(pieces[index].first_cut != cut - 1 for index in ending[cut]):
            score, path = best[cut - 1]
            ways.append((score - LEFT_OUT_COST, path))
        for index in ending[cut]:
            piece = pieces[index]
            score, path = best[piece.first_cut]
            ways.append((score + math.log(max(likelihoods[index], 1e-9)) - WIDE_PIECE_COST * max(0.0, piece.width - 1),
                         [*path, index]))
        best.append(max(ways, key=lambda way: way[0]))
    return best[last_cut][1]


def pieces_of(ink: Ink) -> tuple[list[Piece], list[NarrowBlob]]:
    """split_row() of a row of ink, with boxes in the image's pixels."""
    return split_row(ink.intensity, ink.placement)


def number_pieces(gray: np.ndarray) -> tuple[list[Piece], list[NarrowBlob]]:
    """pieces_of() the number in a grayscale uint8 image."""
    return pieces_of(read_row(gray))


def number_file_pieces(path: Path) -> tuple[list[Piece], list[NarrowBlob]]:
    """pieces_of() the number in the image at `path`."""
    return pieces_of(read_ink_file(path, size_by_height=True))


def digits_in_a_row(ink: Ink) -> int:
    """How many digits side by side the ink of an image read as one digit
    clearly holds: separate pieces, each nearly as tall as the tallest, in a
    row wider than it is tall; else 1. (A wide 0 is not cut in two here.)"""
    height, width = ink.intensity.shape
    if width < ROW_ASPECT * height:
        return 1
    heights = [box[3] for _, box in ink_digits(ink.intensity)[1]]
    tall = [height for height in heights if height >= CLEARLY_A_DIGIT * max(heights, default=0)]
    return len(tall) if len(tall) > 1 else 1
