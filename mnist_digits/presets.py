"""What `mnist-train --preset` chooses between; read before TensorFlow loads."""

from typing import NamedTuple


class Preset(NamedTuple):
    shapes: tuple[str, ...]  # model.build_model's shapes: one model each; several are averaged
    epochs: int  # per model
    batch_size: int


PRESETS = {
    "quick": Preset(("3x3",), epochs=10, batch_size=256),
    "best": Preset(("deep", "5x5", "3x3", "5x5", "3x3"), epochs=16, batch_size=256),
}
# The piece checker that --number asks whether a piece is one whole digit:
# not a --preset, as it is not a digit model.
PIECE_CHECKER = Preset(("small",), epochs=4, batch_size=256)
