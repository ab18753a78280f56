"""The commands as an installed tool: which model they read, pipes, logs, the wheel."""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import loaded_mnist_model_digit_predictor as predictor
from mnist_digits.files import (
    LOCAL_MODEL,
    LOCAL_PIECE_CHECKER,
    MODEL_FILE,
    PIECE_CHECKER_FILE,
    model_to_use,
    piece_checker_to_use,
    shipped_model,
)
from mnist_digits.quiet import SIGPIPE_STATUS

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "handwritten_digit.png"


def test_the_model_is_the_one_asked_for_then_one_trained_here_then_the_shipped_one(smoke_run, tmp_path,
                                                                                      monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert model_to_use(None) == shipped_model() and shipped_model().is_file()
    assert predictor.main([str(SAMPLE)]) == 0
    assert f"note: using the model that ships with mnist-digits, {shipped_model()}" in capsys.readouterr().err

    LOCAL_MODEL.parent.mkdir()
    shutil.copy(smoke_run / MODEL_FILE, LOCAL_MODEL)
    assert model_to_use(None) == LOCAL_MODEL
    assert predictor.main([str(SAMPLE)]) == 0
    assert capsys.readouterr().err == ""

    assert model_to_use(tmp_path / "other.h5") == tmp_path / "other.h5"


def test_the_piece_checker_is_one_trained_here_else_the_shipped_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shipped = shipped_model(PIECE_CHECKER_FILE)
    assert piece_checker_to_use() == shipped and shipped.is_file()
    LOCAL_PIECE_CHECKER.parent.mkdir()
    shutil.copy(shipped, LOCAL_PIECE_CHECKER)
    assert piece_checker_to_use() == LOCAL_PIECE_CHECKER


def test_a_reader_that_goes_away_ends_the_predictor_quietly():
    process = subprocess.Popen([sys.executable, "loaded_mnist_model_digit_predictor.py", "samples/"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.close()  # as `| head -0` would: every answer meets a closed pipe
    error = process.stderr.read()
    assert process.wait() == SIGPIPE_STATUS
    assert "Traceback" not in error and "BrokenPipeError" not in error


def test_training_into_a_log_file_writes_one_line_an_epoch_and_no_tensorflow_start_up_lines(tmp_path):
    log = tmp_path / "train.log"
    with open(log, "w") as handle:
        result = subprocess.run([sys.executable, str(ROOT / "mnist_cnn_with_dropout.py"), "--epochs", "2",
                                 "--limit", "256", "--batch-size", "64", "--output-dir", str(tmp_path / "out")],
                                cwd=tmp_path, stdout=handle, stderr=subprocess.STDOUT)
    text = log.read_text()
    assert result.returncode == 0, text
    epochs = [line for line in text.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 2
    assert re.fullmatch(r"epoch 2/2: loss \d+\.\d{4}, accuracy \d+\.\d\d%, validation loss \d+\.\d{4}, "
                        r"validation accuracy \d+\.\d\d%, learning rate \d\.\d\de-\d\d, \d+ s; all done", epochs[1])
    assert re.search(r"; about \d+ s left$", epochs[0]), epochs[0]
    for chatter in ("\x1b[", "━", "cudart_stub", "oneDNN", "I0000", "absl::InitializeLog"):
        assert chatter not in text
    assert len(text) < 2000


def test_help_shows_examples_and_where_models_are_read_and_written(capsys):
    import mnist_cnn_with_dropout
    import mnist_serve

    for main, expected in ((predictor.main, ["examples:", "mnist-predict", str(LOCAL_MODEL), "installed"]),
                           (mnist_cnn_with_dropout.main, ["examples:", "mnist-train", "models/", "--preset best",
                                                            "(default 10 quick, 16 best, 4 piece checker)"]),
                           (mnist_serve.main, ["examples:", "mnist-serve", "curl", "127.0.0.1", "(default 10)",
                                               str(LOCAL_MODEL)])):
        with pytest.raises(SystemExit):
            main(["--help"])
        text = " ".join(capsys.readouterr().out.split())  # argparse wraps to the terminal's width
        assert all(part in text for part in expected), text


def test_the_wheel_holds_the_package_its_page_the_three_scripts_and_the_model_only(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info",
                                                                  "__pycache__", ".*_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
                   check=True, capture_output=True)
    wheel, = tmp_path.glob("mnist_digits-*.whl")
    names = {name for name in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in name}
    package = {f"mnist_digits/{path.name}" for path in (ROOT / "mnist_digits").glob("*.py")}
    static = {f"mnist_digits/static/{path.name}" for path in (ROOT / "mnist_digits" / "static").iterdir()}
    assert {"mnist_digits/static/index.html", "mnist_digits/static/app.js", "mnist_digits/static/app.css"} <= static
    assert names == package | static | {"mnist_cnn_with_dropout.py", "loaded_mnist_model_digit_predictor.py",
                                        "mnist_serve.py", "mnist_digits/shipped_model/mnist_model.h5",
                                        "mnist_digits/shipped_model/metrics.json",
                                        "mnist_digits/shipped_model/piece_checker.h5",
                                        "mnist_digits/shipped_model/piece_checker_metrics.json"}


def test_ci_runs_exactly_the_test_command_that_readme_gives():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("The tests - ", 1)[1].split("```bash\n", 1)[1].split("\n```", 1)[0]
    assert block.strip() in (ROOT / ".ci" / "run").read_text().splitlines()
