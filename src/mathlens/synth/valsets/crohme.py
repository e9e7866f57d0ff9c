"""CROHME test sets as folders `mathlens eval` reads: InkML files plus a caption file.

The offline bitmaps (`crohme/test2014`: img/ + caption.txt) are read as they are; the online ink
is extracted here. 2014 uses the tokenized captions of the bitmaps (the paper convention); 2013 has only raw truth
(`$...$`), which the normalizer tokenizes the same way, with `\\limits` on bounded \\sum, \\lim
and \\int as the 2014 captions (and CoMER's 2013 ones) write them, and without what the papers'
111-symbol dictionary lacks and ink cannot show (`\\left`, `\\right`, `\\mathrm`, spacing).
"""

from __future__ import annotations

import tarfile
from pathlib import Path

from mathlens.synth.ink_corpus import in_crohme_symbols, with_crohme_limits
from mathlens.errors import LatexSyntaxError
from mathlens.tokenizer.normalize import normalize


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


def inkml_2014(crohme: Path, out: Path) -> Path:
    """The 2014 test ink with the bitmaps' tokenized captions (the paper convention)."""
    extract(crohme / "test2014" / "inkml.tar.gz", out / "ink")
    captions = (crohme / "test2014" / "caption.txt").read_text(encoding="utf-8").splitlines()
    (out / "caption.txt").write_text("".join(f"ink/{line}\n" for line in captions if line.strip()))
    return out


def inkml_2013(crohme: Path, out: Path) -> Path:
    """The 2013 test ink, its raw truth tokenized in the 2014 captions' convention."""
    extract(crohme / "test2013" / "inkml.tar.gz", out / "ink")
    raw = (crohme / "test2013" / "truth_raw.tsv").read_text(encoding="utf-8").splitlines()
    rows = (line.split("\t", 1) for line in raw if "\t" in line)
    (out / "caption.txt").write_text("".join(f"ink/{name}\t{paper_caption(truth)}\n" for name, truth in rows))
    return out
