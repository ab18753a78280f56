"""How fast the predictor answers: cold start for one image, and a folder.

    python benchmarks/predictor_speed.py [--model models/mnist_model.h5] [--runs 5]

1. Cold start: wall time from process start to the printed answer for one
   image, ours against the usual way (import TensorFlow, load the .h5 with
   Keras, naive resize-and-invert, predict), interleaved, median of --runs.
2. Throughput: the CLI on a folder of 1,000 user-style images (every kind the
   generator makes, at their natural sizes: decode, preprocess, infer, print),
   less the CLI's start-up, medians of 3; and, for comparison, how fast the
   same images are merely decoded.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.user_style_images import KINDS, write_set  # noqa: E402
from mnist_digits.files import DEFAULT_OUTPUT_DIR, MODEL_FILE  # noqa: E402
from mnist_digits.preprocessing import load_image, to_grayscale  # noqa: E402

USUAL_WAY = """
import sys
import numpy as np
from PIL import Image
from tensorflow import keras
model = keras.models.load_model(sys.argv[1])
image = Image.open(sys.argv[2]).convert("L").resize((28, 28))
x = (255 - np.asarray(image, dtype=np.float32)) / 255
print(int(model.predict(x.reshape(1, 28, 28, 1), verbose=0).argmax()))
"""


def wall_time(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def cold_start(model: Path, image: Path, runs: int) -> None:
    ours_command = [sys.executable, "loaded_mnist_model_digit_predictor.py", str(image), "--model", str(model)]
    usual_command = [sys.executable, "-c", USUAL_WAY, str(model), str(image)]
    ours, usual = [], []
    for _ in range(runs):
        ours.append(wall_time(ours_command))
        usual.append(wall_time(usual_command))
    print(f"cold start, one image: ours {statistics.median(ours):.2f} s, usual way "
          f"{statistics.median(usual):.2f} s (medians of {runs}); ratio "
          f"{statistics.median(ours) / statistics.median(usual):.2f}")


def decode(path: Path) -> None:
    to_grayscale(load_image(path))


def throughput(model: Path, count: int = 1000) -> None:
    """The CLI on a folder, less its start-up (the same CLI on one image)."""
    with tempfile.TemporaryDirectory() as folder:
        write_set(Path(folder), per_kind=-(-count // len(KINDS)), seed=99, first_test_index=3000)
        paths = sorted(p for p in Path(folder).iterdir() if p.suffix != ".csv")
        for extra in paths[count:] + [Path(folder) / "labels.csv"]:
            extra.unlink()
        command = [sys.executable, "loaded_mnist_model_digit_predictor.py", "--json", "--model", str(model)]
        start_up, whole = [], []
        for _ in range(3):
            start_up.append(wall_time([*command, str(paths[0])]))
            whole.append(wall_time([*command, folder]))
        seconds = statistics.median(whole) - statistics.median(start_up)
        print(f"folder of {count} user-style images: {statistics.median(whole):.2f} s end to end, "
              f"{count / seconds:.0f} images/s after start-up (medians of 3)")
        started = time.perf_counter()
        with ProcessPoolExecutor(os.cpu_count(), mp_context=get_context("fork")) as pool:
            list(pool.map(decode, paths[:count], chunksize=8))
        print(f"  decoding alone, {os.cpu_count()} processes: "
              f"{count / (time.perf_counter() - started):.0f} images/s (the ceiling on this machine)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / DEFAULT_OUTPUT_DIR / MODEL_FILE)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cold_start(args.model, ROOT / "samples" / "handwritten_digit.png", args.runs)
    throughput(args.model)


if __name__ == "__main__":
    main()
