"""Accuracy of the predictor on a labelled folder of user-style images.

    python benchmarks/user_style_images.py /tmp/user_images --per-kind 100 --first-test-index 2000
    python benchmarks/user_images_accuracy.py /tmp/user_images [--model models/mnist_model.h5]

The folder needs a labels.csv with `file`, `digit` and `kind` columns (as the
generator writes). Prints accuracy per kind and overall, then the misreads.
"""

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mnist_digits.files import DEFAULT_OUTPUT_DIR, MODEL_FILE  # noqa: E402
from mnist_digits.inference import load_model  # noqa: E402
from mnist_digits.prediction import predict  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--model", type=Path, default=DEFAULT_OUTPUT_DIR / MODEL_FILE)
    args = parser.parse_args()
    with open(args.folder / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    model = load_model(args.model)
    results = predict(model, [args.folder / row["file"] for row in rows])
    right, total, misreads = defaultdict(int), defaultdict(int), []
    for row, result in zip(rows, results, strict=True):
        answer = result.error or result.digit
        total[row["kind"]] += 1
        if answer == int(row["digit"]):
            right[row["kind"]] += 1
        else:
            misreads.append(f"  {row['file']}: read {answer}")
    for kind in sorted(total):
        print(f"{kind:16s} {right[kind] / total[kind]:7.1%}  ({right[kind]}/{total[kind]})")
    print(f"{'overall':16s} {sum(right.values()) / sum(total.values()):7.1%}  "
          f"({sum(right.values())}/{sum(total.values())})")
    print("misread:", *misreads, sep="\n")


if __name__ == "__main__":
    main()
