"""Where a training run's files go, and writing them so that an interrupted
run never leaves a half-written one."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEFAULT_OUTPUT_DIR = Path("models")
MODEL_FILE = "mnist_model.h5"
HISTORY_FILE = "history.json"
METRICS_FILE = "metrics.json"
CURVES_FILE = "training_curves.png"


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it into place on success.

    The temporary name keeps the suffix, because Keras, NumPy and matplotlib
    choose the file format from it. On any exception (Ctrl-C included) the
    temporary file is removed and the previous `path` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)

