#!/usr/bin/env python3
"""Serve the digit reader on this computer: a page to draw or upload digits, and a JSON API.

examples:
  mnist-serve                                (or: python mnist_serve.py) then open http://127.0.0.1:8000
  mnist-serve --port 8080 --model models/mnist_model.h5
  mnist-serve --workers 1                    one server process (the default is one per core)
  curl -F image=@my_digit.jpg http://127.0.0.1:8000/api/predict
  curl -F image=@house_number.jpg 'http://127.0.0.1:8000/api/predict?number=1'
  curl --data-binary @my_digit.png -H 'Content-Type: image/png' http://127.0.0.1:8000/api/predict

the model: --model if given; else models/mnist_model.h5 in the current
folder, if you trained one there; else the model installed with the package,
as for mnist-predict. It is loaded once, when the server starts. Uploads are
read in memory and never stored. Ctrl-C or SIGTERM stops the server. Exit
status: 0 when stopped, 2 for a usage or model problem or a port in use.
"""

import argparse
import os
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

# One request is one small batch: one BLAS thread runs it as fast as several,
# and leaves the other core to the next request. (Read when NumPy is first imported.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from mnist_digits.files import LOCAL_MODEL  # noqa: E402
from mnist_digits.inference import ModelError, load_model_to_use, load_piece_checker  # noqa: E402
from mnist_digits.web import (  # noqa: E402
    DEFAULT_MAX_UPLOAD_MB,
    MAX_UPLOAD_VARIABLE,
    MODEL_VARIABLE,
    create_app,
)

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# A process per core (each holds the model, about 90 MB), and no more than a desktop needs.
MOST_WORKERS = 4
DEFAULT_WORKERS = min(os.cpu_count() or 1, MOST_WORKERS)


class Stopped(Exception):
    """Ctrl-C or SIGTERM, once the server has shut down gracefully."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    description, _, epilog = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(description=description, epilog=epilog,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}: this computer only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--model", type=Path,
                        help=f"a Keras .h5 or .keras model (default: {LOCAL_MODEL} if present, else the installed one)")
    parser.add_argument("--max-upload-mb", type=float, default=DEFAULT_MAX_UPLOAD_MB, metavar="MB",
                        help=f"largest upload accepted, in MB (default {DEFAULT_MAX_UPLOAD_MB})")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                        help="server processes, each with its own copy of the model (default: one per core, "
                             f"at most {MOST_WORKERS}: {DEFAULT_WORKERS} here). Reading an image holds Python's "
                             "lock much of the time, so one process uses about one core")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    if args.max_upload_mb <= 0:
        parser.error("--max-upload-mb must be positive")
    return args


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound before uvicorn starts, so that the address printed is
    the one really served (port 0 becomes the free port the system chose)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def stop(signum: int, frame: object) -> None:
    raise Stopped


def uvicorn_config(app: "Starlette | str", workers: int = 1) -> "uvicorn.Config":
    """Quiet (no access log: a line per request costs time at hundreds a second), no lifespan events (none used)."""
    import uvicorn

    return uvicorn.Config(app, factory=isinstance(app, str), workers=workers, log_level="warning",
                          access_log=False, lifespan="off", timeout_graceful_shutdown=5)


def serve_in_this_process(app: "Starlette", sock: socket.socket) -> None:
    """Serve until Ctrl-C or SIGTERM. uvicorn handles both: it finishes the
    requests in flight, then re-raises the signal, which ends here instead of
    in a traceback or a kill by signal."""
    import uvicorn

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        uvicorn.Server(uvicorn_config(app)).run(sockets=[sock])
    except Stopped:
        pass


def serve_in_processes(model_path: Path, max_upload_mb: float, workers: int, sock: socket.socket) -> None:
    """uvicorn's supervisor runs `workers` processes on the one socket; each
    builds the app and loads the model itself (named in its environment)."""
    from uvicorn.supervisors import Multiprocess

    os.environ[MODEL_VARIABLE] = str(model_path)
    os.environ[MAX_UPLOAD_VARIABLE] = str(max_upload_mb)
    config = uvicorn_config("mnist_digits.web:app_from_environment", workers)
    # Until Ctrl-C or SIGTERM: then it stops the workers gracefully and returns.
    Multiprocess(config, sockets=[sock]).run()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        # Once, and before listening: a bad model is an error now, not per request.
        model_path, model = load_model_to_use(args.model)
        piece_checker = load_piece_checker()
        sock = listening_socket(args.host, args.port)
    except ModelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: cannot listen on {args.host}:{args.port} ({error.strerror or error})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(f"mnist-serve: reading digits at {url_of(sock)} (Ctrl-C stops)", flush=True)
    with sock:
        if args.workers == 1:
            serve_in_this_process(create_app(model, piece_checker, str(model_path), args.max_upload_mb), sock)
        else:
            serve_in_processes(model_path, args.max_upload_mb, args.workers, sock)
    print("mnist-serve: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
