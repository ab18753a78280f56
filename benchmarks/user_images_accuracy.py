"""Accuracy on a labelled folder of user images: the predictor against the plain MNIST recipe and a naive resize.

    python benchmarks/user_style_images.py /tmp/user_images --per-kind 100 --first-test-index 2000
    python benchmarks/user_images_accuracy.py /tmp/user_images [--model models/mnist_model.h5]
    python benchmarks/user_images_accuracy.py ../shared/real-dev --by repo

The folder needs a labels.csv with a `file` column, the digit in `digit` (as
the generator writes) or `label` (as ../shared/real-dev has), and a `kind`.
All three read the images with the same model; prints accuracy per kind (or
per `--by` column) and overall, then the predictor's misreads.
"""

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.baselines import BASELINES  # noqa: E402
from mnist_digits.files import DEFAULT_OUTPUT_DIR, MODEL_FILE  # noqa: E402
from mnist_digits.inference import load_model  # noqa: E402
from mnist_digits.model import INPUT_SHAPE  # noqa: E402
from mnist_digits.prediction import predict  # noqa: E402

METHODS = ["ours", *BASELINES]


def baseline_answers(model, method: str, paths: list[Path]) -> list[int | None]:
    """The digit `method`'s input makes the model read; None where it could not read the file."""
    inputs = []
    for path in paths:
        try:
            inputs.append(BASELINES[method](path))
        except Exception:  # a baseline that fails on a file has it wrong
            inputs.append(None)
    readable = [x for x in inputs if x is not None]
    digits = iter(model.predict(np.stack(readable).reshape(-1, *INPUT_SHAPE)).argmax(axis=1)) if readable else None
    return [None if x is None else int(next(digits)) for x in inputs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--model", type=Path, default=DEFAULT_OUTPUT_DIR / MODEL_FILE)
    parser.add_argument("--by", default="kind", help="the labels.csv column to group by (default kind)")
    args = parser.parse_args()
    with open(args.folder / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    model = load_model(args.model)
    paths = [args.folder / row["file"] for row in rows]
    truth = [int(row.get("digit") or row["label"]) for row in rows]
    answers = {"ours": [result.error or result.digit for result in predict(model, paths)]}
    answers.update({method: baseline_answers(model, method, paths) for method in BASELINES})

    right: dict[str, dict[str, int]] = {method: defaultdict(int) for method in METHODS}
    total: dict[str, int] = defaultdict(int)
    for index, row in enumerate(rows):
        total[row[args.by]] += 1
        for method in METHODS:
            right[method][row[args.by]] += answers[method][index] == truth[index]
    width = max(len(group) for group in [*total, "overall"])
    print(f"{args.by:{width}s}  {'images':>6s}  " + "  ".join(f"{method:>7s}" for method in METHODS))
    for group in sorted(total):
        print(f"{group:{width}s}  {total[group]:6d}  "
              + "  ".join(f"{right[method][group] / total[group]:7.1%}" for method in METHODS))
    count = sum(total.values())
    print(f"{'overall':{width}s}  {count:6d}  "
          + "  ".join(f"{sum(right[method].values()) / count:7.1%}" for method in METHODS))
    print("misread by ours:", *(f"  {row['file']} ({row[args.by]}): {truth[i]} read as {answers['ours'][i]}"
                                for i, row in enumerate(rows) if answers["ours"][i] != truth[i]), sep="\n")


if __name__ == "__main__":
    main()
