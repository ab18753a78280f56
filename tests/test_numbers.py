"""Reading a number: the digits found, their order and boxes, and the CLI's --number contract."""

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import loaded_mnist_model_digit_predictor as predictor
from mnist_digits.files import MODEL_FILE, shipped_model
from mnist_digits.inference import load_model, load_piece_checker
from mnist_digits.prediction import NumberResult, predict
from mnist_digits.segmentation import Piece, best_cut, number_file_pieces, number_pieces, split_row

SIDE = 112  # each MNIST digit drawn this many pixels square


def written_number(mnist, indices: list[int], gap: int) -> np.ndarray:
    """MNIST test digits drawn dark on white paper, `gap` pixels between their
    28x28 frames (negative: the frames overlap, and so may the strokes)."""
    tiles = [255 - cv2.resize(mnist.x_test[index], (SIDE, SIDE), interpolation=cv2.INTER_CUBIC) for index in indices]
    page = np.full((SIDE + 80, 80 + len(tiles) * SIDE + gap * (len(tiles) - 1)), 255, np.uint8)
    for number, tile in enumerate(tiles):
        left = 40 + number * (SIDE + gap)
        page[40:40 + SIDE, left:left + SIDE] = np.minimum(page[40:40 + SIDE, left:left + SIDE], tile)
    return page


def lefts(boxes: list[tuple[int, int, int, int]]) -> list[int]:
    return [box[0] for box in boxes]


@pytest.fixture(scope="module")
def shipped():
    return load_model(shipped_model())


def read(model, tmp_path, page: np.ndarray) -> NumberResult:
    Image.fromarray(page).save(tmp_path / "number.png")
    result, = predict(model, [tmp_path / "number.png"], numbers=True)
    return result


@pytest.mark.parametrize("gap", [40, 0])
def test_the_digits_of_a_spaced_number_are_found_left_to_right(mnist, gap):
    page = written_number(mnist, [1, 2, 3, 4, 5, 6], gap)
    pieces, narrow_blobs = number_pieces(page)
    # Apart, each digit is one blob, read whole (a narrow one's other ways to
    # cut are made only if the piece checker doubts it is one digit); a row
    # this wide is not read as one digit too.
    cuts = [0, *(piece.last_cut for piece in pieces)]
    assert [(piece.first_cut, piece.last_cut) for piece in pieces] == list(zip(cuts[:6], cuts[1:], strict=True))
    assert all(narrow.blob.first_cut == pieces[narrow.whole].first_cut for narrow in narrow_blobs)
    boxes = [piece.box for piece in pieces]
    assert lefts(boxes) == sorted(lefts(boxes))
    for piece in pieces:
        left, top, width, height = piece.box
        assert piece.image.shape == (28, 28)
        assert 0 <= left and left + width <= page.shape[1] and top + height <= page.shape[0]


def test_boxes_are_in_the_pixels_of_a_big_jpeg_which_is_decoded_smaller(tmp_path):
    page = np.full((1000, 1600), 255, np.uint8)
    cv2.rectangle(page, (300, 200), (339, 799), 0, -1)  # a 1
    cv2.ellipse(page, (1000, 500), (200, 300), 0, 0, 360, 0, 40)  # a 0, its outer edge 780-1220 x 180-820
    Image.fromarray(page).save(tmp_path / "number.jpg", quality=95)
    pieces, _ = number_file_pieces(tmp_path / "number.jpg")  # decoded at 1/4 of its size
    assert np.allclose(pieces[0].box, (300, 200, 40, 600), atol=8)
    assert np.allclose(pieces[1].box, (780, 180, 440, 640), atol=8)


def test_two_touching_zeros_are_split_into_two_digits(shipped, tmp_path):
    page = np.full((200, 300), 255, np.uint8)
    cv2.ellipse(page, (110, 100), (38, 60), 0, 0, 360, 0, 9)
    cv2.ellipse(page, (186, 100), (38, 60), 0, 0, 360, 0, 9)  # the rings overlap by 2 px
    result = read(shipped, tmp_path, page)
    assert result.number == "00"
    first, second = (digit.box for digit in result.digits)
    touching = 148  # the rings meet at x = 147-149
    assert abs(first[0] + first[2] - touching) <= 0.15 * 76 and abs(second[0] - touching) <= 0.15 * 76


def test_a_number_on_a_dark_board_on_a_light_page_is_read_on_the_board(mnist, shipped, tmp_path):
    # The board was taken for dark ink and the digits for holes in it.
    board = 255 - written_number(mnist, [1, 2, 3], 40)
    height, width = board.shape
    page = np.full((2 * height, width + 200), 235, np.uint8)
    page[height // 2:height // 2 + height, 100:100 + width] = board
    result = read(shipped, tmp_path, page)
    assert result.number == "".join(str(mnist.y_test[index]) for index in [1, 2, 3])
    first_left = 100 + 40  # the board's and the first digit's frame's margins
    assert abs(result.digits[0].box[0] - first_left) < SIDE / 2  # in the page's pixels, not the board's


@pytest.mark.parametrize("pen", [1, 2])
def test_touching_digits_written_with_a_thin_pen_on_a_big_page_are_read(shipped, tmp_path, pen):
    # Thickening a thin stroke widens a piece: it must still fit its 28x28.
    page = np.full((800, 1600), 255, np.uint8)
    cv2.ellipse(page, (400, 400), (160, 200), 0, 0, 360, 0, pen)
    cv2.ellipse(page, (718, 400), (160, 200), 0, 0, 360, 0, pen)
    cv2.line(page, (933, 200), (933, 600), 0, pen)
    assert read(shipped, tmp_path, page).number == "001"


def touching_number(mnist, indices: list[int], overlap: int) -> np.ndarray:
    """MNIST test digits cropped to their ink and drawn dark on white, each
    overlapping the one before by `overlap` pixels."""
    tiles = []
    for index in indices:
        tile = cv2.resize(mnist.x_test[index], (SIDE, SIDE), interpolation=cv2.INTER_CUBIC)
        columns = np.nonzero(tile.max(axis=0) > 127)[0]
        tiles.append(tile[:, columns.min():columns.max() + 1])
    ink = np.zeros((SIDE + 80, 80 + sum(tile.shape[1] - overlap for tile in tiles) + overlap), np.uint8)
    left = 40
    for tile in tiles:
        region = ink[40:40 + SIDE, left:left + tile.shape[1]]
        np.maximum(region, tile, out=region)
        left += tile.shape[1] - overlap
    return 255 - ink


@pytest.mark.parametrize("indices, number", [([503, 606, 970, 729], "2856"), ([400, 787, 316, 239], "2861")])
def test_touching_digits_are_cut_where_the_model_reads_them_best(mnist, shipped, tmp_path, indices, number):
    # Cut by width alone (the code before), these read 288 and 280.
    page = touching_number(mnist, indices, overlap=8)
    assert max(piece.last_cut for piece in number_pieces(page)[0]) > 4  # touching: more than one way to cut
    assert read(shipped, tmp_path, page).number == number


@pytest.mark.parametrize("indices, number", [([46, 57], "11"), ([14, 17], "17")])
def test_two_touching_digits_narrower_than_a_digit_is_tall_are_cut(mnist, shipped, tmp_path, indices, number):
    # 0.67 and 0.87 digit heights wide: cut only where the piece checker
    # doubts they are one digit (before narrow blobs were cut, 11 read as 4).
    Image.fromarray(touching_number(mnist, indices, overlap=8)).save(tmp_path / "number.png")
    result, = predict(shipped, [tmp_path / "number.png"], numbers=True, piece_checker=load_piece_checker())
    assert result.number == number


def test_a_slim_one_touching_its_neighbour_is_read(mnist, shipped, tmp_path):
    # The 1 is 0.1-0.15 digit heights wide between the cuts around it: it
    # was no piece, and "41" read as 4.
    assert [mnist.y_test[index] for index in (6, 40)] == [4, 1]
    Image.fromarray(touching_number(mnist, [6, 40], overlap=4)).save(tmp_path / "number.png")
    result, = predict(shipped, [tmp_path / "number.png"], numbers=True, piece_checker=load_piece_checker())
    assert result.number == "41"


def test_a_row_far_wider_than_tall_is_not_read_as_one_digit(mnist, shipped, tmp_path):
    # The piece checker ruled out a 5's pieces; the only way through the
    # rest was the whole row, 3.1 times as wide as tall, read as "2".
    page = touching_number(mnist, [8444, 8445, 8446, 8447], overlap=4)
    pieces, _ = number_pieces(page)
    assert (0, max(piece.last_cut for piece in pieces)) not in [(piece.first_cut, piece.last_cut) for piece in pieces]
    Image.fromarray(page).save(tmp_path / "number.png")
    result, = predict(shipped, [tmp_path / "number.png"], numbers=True, piece_checker=load_piece_checker())
    assert result.number == "5565"


def piece(first_cut: int, last_cut: int, width: float = 0.8) -> Piece:
    return Piece(np.zeros((28, 28), np.float32), (0, 0, 1, 1), first_cut, last_cut, width)


def test_the_best_cut_is_the_likeliest_path_and_a_piece_wider_than_tall_costs():
    halves_and_whole = [piece(0, 1), piece(1, 2), piece(0, 2)]
    assert best_cut(halves_and_whole, [0.9, 0.9, 0.7]) == [0, 1]  # 0.81 > 0.7
    assert best_cut(halves_and_whole, [0.9, 0.9, 0.95]) == [2]
    wide = [piece(0, 1), piece(1, 2), piece(0, 2, width=1.3)]
    assert best_cut(wide, [0.9, 0.9, 0.95]) == [0, 1]  # 0.95 * e^-0.3 = 0.70 < 0.81


def test_ink_between_two_cuts_that_no_piece_covers_is_left_out_rather_than_the_row_read_as_one_digit():
    # A joint between two touching digits, too slim to be a piece: before,
    # there was no way through the row but the piece that spans it all,
    # read as one digit ("5579" read as 2).
    apart_and_whole = [piece(0, 1), piece(2, 3), piece(0, 3, width=2.0)]
    assert best_cut(apart_and_whole, [0.9, 0.9, 0.05]) == [0, 1]  # 0.81 * e^-3 = 0.040 > 0.05 * e^-1 = 0.018
    # Where a piece covers that ink, it is read, however unsure.
    assert best_cut([piece(0, 1), piece(1, 2), piece(2, 3)], [0.9, 0.04, 0.9]) == [0, 1, 2]


def test_a_zero_wider_than_tall_has_a_piece_of_its_own():
    # A 0 in thick chalk 1.4 times as wide as the row's digits are tall had
    # no piece (they were at most 1.3 wide): the row was read as one digit.
    row = np.zeros((40, 120), np.float32)
    row[10:30, 5:9] = row[10:30, 100:104] = 1  # two 1s, 20 px tall
    cv2.ellipse(row, (60, 20), (12, 9), 0, 0, 360, 1.0, 3)  # the 0: 29 px wide
    pieces, _ = split_row(row)
    assert any(piece.box[0] <= 47 and piece.box[0] + piece.box[2] >= 74 and piece.width < 2 for piece in pieces)


def test_a_five_in_two_pieces_is_one_digit_and_a_decimal_point_is_none():
    page = np.full((200, 420), 255, np.uint8)
    cv2.line(page, (60, 40), (130, 40), 0, 9)  # the 5's bar, apart from its body
    cv2.line(page, (62, 58), (58, 100), 0, 9)
    cv2.ellipse(page, (90, 125), (38, 35), 0, -150, 150, 0, 9)
    cv2.circle(page, (190, 158), 7, 0, -1)  # a decimal point
    cv2.line(page, (270, 40), (270, 160), 0, 9)  # a 1
    cv2.line(page, (330, 40), (390, 40), 0, 9)  # a 7
    cv2.line(page, (390, 40), (345, 160), 0, 9)
    pieces, _ = number_pieces(page)
    assert len(pieces) == 4  # three digits, and all of them as one
    assert pieces[0].box[0] < 70 and pieces[1].box[0] > 200


def test_number_json_has_the_documented_shape(mnist, smoke_run, tmp_path, capsys):
    path = tmp_path / "number.png"
    Image.fromarray(written_number(mnist, [1, 2, 3], 30)).save(path)
    assert predictor.main([str(path), "--number", "--json", "--model", str(smoke_run / MODEL_FILE)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert set(record) == {"path", "number", "uncertain", "digits"}
    assert isinstance(record["number"], str) and len(record["number"]) == 3
    assert record["number"] == "".join(str(digit["digit"]) for digit in record["digits"])
    for digit in record["digits"]:
        assert set(digit) == {"digit", "confidence", "uncertain", "probabilities", "box"}
        assert len(digit["probabilities"]) == 10 and len(digit["box"]) == 4


def test_the_shipped_model_reads_a_number_and_saves_one_input_per_digit(mnist, tmp_path, capsys):
    path = tmp_path / "year.png"
    Image.fromarray(written_number(mnist, [1, 3, 1, 4], 10)).save(path)  # 2, 0, 2, 4
    assert predictor.main([str(path), "--number", "--save-inputs", str(tmp_path / "seen")]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: 2024 (digits 2 ")
    assert sorted(p.name for p in (tmp_path / "seen").iterdir()) == [f"year.{n}.28x28.png" for n in range(4)]


def test_a_single_digit_read_as_a_number_is_that_digit(mnist, tmp_path, capsys):
    path = tmp_path / "one.png"
    Image.fromarray(written_number(mnist, [0], 0)).save(path)
    assert predictor.main([str(path), "--number"]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: 7 (digits 7 ")


def test_without_number_a_row_of_digits_gets_a_hint_and_single_digits_do_not(mnist, tmp_path, capsys):
    path = tmp_path / "row.png"
    Image.fromarray(written_number(mnist, [1, 2, 3], 30)).save(path)
    assert predictor.main([str(path)]) == 0
    assert capsys.readouterr().out.rstrip().endswith("; this image seems to hold 3 digits: try --number")
    assert predictor.main([str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["note"] == "this image seems to hold 3 digits: try --number"


def test_no_sample_of_a_single_digit_gets_the_hint(capsys):
    samples = Path(__file__).resolve().parent.parent / "samples"
    assert predictor.main([str(samples), "--json"]) == 0
    assert not [line for line in capsys.readouterr().out.splitlines() if '"note"' in line]


def test_the_number_samples_touching_ones_too_are_read_right_by_the_shipped_model(capsys):
    numbers = Path(__file__).resolve().parent.parent / "samples" / "numbers"
    with open(numbers / "labels.csv", newline="") as handle:
        truth = {row["file"]: row["number"] for row in csv.DictReader(handle)}
    assert len(truth) == 12
    predictor.main([*(str(numbers / name) for name in truth), "--number", "--json"])
    answers = {Path(row["path"]).name: row["number"] for row in map(json.loads, capsys.readouterr().out.splitlines())}
    assert answers == truth


def test_a_wide_single_digit_read_as_a_number_stays_one_digit(shipped, tmp_path):
    # A 0 wider than tall: two digits by its width, one by what the model reads.
    page = np.full((200, 300), 255, np.uint8)
    cv2.ellipse(page, (150, 100), (80, 55), 0, 0, 360, 0, 12)
    assert read(shipped, tmp_path, page).number == "0"
