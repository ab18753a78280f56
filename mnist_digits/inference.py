"""Run a saved Keras model on 28x28 digits, quickly.

Importing TensorFlow takes seconds; a user asking about one digit should get
the answer in well under one. A Sequential `.h5` made of the layers below is
run here with NumPy, from the weights h5py reads out of the file. Any other
Keras model file is loaded by Keras itself (in safe mode).
"""

import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mnist_digits.files import model_to_use, piece_checker_to_use, shipped_model_note
from mnist_digits.model import INPUT_SHAPE, NUM_CLASSES, PIECE_CLASSES
from mnist_digits.quiet import import_tensorflow_quietly

Layer = Callable[[np.ndarray], np.ndarray]
BATCH = 256  # keeps the im2col buffers of a convolution in the cache-friendly MBs


class ModelError(Exception):
    """The model file is missing, unreadable or unsuitable; the message says why."""


def activation(name: str) -> Layer:
    if name == "linear":
        return lambda x: x
    if name == "relu":
        return lambda x: np.maximum(x, 0, out=x)
    if name == "softmax":
        def softmax(x: np.ndarray) -> np.ndarray:
            exponentials = np.exp(x - x.max(axis=-1, keepdims=True))
            return exponentials / exponentials.sum(axis=-1, keepdims=True)
        return softmax
    raise NotImplementedError(f"activation {name}")


def conv2d(config: dict, weights: dict[str, np.ndarray]) -> Layer:
    if (tuple(config["strides"]) != (1, 1) or tuple(config["dilation_rate"]) != (1, 1)
            or config.get("groups", 1) != 1 or config["data_format"] != "channels_last"):
        raise NotImplementedError("strided, dilated or grouped convolution")
    kernel = weights["kernel"]
    height, width, _, filters = kernel.shape
    matrix = kernel.reshape(-1, filters)
    bias = weights.get("bias", np.zeros(filters, np.float32))
    activate = activation(config["activation"])
    same = config["padding"] == "same"

    def convolve(x: np.ndarray) -> np.ndarray:
        if same:
            top, left = (height - 1) // 2, (width - 1) // 2
            x = np.pad(x, ((0, 0), (top, height - 1 - top), (left, width - 1 - left), (0, 0)))
        windows = np.lib.stride_tricks.sliding_window_view(x, (height, width), axis=(1, 2))
        columns = windows.transpose(0, 1, 2, 4, 5, 3)  # (N, H', W', kh, kw, C): the kernel's order
        return activate(columns.reshape(*columns.shape[:3], -1) @ matrix + bias)

    return convolve


def batch_normalization(config: dict, weights: dict[str, np.ndarray]) -> Layer:
    scale = weights.get("gamma", 1) / np.sqrt(weights["moving_variance"] + config["epsilon"])
    shift = weights.get("beta", 0) - weights["moving_mean"] * scale

    def normalise(x: np.ndarray) -> np.ndarray:
        x *= scale
        x += shift
        return x

    return normalise


def max_pooling2d(config: dict, weights: dict[str, np.ndarray]) -> Layer:
    size = tuple(config["pool_size"])
    if tuple(config["strides"] or size) != size or config["padding"] != "valid":
        raise NotImplementedError("overlapping or padded pooling")

    def pool(x: np.ndarray) -> np.ndarray:
        rows, cols = x.shape[1] // size[0], x.shape[2] // size[1]
        # Elementwise maxima of strided views: far faster than a reduction over small axes.
        pooled = x[:, 0:rows * size[0]:size[0], 0:cols * size[1]:size[1]].copy()
        for row in range(size[0]):
            for col in range(size[1]):
                np.maximum(pooled, x[:, row:rows * size[0]:size[0], col:cols * size[1]:size[1]], out=pooled)
        return pooled

    return pool


def dense(config: dict, weights: dict[str, np.ndarray]) -> Layer:
    kernel = weights["kernel"]
    bias = weights.get("bias", np.zeros(kernel.shape[1], np.float32))
    activate = activation(config["activation"])
    return lambda x: activate(x @ kernel + bias)


def relu(config: dict, weights: dict[str, np.ndarray]) -> Layer:
    if config.get("max_value") is not None or config.get("negative_slope", 0) or config.get("threshold", 0):
        raise NotImplementedError("parametrised ReLU")
    return activation("relu")


LAYERS: dict[str, Callable[[dict, dict[str, np.ndarray]], Layer]] = {
    "Conv2D": conv2d,
    "BatchNormalization": batch_normalization,
    "MaxPooling2D": max_pooling2d,
    "Dense": dense,
    "ReLU": relu,
    "Activation": lambda config, weights: activation(config["activation"]),
    "Flatten": lambda config, weights: lambda x: x.reshape(len(x), -1),
    "Dropout": lambda config, weights: lambda x: x,
}


def layer_configs(model_config: dict) -> list[dict]:
    return [layer for layer in model_config["config"]["layers"] if layer["class_name"] != "InputLayer"]


def sources(inbound: object) -> set[str]:
    """The names of the layers whose outputs a layer's inbound nodes take."""
    if isinstance(inbound, dict):
        if "keras_history" in inbound:
            return {inbound["keras_history"][0]}
        return set().union(*map(sources, inbound.values()))
    if isinstance(inbound, list):
        return set().union(*map(sources, inbound))
    return set()


def member_configs(model_config: dict) -> list[dict]:
    """The Sequential models a file holds: the model itself, or the members of
    an ensemble that averages Sequential models of its one input (--preset best)."""
    if model_config.get("class_name") == "Sequential":
        return [model_config]
    config = model_config.get("config", {})
    input_layer, *members, average = config.get("layers", [{}, {}])
    member_names = {member["config"]["name"] for member in members}
    outputs = config.get("output_layers") or [[]]
    output_names = {outputs[0]} if isinstance(outputs[0], str) else {output[0] for output in outputs if output}
    if not (input_layer.get("class_name") == "InputLayer" and average.get("class_name") == "Average"
            and members and all(member["class_name"] == "Sequential" for member in members)
            and all(sources(member.get("inbound_nodes")) == {input_layer["config"]["name"]} for member in members)
            and sources(average.get("inbound_nodes")) == member_names
            and output_names == {average["config"]["name"]}):
        raise NotImplementedError("neither a Sequential model nor an average of Sequential ones")
    return members


def layer_weights(group, layer_name: str | None = None) -> dict[str, np.ndarray]:
    """The weights an h5 group lists, by their short name; only `layer_name`'s
    when the group holds a whole member's ('member/.../layer/weight')."""
    return {name.split("/")[-1]: np.asarray(group[name], dtype=np.float32)
            for name in group.attrs.get("weight_names", [])
            if layer_name is None or name.split("/")[-2] == layer_name}


def mentions_lambda(config: object) -> bool:
    """Whether a model config holds a Lambda layer, at any depth."""
    if isinstance(config, dict):
        return config.get("class_name") == "Lambda" or any(map(mentions_lambda, config.values()))
    if isinstance(config, list):
        return any(map(mentions_lambda, config))
    return False


class NumpyModel:
    """A Sequential Keras model, or an average of several, rebuilt from its .h5
    file as NumPy functions."""

    def __init__(self, members: list[list[Layer]], classes: int = NUM_CLASSES):
        self.members, self.classes = members, classes

    @classmethod
    def from_h5(cls, path: Path, model_config: dict, classes: int = NUM_CLASSES) -> "NumpyModel":
        import h5py

        members = []
        with h5py.File(path, "r") as file:
            saved = file["model_weights"]
            for member in member_configs(model_config):
                layers = []
                for layer in layer_configs(member):
                    if layer["class_name"] not in LAYERS:
                        raise NotImplementedError(layer["class_name"])
                    name = layer["config"]["name"]
                    weights = (layer_weights(saved[name]) if member is model_config
                               else layer_weights(saved[member["config"]["name"]], name))
                    layers.append(LAYERS[layer["class_name"]](layer["config"], weights))
                members.append(layers)
        return cls(members, classes)

    def predict(self, images: np.ndarray) -> np.ndarray:
        outputs = []
        for start in range(0, len(images), BATCH):
            batch = images[start:start + BATCH]
            outputs.append(sum(self.run(layers, batch) for layers in self.members) / len(self.members))
        return np.concatenate(outputs) if outputs else np.zeros((0, self.classes), np.float32)

    @staticmethod
    def run(layers: list[Layer], images: np.ndarray) -> np.ndarray:
        x = np.array(images, dtype=np.float32)  # a copy: layers work in place
        for layer in layers:
            x = layer(x)
        return x


class KerasModel:
    """Any Keras model file, loaded by Keras in safe mode (slow to import)."""

    def __init__(self, path: Path, classes: int = NUM_CLASSES):
        keras = import_tensorflow_quietly("keras")
        try:
            self.model = keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as error:
            message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ModelError(f"{path}: Keras cannot load this model ({message})") from None
        input_shape = tuple(self.model.input_shape[1:])
        if input_shape != INPUT_SHAPE or self.model.output_shape[-1] != classes:
            raise ModelError(f"{path}: model takes {input_shape} and gives {self.model.output_shape[1:]}; "
                             f"expected input {INPUT_SHAPE} and {classes} classes")

    def predict(self, images: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(images, batch_size=BATCH, verbose=0))


def read_h5_config(path: Path) -> dict:
    import h5py

    try:
        with h5py.File(path, "r") as file:
            if "model_config" not in file.attrs or "model_weights" not in file:
                raise ModelError(f"{path}: an HDF5 file, but not a Keras model (no model_config)")
            return json.loads(file.attrs["model_config"])
    except OSError:
        raise ModelError(f"{path}: not a readable Keras .h5 model file (corrupt or truncated?)") from None


def check_input_shape(path: Path, config: dict) -> None:
    layers = config.get("config", {}).get("layers", [])
    if layers and layers[0]["class_name"] == "InputLayer":
        shape = layers[0]["config"].get("batch_shape") or layers[0]["config"].get("batch_input_shape")
        if shape and tuple(shape[1:]) != INPUT_SHAPE:
            raise ModelError(f"{path}: model takes input {tuple(shape[1:])}, expected {INPUT_SHAPE}")


def load_model(path: Path, classes: int = NUM_CLASSES) -> NumpyModel | KerasModel:
    """The fast NumPy model when the file allows it, else Keras's own; it
    must give `classes` probabilities."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such model file; train one with "
                         "`python mnist_cnn_with_dropout.py` or pass --model PATH")
    if path.suffix.lower() in (".h5", ".hdf5"):
        config = read_h5_config(path)
        if mentions_lambda(config):
            raise ModelError(f"{path}: model contains a Lambda layer (arbitrary code); refusing to load it")
        check_input_shape(path, config)
        try:
            model = NumpyModel.from_h5(path, config, classes)
            outputs = model.predict(np.zeros((1, *INPUT_SHAPE), np.float32)).shape[1:]
        except NotImplementedError:
            return KerasModel(path, classes)  # a layer NumPy does not run: Keras will
        except (KeyError, ValueError):
            raise ModelError(f"{path}: model weights are missing or do not fit its layers") from None
        if outputs != (classes,):
            raise ModelError(f"{path}: model gives {outputs} outputs; expected {classes} classes")
        return model
    return KerasModel(path, classes)


def load_model_to_use(requested: Path | None) -> tuple[Path, NumpyModel | KerasModel]:
    """The model a command runs (files.model_to_use) and where it is, with a
    note on stderr when it is the one that ships with the package."""
    path = model_to_use(requested)
    if note := shipped_model_note(requested, path):
        print(note, file=sys.stderr)
    return path, load_model(path)


def load_piece_checker() -> NumpyModel | KerasModel:
    """The piece checker that --number uses (files.piece_checker_to_use)."""
    return load_model(piece_checker_to_use(), PIECE_CLASSES)
