"""The CNN, and the one definition of what it takes as input."""

import numpy as np

IMAGE_SIZE = 28
INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)
NUM_CLASSES = 10
# The piece checker's classes: a piece of a written number is not one whole
# digit (a part of one, or parts of two), or it is.
PIECE_CLASSES = 2
WHOLE_DIGIT = 1


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, 28, 28), white ink on black, as the model takes them:
    float32 (N, 28, 28, 1) in [0, 1], exactly like Keras's MNIST example."""
    return (np.asarray(images, dtype=np.float32) / 255.0).reshape(-1, *INPUT_SHAPE)


def build_model(shape: str = "3x3", name: str = "mnist_cnn_with_dropout",
                classes: int = NUM_CLASSES):  # -> keras.Model
    """Conv / MaxPooling / Dropout network sized for a 2-core CPU.

    "3x3", the default: BatchNormalization lets it train fast at a high
    learning rate; the first convolutions are narrow because, at 28x28, width
    costs the most time. For an ensemble, other views of the digit: "5x5",
    two wider LeNet-like stages, 1.5x the time; "deep", five 3x3 stages up to
    128 filters, 3x the time. "small", two-thirds the width of "3x3", is
    the piece checker's: telling a whole digit from a piece is the easier
    task (keras is imported late: it is slow to load).
    """
    import keras
    from keras import layers

    def conv_block(filters: int, kernel_size: int, padding: str = "valid") -> list:
        return [
            layers.Conv2D(filters, kernel_size, padding=padding, use_bias=False),
            # Faster-moving statistics than Keras's 0.99, so short runs are usable too.
            layers.BatchNormalization(momentum=0.9),
            layers.ReLU(),
        ]

    # Functions, so that only the chosen shape's layers are made.
    features = {
        "3x3": lambda: [*conv_block(16, 3), layers.MaxPooling2D(), *conv_block(48, 3), *conv_block(64, 3),
                        layers.MaxPooling2D()],
        "5x5": lambda: [*conv_block(24, 5), layers.MaxPooling2D(), *conv_block(64, 5), layers.MaxPooling2D()],
        "deep": lambda: [*conv_block(24, 3), layers.MaxPooling2D(), *conv_block(48, 3, "same"), *conv_block(64, 3),
                         *conv_block(96, 3), layers.MaxPooling2D(), *conv_block(128, 3, "same")],
        "small": lambda: [*conv_block(16, 3), layers.MaxPooling2D(), *conv_block(32, 3), *conv_block(48, 3),
                          layers.MaxPooling2D()],
    }
    dense_units = {"3x3": 128, "5x5": 256, "deep": 128, "small": 64}
    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            *features[shape](),
            layers.Flatten(),
            layers.Dropout(0.3),
            layers.Dense(dense_units[shape], activation="relu"),
            layers.Dropout(0.3),
            layers.Dense(classes, activation="softmax"),
        ],
        name=name,
    )


def build_ensemble(members: list):  # -> keras.Model
    """One model whose answer is the average of its members' probabilities."""
    import keras
    from keras import layers

    inputs = keras.Input(INPUT_SHAPE)
    return keras.Model(inputs, layers.Average()([member(inputs) for member in members]), name="ensemble")
