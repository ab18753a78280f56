"""Our default training against keras-io's MNIST convnet recipe, side by side.

    python benchmarks/training_vs_reference.py [--seeds 1 2 3]

For each seed, runs on this machine the keras-io reference recipe
(Conv32-Pool-Conv64-Pool-Dropout(0.5)-Dense10, Adam, batch 128, 15 epochs,
validation_split 0.1) and then `mnist_cnn_with_dropout.py` with default
settings, each as its own process, timed end to end (start-up, data,
training, test). Interleaving them means a slow spell of a shared machine
slows both sides. Prints test accuracies, wall times, and the ratio of the
median wall times.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def reference(seed: int) -> None:
    """keras-io examples/vision/mnist_convnet.py, as published, on our verified MNIST."""
    sys.path.insert(0, str(ROOT))
    import keras
    from keras import layers

    from mnist_digits.data import load_mnist

    keras.utils.set_random_seed(seed)
    mnist = load_mnist()
    x_train = mnist.x_train.astype("float32")[..., None] / 255
    x_test = mnist.x_test.astype("float32")[..., None] / 255
    y_train, y_test = keras.utils.to_categorical(mnist.y_train, 10), keras.utils.to_categorical(mnist.y_test, 10)
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=128, epochs=15, validation_split=0.1, verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(json.dumps({"test_accuracy": accuracy, "test_loss": loss}))


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr[-2000:]}")
    return time.perf_counter() - started, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--reference-only", type=int, metavar="SEED", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reference_only is not None:
        return reference(args.reference_only)

    references, ours = [], []
    for seed in args.seeds:
        seconds, output = timed([sys.executable, __file__, "--reference-only", str(seed)])
        references.append((json.loads(output.strip().splitlines()[-1])["test_accuracy"], seconds))
        print(f"reference (keras-io mnist_convnet, seed {seed}): {references[-1][0]:.2%} in {seconds:.0f} s",
              flush=True)
        with tempfile.TemporaryDirectory() as output_dir:
            seconds, _ = timed([sys.executable, "mnist_cnn_with_dropout.py", "--seed", str(seed),
                                "--output-dir", output_dir])
            metrics = json.loads((Path(output_dir) / "metrics.json").read_text())
        ours.append((metrics["test_accuracy"], seconds))
        print(f"ours (default settings, seed {seed}): {ours[-1][0]:.2%} in {seconds:.0f} s", flush=True)
    for name, runs in (("reference", references), ("ours", ours)):
        accuracies, times = [a for a, _ in runs], [s for _, s in runs]
        print(f"{name}: mean test accuracy {statistics.mean(accuracies):.2%}, lowest {min(accuracies):.2%}, "
              f"median wall time {statistics.median(times):.0f} s")
    ratio = statistics.median(s for _, s in ours) / statistics.median(s for _, s in references)
    print(f"wall-time ratio ours / reference (medians): {ratio:.2f}")


if __name__ == "__main__":
    main()
