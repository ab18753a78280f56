"""How fast the predictor answers: cold start for one image, and a folder.

    python benchmarks/predictor_speed.py [--model models/mnist_model.h5] [--runs 5]

1. Cold start: wall time from process start to the printed answer for one
   image, ours against the usual way (import TensorFlow, load the .h5 with
   Keras, naive resize-and-invert, predict), interleaved, median of --runs.
2. Throughput: 1,000 user-style images (every kind the generator makes, at
   their natural sizes) read end to end - decode, preprocess, infer - after
   start-up, median of 3 passes.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.user_style_images import KINDS, write_set  # noqa: E402
from mnist_digits.files import DEFAULT_OUTPUT_DIR, MODEL_FILE  # noqa: E402

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


def throughput(model_path: Path, count: int = 1000) -> None:
    from mnist_digits.inference import load_model
    from mnist_digits.prediction import predict

    with tempfile.TemporaryDirectory() as folder:
        write_set(Path(folder), per_kind=-(-count // len(KINDS)), seed=99, first_test_index=3000)
        paths = sorted(p for p in Path(folder).iterdir() if p.suffix != ".csv")[:count]
        model = load_model(model_path)
        passes = []
        for _ in range(3):
            started = time.perf_counter()
            results = list(predict(model, paths))
            passes.append(time.perf_counter() - started)
        failed = sum(result.error is not None for result in results)
    seconds = statistics.median(passes)
    print(f"folder of {len(paths)} user-style images: {seconds:.2f} s, {len(paths) / seconds:.0f} images/s "
          f"(median of 3; {failed} unreadable)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / DEFAULT_OUTPUT_DIR / MODEL_FILE)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    cold_start(args.model, ROOT / "samples" / "handwritten_digit.png", args.runs)
    throughput(args.model)


if __name__ == "__main__":
    main()
