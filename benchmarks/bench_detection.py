"""Formula detection: precision / recall / F1 at IoU 0.5 and 0.75, ours beside rapid-layout's `equation` boxes.

    python benchmarks/bench_detection.py

On the synthetic validation pages (inline and display formulas, apart and together; as rendered
and with the look of a scan) and on the DocBank samples' display formulas (`equation` tokens
grouped into formulas, their equation numbers left out). rapid-layout (CDLA) finds display
formulas only, so its rows count its boxes as display. Both detectors run in the same process.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from pathlib import Path

import numpy as np
from PIL import Image

from mathlens.metrics.pages import DetectionTally
from mathlens.pages.detect import FormulaDetector
from mathlens.synth.pages import validation_pages
from mathlens.pages.types import Box, Detection

NUMBER = re.compile(r"^\(\w+(\.\w+)*\)$")  # an equation number: (3), (2.1), (A.4)


def synthetic_truth(record: dict) -> list[Detection]:
    return [Detection(Box(*b["bbox"]), b["kind"], 1.0) for b in record["boxes"] if b["kind"] in ("inline", "display")]


def docbank_truth(txt: Path, width: int, height: int) -> list[Detection]:
    """The page's display formulas: its `equation` tokens (numbers left out) merged where they touch.

    Tokens join when their boxes, grown by a glyph's height sideways and a third of it up and
    down, overlap: the lines of one aligned formula join, separate displays stay apart.
    """
    boxes = []
    for line in txt.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.rstrip("\r").split("\t")
        if len(parts) >= 10 and parts[9] == "equation" and not NUMBER.match(parts[0]):
            x0, y0, x1, y1 = (float(v) for v in parts[1:5])
            boxes.append([x0 * width / 1000, y0 * height / 1000, x1 * width / 1000, y1 * height / 1000])
    groups = _merge(boxes)
    return [Detection(Box(*g), "display", 1.0) for g in groups]


def _merge(boxes: list[list[float]]) -> list[list[float]]:
    groups = [list(b) for b in boxes]
    changed = True
    while changed:
        changed = False
        out: list[list[float]] = []
        for box in groups:
            for group in out:
                h = min(box[3] - box[1], group[3] - group[1])
                if box[0] - h < group[2] and group[0] - h < box[2] and box[1] - h / 3 < group[3] and group[1] - h / 3 < box[3]:
                    group[:] = [min(group[0], box[0]), min(group[1], box[1]), max(group[2], box[2]), max(group[3], box[3])]
                    changed = True
                    break
            else:
                out.append(box)
        groups = out
    return groups


def rapid_layout_equations(engine, image: Image.Image) -> list[Detection]:
    result = engine(np.asarray(image.convert("RGB"))[:, :, ::-1])
    return [Detection(Box(*map(float, box)), "display", float(score))
            for box, name, score in zip(result.boxes, result.class_names, result.scores) if name == "equation"]


def scanned(image: Image.Image, seed: int) -> Image.Image:
    from mathlens.training.detect import scan_look

    return Image.fromarray(scan_look(np.asarray(image.convert("L")), random.Random(seed))).convert("RGB")


def run_set(name: str, items, detector: FormulaDetector, engine, kinds: tuple[str, ...]) -> dict:
    ours, theirs = DetectionTally(), DetectionTally()
    times_ours, times_theirs = [], []
    for image, truth in items:
        start = time.perf_counter()
        found = [d for d in detector.detect(image) if d.kind in kinds]
        times_ours.append(time.perf_counter() - start)
        ours.add(found, truth)
        if engine is not None:
            start = time.perf_counter()
            theirs.add(rapid_layout_equations(engine, image), truth)
            times_theirs.append(time.perf_counter() - start)
    report = {"set": name, "pages": len(times_ours), "mathlens": ours.scores(),
              "mathlens_median_s": float(np.median(times_ours))}
    if engine is not None:
        report["rapid_layout"] = theirs.scores()
        report["rapid_layout_median_s"] = float(np.median(times_theirs))
    return report


def print_report(report: dict) -> None:
    print(f"\n{report['set']}: {report['pages']} pages; median s/page: mathlens {report['mathlens_median_s']:.2f}"
          + (f", rapid-layout {report['rapid_layout_median_s']:.2f}" if "rapid_layout" in report else ""))
    print(f"{'detector':14} {'kind':8} {'IoU':>5} {'P':>6} {'R':>6} {'F1':>6} {'truth':>6} {'found':>6}")
    for who in ("mathlens", "rapid_layout"):
        for kind, by_iou in report.get(who, {}).items():
            for iou, s in by_iou.items():
                if s["truth"] == 0 and s["predicted"] == 0:
                    continue
                print(f"{who:14} {kind:8} {float(iou):5.2f} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f} "
                      f"{s['truth']:6d} {s['predicted']:6d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--val", type=Path, default=Path(".cache/pages/valpdf"), help="synthetic validation pages (rendered when missing)")
    parser.add_argument("--docbank", type=Path, default=Path("../shared/datasets/docbank_samples"))
    parser.add_argument("--corpus", type=Path, default=Path("../shared/datasets/formulas/formulas.tsv.gz"))
    parser.add_argument("--model-dir", type=Path, default=None, help="detector directory (default: shipped)")
    parser.add_argument("--limit", type=int, default=None, help="pages per set")
    parser.add_argument("--no-baseline", action="store_true", help="skip rapid-layout")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here too")
    args = parser.parse_args()

    detector = FormulaDetector(args.model_dir)
    engine = None
    if not args.no_baseline:
        from rapid_layout import RapidLayout
        engine = RapidLayout()
    validation_pages(args.val, corpus=args.corpus, docbank=args.docbank)
    records = [json.loads(line) for part in sorted(args.val.glob("part-*.jsonl")) for line in part.read_text().splitlines()]
    records = records[:args.limit]
    reports = [
        run_set("synthetic validation pages, as rendered",
                ((Image.open(args.val / r["image"]).convert("RGB"), synthetic_truth(r)) for r in records),
                detector, engine, ("inline", "display")),
        run_set("synthetic validation pages, scan look",
                ((scanned(Image.open(args.val / r["image"]), i), synthetic_truth(r)) for i, r in enumerate(records)),
                detector, engine, ("inline", "display")),
    ]
    pages = sorted(args.docbank.glob("pages/*_ori.jpg"))[:args.limit]
    items = []
    for jpg in pages:
        image = Image.open(jpg).convert("RGB")
        items.append((image, docbank_truth(jpg.with_name(jpg.name.replace("_ori.jpg", ".txt")), *image.size)))
    reports.append(run_set("DocBank samples, display formulas", items, detector, engine, ("display",)))
    for report in reports:
        print_report(report)
    if args.json:
        args.json.write_text(json.dumps(reports, indent=1) + "\n")


if __name__ == "__main__":
    main()
