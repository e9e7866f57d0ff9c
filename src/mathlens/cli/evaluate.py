"""`mathlens eval DATA_DIR`: ExpRate, <=1/<=2 errors, BLEU-4, edit distance, CER on labelled images."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mathlens.cli import add_decode_arguments
from mathlens.cli.backend import add_backend_arguments, vlm_predictor


def add_parser(sub: Any) -> None:
    p = sub.add_parser("eval", help="score the model on a folder of images with labels")
    p.add_argument("data_dir", type=Path, help="im2latex split dir, or a folder with caption.txt / labels.tsv")
    p.add_argument("--out", type=Path, default=Path("eval_results"), help="where *_pred.jsonl and *_results.json go")
    p.add_argument("--name", default=None, help="file name prefix (default: the data folder's name)")
    p.add_argument("--limit", type=int, default=None, help="first N samples only")
    add_decode_arguments(p)
    p.add_argument("--no-rescore", action="store_true",
                   help="beam search ranks by the left-to-right reading alone (models trained both ways)")
    p.add_argument("--model-dir", type=Path, default=None)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64, help="1 reads each image alone, as `mathlens predict FILE` does")
    add_backend_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mathlens.api import Recognizer
    from mathlens.metrics.evaluate import evaluate, load_samples

    samples = load_samples(args.data_dir, args.limit)
    recognizer = Recognizer(args.model_dir, beam_size=args.beam, num_threads=args.threads,
                            rescore_right_to_left=not args.no_rescore, views=args.views,
                            predictor=vlm_predictor(args))
    name = args.name or args.data_dir.resolve().name
    with tqdm(total=len(samples), unit="img", file=sys.stderr, disable=None) as bar:
        scores = evaluate(lambda paths: recognizer.recognize_batch(paths, errors="return"), samples, args.out, name,
                          batch_size=args.batch_size, progress=bar.update)
    print(json.dumps(scores.as_dict(), indent=2))
    return 0
