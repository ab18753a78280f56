"""Where a training run's files go, writing them so that an interrupted run
never leaves a half-written one, and which model a prediction reads."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEFAULT_OUTPUT_DIR = Path("models")
MODEL_FILE = "mnist_model.h5"
HISTORY_FILE = "history.json"
METRICS_FILE = "metrics.json"
CURVES_FILE = "training_curves.png"
PIECE_CHECKER_FILE = "piece_checker.h5"
PIECE_CHECKER_METRICS_FILE = "piece_checker_metrics.json"
LOCAL_MODEL = DEFAULT_OUTPUT_DIR / MODEL_FILE
LOCAL_PIECE_CHECKER = DEFAULT_OUTPUT_DIR / PIECE_CHECKER_FILE
# pyproject.toml installs models/mnist_model.h5, piece_checker.h5 and their metrics here.
SHIPPED_MODEL_FOLDER = "shipped_model"


def shipped_model(name: str = MODEL_FILE) -> Path:
    """The model (or the piece checker) that comes with the project: package
    data once installed, models/ beside the package in a checkout."""
    package = Path(__file__).resolve().parent
    installed = package / SHIPPED_MODEL_FOLDER / name
    return installed if installed.is_file() else package.parent / DEFAULT_OUTPUT_DIR / name


def model_to_use(requested: Path | None) -> Path:
    """`requested` if given; else a model trained here (./models/); else the shipped one."""
    if requested is not None:
        return requested
    return LOCAL_MODEL if LOCAL_MODEL.is_file() else shipped_model()


def piece_checker_to_use() -> Path:
    """One trained here (./models/), else the shipped one: it reads pieces of
    ink, not digits, so it serves every digit model alike."""
    return LOCAL_PIECE_CHECKER if LOCAL_PIECE_CHECKER.is_file() else shipped_model(PIECE_CHECKER_FILE)


def shipped_model_note(requested: Path | None, model: Path) -> str | None:
    """What to tell a user who named no model and has none trained here."""
    if requested is not None or model == LOCAL_MODEL:
        return None
    return f"note: using the model that ships with mnist-digits, {model} (no {LOCAL_MODEL} here; --model picks another)"


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

