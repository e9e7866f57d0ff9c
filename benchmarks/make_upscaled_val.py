"""High-resolution printed inputs: the first im2latex-100k val images upscaled, as a retina screenshot is.

    python benchmarks/make_upscaled_val.py --num 200 --factor 3 --out .cache/val/im2latex_up3
    mathlens eval .cache/val/im2latex_up3

The preprocessing shrinks such pictures back (PreprocessConfig.target_dpi); this set checks that
the resolution it shrinks to suits printed formulas, while CROHME's bitmaps check handwriting.
"""

from __future__ import annotations

from PIL import Image
from rerender import parse_args, write_labels


def main() -> None:
    args = parse_args(__doc__.split("\n")[0], ".cache/val/im2latex_up3", seed=0, num=200,
                      extra=lambda parser: parser.add_argument("--factor", type=int, default=3))
    formulas = (args.split / "formulas.norm.txt").read_text(encoding="utf-8").split("\n")
    (args.out / "images").mkdir(parents=True)
    labels = []
    for line in (args.split / "matching.txt").read_text(encoding="utf-8").splitlines()[: args.num]:
        name, index = line.split()
        with Image.open(args.split / "images" / name) as image:
            size = (image.width * args.factor, image.height * args.factor)
            image.resize(size, Image.Resampling.LANCZOS).save(args.out / "images" / name)
        labels.append(f"images/{name}\t{formulas[int(index)]}")
    write_labels(args.out, labels)
    print(f"{args.out}: {len(labels)} images, {args.factor}x")


if __name__ == "__main__":
    main()
