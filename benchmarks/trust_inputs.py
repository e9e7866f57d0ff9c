"""What a user gets for the inputs that used to give confident nonsense or a wrong answer.

    python benchmarks/trust_inputs.py            # a Markdown table: input, answer, confidence, unsure / error

Each input is made here with real parts (TeX Live renders, drawing-pad strokes, Pillow files) and
read by the shipped model with the defaults, through `Recognizer` as the CLI and server read.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from mathlens import Recognizer
from mathlens.errors import MathlensError
from mathlens.synth.render import RenderJob, render_batch

EXAMPLE = Path(__file__).parents[1] / "examples" / "quadratic.png"


def printed(latex: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        return render_batch([RenderJob("f", latex, "display")], tmp / latex.encode().hex(), dpi=100)["f"]
    return make


def exif_rotated(tmp: Path) -> bytes:
    image = Image.open(EXAMPLE).convert("RGB").rotate(90, expand=True)  # stored sideways, as a phone does
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif.tobytes(), quality=95)
    return buf.getvalue()


def sixteen_bit(tmp: Path) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.asarray(Image.open(EXAMPLE).convert("L"), dtype=np.uint16) * 257).save(buf, "PNG")
    return buf.getvalue()


def huge(tmp: Path) -> Path:
    Image.new("1", (20000, 20000), 1).save(tmp / "huge.png")  # 400 megapixels, a few kB on disk
    return tmp / "huge.png"


STROKES = {
    "one horizontal pen stroke": [[(0, 0), (60, 0)]],
    "a pen dot": [[(5, 5)]],
    "= drawn": [[(0, 0), (60, 0)], [(0, 25), (60, 25)]],
    "x drawn": [[(0, 0), (40, 50)], [(40, 0), (0, 50)]],
    "1 drawn": [[(10, 0), (10, 60)]],
    "strokes at 1e300": [[(0, 0), (1e300, 1)]],
    "3-D points": [[(0, 0, 1), (40, 50, 2)]],
}
PICTURES: dict[str, Callable[[Path], object]] = {
    "printed -": printed("-"), "printed =": printed("="), "printed .": printed("."), "printed x": printed("x"),
    "printed 1": printed("1"), "printed aligned rows": printed(r"\begin{aligned}a&=b\\&=c\end{aligned}"),
    "tiny noisy picture (6x6)": lambda tmp: (np.random.default_rng(0).random((6, 6)) * 255).astype(np.uint8),
    "photo with EXIF rotate 90": exif_rotated, "16-bit PNG": sixteen_bit, "400-megapixel PNG": huge,
    "text named .png": lambda tmp: b"just some text, not a picture",
    "SVG named .inkml": lambda tmp: b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>',
}


def main() -> None:
    rec = Recognizer()
    print("| input | LaTeX | confidence | unsure / error |\n|---|---|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        cases: list[tuple[str, Callable[[], object]]] = [
            *((name, lambda make=make: rec.recognize(make(Path(tmp)))) for name, make in PICTURES.items()),
            *((name, lambda s=s: rec.recognize_strokes(s)) for name, s in STROKES.items())]
        for name, read in cases:
            try:
                pred = read()
                print(f"| {name} | `{pred.latex}` | {pred.confidence:.2f} | {pred.unsure or ''} |")
            except MathlensError as err:
                print(f"| {name} | | | error: {err} |")


if __name__ == "__main__":
    main()
