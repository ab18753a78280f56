"""Training and testing the CNNs (the digit model, and the piece checker):
data pipeline, augmentation, schedule."""

import math
import time
from collections.abc import Callable
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from mnist_digits.data import Mnist
from mnist_digits.model import (
    IMAGE_SIZE,
    INPUT_SHAPE,
    NUM_CLASSES,
    PIECE_CLASSES,
    build_ensemble,
    build_model,
    to_model_input,
)
from mnist_digits.piece_examples import piece_examples
from mnist_digits.preprocessing import fill_holes
from mnist_digits.presets import PIECE_CHECKER, Preset

VALIDATION_SIZE = 5000
PEAK_LEARNING_RATE = 3e-3
LABEL_SMOOTHING = 0.05
INK = 100 / 255  # the level from which a training pixel is ink, for telling shapes apart
# Rows of digits drawn for the piece checker, per MNIST image they come from
# (a row holds 2.5 digits on average: each image is drawn about once in two).
ROWS_PER_IMAGE = 0.2


class Split(NamedTuple):
    x_train: np.ndarray
    y_train: np.ndarray
    x_validation: np.ndarray
    y_validation: np.ndarray


def held_out(count: int, train_limit: int | None = None) -> tuple[slice, slice]:
    """Which of `count` training images train and which validate: the last
    VALIDATION_SIZE are held out. `train_limit` keeps only the first images
    of each part, for smoke runs."""
    validation_size = min(VALIDATION_SIZE, count // 10)
    training, validation = slice(0, count - validation_size), slice(count - validation_size, count)
    if train_limit:
        training = slice(0, min(train_limit, training.stop))
        validation = slice(validation.start, validation.start + max(1, train_limit // 10))
    return training, validation


def split_for_training(mnist: Mnist, train_limit: int | None = None) -> Split:
    """The training images, with held_out() ones for validation.

    The test images are not touched here: they are for the final figure only.
    """
    x, y = to_model_input(mnist.x_train), mnist.y_train.astype(np.int32)
    training, validation = held_out(len(x), train_limit)
    return Split(x[training], y[training], x[validation], y[validation])


def has_a_flag(one: np.ndarray) -> bool:
    """Whether a 1 (28x28, in [0, 1]) has a flag or a base: more than 5 of its
    ink pixels lie over 3.5 pixels off the axis of its stem."""
    points = np.argwhere(one > INK).astype(np.float64)
    points -= points.mean(axis=0)
    _, axes = np.linalg.eigh(np.cov(points.T))  # the first is across the stem
    return int((np.abs(points @ axes[:, 0]) > 3.5).sum()) > 5


def is_closed(four: np.ndarray) -> bool:
    """Whether a 4 (28x28, in [0, 1]) is closed at the top: its ink encloses over 10 pixels."""
    ink = four > INK
    return int((fill_holes(ink) & ~ink).sum()) > 10


class RareShape(NamedTuple):
    looks_so: Callable[[np.ndarray], bool]
    times: int  # an epoch


# MNIST's writers were American. Two shapes that many people elsewhere write
# are rare in it: the 1 with a flag (and often a base), 3 % of its 1s, and
# the closed 4, 4 % of its 4s. Read in other people's hands, the first was
# taken for a 7 and the second for a 6 or 9, so those training images are
# seen more often.
RARE_SHAPES = {1: RareShape(has_a_flag, times=6), 4: RareShape(is_closed, times=4)}


def with_rare_shapes_repeated(split: Split) -> Split:
    """The split with its training images of RARE_SHAPES seen as many times as each says."""
    times = np.ones(len(split.y_train), np.int64)
    for digit, shape in RARE_SHAPES.items():
        for index in np.flatnonzero(split.y_train == digit):
            if shape.looks_so(split.x_train[index, ..., 0]):
                times[index] = shape.times
    return split._replace(x_train=np.repeat(split.x_train, times, axis=0), y_train=np.repeat(split.y_train, times))


def pieces_of_rows(images: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """piece_examples() of rows drawn from `images`, as model inputs."""
    x, y = piece_examples(images, round(ROWS_PER_IMAGE * len(images)), seed)
    return x.reshape(-1, *INPUT_SHAPE), y


def split_pieces_for_training(mnist: Mnist, train_limit: int | None, seed: int) -> Split:
    """The piece checker's examples: pieces cut from rows of the training
    images, and of the held_out() ones for validation."""
    training, validation = held_out(len(mnist.x_train), train_limit)
    return Split(*pieces_of_rows(mnist.x_train[training], seed), *pieces_of_rows(mnist.x_train[validation], seed + 1))


def random_affine(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Rotate, scale, shear and shift each image a little, as handwriting varies."""
    count = tf.shape(images)[0]
    seeds = tf.random.experimental.stateless_split(seed, 5)

    def uniform(index: int, limit: float) -> tf.Tensor:
        return tf.random.stateless_uniform([count], seeds[index], -limit, limit)

    angle, shear = uniform(0, math.radians(10)), uniform(1, 0.15)
    scale_x, scale_y = 1 + uniform(2, 0.1), 1 + uniform(3, 0.1)
    shift = tf.random.stateless_uniform([count, 2], seeds[4], -2.0, 2.0)
    cos, sin = tf.cos(angle), tf.sin(angle)
    # The transform maps each output pixel to the input pixel it samples.
    a0, a1 = cos * scale_x, cos * shear - sin * scale_y
    b0, b1 = sin * scale_x, sin * shear + cos * scale_y
    centre = (IMAGE_SIZE - 1) / 2
    a2 = centre - a0 * centre - a1 * centre + shift[:, 0]
    b2 = centre - b0 * centre - b1 * centre + shift[:, 1]
    zeros = tf.zeros_like(a0)
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=[IMAGE_SIZE, IMAGE_SIZE],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT",
    )


def training_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int,
                     classes: int = NUM_CLASSES, augment: bool = True) -> tf.data.Dataset:
    """Shuffled batches, augmented unless not `augment`; the same seed gives the same batches."""
    batches = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
    )
    batch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    return (
        tf.data.Dataset.zip(batches, batch_seeds)
        .map(lambda batch, batch_seed: (random_affine(batch[0], batch_seed) if augment else batch[0],
                                        one_hot(batch[1], classes)))
        .prefetch(tf.data.AUTOTUNE)
    )


def one_hot(labels, classes: int = NUM_CLASSES):
    return tf.one_hot(labels, classes)


class Progress:
    """Which member and epoch of a run is at work, and about how long is left."""

    def __init__(self, members: int, epochs: int):
        self.members, self.epochs = members, epochs
        self.member = 1
        self.epoch_seconds: list[float] = []

    def at(self, epoch: int) -> str:
        where = f"epoch {epoch}/{self.epochs}"
        return f"member {self.member}/{self.members}, {where}" if self.members > 1 else where

    def time_left(self) -> str:
        if not self.epoch_seconds:
            return "time left not known yet"
        epochs_left = self.members * self.epochs - len(self.epoch_seconds)
        if epochs_left == 0:
            return "all done"
        seconds = epochs_left * sum(self.epoch_seconds) / len(self.epoch_seconds)
        return f"about {seconds / 60:.0f} min left" if seconds >= 90 else f"about {seconds:.0f} s left"


class EpochLog(keras.callbacks.Callback):
    """Adds the learning rate and the epoch's seconds to Keras's logs and,
    where no progress bar is drawn (a log file), prints one line an epoch."""

    def __init__(self, progress: Progress, print_lines: bool):
        super().__init__()
        self.progress, self.print_lines = progress, print_lines

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.started = time.perf_counter()
        self.learning_rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is None:
            return
        logs["learning_rate"] = self.learning_rate
        logs["seconds"] = time.perf_counter() - self.started
        self.progress.epoch_seconds.append(logs["seconds"])
        if self.print_lines:
            print(f"{self.progress.at(epoch + 1)}: loss {logs['loss']:.4f}, accuracy {logs['accuracy']:.2%}, "
                  f"validation loss {logs['val_loss']:.4f}, validation accuracy {logs['val_accuracy']:.2%}, "
                  f"learning rate {self.learning_rate:.2e}, {logs['seconds']:.0f} s; {self.progress.time_left()}",
                  flush=True)


def compile_model(model: keras.Model, steps: int) -> None:
    """Adam with a one-epoch-ish warm-up, then cosine decay to zero."""
    warmup_steps = max(1, steps // 10)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=PEAK_LEARNING_RATE / 10,
        decay_steps=max(1, steps - warmup_steps),  # a one-step smoke run too
        warmup_target=PEAK_LEARNING_RATE,
        warmup_steps=warmup_steps,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        # Slightly soft targets: the network stops pushing easy digits to
        # certainty and spends its capacity on the hard ones.
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=LABEL_SMOOTHING),
        metrics=["accuracy"],
    )


def train(split: Split, epochs: int, batch_size: int, seed: int, progress_bar: bool = True,
          shape: str = "3x3", progress: Progress | None = None, name: str = "mnist_cnn_with_dropout",
          classes: int = NUM_CLASSES, augment: bool = True) -> tuple[keras.Model, dict[str, list[float]]]:
    """Build and train one model; return it and Keras's per-epoch history.

    `progress_bar`: Keras's live bar (for a terminal), else one line an epoch.
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    model = build_model(shape, name, classes)
    steps_per_epoch = math.ceil(len(split.x_train) / batch_size)
    compile_model(model, steps_per_epoch * epochs)
    history = model.fit(
        training_dataset(split.x_train, split.y_train, batch_size, seed, classes, augment).repeat(),
        steps_per_epoch=steps_per_epoch,
        epochs=epochs,
        shuffle=False,  # the dataset shuffles itself, reproducibly
        validation_data=(split.x_validation, one_hot(split.y_validation, classes)),
        validation_batch_size=1000,
        callbacks=[EpochLog(progress or Progress(1, epochs), print_lines=not progress_bar)],
        verbose=1 if progress_bar else 0,
    )
    return model, history.history


def train_preset(split: Split, preset: Preset, seed: int, progress_bar: bool = True) -> tuple[keras.Model, dict]:
    """Train the preset's model, or each of its members in turn (seeds seed,
    seed + 1, ...) and average them; return the model and its history, which
    for an ensemble is {"members": [each member's history]}. Rare shapes are
    repeated (with_rare_shapes_repeated)."""
    split = with_rare_shapes_repeated(split)
    if len(preset.shapes) == 1:
        return train(split, preset.epochs, preset.batch_size, seed, progress_bar, preset.shapes[0])
    progress = Progress(len(preset.shapes), preset.epochs)
    tf.get_logger().setLevel("ERROR")  # each member's new training function would be warned of as a "retracing"
    members, histories = [], []
    for index, shape in enumerate(preset.shapes):
        progress.member = index + 1
        print(f"member {progress.member}/{progress.members}: {shape} convolutions, seed {seed + index}; "
              f"{progress.time_left()}", flush=True)
        member, history = train(split, preset.epochs, preset.batch_size, seed + index, progress_bar, shape,
                                progress, name=f"member_{index + 1}")
        members.append(member)
        histories.append(history)
    return build_ensemble(members), {"members": histories}


def train_piece_checker(pieces: Split, epochs: int, batch_size: int, seed: int,
                        progress_bar: bool = True) -> tuple[keras.Model, dict[str, list[float]]]:
    """train() the piece checker: whole digit or not, on split_pieces_for_training().
    Not augmented: shifting or turning a piece would move its cut edges, which
    are what tells a part of a digit."""
    return train(pieces, epochs, batch_size, seed, progress_bar, PIECE_CHECKER.shapes[0], name="piece_checker",
                 classes=PIECE_CLASSES, augment=False)


def test_piece_checker(model: keras.Model, mnist: Mnist, train_limit: int | None, seed: int) -> dict[str, float]:
    """Accuracy on pieces cut from rows of the test images (as many rows as
    a `train_limit` run trained on, at most)."""
    x, y = pieces_of_rows(mnist.x_test[:train_limit], seed)
    predicted = model.predict(x, batch_size=1000, verbose=0).argmax(axis=1)
    return {"test_accuracy": float((predicted == y).mean()), "test_pieces": len(y),
            "test_whole_digits": int(y.sum())}


def test(model: keras.Model, mnist: Mnist) -> dict[str, float | list[float]]:
    """Cross-entropy (without smoothing) and accuracy on the 10,000 test images,
    and for an ensemble each member's accuracy too."""
    images = to_model_input(mnist.x_test)
    members = [layer for layer in model.layers if isinstance(layer, keras.Sequential)]
    # An ensemble's answer is its members' mean: each member runs once, for both figures.
    member_probabilities = [member.predict(images, batch_size=1000, verbose=0) for member in members or [model]]
    probabilities = np.mean(member_probabilities, axis=0)
    picked = probabilities[np.arange(len(mnist.y_test)), mnist.y_test]
    figures = {
        "test_loss": float(-np.log(np.maximum(picked, 1e-7)).mean()),
        "test_accuracy": float((probabilities.argmax(axis=1) == mnist.y_test).mean()),
    }
    if members:
        figures["member_test_accuracies"] = [float((member.argmax(axis=1) == mnist.y_test).mean())
                                             for member in member_probabilities]
    return figures
