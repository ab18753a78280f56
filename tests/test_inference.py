import keras
import numpy as np
import pytest
from keras import layers

from mnist_digits.files import MODEL_FILE
from mnist_digits.inference import KerasModel, ModelError, NumpyModel, load_model
from mnist_digits.model import to_model_input


def test_the_numpy_path_gives_keras_probabilities_on_the_whole_test_set(smoke_run, mnist):
    path = smoke_run / MODEL_FILE
    fast = load_model(path)
    assert isinstance(fast, NumpyModel)
    images = to_model_input(mnist.x_test)
    expected = keras.saving.load_model(path).predict(images, batch_size=1000, verbose=0)
    assert np.abs(fast.predict(images) - expected).max() <= 1e-4


def test_the_numpy_path_runs_an_ensemble_as_keras_does(best_smoke_run, mnist):
    from mnist_digits.presets import PRESETS

    path = best_smoke_run / MODEL_FILE
    fast = load_model(path)
    assert isinstance(fast, NumpyModel) and len(fast.members) == len(PRESETS["best"].shapes)
    images = to_model_input(mnist.x_test[:2000])
    expected = keras.saving.load_model(path).predict(images, batch_size=1000, verbose=0)
    assert np.abs(fast.predict(images) - expected).max() <= 1e-4


def test_the_numpy_path_also_runs_the_keras_io_reference_architecture(tmp_path, mnist):
    model = keras.Sequential([
        keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu", padding="same"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(), layers.Flatten(),
        layers.Dropout(0.5), layers.Dense(10, activation="softmax")])
    model.save(tmp_path / "reference.h5")
    fast = load_model(tmp_path / "reference.h5")
    assert isinstance(fast, NumpyModel)
    images = to_model_input(mnist.x_test[:300])
    assert np.abs(fast.predict(images) - model.predict(images, verbose=0)).max() <= 1e-5


def test_other_keras_models_are_loaded_by_keras(tmp_path, mnist):
    inputs = keras.Input((28, 28, 1))
    outputs = layers.Dense(10, activation="softmax")(layers.GlobalAveragePooling2D()(layers.Conv2D(4, 3)(inputs)))
    model = keras.Model(inputs, outputs)
    model.save(tmp_path / "functional.keras")
    loaded = load_model(tmp_path / "functional.keras")
    assert isinstance(loaded, KerasModel)
    images = to_model_input(mnist.x_test[:10])
    np.testing.assert_allclose(loaded.predict(images), model.predict(images, verbose=0), atol=1e-6)


def lambda_model():
    return keras.Sequential([keras.Input((28, 28, 1)), layers.Lambda(lambda x: x * 2),
                             layers.Flatten(), layers.Dense(10, activation="softmax")])


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_a_model_carrying_code_is_refused_not_run(tmp_path, suffix):
    path = tmp_path / f"lambda{suffix}"
    lambda_model().save(path)
    with pytest.raises(ModelError, match="Lambda|unsafe|safe_mode"):
        load_model(path)


def test_a_model_for_other_images_is_refused(tmp_path):
    path = tmp_path / "rgb.h5"
    keras.Sequential([keras.Input((32, 32, 3)), layers.Flatten(), layers.Dense(10)]).save(path)
    with pytest.raises(ModelError, match=r"\(32, 32, 3\)"):
        load_model(path)


def test_a_model_with_other_than_ten_classes_is_refused(tmp_path):
    path = tmp_path / "letters.h5"
    keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(26, activation="softmax")]).save(path)
    with pytest.raises(ModelError, match=r"\(26,\) outputs; expected 10 classes"):
        load_model(path)


@pytest.mark.parametrize("content, message", [
    (None, "no such model file; train one"),
    (b"not an hdf5 file at all", "not a readable Keras .h5"),
    (b"", "not a readable Keras .h5"),
])
def test_missing_or_corrupt_model_files_say_so(tmp_path, content, message):
    path = tmp_path / "model.h5"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelError, match=message):
        load_model(path)


def test_a_truncated_model_file_says_so(smoke_run, tmp_path):
    data = (smoke_run / MODEL_FILE).read_bytes()
    path = tmp_path / "truncated.h5"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError):
        load_model(path)
