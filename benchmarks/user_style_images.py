"""Render MNIST *test* digits as the images users bring, with their labels.

Each kind imitates one way people make a digit image: a paint program, a
phone photo of paper, a transparent PNG, chalk on a board, a marker, a pencil,
a scan, a small digit off-centre, and less common file formats. The digit's
shape comes from an MNIST test image (never a training one), upscaled and
re-inked with a chosen stroke thickness; with `--font-share`, that share of
the digits comes from a handwriting font instead (handwriting_fonts.py).

    python benchmarks/user_style_images.py OUT_DIR --per-kind 50 --seed 1 [--font-share 0.3]

writes OUT_DIR/<kind>_<n>_<digit>.<ext> and OUT_DIR/labels.csv. samples/ was
made with `samples --per-kind 2 --seed 2026 --handwritten-digit --kinds` and
every kind, hard_shadow last (README.md has the command; MNIST test images
0-28; the benchmarks' own sets start further into the test set).
"""

import argparse
import csv
import io
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.handwriting_fonts import FontDigits  # noqa: E402
from mnist_digits.data import load_mnist  # noqa: E402
from mnist_digits.preprocessing import enable_heif  # noqa: E402

Rng = np.random.Generator


def stroke_alpha(digit: np.ndarray, height: int, widen: float) -> np.ndarray:
    """Ink coverage in [0, 1] of an MNIST digit drawn `height` pixels tall.

    `widen` moves the stroke's edge outwards (or inwards, if negative) by that
    fraction of the height, which imitates thinner or thicker pens.
    """
    scale = height / 20
    size = max(28, round(28 * scale))
    up = np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BICUBIC))
    shape = up > 127
    signed = ndimage.distance_transform_edt(shape) - ndimage.distance_transform_edt(~shape)
    alpha = np.clip(signed + widen * height + 0.5, 0, 1)
    rows, cols = np.nonzero(alpha > 0)
    return alpha[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def smooth_shape(digit: np.ndarray, upscale: int = 8) -> np.ndarray:
    """An MNIST digit drawn `upscale` times larger with smooth outlines (a mask)."""
    up = np.asarray(Image.fromarray(digit).resize((28 * upscale,) * 2, Image.Resampling.BICUBIC), np.float32)
    return ndimage.gaussian_filter(up, upscale / 2) > 127


def centreline(digit: np.ndarray, upscale: int = 8, shape: np.ndarray | None = None) -> np.ndarray:
    """The one-pixel-wide skeleton of an MNIST digit drawn `upscale` times larger
    (Zhang-Suen thinning of its smooth_shape(), which gives a smooth centreline)."""
    skeleton = (smooth_shape(digit, upscale) if shape is None else shape).astype(np.uint8)
    while True:
        removed = False
        for step in (0, 1):
            p = np.pad(skeleton, 1)
            # The 8 neighbours clockwise from north, as in Zhang and Suen's paper.
            n = [p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:], p[2:, 2:], p[2:, 1:-1], p[2:, :-2], p[1:-1, :-2], p[:-2, :-2]]
            neighbours = sum(n)
            transitions = sum((n[i] == 0) & (n[(i + 1) % 8] == 1) for i in range(8))
            if step == 0:
                side = (n[0] * n[2] * n[4] == 0) & (n[2] * n[4] * n[6] == 0)
            else:
                side = (n[0] * n[2] * n[6] == 0) & (n[0] * n[4] * n[6] == 0)
            remove = (skeleton == 1) & (neighbours >= 2) & (neighbours <= 6) & (transitions == 1) & side
            if remove.any():
                skeleton[remove] = 0
                removed = True
        if not removed:
            return skeleton.astype(bool)


def centreline_fidelity(digit: np.ndarray, shape: np.ndarray, upscale: int = 8) -> float:
    """How much the digit's centreline, redrawn as wide as the digit's own
    strokes, overlaps its smooth_shape() `shape` (intersection over union)."""
    skeleton = centreline(digit, upscale, shape)
    half_width = np.median(ndimage.distance_transform_edt(shape)[skeleton])
    redrawn = ndimage.distance_transform_edt(~skeleton) <= half_width
    return float((redrawn & shape).sum() / (redrawn | shape).sum())


def pen_alpha(digit: np.ndarray, height: int, pen: float, antialiased: bool = True) -> np.ndarray:
    """Ink coverage in [0, 1] of an MNIST digit redrawn `height` pixels tall
    along its centreline with a round pen `pen` pixels wide: a ballpoint or a
    thin brush keeps its width whatever the size of the digit."""
    upscale = 8
    skeleton = centreline(digit, upscale)
    scale = height / (20 * upscale)
    size = round(28 * upscale * scale) + 2 * round(pen) + 2
    canvas = np.zeros((size, size), np.uint8)
    shift = 4  # cv2.line takes fixed-point coordinates: 1/16 px
    offset = round(pen) + 1
    rows, cols = np.nonzero(skeleton)
    points = {(r, c) for r, c in zip(rows.tolist(), cols.tolist(), strict=True)}
    for r, c in points:
        for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):
            if (r + dr, c + dc) in points:
                start = (round((c * scale + offset) * 16), round((r * scale + offset) * 16))
                end = (round(((c + dc) * scale + offset) * 16), round(((r + dr) * scale + offset) * 16))
                cv2.line(canvas, start, end, 255, max(1, round(pen)), cv2.LINE_AA if antialiased else cv2.LINE_8, shift)
    alpha = canvas.astype(np.float32) / 255
    rows, cols = np.nonzero(alpha > 0)
    return alpha[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def place(alpha: np.ndarray, canvas: tuple[int, int], rng: Rng, margin: float = 0.1) -> np.ndarray:
    """Put the digit's coverage somewhere on a canvas of (height, width)."""
    out = np.zeros(canvas, dtype=np.float32)
    slack_y, slack_x = canvas[0] - alpha.shape[0], canvas[1] - alpha.shape[1]
    top = int(rng.uniform(margin, 1 - margin) * max(slack_y, 0))
    left = int(rng.uniform(margin, 1 - margin) * max(slack_x, 0))
    region = out[top:top + alpha.shape[0], left:left + alpha.shape[1]]
    region[...] = alpha[:region.shape[0], :region.shape[1]]
    return out


def lighting(shape: tuple[int, int], rng: Rng, strength: float) -> np.ndarray:
    """A smooth illumination field: a gradient plus a soft shadow."""
    rows, cols = np.mgrid[0:1:complex(0, shape[0]), 0:1:complex(0, shape[1])]
    angle = rng.uniform(0, 2 * np.pi)
    gradient = (np.cos(angle) * cols + np.sin(angle) * rows)
    gradient = (gradient - gradient.min()) / max(np.ptp(gradient), 1e-6)
    light = 1 - strength * gradient
    centre, radius = rng.uniform(0, 1, 2), rng.uniform(0.2, 0.5)
    shadow = np.exp(-((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2) / (2 * radius**2))
    return (light * (1 - strength * 0.5 * shadow)).astype(np.float32)


def compose(alpha: np.ndarray, paper: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """RGB floats: ink over paper, by coverage."""
    return paper * (1 - alpha[..., None]) + ink * alpha[..., None]


def to_image(rgb: np.ndarray) -> Image.Image:
    return Image.fromarray((np.clip(rgb, 0, 1) * 255).round().astype(np.uint8))


def jpeg(image: Image.Image, rng: Rng) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(rng.integers(60, 92)))
    return buffer.getvalue()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def photographed(rgb: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """A sheet as a phone sees it: uneven light, sensor noise, a JPEG."""
    rgb = rgb * lighting(rgb.shape[:2], rng, rng.uniform(0.05, 0.3))[..., None]
    return jpeg(to_image(rgb + rng.normal(0, 0.015, rgb.shape)), rng), "jpg"


def paint(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    side = int(rng.integers(200, 500))
    alpha = stroke_alpha(digit, int(side * rng.uniform(0.5, 0.85)), rng.uniform(0.0, 0.05))
    coverage = place(alpha, (side, side), rng)
    ink = np.array([0, 0, 0]) if rng.random() < 0.6 else rng.uniform(0, 0.5, 3)
    return png(to_image(compose(coverage, np.ones(3), ink))), "png"


def photo(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    height, width = int(rng.integers(600, 1400)), int(rng.integers(600, 1400))
    alpha = stroke_alpha(digit, int(min(height, width) * rng.uniform(0.3, 0.7)),
                         rng.uniform(-0.01, 0.03))
    alpha = ndimage.gaussian_filter(alpha, rng.uniform(0.5, 2.0))
    coverage = place(alpha, (height, width), rng)
    paper = rng.uniform(0.75, 0.95) * np.array([1.0, rng.uniform(0.93, 1.0), rng.uniform(0.8, 1.0)])
    ink = rng.choice([[0.1, 0.1, 0.15], [0.1, 0.15, 0.45], [0.05, 0.05, 0.05]]) * rng.uniform(0.8, 1.5)
    rgb = compose(coverage, paper, ink) * lighting((height, width), rng, rng.uniform(0.1, 0.45))[..., None]
    rgb += rng.normal(0, rng.uniform(0.01, 0.04), rgb.shape)
    return jpeg(to_image(rgb), rng), "jpg"


def transparent(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    side = int(rng.integers(150, 400))
    alpha = place(stroke_alpha(digit, int(side * rng.uniform(0.5, 0.85)), rng.uniform(0, 0.04)),
                  (side, side), rng)
    colour = np.zeros(3) if rng.random() < 0.7 else rng.uniform(0, 1, 3)
    rgba = np.concatenate([np.broadcast_to(colour, (side, side, 3)), alpha[..., None]], axis=2)
    return png(Image.fromarray((rgba * 255).round().astype(np.uint8), "RGBA")), "png"


def white_on_black(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    side = int(rng.integers(56, 400))
    alpha = place(stroke_alpha(digit, int(side * rng.uniform(0.5, 0.9)), rng.uniform(-0.01, 0.04)),
                  (side, side), rng)
    gray = Image.fromarray((alpha * 255).round().astype(np.uint8))
    return png(gray), "png"


def small_offcenter(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    height, width = int(rng.integers(500, 1000)), int(rng.integers(500, 1000))
    alpha = stroke_alpha(digit, int(rng.integers(36, 80)), rng.uniform(0, 0.05))
    coverage = place(alpha, (height, width), rng, margin=0.0)
    return png(to_image(compose(coverage, np.ones(3), np.zeros(3)))), "png"


def marker(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    side = int(rng.integers(300, 700))
    alpha = stroke_alpha(digit, int(side * rng.uniform(0.5, 0.75)), rng.uniform(0.05, 0.09))
    coverage = place(alpha, (side, side), rng)
    ink = rng.choice([[0, 0, 0], [0.1, 0.1, 0.6], [0.6, 0.05, 0.05], [0.05, 0.4, 0.1]])
    rgb = compose(coverage, np.array([0.97, 0.97, 0.95]), np.array(ink))
    return jpeg(to_image(rgb + rng.normal(0, 0.01, rgb.shape)), rng), "jpg"


def pencil(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    side = int(rng.integers(300, 800))
    alpha = stroke_alpha(digit, int(side * rng.uniform(0.4, 0.8)), rng.uniform(-0.015, 0.005))
    coverage = place(alpha, (side, side), rng) * rng.uniform(0.35, 0.6)
    paper = rng.uniform(0.85, 0.97)
    gray = paper * (1 - coverage) * lighting((side, side), rng, rng.uniform(0, 0.25))
    gray += rng.normal(0, rng.uniform(0.005, 0.03), gray.shape)
    return png(Image.fromarray((np.clip(gray, 0, 1) * 255).round().astype(np.uint8))), "png"


CHALK = np.array([0.92, 0.92, 0.9])


def chalked(alpha: np.ndarray, rng: Rng) -> np.ndarray:
    """A stroke's coverage as chalk leaves it: grainy."""
    return alpha * np.clip(rng.normal(0.85, 0.15, alpha.shape), 0, 1)


def blackboard(rng: Rng) -> np.ndarray:
    """A blackboard's colour: green, black or blue-grey (RGB)."""
    return np.array(rng.choice([[0.12, 0.22, 0.16], [0.1, 0.1, 0.1], [0.15, 0.15, 0.2]]))


def chalkboard(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    height, width = int(rng.integers(400, 900)), int(rng.integers(400, 900))
    alpha = stroke_alpha(digit, int(min(height, width) * rng.uniform(0.4, 0.8)), rng.uniform(0, 0.04))
    coverage = place(chalked(alpha, rng), (height, width), rng)
    rgb = compose(coverage, blackboard(rng), CHALK)
    rgb *= lighting((height, width), rng, rng.uniform(0, 0.3))[..., None]
    return jpeg(to_image(rgb + rng.normal(0, 0.02, rgb.shape)), rng), "jpg"


def scan(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    height, width = int(rng.integers(700, 1200)), int(rng.integers(500, 900))
    alpha = stroke_alpha(digit, int(min(height, width) * rng.uniform(0.3, 0.6)), rng.uniform(0, 0.03))
    coverage = ndimage.rotate(place(alpha, (height, width), rng), rng.uniform(-6, 6), reshape=False)
    gray = 0.96 * (1 - np.clip(coverage, 0, 1) * 0.85) + rng.normal(0, 0.015, (height, width))
    image = Image.fromarray((np.clip(gray, 0, 1) * 255).round().astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, "TIFF", compression="tiff_lzw")
    return buffer.getvalue(), "tif"


def other_format(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """The same kind of drawing in a format or mode that trips up naive code."""
    side = int(rng.integers(120, 400))
    coverage = place(stroke_alpha(digit, int(side * 0.7), rng.uniform(0, 0.04)), (side, side), rng)
    gray = to_image(compose(coverage, np.ones(3), np.zeros(3))).convert("L")
    buffer = io.BytesIO()
    choice = rng.integers(7)
    if choice == 0:  # 16-bit grayscale PNG
        Image.fromarray(np.asarray(gray).astype(np.uint16) * 257).save(buffer, "PNG")
        return buffer.getvalue(), "png"
    if choice == 1:  # CMYK JPEG
        gray.convert("CMYK").save(buffer, "JPEG", quality=90)
        return buffer.getvalue(), "jpg"
    if choice == 2:  # palette GIF with a transparent background, two frames
        frames = [gray.convert("P"), Image.new("P", gray.size, 0)]
        frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:],
                       transparency=int(np.asarray(frames[0])[0, 0]))
        return buffer.getvalue(), "gif"
    if choice == 3:  # phone JPEG stored sideways, upright only through EXIF
        rotated = gray.convert("RGB").transpose(Image.Transpose.ROTATE_90)
        exif = Image.Exif()
        exif[0x0112] = 6  # "rotate 90 clockwise to display"
        rotated.save(buffer, "JPEG", quality=90, exif=exif)
        return buffer.getvalue(), "jpg"
    if choice == 4:  # grayscale with alpha
        la = Image.merge("LA", [Image.new("L", gray.size, 0), Image.fromarray(255 - np.asarray(gray))])
        la.save(buffer, "PNG")
        return buffer.getvalue(), "png"
    if choice == 5:  # iPhone photo format
        enable_heif()
        gray.convert("RGB").save(buffer, "HEIF", quality=85)
        return buffer.getvalue(), "heic"
    gray.save(buffer, "WEBP", quality=85)
    return buffer.getvalue(), "webp"


def lined_paper(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """A photo of a digit written on ruled notebook paper."""
    height, width = int(rng.integers(500, 1000)), int(rng.integers(500, 1000))
    spacing = int(rng.uniform(0.12, 0.2) * height)
    alpha = stroke_alpha(digit, int(spacing * rng.uniform(1.6, 2.4)), rng.uniform(0, 0.03))
    coverage = place(alpha, (height, width), rng)
    rules = np.zeros((height, width), np.float32)
    rules[spacing // 2::spacing] = 1
    rules = ndimage.gaussian_filter(rules, 0.8) * rng.uniform(0.4, 0.8)
    rgb = compose(rules / max(rules.max(), 1e-6) * 0.5, np.array([0.96, 0.96, 0.93]), np.array([0.55, 0.7, 0.95]))
    rgb = compose(coverage, rgb, np.array([0.08, 0.08, 0.2]))
    return photographed(rgb, rng)


def photo_on_table(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """A phone photo where the sheet does not fill the frame: table at the edges."""
    height, width = int(rng.integers(600, 1200)), int(rng.integers(600, 1200))
    top, left = int(rng.uniform(0.03, 0.15) * height), int(rng.uniform(0.03, 0.15) * width)
    bottom, right = height - int(rng.uniform(0.03, 0.15) * height), width - int(rng.uniform(0.03, 0.15) * width)
    sheet = np.zeros((height, width), np.float32)
    sheet[top:bottom, left:right] = 1
    sheet = ndimage.gaussian_filter(sheet, 2)
    alpha = stroke_alpha(digit, int((bottom - top) * rng.uniform(0.35, 0.6)), rng.uniform(0, 0.03))
    coverage = np.zeros((height, width), np.float32)
    coverage[top:bottom, left:right] = place(alpha, (bottom - top, right - left), rng, margin=0.2)
    table = rng.choice([[0.35, 0.22, 0.12], [0.15, 0.15, 0.15], [0.6, 0.55, 0.5]])
    rgb = compose(sheet, np.array(table), np.array([0.92, 0.91, 0.88]))
    rgb = compose(coverage, rgb, np.array([0.1, 0.1, 0.12]))
    return photographed(rgb, rng)


def hard_shadow(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """A photo half in the shadow of the phone or a hand: a sharp-edged dark region."""
    side = int(rng.integers(500, 1000))
    alpha = stroke_alpha(digit, int(side * rng.uniform(0.4, 0.7)), rng.uniform(0, 0.03))
    coverage = place(alpha, (side, side), rng)
    rows, cols = np.mgrid[0:side, 0:side]
    angle = rng.uniform(0, 2 * np.pi)
    edge = (np.cos(angle) * (cols - side / 2) + np.sin(angle) * (rows - side / 2)) + rng.uniform(-0.2, 0.2) * side
    shade = 1 - rng.uniform(0.35, 0.6) * (ndimage.gaussian_filter((edge > 0).astype(np.float32), 3))
    rgb = compose(coverage, np.array([0.93, 0.92, 0.9]), np.array([0.1, 0.1, 0.15])) * shade[..., None]
    return jpeg(to_image(rgb + rng.normal(0, 0.015, rgb.shape)), rng), "jpg"


def tiny_canvas(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """Drawn with a hard one-pixel pencil on a small canvas (no anti-aliasing)."""
    side = int(rng.integers(28, 72))
    alpha = stroke_alpha(digit, int(side * rng.uniform(0.6, 0.85)), rng.uniform(-0.01, 0.03))
    coverage = place(alpha, (side, side), rng) > 0.5
    gray = np.where(coverage, 0, 255).astype(np.uint8)
    return png(Image.fromarray(gray).convert("RGB")), "png"


def grid_paper(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """A photo of a digit on squared maths paper: rules both ways, finer than the digit."""
    side = int(rng.integers(500, 1000))
    spacing = int(rng.uniform(0.04, 0.09) * side)
    alpha = stroke_alpha(digit, int(side * rng.uniform(0.35, 0.6)), rng.uniform(0, 0.03))
    coverage = place(alpha, (side, side), rng)
    rules = np.zeros((side, side), np.float32)
    rules[spacing // 2::spacing] = rules[:, spacing // 2::spacing] = 1
    rules = ndimage.gaussian_filter(rules, 0.7)
    rules *= rng.uniform(0.3, 0.6) / max(rules.max(), 1e-6)
    rgb = compose(rules, np.array([0.95, 0.95, 0.93]), np.array([0.5, 0.65, 0.8]))
    rgb = compose(coverage, rgb, rng.choice([[0.08, 0.08, 0.2], [0.1, 0.1, 0.1]]))
    return photographed(rgb, rng)


def sticky_note(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """A photo of a coloured sticky note: saturated paper, felt-tip ink."""
    side = int(rng.integers(400, 900))
    alpha = stroke_alpha(digit, int(side * rng.uniform(0.45, 0.75)), rng.uniform(0.01, 0.05))
    coverage = place(alpha, (side, side), rng)
    paper = rng.choice([[0.98, 0.92, 0.45], [0.98, 0.7, 0.8], [0.6, 0.85, 0.98], [0.7, 0.95, 0.6]])
    ink = rng.choice([[0.05, 0.05, 0.1], [0.1, 0.15, 0.55], [0.7, 0.1, 0.1]])
    rgb = compose(coverage, np.array(paper), np.array(ink))
    return photographed(rgb, rng)


def dim_photo(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """A photo taken in poor light: dark, low contrast, grainy and a little blurred."""
    height, width = int(rng.integers(600, 1200)), int(rng.integers(600, 1200))
    alpha = stroke_alpha(digit, int(min(height, width) * rng.uniform(0.3, 0.6)), rng.uniform(0, 0.03))
    alpha = ndimage.gaussian_filter(alpha, rng.uniform(1.0, 3.0))
    coverage = place(alpha, (height, width), rng)
    paper, ink = rng.uniform(0.25, 0.45), rng.uniform(0.05, 0.12)
    gray = (paper * (1 - coverage) + ink * coverage) * lighting((height, width), rng, rng.uniform(0.1, 0.4))
    rgb = gray[..., None] * np.array([1.0, 0.95, 0.85]) + rng.normal(0, rng.uniform(0.02, 0.05), (height, width, 3))
    return jpeg(to_image(rgb), rng), "jpg"


def ballpoint_digit(digit: np.ndarray, rng: Rng, sides: tuple[int, int] = (1200, 2800),
                    share: tuple[float, float] = (0.25, 0.6)) -> tuple[np.ndarray, int, float]:
    """A digit written with a ballpoint, a line a few pixels wide, on a big
    picture (`sides` pixels a side, the digit a `share` of the shorter): its
    coverage of the picture, its height and the pen's width."""
    height, width = int(rng.integers(*sides)), int(rng.integers(*sides))
    size, pen = int(min(height, width) * rng.uniform(*share)), rng.uniform(2, 6)
    alpha = ndimage.gaussian_filter(pen_alpha(digit, size, pen), rng.uniform(0.3, 1.2))
    return place(alpha, (height, width), rng).astype(np.float32), size, pen


def office_paper(rng: Rng) -> np.ndarray:
    """White to slightly warm paper, as a phone sees it (RGB)."""
    return rng.uniform(0.8, 0.97) * np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.85, 1.0)])


def ballpoint_ink(rng: Rng) -> np.ndarray:
    """Blue or black ballpoint ink, darker or fainter (RGB)."""
    return rng.choice([[0.1, 0.15, 0.5], [0.12, 0.12, 0.15], [0.2, 0.25, 0.6]]) * rng.uniform(0.8, 1.6)


def ballpoint_photo(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """A phone photo of a digit written with a ballpoint: a line a few pixels wide on a big picture."""
    coverage, _, _ = ballpoint_digit(digit, rng)
    return photo_of_ballpoint(coverage, rng)


def photo_of_ballpoint(coverage: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """A phone photo of ballpoint ink (its coverage of the picture) on office paper."""
    return photographed(compose(coverage, office_paper(rng), ballpoint_ink(rng)), rng)


def ruled_ballpoint(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """A ballpoint digit photographed on ruled notebook paper whose lines are
    about as dark as the pen, the sheet a little askew."""
    return ruled_photo(*ballpoint_digit(digit, rng), rng)


def ruled_photo(coverage: np.ndarray, size: int, pen: float, rng: Rng) -> tuple[bytes, str]:
    """A photo of a ballpoint digit (its coverage, height and pen) on ruled paper."""
    height, width = coverage.shape
    spacing = size / rng.uniform(1.2, 2.2)  # a digit spans one or two lines
    rows = np.arange(height, dtype=np.float32)[:, None] - np.tan(np.radians(rng.uniform(-2, 2))) * np.arange(width)
    phase = np.mod(rows - rng.uniform(0, spacing), spacing)
    # Printed lines 0.3-1 times as wide as a ballpoint's, antialiased.
    rules = np.clip(pen * rng.uniform(0.3, 1) / 2 + 0.5 - np.minimum(phase, spacing - phase), 0, 1)
    paper = office_paper(rng)
    line = paper * (1 - rng.uniform(0.1, 0.35) * np.array([1.0, 0.8, 0.3]))  # blue-grey, 10-35 % darker
    return photographed(compose(coverage, compose(rules, paper, line), ballpoint_ink(rng)), rng)


def ballpoint_on_big_photo(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """A small ballpoint digit on a 12-megapixel phone photo (3000-4032 px a
    side, the digit a tenth to a third of it), on plain or ruled paper."""
    coverage, size, pen = ballpoint_digit(digit, rng, sides=(3000, 4032), share=(0.1, 0.35))
    if rng.random() < 0.5:
        return ruled_photo(coverage, size, pen, rng)
    return photo_of_ballpoint(coverage, rng)


def thin_canvas(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """Drawn with a thin brush on a drawing app's large canvas, dark on white or light on black."""
    side = int(rng.integers(500, 1600))
    alpha = pen_alpha(digit, int(side * rng.uniform(0.4, 0.85)), rng.uniform(2, 8), antialiased=rng.random() < 0.7)
    coverage = place(alpha, (side, side), rng)
    if rng.random() < 0.5:
        return png(to_image(compose(coverage, np.ones(3), rng.uniform(0, 0.3, 3)))), "png"
    return png(to_image(compose(coverage, np.zeros(3), rng.uniform(0.7, 1, 3)))), "png"


def pale_ink(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """Pale or coloured ink: light blue, green, yellow or pink pens, a light grey pencil."""
    side = int(rng.integers(250, 900))
    height = int(side * rng.uniform(0.4, 0.8))
    if rng.random() < 0.5:
        alpha = pen_alpha(digit, height, rng.uniform(2, 10))
    else:
        alpha = stroke_alpha(digit, height, rng.uniform(-0.01, 0.03))
    coverage = place(alpha, (side, side), rng)
    ink = rng.choice([[0.55, 0.7, 0.95], [0.5, 0.85, 0.5], [0.95, 0.8, 0.2], [0.95, 0.6, 0.75], [0.7, 0.7, 0.7],
                      [0.3, 0.6, 1.0]])
    rgb = compose(coverage, np.array([1.0, 1.0, 0.98]), np.array(ink))
    if rng.random() < 0.5:
        return png(to_image(rgb)), "png"
    return photographed(rgb * rng.uniform(0.85, 1.0), rng)


def small_on_big_canvas(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """A small digit drawn with a thin pen somewhere on a big blank canvas."""
    height, width = int(rng.integers(700, 2000)), int(rng.integers(700, 2000))
    alpha = pen_alpha(digit, int(min(height, width) * rng.uniform(0.08, 0.25)), rng.uniform(1.5, 5))
    coverage = place(alpha, (height, width), rng, margin=0.02)
    return png(to_image(compose(coverage, np.ones(3), np.zeros(3)))), "png"


def low_res_scan(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """A coarse scan: the digit stretched to fill its frame (or not), rasterised
    at 8-16 px by counting ink in blocks, then upscaled, blurry, to 64x64."""
    cells = int(rng.integers(8, 17))
    rows, cols = np.nonzero(digit > 0)
    crop = digit[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    fine = 4 * cells
    if rng.random() < 0.7:
        size = (fine, fine)  # stretched to fill the frame
    else:
        scale = fine / max(crop.shape)
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    drawn = np.zeros((fine, fine), np.float32)
    resized = np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.BILINEAR)) > 127
    top, left = (fine - size[1]) // 2, (fine - size[0]) // 2
    drawn[top:top + size[1], left:left + size[0]] = resized
    blocks = drawn.reshape(cells, 4, cells, 4).mean(axis=(1, 3))
    gray = (blocks * 255).round().astype(np.uint8)
    if rng.random() < 0.5:
        gray = 255 - gray
    side = int(rng.choice([64, 64, 64, 32, 128]))
    resample = rng.choice([Image.Resampling.BILINEAR, Image.Resampling.BICUBIC, Image.Resampling.NEAREST])
    return png(Image.fromarray(gray).resize((side, side), resample)), "png"


def user_crop_28(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """A 28x28 image a user made from a photo or a drawing: the digit fills the
    frame, or sits small in it, not centred the MNIST way, on grey paper."""
    canvas = 28 * 8
    alpha = stroke_alpha(digit, int(canvas * rng.uniform(0.45, 0.95)), rng.uniform(-0.01, 0.05))
    coverage = place(alpha, (canvas, canvas), rng, margin=0.0)
    if rng.random() < 0.5:  # light ink on dark, shaded paper
        paper = rng.uniform(0.1, 0.45) * lighting((canvas, canvas), rng, rng.uniform(0.1, 0.5))
        gray = paper + (rng.uniform(0.7, 1.0) - paper) * coverage
    else:
        paper = rng.uniform(0.65, 0.9) * lighting((canvas, canvas), rng, rng.uniform(0, 0.3))
        gray = paper * (1 - coverage * rng.uniform(0.75, 0.95))
    small = to_image(gray[..., None] * np.ones(3)).convert("L").resize((28, 28), Image.Resampling.BILINEAR)
    if rng.random() < 0.5:
        return jpeg(small, rng), "jpg"
    return png(small), "png"


def framed(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """A digit written in a box or a ring, as on a form: drawn, or a photo of the paper."""
    side = int(rng.integers(200, 800))
    coverage = place(stroke_alpha(digit, int(side * rng.uniform(0.35, 0.55)), rng.uniform(0.0, 0.03)),
                     (side, side), rng, margin=0.45)
    frame = np.zeros((side, side), np.float32)
    reach, pen = int(side * rng.uniform(0.36, 0.46)), max(1, round(side * rng.uniform(0.004, 0.015)))
    if rng.random() < 0.5:
        cv2.rectangle(frame, (side // 2 - reach,) * 2, (side // 2 + reach,) * 2, 1.0, pen, cv2.LINE_AA)
    else:
        axes = (reach, int(reach * rng.uniform(0.85, 1.0)))
        cv2.ellipse(frame, (side // 2,) * 2, axes, rng.uniform(0, 180), 0, 360, 1.0, pen, cv2.LINE_AA)
    coverage = np.maximum(coverage, frame)
    if rng.random() < 0.5:
        return png(to_image(compose(coverage, np.ones(3), np.zeros(3)))), "png"
    return photo_of_ballpoint(coverage, rng)


def board_on_wall(digit: np.ndarray, rng: Rng) -> tuple[bytes, str]:
    """A dark board that does not fill the frame, light ink on it: a
    blackboard photographed with the wall around it, or a screenshot of a
    drawing app's black canvas on a light page."""
    height, width = int(rng.integers(500, 1000)), int(rng.integers(500, 1000))
    top, bottom = (int(rng.uniform(0.05, 0.3) * height) for _ in range(2))
    left, right = (int(rng.uniform(0.05, 0.3) * width) for _ in range(2))
    inside = (slice(top, height - bottom), slice(left, width - right))
    board_shape = (height - top - bottom, width - left - right)
    alpha = stroke_alpha(digit, int(min(board_shape) * rng.uniform(0.4, 0.8)), rng.uniform(0, 0.04))
    board, coverage = np.zeros((height, width), np.float32), np.zeros((height, width), np.float32)
    board[inside] = 1
    if rng.random() < 0.5:
        coverage[inside] = place(alpha, board_shape, rng)
        page = compose(board, np.full(3, rng.choice([1.0, 0.94, 0.9])), np.zeros(3))
        return png(to_image(compose(coverage, page, np.ones(3)))), "png"
    coverage[inside] = place(chalked(alpha, rng), board_shape, rng)
    wall = rng.choice([[0.85, 0.83, 0.78], [0.75, 0.75, 0.72], [0.92, 0.9, 0.86]])
    rgb = compose(ndimage.gaussian_filter(board, 2), np.array(wall), blackboard(rng))
    return photographed(compose(coverage, rgb, CHALK), rng)

# The kinds that draw a digit along its centreline with a thin pen. A thick
# MNIST digit with filled loops has no such drawing: its centreline is another
# shape (a 6 becomes a 5, an 8 a 6); nor has a faint one whose smooth shape
# breaks apart (a 6 becomes two dashes). Those kinds take, for a test digit
# whose centreline overlaps it less than this, or whose smooth shape is in
# more pieces than its ink, the next one with the same label.
THIN_PEN_KINDS = {"ballpoint_photo", "thin_canvas", "pale_ink", "small_on_big_canvas", "ruled_ballpoint",
                  "ballpoint_on_big_photo"}
LEAST_CENTRELINE_FIDELITY = 0.7


def test_digit_for(kind: str, index: int, labels: np.ndarray, images: np.ndarray) -> int:
    """The MNIST test digit that image `index` of `kind` draws."""
    if kind not in THIN_PEN_KINDS:
        return index
    for candidate in [*range(index, len(labels)), *range(index)]:
        if labels[candidate] == labels[index] and drawn_by_centreline(images[candidate]):
            return candidate
    return index


def drawn_by_centreline(digit: np.ndarray) -> bool:
    """Whether a thin pen along the digit's centreline draws it: its smooth
    shape is in no more pieces than its ink, and the centreline covers it."""
    shape = smooth_shape(digit)
    return pieces(shape) <= pieces(digit > 0) and centreline_fidelity(digit, shape) >= LEAST_CENTRELINE_FIDELITY


def pieces(mask: np.ndarray) -> int:
    """How many 8-connected pieces a mask is in."""
    return ndimage.label(mask, np.ones((3, 3)))[1]


KINDS: dict[str, Callable[[np.ndarray, Rng], tuple[bytes, str]]] = {
    "paint": paint, "photo": photo, "transparent": transparent, "white_on_black": white_on_black,
    "small_offcenter": small_offcenter, "marker": marker, "pencil": pencil,
    "chalkboard": chalkboard, "scan": scan, "other_format": other_format,
    "lined_paper": lined_paper, "photo_on_table": photo_on_table, "hard_shadow": hard_shadow,
    "tiny_canvas": tiny_canvas, "grid_paper": grid_paper, "sticky_note": sticky_note, "dim_photo": dim_photo,
    "ballpoint_photo": ballpoint_photo, "thin_canvas": thin_canvas, "pale_ink": pale_ink,
    "small_on_big_canvas": small_on_big_canvas, "low_res_scan": low_res_scan, "user_crop_28": user_crop_28,
    # Kinds added later come last: the kinds before them come out as they did before.
    "ruled_ballpoint": ruled_ballpoint, "ballpoint_on_big_photo": ballpoint_on_big_photo, "framed": framed,
    "board_on_wall": board_on_wall,
}


def write_set(out_dir: Path, per_kind: int, seed: int, first_test_index: int = 0,
              handwritten_digit: bool = False, kinds: list[str] | None = None,
              font_share: float = 0.0) -> list[dict]:
    """Write `per_kind` images of every kind; return their label rows.

    With `handwritten_digit`, also a paint-style handwritten_digit.png, the
    example file that the original script's instructions name. `font_share`
    of the digits are written in a handwriting font instead of MNIST's.
    """
    mnist = load_mnist()
    rng = np.random.default_rng(seed)
    fonts = FontDigits.for_set(seed, font_share)
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(kind, f"{kind}_{number:03d}") for kind in kinds or KINDS for number in range(per_kind)]
    if handwritten_digit:
        jobs.insert(0, ("paint", "handwritten_digit"))
    rows = []
    for job, (kind, stem) in enumerate(jobs, start=first_test_index):
        font = fonts.next_font()
        if font:
            index, ([label], [digit]) = "", fonts.digits(font, 1)
        else:
            index = test_digit_for(kind, job, mnist.y_test, mnist.x_test)
            digit, label = mnist.x_test[index], int(mnist.y_test[index])
        data, extension = KINDS[kind](digit, rng)
        name = f"{stem}.{extension}" if stem == "handwritten_digit" else f"{stem}_{label}.{extension}"
        (out_dir / name).write_bytes(data)
        rows.append({"file": name, "digit": label, "kind": kind, "mnist_test_index": index,
                     "font": font.stem if font else ""})
    write_labels(out_dir, rows)
    return rows


def write_labels(out_dir: Path, rows: list[dict]) -> None:
    """OUT_DIR/labels.csv: one row per image written, the columns of `rows`."""
    with open(out_dir / "labels.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--per-kind", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--first-test-index", type=int, default=0,
                        help="MNIST test image to start from (sets do not overlap if these differ)")
    parser.add_argument("--handwritten-digit", action="store_true", help="also write handwritten_digit.png")
    parser.add_argument("--kinds", nargs="+", choices=list(KINDS), help="only these kinds (default: all)")
    parser.add_argument("--font-share", type=float, default=0.0,
                        help="share of digits written in a handwriting font instead of MNIST's (default 0)")
    args = parser.parse_args()
    rows = write_set(args.out_dir, args.per_kind, args.seed, args.first_test_index, args.handwritten_digit,
                     args.kinds, args.font_share)
    print(f"wrote {len(rows)} images to {args.out_dir}")


if __name__ == "__main__":
    main()
