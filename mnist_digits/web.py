"""The digit reader as a local web page and JSON API (Starlette, served by uvicorn).

POST /api/predict takes one image, as the multipart field `image` or as the raw
body with an image/* content type, and answers the predictor's --json object
(without a path) plus `preview`, the 28x28 the model saw as a PNG data: URL;
`?number=1` reads a whole number, as --number does. The upload is held in
memory only: nothing a client sends is written to disk, and no path it names is
opened. Bad input gets a 4xx and `{"error": ...}`, never a traceback.
"""

import io
import os
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from mnist_digits.answers import answer_fields, png_data_url
from mnist_digits.prediction import NumberResult, Result, predict_one

STATIC = Path(__file__).resolve().parent / "static"
MEGABYTE = 1024 * 1024
DEFAULT_MAX_UPLOAD_MB = 10
FIELD = "image"
# The ImageError texts the predictor gives, and the status each deserves; any
# other failure to read an image (a truncated file, a broken one) is a 400.
STATUS_BY_ERROR = {
    "no digit found": 422,
    "not an image file": 415,
    "image is too large": 413,
}


# Images read at once, per process. NumPy, OpenCV and Pillow release the GIL
# for part of the work, so two threads on two cores read 1.6 times as many
# images as one; but the rest holds it, and a thread per request (16 clients:
# 16 threads) contends so much that the server answered 180 requests/s
# instead of 300 with as many threads as cores.
READER_THREADS = os.cpu_count() or 1


class BadUpload(Exception):
    """The request cannot be read as one image; status and message for the client."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def status_of(error: str) -> int:
    for start, status in STATUS_BY_ERROR.items():
        if error.startswith(start):
            return status
    return 400


async def limited(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The request body in chunks, refused as soon as it says or proves to be over `limit` bytes:
    a client cannot make the server hold more than that, whatever Content-Length claims."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BadUpload(413, f"upload too large (over {limit // MEGABYTE} MB)")
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise BadUpload(413, f"upload too large (over {limit // MEGABYTE} MB)")
        yield chunk


class InMemoryMultiPartParser(MultiPartParser):
    """Starlette's multipart parser, with file parts kept in memory up to the upload limit
    (its default spools parts over 1 MB to a temporary file on disk)."""

    def __init__(self, *args, spool_max_size: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.spool_max_size = spool_max_size


async def image_bytes(request: Request, limit: int) -> bytes:
    """The uploaded image's bytes: the multipart field `image`, or the whole body if it is an image/*."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        return await multipart_image(request, limit)
    if content_type.startswith("image/") or content_type.startswith("application/octet-stream"):
        return b"".join([chunk async for chunk in limited(request, limit)])
    raise BadUpload(415, f"send the image as the multipart form field '{FIELD}', or as the body with an "
                         "image/* content type")


async def multipart_image(request: Request, limit: int) -> bytes:
    parser = InMemoryMultiPartParser(request.headers, limited(request, limit), max_files=1, max_fields=10,
                                     spool_max_size=limit + 1)
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise BadUpload(400, f"malformed multipart form ({error.message})") from None
    try:
        upload = form.get(FIELD)
        if upload is None:
            raise BadUpload(400, f"no '{FIELD}' field in the form")
        if not isinstance(upload, UploadFile):
            raise BadUpload(400, f"the '{FIELD}' field must be a file")
        return await upload.read()
    finally:
        await form.close()


def answer(model, piece_checker, data: bytes, numbers: bool) -> tuple[int, dict]:
    """Status and JSON answer for one image held in memory (CPU-bound: run off the event loop)."""
    result = predict_one(model, io.BytesIO(data), numbers, piece_checker)
    fields = answer_fields(result)
    if result.error:
        return status_of(result.error), fields
    return 200, with_previews(result, fields)


def with_previews(result: Result | NumberResult, fields: dict) -> dict:
    """The answer with the 28x28 the model saw: for each digit of a number, or for the one digit."""
    if isinstance(result, NumberResult):
        for digit, digit_fields in zip(result.digits, fields["digits"], strict=True):
            digit_fields["preview"] = png_data_url(digit.image)
        return fields
    return {**fields, "preview": png_data_url(result.image)}


def wants_number(request: Request) -> bool:
    return request.query_params.get("number", "").lower() in ("1", "true", "yes", "on")


def create_app(model, piece_checker, model_name: str, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB) -> Starlette:
    """The web app around a loaded model and piece checker (loaded once by the
    caller, shared by every request)."""
    limit = int(max_upload_mb * MEGABYTE)
    readers = anyio.CapacityLimiter(READER_THREADS)

    async def predict(request: Request) -> Response:
        try:
            data = await image_bytes(request, limit)
        except BadUpload as error:
            return error_response(error.status, error.message)
        except ClientDisconnect:
            return error_response(400, "the client went away before the upload ended")
        if not data:
            return error_response(400, "empty upload: no image bytes were sent")
        # Reading an image is CPU work: in a thread, so the server goes on taking requests.
        read = partial(answer, model, piece_checker, data, wants_number(request))
        status, fields = await anyio.to_thread.run_sync(read, limiter=readers)
        return JSONResponse(fields, status_code=status)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "model": model_name})

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    async def http_error(request: Request, error: HTTPException) -> Response:
        messages = {404: "not found", 405: "method not allowed"}
        return JSONResponse({"error": messages.get(error.status_code, error.detail)},
                            status_code=error.status_code, headers=error.headers)

    async def server_error(request: Request, error: Exception) -> Response:
        return error_response(500, "internal error")  # never a traceback to the client

    routes = [
        Route("/", page, methods=["GET"]),
        Route("/api/predict", predict, methods=["POST"]),
        Route("/api/health", health, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error, Exception: server_error})


# For uvicorn's worker processes, which each build the app (and load the model) themselves.
MODEL_VARIABLE = "MNIST_SERVE_MODEL"
MAX_UPLOAD_VARIABLE = "MNIST_SERVE_MAX_UPLOAD_MB"


def app_from_environment() -> Starlette:
    """create_app() with the model named in $MNIST_SERVE_MODEL, loaded in this process."""
    from mnist_digits.inference import load_model, load_piece_checker

    model_path = Path(os.environ[MODEL_VARIABLE])
    return create_app(load_model(model_path), load_piece_checker(), str(model_path),
                      float(os.environ.get(MAX_UPLOAD_VARIABLE, DEFAULT_MAX_UPLOAD_MB)))
