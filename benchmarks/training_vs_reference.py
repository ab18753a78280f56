"""Our training presets against keras-io's MNIST convnet recipe, side by side.

    python benchmarks/training_vs_reference.py [--seeds 1 2 3] [--presets quick best]

For each seed, runs on this machine the keras-io reference recipe
(Conv32-Pool-Conv64-Pool-Dropout(0.5)-Dense10, Adam, batch 128, 15 epochs,
validation_split 0.1) and then `mnist_cnn_with_dropout.py --preset P` for
each preset asked for (default: quick; best takes up to an hour a seed),
each as its own process, timed end to end (start-up, data, training, test).
Interleaving them means a slow spell of a shared machine slows every side.
Prints test accuracies per seed, wall times, and each preset's ratio of
median wall times to the reference's.
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
    parser.add_argument("--presets", nargs="+", choices=["quick", "best"], default=["quick"])
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep each run's output folder as DIR/PRESET-seedN, to open in the notebook")
    parser.add_argument("--reference-only", type=int, metavar="SEED", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reference_only is not None:
        return reference(args.reference_only)

    runs: dict[str, list[tuple[float, float]]] = {"reference": [], **{preset: [] for preset in args.presets}}
    for seed in args.seeds:
        seconds, output = timed([sys.executable, __file__, "--reference-only", str(seed)])
        runs["reference"].append((json.loads(output.strip().splitlines()[-1])["test_accuracy"], seconds))
        print(f"reference (keras-io mnist_convnet, seed {seed}): {runs['reference'][-1][0]:.2%} in {seconds:.0f} s",
              flush=True)
        for preset in args.presets:
            with tempfile.TemporaryDirectory() as scratch:
                output_dir = args.keep / f"{preset}-seed{seed}" if args.keep else Path(scratch)
                seconds, _ = timed([sys.executable, "mnist_cnn_with_dropout.py", "--preset", preset,
                                    "--seed", str(seed), "--output-dir", str(output_dir)])
                metrics = json.loads((output_dir / "metrics.json").read_text())
            runs[preset].append((metrics["test_accuracy"], seconds))
            print(f"--preset {preset}, seed {seed}: {metrics['test_accuracy']:.2%} in {seconds:.0f} s", flush=True)
    reference_time = statistics.median(seconds for _, seconds in runs["reference"])
    for name, results in runs.items():
        accuracies, times = [a for a, _ in results], [s for _, s in results]
        print(f"{name}: accuracy per seed {', '.join(f'{a:.2%}' for a in accuracies)}; "
              f"mean {statistics.mean(accuracies):.2%}; median wall time {statistics.median(times):.0f} s, "
              f"{statistics.median(times) / reference_time:.2f}x the reference's")


if __name__ == "__main__":
    main()
