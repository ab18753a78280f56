"""The figures of a training run, drawn the same way by the trainer and the notebook."""

import numpy as np
from matplotlib.figure import Figure


def member_histories(history: dict) -> list[dict[str, list[float]]]:
    """Each model's per-epoch history: one, or an ensemble's members'."""
    return history["members"] if "members" in history else [history]


def training_curves(history: dict) -> Figure:
    """Loss and accuracy per epoch, training vs validation, and the learning
    rate; for an ensemble, each member's curves in a colour of its own."""
    histories = member_histories(history)
    # Figure() rather than pyplot: no GUI backend, so it works headless.
    figure = Figure(figsize=(13, 4), layout="constrained")
    loss_axes, accuracy_axes, rate_axes = figure.subplots(1, 3)
    for axes, metric, label in [(loss_axes, "loss", "Loss (cross-entropy, smoothed labels)"),
                                (accuracy_axes, "accuracy", "Accuracy")]:
        for number, member in enumerate(histories, start=1):
            epochs = range(1, len(member[metric]) + 1)
            if len(histories) == 1:
                axes.plot(epochs, member[metric], "o-", label="training")
                axes.plot(epochs, member[f"val_{metric}"], "s-", label="validation")
            else:
                line, = axes.plot(epochs, member[f"val_{metric}"], "s-", markersize=3,
                                  label=f"member {number} validation")
                axes.plot(epochs, member[metric], ":", color=line.get_color(), alpha=0.6)
        axes.set(xlabel="Epoch", ylabel=label, title=label)
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small", title="dotted: training" if len(histories) > 1 else None)
    loss_axes.set_yscale("log")
    # The first epoch's training accuracy would squash the interesting part.
    later_accuracies = [value for member in histories for value in member["accuracy"][1:] + member["val_accuracy"]]
    accuracy_axes.set_ylim(max(0.0, min(later_accuracies) - 0.005), 1.0)
    if "learning_rate" in histories[0]:
        rate_axes.plot(range(1, len(histories[0]["learning_rate"]) + 1), histories[0]["learning_rate"], "o-",
                       color="tab:green")
    rate_axes.set(xlabel="Epoch", ylabel="Learning rate", title="Learning rate (start of epoch)")
    rate_axes.grid(alpha=0.3)
    return figure


def confusion_figure(counts) -> Figure:
    """The confusion matrix, errors made visible on a log colour scale."""
    from matplotlib.colors import LogNorm

    figure = Figure(figsize=(6.5, 5.5), layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(counts + 1, cmap="Blues", norm=LogNorm())
    for (true, predicted), count in np.ndenumerate(counts):
        if count:
            colour = "white" if true == predicted else "black"
            axes.text(predicted, true, str(count), ha="center", va="center", fontsize=7, color=colour)
    axes.set(xlabel="Predicted digit", ylabel="True digit", title="Confusion matrix (test set)",
             xticks=range(10), yticks=range(10))
    figure.colorbar(image, ax=axes, label="images + 1 (log scale)")
    return figure


def digit_grid(images, captions: list[str], columns: int = 10) -> Figure:
    """Small 28x28 images in a grid, each with a caption."""
    rows = max(1, -(-len(images) // columns))
    figure = Figure(figsize=(columns * 1.1, rows * 1.3), layout="constrained")
    for index, axes in enumerate(figure.subplots(rows, columns, squeeze=False).ravel()):
        axes.axis("off")
        if index < len(images):
            axes.imshow(images[index], cmap="gray", vmin=0, vmax=1 if images[index].max() <= 1 else 255)
            axes.set_title(captions[index], fontsize=8)
    return figure


def number_boxes(images, boxes: list[list[tuple[int, int, int, int]]], captions: list[str]) -> Figure:
    """Images of numbers, one under another, with a box around each digit found."""
    from matplotlib.patches import Rectangle

    figure = Figure(figsize=(9, 1.9 * len(images)), layout="constrained")
    for axes, image, digit_boxes, caption in zip(figure.subplots(len(images), 1, squeeze=False).ravel(),
                                                 images, boxes, captions, strict=True):
        axes.imshow(image, cmap="gray" if np.ndim(image) == 2 else None)
        for left, top, width, height in digit_boxes:
            axes.add_patch(Rectangle((left, top), width, height, fill=False, edgecolor="tab:orange", linewidth=1.5))
        axes.set_title(caption, fontsize=9)
        axes.axis("off")
    return figure
