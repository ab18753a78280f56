import json
import re

import numpy as np
import pytest
from PIL import Image

import mnist_cnn_with_dropout
from mnist_digits.files import CURVES_FILE, HISTORY_FILE, METRICS_FILE, MODEL_FILE
from mnist_digits.model import INPUT_SHAPE, build_model, to_model_input


def test_the_model_takes_mnist_images_and_gives_ten_probabilities():
    model = build_model()
    assert model.input_shape == (None, *INPUT_SHAPE)
    assert model.output_shape == (None, 10)
    probabilities = model.predict(np.zeros((3, *INPUT_SHAPE), np.float32), verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)


def test_model_input_is_keras_mnist_scaling():
    images = np.array([[[0, 255] * 14] * 28], dtype=np.uint8)
    x = to_model_input(images)
    assert x.shape == (1, 28, 28, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0


def drawn(*strokes: tuple[int, int, int, int]) -> np.ndarray:
    """A 28x28 training image in [0, 1] with these lines (x0, y0, x1, y1) drawn 2 px wide."""
    import cv2

    image = np.zeros((28, 28), np.float32)
    for x0, y0, x1, y1 in strokes:
        cv2.line(image, (x0, y0), (x1, y1), 1.0, 2)
    return image


PLAIN_ONE = drawn((14, 4, 13, 23))
ONE_WITH_A_FLAG = drawn((14, 4, 13, 23), (14, 4, 8, 9))
ONE_WITH_A_FLAG_AND_A_BASE = drawn((14, 4, 13, 23), (14, 4, 8, 9), (9, 23, 19, 23))
SLANTED_ONE = drawn((18, 4, 10, 23))
OPEN_FOUR = drawn((10, 4, 7, 15), (7, 15, 21, 15), (17, 8, 17, 23))
CLOSED_FOUR = drawn((17, 4, 5, 18), (5, 18, 22, 18), (17, 4, 17, 24))


def test_a_one_with_a_flag_and_a_closed_four_are_told_from_the_usual_shapes():
    from mnist_digits.training import has_a_flag, is_closed

    assert not has_a_flag(PLAIN_ONE) and not has_a_flag(SLANTED_ONE)
    assert has_a_flag(ONE_WITH_A_FLAG) and has_a_flag(ONE_WITH_A_FLAG_AND_A_BASE)
    assert is_closed(CLOSED_FOUR) and not is_closed(OPEN_FOUR)


def test_rare_shapes_are_seen_more_often_and_nothing_else_is():
    from mnist_digits.training import RARE_SHAPES, Split, with_rare_shapes_repeated

    images = np.stack([PLAIN_ONE, ONE_WITH_A_FLAG, OPEN_FOUR, CLOSED_FOUR, drawn((8, 6, 20, 6), (20, 6, 12, 23))])
    labels = np.array([1, 1, 4, 4, 7], np.int32)
    split = Split(images[..., None], labels, images[:1, ..., None], labels[:1])
    repeated = with_rare_shapes_repeated(split)
    times = [int((repeated.x_train == image[None, ..., None]).all(axis=(1, 2, 3)).sum()) for image in images]
    assert times == [1, RARE_SHAPES[1].times, 1, RARE_SHAPES[4].times, 1]
    assert list(repeated.y_train) == sorted(repeated.y_train.tolist(), key=[1, 4, 7].index)
    assert repeated.x_validation is split.x_validation


def test_a_smoke_training_leaves_every_output_with_sane_contents(smoke_run):
    assert {MODEL_FILE, HISTORY_FILE, METRICS_FILE, CURVES_FILE} <= {p.name for p in smoke_run.iterdir()}
    assert not [p for p in smoke_run.iterdir() if "partial" in p.name]
    history = json.loads((smoke_run / HISTORY_FILE).read_text())
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds"):
        assert len(history[key]) == 2, key
    assert history["loss"][1] < history["loss"][0]
    metrics = json.loads((smoke_run / METRICS_FILE).read_text())
    assert 0.8 < metrics["test_accuracy"] <= 1 and metrics["test_loss"] > 0
    assert metrics["canonical_mnist"] is True and metrics["train_images"] == 4096
    assert metrics["epochs"] == 2 and metrics["seed"] == 1
    assert set(metrics["versions"]) == {"python", "keras", "tensorflow", "numpy"}
    with Image.open(smoke_run / CURVES_FILE) as curves:
        assert curves.width > 600 and curves.height > 200


def test_the_best_preset_saves_one_ensemble_with_every_members_curves_and_figures(best_smoke_run):
    from mnist_digits.presets import PRESETS

    run = best_smoke_run
    members = len(PRESETS["best"].shapes)
    assert members > 1
    history = json.loads((run / HISTORY_FILE).read_text())
    assert len(history["members"]) == members
    for member in history["members"]:
        assert len(member["val_accuracy"]) == 1 and len(member["seconds"]) == 1
    metrics = json.loads((run / METRICS_FILE).read_text())
    assert metrics["preset"] == "best" and metrics["shapes"] == list(PRESETS["best"].shapes)
    assert len(metrics["member_test_accuracies"]) == members
    assert 0 < metrics["test_accuracy"] <= 1
    with Image.open(run / CURVES_FILE) as curves:
        assert curves.width > 600


def test_the_best_preset_says_which_member_and_epoch_runs_and_the_time_left(best_smoke_training):
    from mnist_digits.presets import PRESETS

    _, printed = best_smoke_training
    members = len(PRESETS["best"].shapes)
    lines = [line for line in printed.splitlines() if line.startswith("member ")]
    assert lines[0].startswith(f"member 1/{members}: {PRESETS['best'].shapes[0]} convolutions, seed 1")
    assert f"member {members}/{members}, epoch 1/1: loss" in printed
    assert all(re.search(r"(about \d+ (s|min) left|not known yet|all done)$", line) for line in lines), lines
    assert "retracing" not in printed


def test_the_saved_h5_reloads_and_predicts_exactly_as_before(mnist, tmp_path):
    import keras

    from mnist_digits import training

    split = training.split_for_training(mnist, train_limit=512)
    model, history = training.train(split, epochs=1, batch_size=128, seed=3)
    mnist_cnn_with_dropout.save_outputs(tmp_path, model, history, {"test": True})
    reloaded = keras.saving.load_model(tmp_path / MODEL_FILE)
    images = to_model_input(mnist.x_test[:500])
    np.testing.assert_array_equal(model.predict(images, verbose=0), reloaded.predict(images, verbose=0))


def test_the_same_seed_trains_the_same_model(mnist):
    from mnist_digits import training

    split = training.split_for_training(mnist, train_limit=512)
    first, _ = training.train(split, epochs=1, batch_size=128, seed=5)
    second, _ = training.train(split, epochs=1, batch_size=128, seed=5)
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


class FakeModel:
    def save(self, path):
        path.write_bytes(b"new model")


def test_an_interrupted_save_leaves_the_previous_files_intact(tmp_path, monkeypatch):
    from mnist_digits import plots

    for name in (MODEL_FILE, HISTORY_FILE, METRICS_FILE):
        (tmp_path / name).write_text(f"old {name}")

    def interrupt(history):
        raise KeyboardInterrupt

    monkeypatch.setattr(plots, "training_curves", interrupt)
    with pytest.raises(KeyboardInterrupt):
        mnist_cnn_with_dropout.save_outputs(tmp_path, FakeModel(), {"loss": [1.0]}, {})
    for name in (MODEL_FILE, HISTORY_FILE, METRICS_FILE):
        assert (tmp_path / name).read_text() == f"old {name}"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([MODEL_FILE, HISTORY_FILE, METRICS_FILE])


def test_ctrl_c_during_training_says_the_old_model_is_kept_and_exits_non_zero(tmp_path, monkeypatch, capsys):
    from mnist_digits import training

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "train", interrupt)
    assert mnist_cnn_with_dropout.main(["--limit", "64", "--output-dir", str(tmp_path)]) == 130
    assert "intact" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
