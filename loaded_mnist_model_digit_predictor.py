#!/usr/bin/env python3
"""Read the handwritten digit in each image with the trained MNIST model.

examples:
  mnist-predict my_digit.jpg                 (or: python loaded_mnist_model_digit_predictor.py ...)
  mnist-predict photos/ scan.tif --top-k 3
  mnist-predict house_number.jpg --number    every digit, left to right: 2025
  mnist-predict samples/ --json | head -1
  mnist-predict my_digit.jpg --save-inputs seen/

the model: --model if given; else models/mnist_model.h5 in the current
folder, if you trained one there; else the model installed with the package
(a note on stderr says so). Each image is made to look like an MNIST digit
first; --save-inputs shows what the model saw. Exit status: 0 if every image
was read, 1 if some failed, 2 for a usage or model problem.
"""

import argparse
import json
import os
import sys
from pathlib import Path

# Batches of 28x28 digits are small: one BLAS thread runs them as fast as two,
# and leaves the other core to the processes that read the images. (Read when
# NumPy is first imported, so it is set before.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from mnist_digits.answers import answer_fields, number_hint, seen_image  # noqa: E402
from mnist_digits.files import LOCAL_MODEL, atomic_path  # noqa: E402
from mnist_digits.inference import ModelError, load_model_to_use, load_piece_checker  # noqa: E402
from mnist_digits.prediction import NumberResult, Result, expand_paths, predict  # noqa: E402
from mnist_digits.quiet import quiet_on_closed_pipe  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    description, _, epilog = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(description=description, epilog=epilog,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="image files or folders of images")
    parser.add_argument("--model", type=Path,
                        help=f"a Keras .h5 or .keras model (default: {LOCAL_MODEL} if present, else the installed one)")
    parser.add_argument("--top-k", type=int, default=1, metavar="K",
                        help="also show the next K-1 likeliest digits (default 1)")
    parser.add_argument("--number", action="store_true",
                        help="read every digit in each image, left to right, as a number")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--save-inputs", type=Path, metavar="DIR",
                        help="save the 28x28 image the model saw, as DIR/<name>.28x28.png "
                             "(with --number, DIR/<name>.0.28x28.png, DIR/<name>.1.28x28.png, ...)")
    args = parser.parse_args(argv)
    if not 1 <= args.top_k <= 10:
        parser.error("--top-k must be between 1 and 10")
    return args


def ranked_after_first(result: Result, top_k: int) -> list[str]:
    """The next top_k - 1 likeliest digits, as `7 (1.2%)`."""
    ranked = np.argsort(result.probabilities)[::-1][1:top_k]
    return [f"{digit} ({result.probabilities[digit]:.1%})" for digit in ranked]


def as_text(result: Result | NumberResult, top_k: int) -> str:
    if isinstance(result, NumberResult):
        digits = []
        for digit in result.digits:
            text = f"{digit.digit} {digit.confidence:.0%}" + (" uncertain" if digit.uncertain else "")
            if top_k > 1:
                text += f" (next {', '.join(ranked_after_first(digit, top_k))})"
            digits.append(text)
        return f"{result.path}: {result.number} (digits {', '.join(digits)})"
    line = f"{result.path}: {result.digit} (confidence {result.confidence:.1%})"
    if result.uncertain:
        line += " uncertain"
    if top_k > 1:
        line += "; next: " + ", ".join(ranked_after_first(result, top_k))
    if hint := number_hint(result):
        line += f"; {hint}"
    return line


def as_json(result: Result | NumberResult) -> str:
    return json.dumps({"path": str(result.path), **answer_fields(result)})


def save_inputs(result: Result | NumberResult, folder: Path) -> None:
    if isinstance(result, NumberResult):
        named = [(f"{result.path.stem}.{index}.28x28.png", digit.image) for index, digit in enumerate(result.digits)]
    else:
        named = [(f"{result.path.stem}.28x28.png", result.image)]
    for name, image in named:
        with atomic_path(folder / name) as temporary:
            seen_image(image).save(temporary)


@quiet_on_closed_pipe
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        _, model = load_model_to_use(args.model)
        piece_checker = load_piece_checker() if args.number else None
    except ModelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    paths, notes = expand_paths(args.paths)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    failures = 0
    try:
        for result in predict(model, paths, numbers=args.number, piece_checker=piece_checker):
            failures += result.error is not None
            if args.json:
                print(as_json(result))
            elif result.error:
                print(f"error: {result.path}: {result.error}", file=sys.stderr)
            else:
                print(as_text(result, args.top_k))
            if args.save_inputs and result.error is None:
                save_inputs(result, args.save_inputs)
    except KeyboardInterrupt:
        return 130
    return 1 if failures or not paths else 0


if __name__ == "__main__":
    sys.exit(main())
