"""Read digits, or numbers, from many image files: expand folders, preprocess
in parallel, predict in batches, and keep going past the files that fail."""

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from mnist_digits.inference import BATCH
from mnist_digits.model import INPUT_SHAPE, WHOLE_DIGIT
from mnist_digits.preprocessing import IMAGE_SUFFIXES, Box, ImageError, digit_file_readings
from mnist_digits.segmentation import NarrowBlob, Piece, best_cut, blob_spans, digits_in_a_row, number_file_pieces

UNCERTAIN_BELOW = 0.6  # top probability under which an answer is flagged as a guess
# Where the image leaves the ink's polarity in doubt, the other reading wins
# only if the model is this many times surer of it: the first guess is right
# more often than not, and the paper between a frame-filling digit's strokes
# can look like a confident 1 or 0. On 1,797 real 8x8 scans (UCI optdigits),
# 1.5 reads 16 more right than 1.2; on generated coarse scans it is even.
OTHER_READING_MARGIN = 1.5
# The piece checker's word counts a quarter of the model's: it learnt from
# drawn rows of digits only, and is sure of its mistakes (a 1 cut from a row
# looks like the stem of a 4 cut from it). On 1,200 generated numbers, a
# quarter read touching ones right as often as a half, or up to 1.5 points
# more, and 2-3 points more often than all of it.
PIECE_CHECKER_WEIGHT = 0.25
# Since it cannot tell a 1 from the stem of a 4, 7 or 9 cut from the same
# row, where the model reads a piece as a 1 the checker's word counts as at
# least this, and the rest of the row decides: a stem's remainder is no
# digit. On 3,000 generated numbers, 4 more read right (a 1 touching its
# neighbour had been read with it as one digit) and 1 fewer (a 7 read as
# its stem, a 1).
LEAST_WHOLE_OF_A_ONE = 0.2
# Pieces the piece checker is this sure are not whole digits are not read by
# the model: on 1,200 generated numbers, leaving them out changed no reading,
# and they are 38 % of all pieces.
LEAST_WHOLE = 0.03
# A blob narrower than a digit is tall is cut only where the piece checker is
# less sure than this that it is one whole digit: on 1,800 generated numbers,
# cutting every one read 3 more right, with 60 % more pieces to check.
DOUBTED_WHOLE = 0.5
PARALLEL_FROM = 64  # fewer images than this are not worth starting worker processes


@dataclass
class Result:
    path: Path
    image: np.ndarray | None = None  # the 28x28 the model saw
    probabilities: np.ndarray | None = None
    error: str | None = None
    box: Box | None = None  # where the digit is, in a number
    whole: float = 1.0  # in a number: how sure the piece checker is that this piece is one whole digit
    digits_in_a_row: int = 1  # how many the image seems to hold, when read as one digit
    other_readings: list["Result"] = field(default_factory=list)  # the image read another way

    def readings(self) -> list["Result"]:
        """What the model must read for this image."""
        return [self, *self.other_readings] if self.image is not None else []

    def settle(self) -> None:
        """Take the other reading the model is surest of, if clearly surer than
        of the first, once all have probabilities."""
        other = max(self.other_readings, key=lambda reading: reading.confidence, default=None)
        if other is not None and other.confidence > OTHER_READING_MARGIN * self.confidence:
            self.image, self.probabilities, self.digits_in_a_row = (
                other.image, other.probabilities, other.digits_in_a_row)
        self.other_readings = []

    @classmethod
    def of_piece(cls, path: Path, piece: Piece) -> "Result":
        """A piece of a number, to be read."""
        return cls(path, image=piece.image, box=piece.box)

    @property
    def digit(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))

    @property
    def uncertain(self) -> bool:
        return self.confidence < UNCERTAIN_BELOW

    @property
    def likelihood(self) -> float:
        """How likely this piece of a number is to be one digit, read right:
        the model's confidence, weighed by the piece checker's word."""
        whole = max(self.whole, LEAST_WHOLE_OF_A_ONE) if self.digit == 1 else self.whole
        return self.confidence * whole ** PIECE_CHECKER_WEIGHT


@dataclass
class NumberResult:
    path: Path
    digits: list[Result] = field(default_factory=list)  # left to right
    error: str | None = None
    # Every piece of ink that may be a digit, and the model's readings of them.
    pieces: list[Piece] = field(default_factory=list)
    piece_readings: list[Result] = field(default_factory=list)
    narrow_blobs: list[NarrowBlob] = field(default_factory=list)  # read whole, unless the piece checker doubts it

    @property
    def number(self) -> str:
        return "".join(str(digit.digit) for digit in self.digits)

    @property
    def uncertain(self) -> bool:
        return any(digit.uncertain for digit in self.digits)

    def doubted_ways_to_cut(self) -> list[Result]:
        """The other ways to cut each narrow blob that the piece checker
        doubts is one digit: made now, and added to the pieces."""
        ways = [way for blob in self.narrow_blobs if self.piece_readings[blob.whole].whole < DOUBTED_WHOLE
                for way in blob.other_ways()]
        readings = [Result.of_piece(self.path, way) for way in ways]
        self.pieces += ways
        self.piece_readings += readings
        self.narrow_blobs = []
        return readings

    def readings(self) -> list[Result]:
        """The pieces the model must read: all but those the piece checker
        rules out, and never one that spans a blob of ink or the row, so that
        a way through every blob remains."""
        spans = blob_spans(self.pieces)
        return [reading for piece, reading in zip(self.pieces, self.piece_readings, strict=True)
                if reading.whole >= LEAST_WHOLE or (piece.first_cut, piece.last_cut) in spans]

    def settle(self) -> None:
        """The digits: the ink cut into the pieces most likely to be whole
        digits, read the way the model is surest of."""
        if self.pieces:
            read = [index for index, reading in enumerate(self.piece_readings) if reading.probabilities is not None]
            chosen = best_cut([self.pieces[index] for index in read],
                              [self.piece_readings[index].likelihood for index in read])
            self.digits = [self.piece_readings[read[index]] for index in chosen]
            self.error = None if chosen else "no digit found"
        self.pieces, self.piece_readings, self.narrow_blobs = [], [], []


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """Image files named or inside named folders, and notes on what was skipped.

    A file named explicitly is always tried; in a folder, only files whose
    suffix says image are (a labels.csv beside the images is not an error).
    """
    files, notes = [], []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        entries = sorted(entry for entry in path.iterdir()
                         if entry.is_file() and not entry.name.startswith("."))
        images = [entry for entry in entries if entry.suffix.lower() in IMAGE_SUFFIXES]
        if len(images) < len(entries):
            notes.append(f"{path}: skipped {len(entries) - len(images)} non-image file(s)")
        if not images:
            notes.append(f"{path}: no image files in this folder")
        files.extend(images)
    return files, notes


def read_or_why_not(read: Callable[[Path], object], path: Path) -> tuple[object, str | None]:
    """What `read` makes of the file, or why it could not."""
    try:
        return read(path), None
    except ImageError as error:
        return None, str(error)
    except Exception as error:  # a broken file must not stop the batch
        return None, f"cannot read image ({type(error).__name__}: {error})"


def read_digit(path: Path) -> Result:
    def inputs(file: Path) -> list[Result]:
        return [Result(file, image=image, digits_in_a_row=1 if ink is None else digits_in_a_row(ink))
                for image, ink in digit_file_readings(file)]

    results, error = read_or_why_not(inputs, path)
    if error is not None:
        return Result(path, error=error)
    likely, *others = results
    likely.other_readings = others
    return likely


def read_number(path: Path) -> NumberResult:
    row, error = read_or_why_not(number_file_pieces, path)
    pieces, narrow_blobs = row or ([], [])
    if error is None and not pieces:
        error = "no digit found"
    return NumberResult(path, error=error, pieces=pieces, narrow_blobs=narrow_blobs,
                        piece_readings=[Result.of_piece(path, piece) for piece in pieces])


def start_method() -> str:
    """fork starts workers fastest, but is unsafe once TensorFlow's threads
    run (the Keras fallback), and Windows has none."""
    from multiprocessing import get_all_start_methods

    if "fork" in get_all_start_methods() and "tensorflow" not in sys.modules:
        return "fork"
    return "spawn"


def read_all(paths: list[Path], read: Callable[[Path], Result | NumberResult]) -> Iterator[Result | NumberResult]:
    """Preprocess the images in order, in worker processes when there are many
    (imported only then: multiprocessing takes 24 ms of a 0.3 s cold start)."""
    workers = min(os.cpu_count() or 1, 8)
    if len(paths) < PARALLEL_FROM or workers < 2:
        yield from map(read, paths)
        return
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(workers, mp_context=get_context(start_method())) as pool:
        yield from pool.map(read, paths, chunksize=8)


def as_batch(readings: list[Result]) -> np.ndarray:
    return np.stack([reading.image for reading in readings]).reshape(-1, *INPUT_SHAPE)


def check_pieces(piece_checker, pieces: list[Result]) -> None:
    """How sure the piece checker is that each piece is one whole digit."""
    if pieces:
        for reading, whole in zip(pieces, piece_checker.predict(as_batch(pieces))[:, WHOLE_DIGIT], strict=True):
            reading.whole = float(whole)


def predict(model, paths: list[Path], numbers: bool = False,
            piece_checker=None) -> Iterator[Result | NumberResult]:
    """Results in the order of `paths` (whole numbers, if `numbers`, cut where
    `piece_checker` finds whole digits); inference overlaps preprocessing."""
    pending: list[Result | NumberResult] = []

    def flush() -> Iterator[Result | NumberResult]:
        if numbers and piece_checker is not None:  # first: the model need not read what it rules out
            check_pieces(piece_checker, [reading for result in pending for reading in result.piece_readings])
            check_pieces(piece_checker, [reading for result in pending for reading in result.doubted_ways_to_cut()])
        inputs = [reading for result in pending for reading in result.readings()]
        if inputs:
            for reading, probabilities in zip(inputs, model.predict(as_batch(inputs)), strict=True):
                reading.probabilities = probabilities
        for result in pending:
            result.settle()
        yield from pending
        pending.clear()

    for result in read_all(paths, read_number if numbers else read_digit):
        pending.append(result)
        if len(pending) == BATCH:
            yield from flush()
    yield from flush()


def predict_one(model, image: Path | BinaryIO, numbers: bool = False,
                piece_checker=None) -> Result | NumberResult:
    """predict() for one image: a file, or a binary file object holding it
    (an upload read into memory, never written to disk). The readers take
    either, as Pillow's Image.open does; the result's `path` is then that object."""
    result, = predict(model, [image], numbers, piece_checker)
    return result
