#!/usr/bin/env python3
"""Read the handwritten digit in each image with the trained MNIST model.

    python loaded_mnist_model_digit_predictor.py samples/handwritten_digit.png
    python loaded_mnist_model_digit_predictor.py samples/ --json

Each image is made to look like an MNIST digit first (see
mnist_digits/preprocessing.py); --save-inputs shows what the model saw.
Exit status: 0 if every image was read, 1 if some failed, 2 for a usage or
model problem.
"""

import argparse
import json
import os
import sys
from pathlib import Path

# Only a model the NumPy path cannot run brings TensorFlow in; keep it quiet then.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Batches of 28x28 digits are small: one BLAS thread runs them as fast as two,
# and leaves the other core to the processes that read the images. (Read when
# NumPy is first imported, so it is set before.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from mnist_digits.files import DEFAULT_OUTPUT_DIR, MODEL_FILE, atomic_path  # noqa: E402
from mnist_digits.inference import ModelError, load_model  # noqa: E402
from mnist_digits.prediction import Result, expand_paths, predict  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="image files or folders of images")
    parser.add_argument("--model", type=Path, default=DEFAULT_OUTPUT_DIR / MODEL_FILE,
                        help=f"a Keras .h5 or .keras model (default {DEFAULT_OUTPUT_DIR / MODEL_FILE})")
    parser.add_argument("--top-k", type=int, default=1, metavar="K", help="also show the next K-1 likeliest digits")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--save-inputs", type=Path, metavar="DIR",
                        help="save the 28x28 image the model saw, as DIR/<name>.28x28.png")
    args = parser.parse_args(argv)
    if not 1 <= args.top_k <= 10:
        parser.error("--top-k must be between 1 and 10")
    return args


def as_text(result: Result, top_k: int) -> str:
    ranked = np.argsort(result.probabilities)[::-1][:top_k]
    line = f"{result.path}: {result.digit} (confidence {result.confidence:.1%})"
    if result.uncertain:
        line += " uncertain"
    if top_k > 1:
        line += "; next: " + ", ".join(f"{d} ({result.probabilities[d]:.1%})" for d in ranked[1:])
    return line


def as_json(result: Result) -> str:
    if result.error:
        return json.dumps({"path": str(result.path), "error": result.error})
    return json.dumps({"path": str(result.path), "digit": result.digit,
                       "confidence": round(result.confidence, 6), "uncertain": result.uncertain,
                       "probabilities": [round(float(p), 6) for p in result.probabilities]})


def save_input(result: Result, folder: Path) -> None:
    from PIL import Image

    with atomic_path(folder / f"{result.path.stem}.28x28.png") as temporary:
        Image.fromarray((result.image * 255).round().astype(np.uint8)).save(temporary)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        model = load_model(args.model)
    except ModelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    paths, notes = expand_paths(args.paths)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    failures = 0
    try:
        for result in predict(model, paths):
            failures += result.error is not None
            if args.json:
                print(as_json(result))
            elif result.error:
                print(f"error: {result.path}: {result.error}", file=sys.stderr)
            else:
                print(as_text(result, args.top_k))
            if args.save_inputs and result.image is not None:
                save_input(result, args.save_inputs)
    except KeyboardInterrupt:
        return 130
    return 1 if failures or not paths else 0


if __name__ == "__main__":
    sys.exit(main())
