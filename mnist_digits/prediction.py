"""Read digits, or numbers, from many image files: expand folders, preprocess
in parallel, predict in batches, and keep going past the files that fail."""

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import BinaryIO

import numpy as np

from mnist_digits.inference import BATCH
from mnist_digits.model import INPUT_SHAPE
from mnist_digits.preprocessing import IMAGE_SUFFIXES, ImageError, as_mnist, read_ink_file
from mnist_digits.segmentation import Box, digits_in_a_row, number_file_digits

UNCERTAIN_BELOW = 0.6  # top probability under which an answer is flagged as a guess
PARALLEL_FROM = 64  # fewer images than this are not worth starting worker processes


@dataclass
class Result:
    path: Path
    image: np.ndarray | None = None  # the 28x28 the model saw
    probabilities: np.ndarray | None = None
    error: str | None = None
    box: Box | None = None  # where the digit is, in a number
    digits_in_a_row: int = 1  # how many the image seems to hold, when read as one digit

    def readable(self) -> list["Result"]:
        return [self] if self.image is not None else []

    @property
    def digit(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))

    @property
    def uncertain(self) -> bool:
        return self.confidence < UNCERTAIN_BELOW


@dataclass
class NumberResult:
    path: Path
    digits: list[Result] = field(default_factory=list)  # left to right
    error: str | None = None

    @property
    def number(self) -> str:
        return "".join(str(digit.digit) for digit in self.digits)

    @property
    def uncertain(self) -> bool:
        return any(digit.uncertain for digit in self.digits)

    def readable(self) -> list[Result]:
        return self.digits


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
    ink, error = read_or_why_not(read_ink_file, path)
    if error is not None:
        return Result(path, error=error)
    return Result(path, image=as_mnist(ink.intensity), digits_in_a_row=digits_in_a_row(ink))


def read_number(path: Path) -> NumberResult:
    digits, error = read_or_why_not(number_file_digits, path)
    if error is None and not digits:
        error = "no digit found"
    return NumberResult(path, [Result(path, image=image, box=box) for image, box in digits or []], error)


def start_method() -> str:
    """fork starts workers fastest, but is unsafe once TensorFlow's threads
    run (the Keras fallback), and Windows has none."""
    if "fork" in get_all_start_methods() and "tensorflow" not in sys.modules:
        return "fork"
    return "spawn"


def read_all(paths: list[Path], read: Callable[[Path], Result | NumberResult]) -> Iterator[Result | NumberResult]:
    """Preprocess the images in order, in worker processes when there are many."""
    workers = min(os.cpu_count() or 1, 8)
    if len(paths) < PARALLEL_FROM or workers < 2:
        yield from map(read, paths)
        return
    with ProcessPoolExecutor(workers, mp_context=get_context(start_method())) as pool:
        yield from pool.map(read, paths, chunksize=8)


def predict(model, paths: list[Path], numbers: bool = False) -> Iterator[Result | NumberResult]:
    """Results in the order of `paths` (whole numbers, if `numbers`);
    inference overlaps preprocessing."""
    pending: list[Result | NumberResult] = []

    def flush() -> Iterator[Result | NumberResult]:
        readable = [digit for result in pending for digit in result.readable()]
        if readable:
            batch = np.stack([result.image for result in readable]).reshape(-1, *INPUT_SHAPE)
            for result, probabilities in zip(readable, model.predict(batch), strict=True):
                result.probabilities = probabilities
        yield from pending
        pending.clear()

    for result in read_all(paths, read_number if numbers else read_digit):
        pending.append(result)
        if len(pending) == BATCH:
            yield from flush()
    yield from flush()


def predict_one(model, image: Path | BinaryIO, numbers: bool = False) -> Result | NumberResult:
    """predict() for one image: a file, or a binary file object holding it
    (an upload read into memory, never written to disk). The readers take
    either, as Pillow's Image.open does; the result's `path` is then that object."""
    result, = predict(model, [image], numbers)
    return result
