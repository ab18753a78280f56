"""The piece checker: its examples, its training run, and what it does to the cut of a number."""

import json

import numpy as np
import pytest

import mnist_cnn_with_dropout
from mnist_digits.files import PIECE_CHECKER_FILE, PIECE_CHECKER_METRICS_FILE
from mnist_digits.inference import KerasModel, NumpyModel, load_model
from mnist_digits.model import PIECE_CLASSES
from mnist_digits.piece_examples import labelled_pieces, piece_examples
from mnist_digits.prediction import LEAST_WHOLE, NumberResult, Result
from mnist_digits.segmentation import IN_ROW_PIXELS, Blob, NarrowBlob, Piece, every_piece, split_row


def test_a_row_of_two_far_apart_digits_gives_two_whole_digits_and_one_not():
    page = np.full((120, 400), 255, np.uint8)
    masks = np.zeros((2, 120, 400), bool)
    masks[0, 20:100, 40:60] = True  # two 1s, as bars
    masks[1, 20:100, 180:200] = True  # the row twice as wide as tall: also read as one digit
    page[masks.any(axis=0)] = 0
    assert [label for _, label in labelled_pieces(page, masks)] == [1, 1, 0]


def test_touching_digits_give_pieces_of_both_kinds(mnist):
    images, labels = piece_examples(mnist.x_train[:200], rows=40, seed=1)
    assert images.shape == (len(labels), 28, 28) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1
    assert set(labels.tolist()) == {0, 1}
    assert 0.15 < labels.mean() < 0.6  # most cuts of touching digits are not whole digits


@pytest.fixture(scope="module")
def piece_checker_run(tmp_path_factory, mnist):
    output_dir = tmp_path_factory.mktemp("piece_checker")
    code = mnist_cnn_with_dropout.main(["--piece-checker", "--epochs", "1", "--limit", "1000",
                                        "--output-dir", str(output_dir)])
    assert code == 0
    return output_dir


def test_the_piece_checker_run_writes_its_model_and_metrics(piece_checker_run):
    metrics = json.loads((piece_checker_run / PIECE_CHECKER_METRICS_FILE).read_text())
    assert metrics["shapes"] == ["small"] and metrics["epochs"] == 1
    assert metrics["train_pieces"] > 1000 and 0 < metrics["test_whole_digits"] < metrics["test_pieces"]
    assert 0.5 < metrics["test_accuracy"] <= 1


def test_the_piece_checker_runs_on_the_numpy_path_as_keras_does(piece_checker_run, mnist):
    path = piece_checker_run / PIECE_CHECKER_FILE
    fast = load_model(path, PIECE_CLASSES)
    assert isinstance(fast, NumpyModel)
    images, _ = piece_examples(mnist.x_test[:100], rows=20, seed=2)
    inputs = images[..., None]
    np.testing.assert_allclose(fast.predict(inputs), KerasModel(path, PIECE_CLASSES).predict(inputs), atol=1e-4)


def test_the_piece_checker_is_not_a_digit_model(piece_checker_run):
    from mnist_digits.inference import ModelError

    with pytest.raises(ModelError, match="expected 10 classes"):
        load_model(piece_checker_run / PIECE_CHECKER_FILE)


@pytest.mark.parametrize("args", [["--piece-checker", "--preset", "best"], ["--piece-checker", "--show"]])
def test_the_piece_checker_takes_no_preset_or_curves(args, capsys):
    with pytest.raises(SystemExit):
        mnist_cnn_with_dropout.main(args)
    assert "--piece-checker trains the piece checker only" in capsys.readouterr().err


def reading(confidence: float, whole: float) -> Result:
    probabilities = np.full(10, (1 - confidence) / 9)
    probabilities[4] = confidence
    return Result(None, probabilities=probabilities, whole=whole)


def test_a_number_is_cut_into_the_pieces_the_checker_finds_whole():
    # "11" read as halves, each a sure 1 but not whole, or as one piece, a less sure but whole 4.
    blank = np.zeros((28, 28))
    pieces = [Piece(blank, (0, 0, 10, 20), 0, 1, 0.5), Piece(blank, (10, 0, 10, 20), 1, 2, 0.5),
              Piece(blank, (0, 0, 20, 20), 0, 2, 1.0)]
    apart_not_whole = [reading(0.99, 0.1), reading(0.99, 0.1), reading(0.9, 0.95)]
    result = NumberResult(None, pieces=pieces, piece_readings=list(apart_not_whole))
    result.settle()
    assert [id(digit) for digit in result.digits] == [id(apart_not_whole[2])]
    apart_whole = [reading(0.99, 0.99), reading(0.99, 0.99), reading(0.9, 0.95)]
    result = NumberResult(None, pieces=pieces, piece_readings=list(apart_whole))
    result.settle()
    assert [id(digit) for digit in result.digits] == [id(digit) for digit in apart_whole[:2]]


@pytest.mark.parametrize("blob_whole, ways_read", [(0.9, False), (0.2, True)])
def test_a_narrow_blob_is_cut_only_where_the_checker_doubts_it_is_one_digit(blob_whole, ways_read):
    # An H 0.75 digit heights wide: one digit, or two bars (cuts 0-1, 1-2).
    mask = np.zeros((22, 18), bool)
    mask[1:21, 2:6] = mask[1:21, 11:15] = mask[10:12, 2:15] = True
    blob = Blob(mask, mask.astype(np.float32), [1, 8, 16], first_cut=0, digit_height=20, shortest=8, pen=4,
                region=IN_ROW_PIXELS)
    whole = blob.pieces([(0, 2)])
    result = NumberResult(None, pieces=whole, piece_readings=[Result(None, image=whole[0].image, whole=blob_whole)],
                          narrow_blobs=[NarrowBlob(blob, 0)])
    ways = result.doubted_ways_to_cut()
    assert [(piece.first_cut, piece.last_cut) for piece in result.pieces] == [(0, 2), *([(0, 1), (1, 2)] * ways_read)]
    assert [id(way) for way in ways] == [id(reading) for reading in result.piece_readings[1:]]
    assert result.narrow_blobs == []  # made once


def test_the_piece_checker_learns_from_every_way_to_cut_a_narrow_blob():
    row = np.zeros((24, 60), np.float32)
    row[2:22, 4:8] = row[2:22, 13:17] = row[11:13, 4:17] = 1  # an H, 0.65 digit heights wide
    row[2:22, 40:43] = 1  # a 1 apart
    pieces, narrow_blobs = split_row(row)
    spans = [(piece.first_cut, piece.last_cut) for piece in every_piece(row)]
    assert len(narrow_blobs) == 1 and len(spans) > len(pieces)
    assert set(spans) == {(piece.first_cut, piece.last_cut) for piece in pieces + narrow_blobs[0].other_ways()}
    assert spans[:-1] == sorted(spans[:-1])  # in row order, the whole row last


def test_pieces_the_checker_rules_out_are_not_read_but_a_blob_or_the_row_whole_always_is():
    # A 7 apart, then a blob the checker doubts whole and in pieces (a flat
    # 2 in a photo): left unread, the blob left the row, read as one digit,
    # the only way through.
    blank = np.zeros((28, 28))
    pieces = [Piece(blank, (0, 0, 10, 20), 0, 1, 0.5), Piece(blank, (10, 0, 10, 20), 1, 2, 0.5),
              Piece(blank, (20, 0, 10, 20), 2, 3, 0.5), Piece(blank, (10, 0, 20, 20), 1, 3, 1.0),
              Piece(blank, (0, 0, 30, 20), 0, 3, 1.5)]
    readings = [Result(None, image=blank, whole=0.5 if index == 0 else LEAST_WHOLE / 2) for index in range(5)]
    result = NumberResult(None, pieces=pieces, piece_readings=readings)
    assert [id(reading) for reading in result.readings()] == [id(readings[index]) for index in (0, 3, 4)]
    for index, digit in ((0, 7), (3, 2), (4, 7)):
        readings[index].probabilities = np.eye(10)[digit] * 0.8 + 0.02
    result.settle()
    assert result.number == "72"


def test_a_piece_read_as_a_one_is_not_ruled_out_by_the_checker_alone():
    # "16" with the 1 touching the 6: the checker took the 1 for a stem cut
    # from a row (0.03 whole) and "16" read as one 6 won: 136 for 1316.
    blank = np.zeros((28, 28))
    pieces = [Piece(blank, (0, 0, 4, 20), 0, 1, 0.3), Piece(blank, (4, 0, 16, 20), 1, 2, 0.8),
              Piece(blank, (0, 0, 20, 20), 0, 2, 1.0)]
    readings = [Result(None, image=blank, probabilities=np.eye(10)[digit] * confidence + (1 - confidence) / 10,
                       whole=whole)
                for digit, confidence, whole in ((1, 0.9, 0.03), (6, 0.95, 0.95), (6, 0.85, 0.12))]
    result = NumberResult(None, pieces=pieces, piece_readings=readings)
    result.settle()
    assert result.number == "16"
    # Read as a 7, the same piece is left to the checker's word.
    readings[0].probabilities = np.roll(readings[0].probabilities, 6)
    result = NumberResult(None, pieces=pieces, piece_readings=readings)
    result.settle()
    assert result.number == "6"
