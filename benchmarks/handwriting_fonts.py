"""Digits written in handwriting fonts, shaped like MNIST's, for the generators.

The fonts are Debian's (nothing is downloaded). Calligraphic ones are left
out: re-inked with a pen, as every digit here is, their hairlines vanish.

    sudo apt-get install fonts-bwht fonts-breip fonts-comic-neue fonts-dancingscript \\
        fonts-dkg-handwriting fonts-humor-sans fonts-kaushanscript \\
        fonts-klee fonts-kristi fonts-tlwg-purisa
"""

import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

FONT_FILES = [
    "opentype/bwht/BecauseWeBuild-Regular.otf",
    "opentype/bwht/BecauseWeConnect-Regular.otf",
    "opentype/bwht/BecauseWeCreate-Regular.otf",
    "opentype/bwht/BecauseWeLearn-Regular.otf",
    "opentype/bwht/BecauseWeMentor-Regular.otf",
    "opentype/bwht/BecauseWeOrganize-Regular.otf",
    "opentype/comic-neue/ComicNeue-Regular.otf",
    "opentype/dancingscript/DancingScript-Regular.otf",
    "opentype/kaushanscript/KaushanScript-Regular.otf",
    "truetype/breip/Breip.ttf",
    "truetype/fifthhorseman/dkg.ttf",
    "truetype/humor-sans/Humor-Sans.ttf",
    "truetype/klee/KleeOne-Regular.ttf",
    "truetype/kristi/Kristi.ttf",
    "truetype/tlwg/Purisa.ttf",
]
FONT_DIR = Path("/usr/share/fonts")
GLYPH_SIZE = 200  # pixels a glyph is drawn at
# The side of the MNIST-like frame a glyph is fit in: 8x MNIST's 28, so
# that a font's hairlines survive being re-inked as an MNIST digit is.
SIDE = 224


def installed_fonts() -> list[Path]:
    """The handwriting fonts this machine has; an error naming the packages if none."""
    fonts = [FONT_DIR / name for name in FONT_FILES if (FONT_DIR / name).exists()]
    if not fonts:
        sys.exit(f"no handwriting fonts in {FONT_DIR}: {__doc__.split(':', 1)[1].strip()}")
    return fonts


def font_digit(font: Path, digit: int) -> np.ndarray:
    """`digit` in `font` framed as an MNIST digit, SIDE pixels square: white on
    black, uint8, fit in the middle 20/28 and centred by mass, as MNIST's were."""
    canvas = Image.new("L", (2 * GLYPH_SIZE, 2 * GLYPH_SIZE), 0)
    ImageDraw.Draw(canvas).text((GLYPH_SIZE, GLYPH_SIZE), str(digit), fill=255, anchor="mm",
                                font=ImageFont.truetype(str(font), GLYPH_SIZE))
    glyph = canvas.crop(canvas.getbbox())
    scale = SIDE * 20 / 28 / max(glyph.size)
    glyph = np.asarray(glyph.resize((max(1, round(glyph.width * scale)), max(1, round(glyph.height * scale))),
                                    Image.Resampling.LANCZOS))
    mass_row, mass_col = ndimage.center_of_mass(glyph)
    top = int(np.clip(round(SIDE / 2 - mass_row), 0, SIDE - glyph.shape[0]))
    left = int(np.clip(round(SIDE / 2 - mass_col), 0, SIDE - glyph.shape[1]))
    framed = np.zeros((SIDE, SIDE), np.uint8)
    framed[top:top + glyph.shape[0], left:left + glyph.shape[1]] = glyph
    return framed


class FontDigits(NamedTuple):
    """Which digits a generator writes in a handwriting font, and which: a
    `share` of them, from their own random stream, so that without fonts a
    seed gives the same set as before."""

    rng: np.random.Generator
    share: float
    fonts: list[Path]

    @classmethod
    def for_set(cls, seed: int, share: float) -> "FontDigits":
        return cls(np.random.default_rng([seed, 1]), share, installed_fonts() if share else [])

    def next_font(self) -> Path | None:
        """The font of the next digit or number, or None for MNIST's."""
        return self.fonts[self.rng.integers(len(self.fonts))] if self.rng.random() < self.share else None

    def digits(self, font: Path, count: int) -> tuple[list[int], list[np.ndarray]]:
        """`count` random digits in `font`: their labels, and as font_digit() draws them."""
        labels = [int(label) for label in self.rng.integers(0, 10, count)]
        return labels, [font_digit(font, label) for label in labels]
