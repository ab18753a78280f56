import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import loaded_mnist_model_digit_predictor as predictor
from mnist_digits.files import MODEL_FILE

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SHIPPED_MODEL = ROOT / "models" / MODEL_FILE


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_every_sample_is_read_right_by_the_shipped_model(capsys):
    with open(SAMPLES / "labels.csv", newline="") as handle:
        truth = {row["file"]: int(row["digit"]) for row in csv.DictReader(handle)}
    assert len(truth) >= 20 and "handwritten_digit.png" in truth
    assert predictor.main([str(SAMPLES), "--json", "--model", str(SHIPPED_MODEL)]) == 0
    answers = {row["path"].split("/")[-1]: row["digit"] for row in json_lines(capsys.readouterr().out)}
    assert answers == truth


def test_plain_output_is_one_line_per_image_with_digit_and_confidence(smoke_run, capsys):
    image = SAMPLES / "handwritten_digit.png"
    assert predictor.main([str(image), "--model", str(smoke_run / MODEL_FILE), "--top-k", "3"]) == 0
    line, = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{image}: ") and "(confidence " in line and "; next: " in line


def test_json_has_the_documented_fields_and_probabilities_sum_to_one(smoke_run, capsys):
    predictor.main([str(SAMPLES / "handwritten_digit.png"), "--json", "--model", str(smoke_run / MODEL_FILE)])
    record, = json_lines(capsys.readouterr().out)
    assert {"path", "digit", "confidence", "probabilities"} <= set(record)
    assert len(record["probabilities"]) == 10 and sum(record["probabilities"]) == pytest.approx(1, abs=1e-4)
    assert record["digit"] == int(np.argmax(record["probabilities"]))


def test_bad_images_fail_alone_and_the_batch_goes_on(smoke_run, tmp_path, capsys):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.png").write_text("not an image")
    Image.new("L", (300, 200), 255).save(tmp_path / "blank.png")
    good = SAMPLES / "handwritten_digit.png"
    args = [str(good), str(tmp_path / "missing.png"), str(tmp_path), "--json", "--model", str(smoke_run / MODEL_FILE)]
    assert predictor.main(args) == 1
    records = {row["path"].split("/")[-1]: row for row in json_lines(capsys.readouterr().out)}
    assert "digit" in records["handwritten_digit.png"]
    assert records["missing.png"]["error"] == "no such file"
    assert "not an image" in records["empty.png"]["error"] and "not an image" in records["notes.png"]["error"]
    assert records["blank.png"]["error"] == "no digit found"


def test_errors_in_plain_mode_are_one_line_each_on_stderr(smoke_run, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("a note beside the images")
    assert predictor.main([str(tmp_path / "gone.jpg"), str(tmp_path), "--model", str(smoke_run / MODEL_FILE)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert f"error: {tmp_path / 'gone.jpg'}: no such file" in err
    assert any("skipped 1 non-image file" in line for line in err)


def test_a_missing_model_says_how_to_train_one_and_exits_2(tmp_path, capsys):
    assert predictor.main([str(SAMPLES / "handwritten_digit.png"), "--model", str(tmp_path / "none.h5")]) == 2
    error = capsys.readouterr().err.strip()
    assert "no such model file; train one with `python mnist_cnn_with_dropout.py`" in error and "\n" not in error


def test_a_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        predictor.main([str(SAMPLES / "handwritten_digit.png"), "--top-k", "0"])
    assert exit_info.value.code == 2 and "--top-k" in capsys.readouterr().err


def test_save_inputs_writes_the_28x28_the_model_saw(smoke_run, tmp_path):
    out = tmp_path / "seen"
    predictor.main([str(SAMPLES / "handwritten_digit.png"), "--save-inputs", str(out),
                    "--model", str(smoke_run / MODEL_FILE)])
    with Image.open(out / "handwritten_digit.28x28.png") as seen:
        assert seen.size == (28, 28) and seen.mode == "L"
        assert np.asarray(seen).max() == 255 and np.asarray(seen)[0].max() == 0


def test_a_prediction_does_not_import_tensorflow(smoke_run):
    code = (f"import sys, loaded_mnist_model_digit_predictor as p; "
            f"rc = p.main([{str(SAMPLES / 'handwritten_digit.png')!r}, '--model', {str(smoke_run / MODEL_FILE)!r}]); "
            f"assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules; sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "handwritten_digit.png: " in result.stdout
