"""CROHME test sets as folders `mathlens eval` reads: InkML files plus a caption file.

    python benchmarks/make_crohme_sets.py            # -> .cache/val/crohme2014_inkml, crohme2013_inkml
    mathlens eval .cache/val/crohme2014_inkml         # online ink, drawn by mathlens
    mathlens eval ../shared/datasets/crohme/test2014  # the offline bitmaps (img/ + caption.txt)

2014 uses the tokenized captions of the bitmaps (the paper convention); 2013 has only raw truth
(`$...$`), which the normalizer tokenizes the same way, with `\\limits` on bounded \\sum, \\lim
and \\int as the 2014 captions (and CoMER's 2013 ones) write them, and without what the papers'
111-symbol dictionary lacks and ink cannot show (`\\left`, `\\right`, `\\mathrm`, spacing).
"""

from __future__ import annotations

import argparse
import tarfile
from pathlib import Path

from mathlens.synth.ink_corpus import in_crohme_symbols, with_crohme_limits
from mathlens.errors import LatexSyntaxError
from mathlens.tokenizer.normalize import normalize

CROHME = Path("../shared/datasets/crohme")


def extract(archive: Path, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(".inkml"):
                (out_dir / Path(member.name).name).write_bytes(tar.extractfile(member).read())  # type: ignore[union-attr]


def paper_caption(raw_truth: str) -> str:
    """Raw `$...$` truth as a token sequence in the 2014 captions' convention (raw if it does not parse)."""
    latex = raw_truth.strip().strip("$").strip()
    try:
        return " ".join(with_crohme_limits(in_crohme_symbols(normalize(latex))))
    except LatexSyntaxError:
        return latex


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--crohme", type=Path, default=CROHME)
    parser.add_argument("--out", type=Path, default=Path(".cache/val"))
    args = parser.parse_args()
    d2014 = args.out / "crohme2014_inkml"
    extract(args.crohme / "test2014" / "inkml.tar.gz", d2014 / "ink")
    captions = (args.crohme / "test2014" / "caption.txt").read_text(encoding="utf-8").splitlines()
    (d2014 / "caption.txt").write_text("".join(f"ink/{line}\n" for line in captions if line.strip()))
    d2013 = args.out / "crohme2013_inkml"
    extract(args.crohme / "test2013" / "inkml.tar.gz", d2013 / "ink")
    raw = (args.crohme / "test2013" / "truth_raw.tsv").read_text(encoding="utf-8").splitlines()
    rows = (line.split("\t", 1) for line in raw if "\t" in line)
    (d2013 / "caption.txt").write_text("".join(f"ink/{name}\t{paper_caption(truth)}\n" for name, truth in rows))
    for d in (d2014, d2013):
        print(d, len(list((d / "ink").glob("*.inkml"))), "files")


if __name__ == "__main__":
    main()
