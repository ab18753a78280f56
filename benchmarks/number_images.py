"""Render numbers, 2-6 MNIST *test* digits in a row, as the images users bring, with their labels.

Each number is drawn in one of four styles (a paint program, a phone photo of
paper, a drawing app's white-on-black canvas, chalk on a board) with one of
three spacings between its digits' ink: spaced (gaps of 20-60 % of a digit's
width), tight (0-12 %) and touching (overlapping by 2-12 %), on a slightly
wavy baseline. With `--font-share`, that share of the numbers is written in
one handwriting font each instead (benchmarks/handwriting_fonts.py), its
digits shaped and re-inked as MNIST's are; the others are as without it.

    python benchmarks/number_images.py OUT_DIR --per-kind 50 --seed 1 [--font-share 0.3]
    python benchmarks/number_accuracy.py OUT_DIR

writes OUT_DIR/<style>_<spacing>_<n>.<ext> and OUT_DIR/labels.csv.
"""

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.handwriting_fonts import FontDigits  # noqa: E402
from benchmarks.user_style_images import (  # noqa: E402
    CHALK,
    Rng,
    blackboard,
    chalked,
    compose,
    jpeg,
    lighting,
    photographed,
    png,
    stroke_alpha,
    to_image,
    write_labels,
)
from mnist_digits.data import load_mnist  # noqa: E402

SPACINGS = {"spaced": (0.2, 0.6), "tight": (0.0, 0.12), "touching": (-0.12, -0.02)}  # of a digit's width


def number_alpha(digits: list[np.ndarray], height: int, spacing: str, widen: float, rng: Rng) -> np.ndarray:
    """Ink coverage of the digits side by side, `height` pixels tall each."""
    alphas = [stroke_alpha(digit, height, widen) for digit in digits]
    low, high = SPACINGS[spacing]
    gaps = [round(rng.uniform(low, high) * np.mean([alpha.shape[1] for alpha in alphas])) for _ in alphas[1:]]
    lefts = np.cumsum([0] + [alpha.shape[1] + gap for alpha, gap in zip(alphas, gaps, strict=False)])
    tops = [round(rng.uniform(-0.05, 0.05) * height + (height - alpha.shape[0]) / 2) for alpha in alphas]
    shift = -min(tops)
    row = np.zeros((max(top + shift + alpha.shape[0] for alpha, top in zip(alphas, tops, strict=True)),
                    lefts[-1] + alphas[-1].shape[1]), np.float32)
    for alpha, left, top in zip(alphas, lefts, tops, strict=True):
        region = row[top + shift:top + shift + alpha.shape[0], left:left + alpha.shape[1]]
        np.maximum(region, alpha, out=region)
    return row


def on_page(alpha: np.ndarray, rng: Rng) -> np.ndarray:
    """The row of digits somewhere on a page with margins around it."""
    height, width = alpha.shape
    top, bottom = (round(rng.uniform(0.2, 0.8) * height) for _ in range(2))
    left, right = (round(rng.uniform(0.1, 0.5) * height) for _ in range(2))
    return np.pad(alpha, ((top, bottom), (left, right)))


def paint(alpha: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    ink = np.zeros(3) if rng.random() < 0.6 else rng.uniform(0, 0.5, 3)
    return png(to_image(compose(alpha, np.ones(3), ink))), "png"


def photo(alpha: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    paper = rng.uniform(0.75, 0.95) * np.array([1.0, rng.uniform(0.93, 1.0), rng.uniform(0.8, 1.0)])
    ink = rng.choice([[0.1, 0.1, 0.15], [0.1, 0.15, 0.45], [0.05, 0.05, 0.05]])
    return photographed(compose(alpha, paper, ink), rng)


def canvas(alpha: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    return png(to_image(compose(alpha, np.zeros(3), np.ones(3)))), "png"


def chalk(alpha: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    rgb = compose(chalked(alpha, rng), blackboard(rng), CHALK)
    rgb *= lighting(alpha.shape, rng, rng.uniform(0, 0.3))[..., None]
    return jpeg(to_image(rgb + rng.normal(0, 0.02, rgb.shape)), rng), "jpg"


STYLES: dict[str, Callable[[np.ndarray, Rng], tuple[bytes, str]]] = {
    "paint": paint, "photo": photo, "canvas": canvas, "chalk": chalk,
}


def write_set(out_dir: Path, per_kind: int, seed: int, first_test_index: int = 0,
              font_share: float = 0.0) -> list[dict]:
    """Write `per_kind` numbers for every style and spacing; return their label rows."""
    mnist = load_mnist()
    rng = np.random.default_rng(seed)
    fonts = FontDigits.for_set(seed, font_share)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, index = [], first_test_index
    for style, render in STYLES.items():
        for spacing in SPACINGS:
            for number in range(per_kind):
                count = int(rng.integers(2, 7))
                font = fonts.next_font()
                if font:
                    labels, digits = fonts.digits(font, count)
                else:
                    indices = [i % len(mnist.y_test) for i in range(index, index + count)]
                    index += count
                    labels, digits = [int(mnist.y_test[i]) for i in indices], [mnist.x_test[i] for i in indices]
                height = int(rng.integers(60, 160))
                alpha = number_alpha(digits, height, spacing, rng.uniform(0.0, 0.04), rng)
                data, extension = render(on_page(alpha, rng), rng)
                name = f"{style}_{spacing}_{number:03d}.{extension}"
                (out_dir / name).write_bytes(data)
                rows.append({"file": name, "number": "".join(map(str, labels)), "style": style, "spacing": spacing,
                             "first_mnist_test_index": "" if font else indices[0], "font": font.stem if font else ""})
    write_labels(out_dir, rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--per-kind", type=int, default=50, help="numbers for each style and spacing (default 50)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first-test-index", type=int, default=0,
                        help="MNIST test image to start from (sets do not overlap if these differ enough)")
    parser.add_argument("--font-share", type=float, default=0.0,
                        help="share of numbers written in a handwriting font instead of MNIST digits (default 0)")
    args = parser.parse_args()
    rows = write_set(args.out_dir, args.per_kind, args.seed, args.first_test_index, args.font_share)
    print(f"wrote {len(rows)} numbers to {args.out_dir}")


if __name__ == "__main__":
    main()
