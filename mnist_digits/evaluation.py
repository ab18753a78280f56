"""Where the model is right and wrong on the test images."""

import numpy as np

from mnist_digits.model import NUM_CLASSES


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """counts[true, predicted] over all images."""
    counts = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(counts, (labels, predictions), 1)
    return counts


def precision_recall(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per digit: of the images read as it, how many were it; of its images, how many were read."""
    right = np.diag(counts).astype(float)
    return right / np.maximum(counts.sum(axis=0), 1), right / np.maximum(counts.sum(axis=1), 1)
