"""Read digits from many image files: expand folders, preprocess in parallel,
predict in batches, and keep going past the files that fail."""

import os
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

import numpy as np

from mnist_digits.inference import BATCH
from mnist_digits.model import INPUT_SHAPE
from mnist_digits.preprocessing import IMAGE_SUFFIXES, ImageError, preprocess_file

UNCERTAIN_BELOW = 0.6  # top probability under which an answer is flagged as a guess
PARALLEL_FROM = 64  # fewer images than this are not worth starting worker processes


@dataclass
class Result:
    path: Path
    image: np.ndarray | None = None  # the 28x28 the model saw
    probabilities: np.ndarray | None = None
    error: str | None = None

    @property
    def digit(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))

    @property
    def uncertain(self) -> bool:
        return self.confidence < UNCERTAIN_BELOW


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


def read_digit(path: Path) -> Result:
    try:
        return Result(path, image=preprocess_file(path))
    except ImageError as error:
        return Result(path, error=str(error))
    except Exception as error:  # a broken file must not stop the batch
        return Result(path, error=f"cannot read image ({type(error).__name__}: {error})")


def start_method() -> str:
    """fork starts workers fastest, but is unsafe once TensorFlow's threads
    run (the Keras fallback), and Windows has none."""
    if "fork" in get_all_start_methods() and "tensorflow" not in sys.modules:
        return "fork"
    return "spawn"


def read_digits(paths: list[Path]) -> Iterator[Result]:
    """Preprocess the images in order, in worker processes when there are many."""
    workers = min(os.cpu_count() or 1, 8)
    if len(paths) < PARALLEL_FROM or workers < 2:
        yield from map(read_digit, paths)
        return
    with ProcessPoolExecutor(workers, mp_context=get_context(start_method())) as pool:
        yield from pool.map(read_digit, paths, chunksize=8)


def predict(model, paths: list[Path]) -> Iterator[Result]:
    """Results in the order of `paths`; inference overlaps preprocessing."""
    pending: list[Result] = []

    def flush() -> Iterator[Result]:
        readable = [result for result in pending if result.image is not None]
        if readable:
            batch = np.stack([result.image for result in readable]).reshape(-1, *INPUT_SHAPE)
            for result, probabilities in zip(readable, model.predict(batch), strict=True):
                result.probabilities = probabilities
        yield from pending
        pending.clear()

    for result in read_digits(paths):
        pending.append(result)
        if len(pending) == BATCH:
            yield from flush()
    yield from flush()
