"""What the predictor answers about an image, as the fields of its JSON: one
place for both the command line's --json and the web API's answers."""

import base64
import io

import numpy as np
from PIL import Image

from mnist_digits.prediction import NumberResult, Result


def number_hint(result: Result) -> str | None:
    """A note for an image read as one digit that seems to hold several."""
    if result.digits_in_a_row < 2:
        return None
    return f"this image seems to hold {result.digits_in_a_row} digits: try --number"


def digit_fields(result: Result) -> dict:
    return {"digit": result.digit, "confidence": round(result.confidence, 6), "uncertain": result.uncertain,
            "probabilities": [round(float(p), 6) for p in result.probabilities]}


def answer_fields(result: Result | NumberResult) -> dict:
    """The JSON fields of an answer, all but the path: an error, a number, or a digit (and a note)."""
    if result.error:
        return {"error": result.error}
    if isinstance(result, NumberResult):
        return {"number": result.number, "uncertain": result.uncertain,
                "digits": [{**digit_fields(digit), "box": list(digit.box)} for digit in result.digits]}
    hint = number_hint(result)
    return {**digit_fields(result), **({"note": hint} if hint else {})}


def seen_image(image: np.ndarray) -> Image.Image:
    """The 28x28 the model saw (floats in [0, 1]) as an 8-bit grayscale image."""
    return Image.fromarray((image * 255).round().astype(np.uint8))


def png_data_url(image: np.ndarray) -> str:
    """seen_image() as a data: URL, for a web page to show without another request."""
    buffer = io.BytesIO()
    seen_image(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
