"""Accuracy of `--number` on a labelled folder of number images: whole numbers per spacing and style, and digits.

    python benchmarks/number_images.py /tmp/numbers --per-kind 50 --first-test-index 5000
    python benchmarks/number_accuracy.py /tmp/numbers [--model models/mnist_model.h5]

The folder needs a labels.csv with `file`, `number`, `style` and `spacing`
columns (as number_images.py writes). A digit counts as right where the
number was cut into as many digits as it has and that one reads right.
Numbers written in handwriting fonts (a `font` column) get a table of their own.
"""

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mnist_digits.files import LOCAL_MODEL  # noqa: E402
from mnist_digits.inference import load_model, load_piece_checker  # noqa: E402
from mnist_digits.prediction import predict  # noqa: E402


def print_table(title: str, whole: dict[tuple[str, str], list[bool]]) -> None:
    """Share of numbers read right per spacing (rows) and style (columns)."""
    styles = sorted({style for _, style in whole})
    print(f"{title:14s}" + "".join(f"{style:>9s}" for style in styles) + f"{'all':>9s}")
    for spacing in ("spaced", "tight", "touching"):
        cells = [whole[spacing, style] for style in styles]
        every = [right for cell in cells for right in cell]
        print(f"{spacing:14s}" + "".join(f"{sum(cell) / max(len(cell), 1):9.1%}" for cell in cells)
              + f"{sum(every) / max(len(every), 1):9.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--model", type=Path, default=LOCAL_MODEL)
    args = parser.parse_args()
    with open(args.folder / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    model = load_model(args.model)
    results = predict(model, [args.folder / row["file"] for row in rows], numbers=True,
                      piece_checker=load_piece_checker())
    whole: dict[tuple[str, str], list[bool]] = defaultdict(list)
    in_fonts: dict[tuple[str, str], list[bool]] = defaultdict(list)
    digits_right = digits = 0
    misreads = []
    for row, result in zip(rows, results, strict=True):
        read = result.error or result.number
        whole[row["spacing"], row["style"]].append(read == row["number"])
        if row.get("font"):
            in_fonts[row["spacing"], row["style"]].append(read == row["number"])
        digits += len(row["number"])
        if len(read) == len(row["number"]):
            digits_right += sum(a == b for a, b in zip(read, row["number"], strict=True))
        if read != row["number"]:
            misreads.append(f"  {row['file']}: {row['number']} read as {read}")
    print_table("whole numbers", whole)
    if 0 < sum(map(len, in_fonts.values())) < len(rows):  # a mixed set: the font numbers alone too
        print_table("in fonts", in_fonts)
    print(f"digits read right: {digits_right / digits:.1%} of {digits}")
    print("misread:", *misreads, sep="\n")


if __name__ == "__main__":
    main()
