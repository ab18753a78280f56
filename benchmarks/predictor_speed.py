"""How fast the predictor answers: cold start for one image, and a folder.

    python benchmarks/predictor_speed.py [--model models/mnist_model.h5] [--runs 5] [--compare-with CHECKOUT]

1. Cold start: wall time from process start to the printed answer for one
   image, ours against the usual way (import TensorFlow, load the .h5 with
   Keras, naive resize-and-invert, predict), interleaved, median of --runs.
2. Throughput: the CLI on a folder of 1,000 user-style images (every kind the
   generator makes, at their natural sizes: decode, preprocess, infer, print),
   less the CLI's start-up, medians of 3; and, for comparison, how fast the
   same images are merely decoded.

With --compare-with, another checkout's CLI (an earlier commit, say, from
`git worktree add /tmp/before HEAD~3`) is timed too, interleaved with ours,
on the same images.
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
from mnist_digits.preprocessing import load_gray  # noqa: E402

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


def wall_time(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode not in (0, 1):  # 1: some images held no digit, which is an answer too
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr[-2000:]}")
    return time.perf_counter() - started


def predictor(checkout: Path, model: Path) -> list[str]:
    return [sys.executable, str(checkout / "loaded_mnist_model_digit_predictor.py"), "--json", "--model", str(model)]


def cold_start(model: Path, image: Path, runs: int, checkouts: dict[str, Path]) -> None:
    commands = {name: [*predictor(checkout, model), str(image)] for name, checkout in checkouts.items()}
    commands["the usual way"] = [sys.executable, "-c", USUAL_WAY, str(model), str(image)]
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            seconds[name].append(wall_time(command, checkouts.get(name, ROOT)))
    medians = {name: statistics.median(times) for name, times in seconds.items()}
    print(f"cold start, one image (medians of {runs}): "
          + ", ".join(f"{name} {median:.2f} s" for name, median in medians.items())
          + f"; ratio ours / usual way {medians['ours'] / medians['the usual way']:.2f}")


def decode(path: Path) -> None:
    load_gray(path)


def throughput(model: Path, checkouts: dict[str, Path], count: int = 1000) -> None:
    """The CLI on a folder, less its start-up (the same CLI on one image)."""
    with tempfile.TemporaryDirectory() as folder:
        write_set(Path(folder), per_kind=-(-count // len(KINDS)), seed=99, first_test_index=3000)
        paths = sorted(p for p in Path(folder).iterdir() if p.suffix != ".csv")
        for extra in paths[count:] + [Path(folder) / "labels.csv"]:
            extra.unlink()
        start_up: dict[str, list[float]] = {name: [] for name in checkouts}
        whole: dict[str, list[float]] = {name: [] for name in checkouts}
        for _ in range(3):
            for name, checkout in checkouts.items():
                start_up[name].append(wall_time([*predictor(checkout, model), str(paths[0])], checkout))
                whole[name].append(wall_time([*predictor(checkout, model), folder], checkout))
        for name in checkouts:
            seconds = statistics.median(whole[name]) - statistics.median(start_up[name])
            print(f"{name}: folder of {count} user-style images: {statistics.median(whole[name]):.2f} s end to end, "
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
    parser.add_argument("--compare-with", type=Path, metavar="CHECKOUT",
                        help="also time the predictor of this other checkout of the project, interleaved")
    args = parser.parse_args()
    checkouts = {"ours": ROOT}
    if args.compare_with:
        checkouts["compared"] = args.compare_with.resolve()
    model = args.model.resolve()
    cold_start(model, ROOT / "samples" / "handwritten_digit.png", args.runs, checkouts)
    throughput(model, checkouts)


if __name__ == "__main__":
    main()
