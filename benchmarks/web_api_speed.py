"""How fast mnist-serve answers: latency from one client, throughput from 16, and memory.

    python benchmarks/web_api_speed.py [--runs 3] [--seconds 20] [--clients 16] [--serve-args "..."]

Starts a real mnist-serve on 127.0.0.1 (a free port), then:

1. Latency of POST /api/predict from one keep-alive client: a 280x280 canvas
   PNG sent as the page sends it (raw image/png body), and a 12 MP phone JPEG
   (a sample photo scaled to 4000x3000, quality 90) sent as a multipart
   upload. p50 and p95 per run; the figures are medians over --runs.
2. Throughput: --clients keep-alive clients (threads on raw http.client: cheap,
   the machine's cores are shared with the server) post canvas PNGs for
   --seconds; requests/s, errors, and the server's RSS (VmRSS from
   /proc/PID/status) after a warm-up and at the end.

All traffic goes to 127.0.0.1; everything stops by itself.
"""

import argparse
import http.client
import io
import shlex
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "samples" / "photo_000_0.jpg"
BOUNDARY = "benchmark-boundary-7d3f"


def canvas_png() -> bytes:
    """A 7 drawn on the page's 280x280 pad: black pen on white, RGBA, as canvas.toBlob() gives it."""
    image = Image.new("RGBA", (280, 280), "white")
    ImageDraw.Draw(image).line([(80, 70), (200, 70), (120, 220)], fill="black", width=18, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def phone_jpeg() -> bytes:
    """A sample photo scaled up to 12 MP (4000x3000), as a phone would save it."""
    with Image.open(PHOTO) as photo:
        big = photo.convert("RGB").resize((3000, 4000) if photo.height > photo.width else (4000, 3000),
                                          Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    big.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def multipart(data: bytes, name: str) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{name}\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


class Client:
    """One keep-alive connection posting one prepared request."""

    def __init__(self, port: int, body: bytes, content_type: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.body, self.headers = body, {"Content-Type": content_type}

    def post(self) -> int:
        self.connection.request("POST", "/api/predict", body=self.body, headers=self.headers)
        response = self.connection.getresponse()
        response.read()
        return response.status


def start_server(serve_args: list[str]) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([sys.executable, str(ROOT / "mnist_serve.py"), "--port", "0", *serve_args],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if "http://" not in line:
        sys.exit(f"mnist-serve did not start: {line!r}")
    port = int(line[line.index("http://"):].split()[0].rsplit(":", 1)[1])
    return process, port


def rss_kb(pid: int) -> int:
    """Resident memory of the server and its children (worker processes), in KB."""
    total = 0
    for process in [pid, *children(pid)]:
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def latency(port: int, body: bytes, content_type: str, count: int) -> tuple[float, float]:
    """p50 and p95 in ms of `count` requests from one client, after a warm-up."""
    client = Client(port, body, content_type)
    for _ in range(5):
        client.post()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        status = client.post()
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            sys.exit(f"latency request failed with {status}")
    times.sort()
    return times[len(times) // 2], times[int(0.95 * len(times)) - 1]


def throughput(port: int, body: bytes, clients: int, seconds: float) -> tuple[int, int, float]:
    """Requests answered, errors, and seconds taken, from `clients` threads posting for `seconds`."""
    deadline = time.perf_counter() + seconds
    counts, errors = [0] * clients, [0] * clients

    def run(index: int) -> None:
        client = Client(port, body, "image/png")
        while time.perf_counter() < deadline:
            try:
                ok = client.post() == 200
            except (OSError, http.client.HTTPException):
                ok = False
                client = Client(port, body, "image/png")
            counts[index] += 1
            errors[index] += not ok

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts), sum(errors), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--canvas-requests", type=int, default=300)
    parser.add_argument("--photo-requests", type=int, default=40)
    parser.add_argument("--serve-args", default="", help="more mnist-serve options, e.g. \"--model FILE\"")
    args = parser.parse_args()
    canvas, photo = canvas_png(), phone_jpeg()
    photo_body = multipart(photo, "phone.jpg")
    print(f"canvas PNG {len(canvas) / 1024:.1f} KB; 12 MP JPEG {len(photo) / 1024 / 1024:.1f} MB", flush=True)

    figures: dict[str, list[float]] = {}
    for run in range(1, args.runs + 1):
        process, port = start_server(shlex.split(args.serve_args))
        try:
            canvas_p50, canvas_p95 = latency(port, canvas, "image/png", args.canvas_requests)
            photo_p50, photo_p95 = latency(port, photo_body, f"multipart/form-data; boundary={BOUNDARY}",
                                           args.photo_requests)
            throughput(port, canvas, args.clients, 2)  # warm-up: threads, buffers, allocator
            rss_before = rss_kb(process.pid)
            answered, errors, took = throughput(port, canvas, args.clients, args.seconds)
            rss_after = rss_kb(process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)
        run_figures = {"canvas p50 ms": canvas_p50, "canvas p95 ms": canvas_p95,
                       "12 MP JPEG p50 ms": photo_p50, "12 MP JPEG p95 ms": photo_p95,
                       "requests/s": answered / took, "errors": errors, "requests": answered,
                       "RSS growth %": 100 * (rss_after - rss_before) / rss_before, "RSS MB": rss_after / 1024}
        for name, value in run_figures.items():
            figures.setdefault(name, []).append(value)
        print(f"run {run}: " + ", ".join(f"{name} {value:.1f}" for name, value in run_figures.items()), flush=True)
    print(f"medians of {args.runs} runs: "
          + ", ".join(f"{name} {statistics.median(values):.1f}" for name, values in figures.items()))


if __name__ == "__main__":
    main()
