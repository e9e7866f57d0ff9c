"""Page to Markdown on the synthetic validation pages: edit distance, formulas right, seconds per stage, peak RSS.

    python benchmarks/bench_pages.py --threads 2

Each page (1,700 x 2,200 at 200 dpi) is read from its picture (OCR for the text) and, where the
validation set kept its PDF, from the PDF (the text layer). The Markdown is compared with the
page's source: normalized character edit distance, and the share of its formulas whose LaTeX
comes out exactly (both sides normalized). Timings are medians; `formulas` is the batch of
formula crops through the recognizer.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from pathlib import Path

from PIL import Image

from mathlens.config import DecodeConfig
from mathlens.metrics.pages import formula_recall, markdown_distance
from mathlens.pages.reader import PageConfig, PageReader
from mathlens.synth.pages import validation_pages
from mathlens.tokenizer.normalize import normalize


def read_records(val: Path) -> list[dict]:
    return [json.loads(line) for part in sorted(val.glob("part-*.jsonl")) for line in part.read_text().splitlines()]


def summarize(name: str, rows: list[dict]) -> dict:
    out = {"set": name, "pages": len(rows)}
    if not rows:
        return out
    out["markdown_distance_mean"] = statistics.mean(r["distance"] for r in rows)
    out["markdown_distance_median"] = statistics.median(r["distance"] for r in rows)
    right = sum(r["formulas_right"] for r in rows)
    total = sum(r["formulas"] for r in rows)
    out["formulas_exact"] = right / max(1, total)
    out["formulas"] = total
    for stage in ("total", "detect", "text", "formulas", "order"):
        out[f"median_s_{stage}"] = statistics.median(r["timings"].get(stage, 0.0) for r in rows)
    return out


def measure(reader: PageReader, record: dict, val: Path, use_pdf: bool) -> dict:
    start = time.perf_counter()
    if use_pdf:
        result = next(iter(reader.read(val / record["pdf"], pages=str(record["pdf_page"]))))
    else:
        result = reader.read_image(Image.open(val / record["image"]), path=record["image"])
    timings = {**result.timings, "total": time.perf_counter() - start}
    if result.error:
        raise SystemExit(f"{record['image']}: {result.error}")
    right = round(formula_recall(result.markdown, record["formulas"], normalize) * len(record["formulas"]))
    return {"image": record["image"], "distance": markdown_distance(result.markdown, record["markdown"]),
            "formulas": len(record["formulas"]), "formulas_right": right, "timings": timings,
            "markdown": result.markdown}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--val", type=Path, default=Path(".cache/pages/valpdf"), help="synthetic validation pages (rendered when missing)")
    parser.add_argument("--corpus", type=Path, default=Path("../shared/datasets/formulas/formulas.tsv.gz"))
    parser.add_argument("--docbank", type=Path, default=Path("../shared/datasets/docbank_samples"))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam", type=int, default=1)
    parser.add_argument("--views", action="store_true", help="read formulas at several sizes (slower)")
    parser.add_argument("--dump", type=Path, default=None, help="write each page's Markdown and scores here (JSONL)")
    args = parser.parse_args()

    validation_pages(args.val, corpus=args.corpus, docbank=args.docbank)
    records = read_records(args.val)[:args.limit]
    reader = PageReader(PageConfig(dpi=records[0]["dpi"] if records else 150, num_threads=args.threads,
                                   decode=DecodeConfig(beam_size=args.beam, views=args.views)))
    reader.read_image(Image.new("RGB", (200, 200), "white"))  # load the models outside the timings
    images = [measure(reader, r, args.val, use_pdf=False) for r in records]
    pdfs = [measure(reader, r, args.val, use_pdf=True) for r in records if "pdf" in r]
    busy = [r for r in images if 15 <= r["formulas"] <= 25]
    reports = [summarize("page pictures (OCR text)", images), summarize("page pictures with 15-25 formulas", busy),
               summarize("born-digital PDF pages (text layer)", pdfs)]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for report in reports:
        print(json.dumps(report))
    print(json.dumps({"peak_rss_mb": round(peak_mb), "threads": args.threads, "beam": args.beam, "views": args.views}))
    if args.dump:
        args.dump.write_text("".join(json.dumps(r) + "\n" for r in images + pdfs))


if __name__ == "__main__":
    main()
