"""Shared fixtures: the real MNIST, and one small model trained once per session."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def mnist():
    from mnist_digits.data import load_mnist

    return load_mnist()


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory, mnist) -> Path:
    """Output folder of a real training run on a small slice (seconds, not minutes)."""
    import mnist_cnn_with_dropout

    output_dir = tmp_path_factory.mktemp("smoke_run")
    code = mnist_cnn_with_dropout.main(
        ["--epochs", "2", "--limit", "4096", "--batch-size", "64", "--output-dir", str(output_dir)])
    assert code == 0
    return output_dir


@pytest.fixture(scope="session")
def best_smoke_training(tmp_path_factory, mnist) -> tuple[Path, str]:
    """Output folder and printed lines of `--preset best` on a tiny slice, one epoch a member."""
    import contextlib
    import io

    import mnist_cnn_with_dropout

    output_dir = tmp_path_factory.mktemp("best_smoke_run")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = mnist_cnn_with_dropout.main(["--preset", "best", "--epochs", "1", "--limit", "512",
                                            "--batch-size", "64", "--output-dir", str(output_dir)])
    assert code == 0
    return output_dir, printed.getvalue()


@pytest.fixture(scope="session")
def best_smoke_run(best_smoke_training) -> Path:
    """Output folder of `--preset best` on a tiny slice, like smoke_run's."""
    return best_smoke_training[0]
