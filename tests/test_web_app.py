"""The web API (mnist-serve) through Starlette's TestClient: the CLI's answers, and a JSON 4xx for bad input."""

import base64
import io
import json
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from PIL import Image
from starlette.testclient import TestClient

import loaded_mnist_model_digit_predictor as predictor
import mnist_serve
from mnist_digits.files import MODEL_FILE
from mnist_digits.inference import load_model, load_piece_checker
from mnist_digits.web import create_app

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
NUMBERS = SAMPLES / "numbers"
SHIPPED_MODEL = ROOT / "models" / MODEL_FILE
GOOD = SAMPLES / "handwritten_digit.png"


@pytest.fixture(scope="module")
def model():
    return load_model(SHIPPED_MODEL)


@pytest.fixture(scope="module")
def client(model):
    app = create_app(model, load_piece_checker(), str(SHIPPED_MODEL))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def post_file(client: TestClient, path: Path, query: str = ""):
    return client.post(f"/api/predict{query}", files={"image": (path.name, path.read_bytes(), "image/png")})


def cli_answers(folder: Path, *flags: str, capsys) -> dict[str, dict]:
    predictor.main([str(folder), "--json", "--model", str(SHIPPED_MODEL), *flags])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return {Path(record.pop("path")).name: record for record in records}


def assert_same_digit(api: dict, cli: dict) -> None:
    # Equal to rounding: the CLI runs the model on a batch of images, the API on one (BLAS sums differ by 1e-7).
    assert api["digit"] == cli["digit"] and api["uncertain"] == cli["uncertain"]
    assert api["confidence"] == pytest.approx(cli["confidence"], abs=1e-5)
    assert api["probabilities"] == pytest.approx(cli["probabilities"], abs=1e-5)
    assert_is_28x28_png(api["preview"])


def assert_is_28x28_png(data_url: str) -> None:
    prefix = "data:image/png;base64,"
    assert data_url.startswith(prefix)
    with Image.open(io.BytesIO(base64.b64decode(data_url[len(prefix):]))) as image:
        assert image.format == "PNG" and image.size == (28, 28)


def test_every_sample_gets_the_same_answer_as_the_cli_json(client, capsys):
    cli = cli_answers(SAMPLES, capsys=capsys)
    assert len(cli) >= 20
    for name, expected in cli.items():
        response = post_file(client, SAMPLES / name)
        assert response.status_code == 200, (name, response.text)
        answer = response.json()
        assert_same_digit(answer, expected)
        assert answer.get("note") == expected.get("note")
        assert set(answer) == set(expected) | {"preview"}


def test_number_mode_gets_the_same_answer_as_the_cli_number_json(client, capsys):
    cli = cli_answers(NUMBERS, "--number", capsys=capsys)
    assert len(cli) == 12
    for name, expected in cli.items():
        answer = post_file(client, NUMBERS / name, "?number=1").json()
        assert answer["number"] == expected["number"] and answer["uncertain"] == expected["uncertain"]
        assert len(answer["digits"]) == len(expected["digits"])
        for digit, expected_digit in zip(answer["digits"], expected["digits"], strict=True):
            assert_same_digit(digit, expected_digit)
            assert digit["box"] == expected_digit["box"]


def test_the_image_can_be_the_raw_body_with_an_image_content_type(client):
    response = client.post("/api/predict", content=GOOD.read_bytes(), headers={"Content-Type": "image/png"})
    assert response.status_code == 200 and response.json()["digit"] == 7


def test_health_names_the_model(client):
    assert client.get("/api/health").json() == {"status": "ok", "model": str(SHIPPED_MODEL)}


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def bomb() -> bytes:
    """A small PNG that decodes to 100 million pixels: over Pillow's limit."""
    return png_bytes(Image.new("1", (10_000, 10_000)))


BAD_REQUESTS = {
    "not an image": (dict(files={"image": ("notes.png", b"just some text", "image/png")}), 415, "not an image"),
    "empty file": (dict(files={"image": ("empty.png", b"", "image/png")}), 400, "empty"),
    "empty body": (dict(content=b"", headers={"Content-Type": "image/png"}), 400, "empty"),
    "truncated": (dict(files={"image": ("cut.jpg", (SAMPLES / "photo_000_0.jpg").read_bytes()[:3000], "image/jpeg")}),
                  400, "cannot decode image"),
    "decompression bomb": (dict(files={"image": ("bomb.png", bomb(), "image/png")}), 413, "decompression bomb"),
    "no digit": (dict(files={"image": ("blank.png", png_bytes(Image.new("L", (300, 200), 255)), "image/png")}),
                 422, "no digit found"),
    "missing field": (dict(files={"photo": ("digit.png", GOOD.read_bytes(), "image/png")}), 400, "no 'image' field"),
    "a text field": (dict(data={"image": "a path/to/a/file.png"}, files={"other": ("x", b"x", "text/plain")}),
                     400, "must be a file"),
    "not a form": (dict(content=b"{}", headers={"Content-Type": "application/json"}), 415, "multipart form field"),
    "no boundary": (dict(content=b"--x--", headers={"Content-Type": "multipart/form-data"}), 400, "malformed"),
}


@pytest.mark.parametrize("name", BAD_REQUESTS)
def test_bad_input_is_a_4xx_json_error_and_the_server_goes_on(client, name):
    request, status, message = BAD_REQUESTS[name]
    response = client.post("/api/predict", **request)
    assert response.status_code == status, response.text
    assert message in response.json()["error"] and "Traceback" not in response.text
    assert post_file(client, GOOD).json()["digit"] == 7


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/api/predict", 405), ("DELETE", "/api/health", 405),
                                                        ("GET", "/nowhere", 404), ("GET", "/static/none.js", 404)])
def test_wrong_methods_and_unknown_paths_are_json_errors(client, method, path, status):
    response = client.request(method, path)
    assert response.status_code == status and response.json()["error"] in ("not found", "method not allowed")
    assert post_file(client, GOOD).status_code == 200


@pytest.fixture(scope="module")
def small_limit_client(model):
    with TestClient(create_app(model, None, "m", max_upload_mb=0.01), raise_server_exceptions=False) as client:
        yield client


def test_too_big_is_refused_by_content_length(small_limit_client):
    response = small_limit_client.post("/api/predict", content=b"\x89PNG" + bytes(20_000),
                                       headers={"Content-Type": "image/png"})
    assert response.status_code == 413 and "too large" in response.json()["error"]


def test_too_big_is_refused_while_streaming_when_no_length_is_given(small_limit_client):
    chunks_sent = []

    def chunks():
        for _ in range(100):  # 100 chunks of 1 KB: far over the 10 KB limit
            chunks_sent.append(1)
            yield bytes(1024)

    response = small_limit_client.post("/api/predict", content=chunks(), headers={"Content-Type": "image/png"})
    assert response.status_code == 413 and "too large" in response.json()["error"]
    assert post_file(small_limit_client, GOOD).json()["digit"] == 7


def test_a_big_upload_stays_in_memory(client, monkeypatch):
    def no_disk(self):
        raise AssertionError("an upload was spooled to disk")

    monkeypatch.setattr(tempfile.SpooledTemporaryFile, "rollover", no_disk)
    padded = GOOD.read_bytes() + bytes(3 * 1024 * 1024)  # Pillow ignores what follows a PNG's end
    response = client.post("/api/predict", files={"image": ("big.png", padded, "image/png")})
    assert response.status_code == 200 and response.json()["digit"] == 7


def test_the_page_has_its_test_hooks_and_needs_nothing_from_the_internet(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for hook in ("pad", "clear", "upload", "digit", "confidence", "preview"):
        assert f'data-testid="{hook}"' in page.text
    assert 'accept="image/*"' in page.text and 'capture="environment"' in page.text
    for asset in ("/static/app.js", "/static/app.css"):
        response = client.get(asset)
        assert response.status_code == 200
        assert "http://" not in response.text and "https://" not in response.text
    assert "touch-action: none" in client.get("/static/app.css").text


def test_serve_refuses_a_missing_model_and_a_port_in_use_with_status_2(tmp_path, capsys):
    assert mnist_serve.main(["--port", "0", "--model", str(tmp_path / "none.h5")]) == 2
    assert "no such model file" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert mnist_serve.main(["--port", str(taken.getsockname()[1]), "--model", str(SHIPPED_MODEL)]) == 2
    assert "cannot listen on 127.0.0.1:" in capsys.readouterr().err


def test_the_server_does_not_import_tensorflow():
    code = (f"import sys; from starlette.testclient import TestClient; import mnist_serve; "
            f"from mnist_digits.inference import load_model, load_piece_checker; "
            f"from mnist_digits.web import create_app; "
            f"model = load_model(__import__('pathlib').Path({str(SHIPPED_MODEL)!r})); "
            f"client = TestClient(create_app(model, load_piece_checker(), 'm')); "
            f"answer = client.post('/api/predict', content=open({str(GOOD)!r}, 'rb').read(), "
            f"headers={{'Content-Type': 'image/png'}}).json(); "
            f"assert answer['digit'] == 7, answer; "
            f"assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
