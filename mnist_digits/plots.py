"""Training curves, drawn the same way by the trainer and the notebook."""

from matplotlib.figure import Figure


def training_curves(history: dict[str, list[float]]) -> Figure:
    """Loss and accuracy per epoch, training vs validation, and the learning rate."""
    epochs = range(1, len(history["loss"]) + 1)
    # Figure() rather than pyplot: no GUI backend, so it works headless.
    figure = Figure(figsize=(13, 4), layout="constrained")
    loss_axes, accuracy_axes, rate_axes = figure.subplots(1, 3)
    for axes, metric, label in [(loss_axes, "loss", "Loss (cross-entropy)"),
                                (accuracy_axes, "accuracy", "Accuracy")]:
        axes.plot(epochs, history[metric], "o-", label="training")
        axes.plot(epochs, history[f"val_{metric}"], "s-", label="validation")
        axes.set(xlabel="Epoch", ylabel=label, title=label)
        axes.grid(alpha=0.3)
        axes.legend()
    loss_axes.set_yscale("log")
    # The first epoch's training accuracy would squash the interesting part.
    later_accuracies = history["accuracy"][1:] + history["val_accuracy"]
    accuracy_axes.set_ylim(max(0.0, min(later_accuracies) - 0.005), 1.0)
    if "learning_rate" in history:
        rate_axes.plot(epochs, history["learning_rate"], "o-", color="tab:green")
    rate_axes.set(xlabel="Epoch", ylabel="Learning rate", title="Learning rate (start of epoch)")
    rate_axes.grid(alpha=0.3)
    return figure
