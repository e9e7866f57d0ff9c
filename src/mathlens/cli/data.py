"""`mathlens render` and `mathlens build-vocab`: make the training data from the corpus."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mathlens.synth.render import FONTS
from mathlens.synth.symbol_swap import DEFAULT_KINDS as DEFAULT_SWAP_KINDS
from mathlens.synth.symbol_swap import KINDS as SWAP_KINDS

DEFAULT_CORPUS = Path("../shared/datasets/formulas/formulas.tsv.gz")
DEFAULT_IM2LATEX_VAL = Path("../shared/datasets/im2latex100k/val")
DEFAULT_CROHME = Path("../shared/datasets/crohme")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("render", help="render the formula corpus with TeX Live or MathJax (parallel, resumable)")
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument("--out", type=Path, default=Path(".cache/render/printed"))
    p.add_argument("--limit", type=int, default=None, help="render only the first N (shuffled) formulas")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--renderer", choices=("tex", "mathjax"), default="tex",
                   help="mathjax: web-page style (needs scripts/install-web-renderer.sh)")
    p.add_argument("--seed", type=int, default=0, help="formula order (and so which formulas --limit takes)")
    p.add_argument("--fonts", nargs="+", default=list(FONTS), choices=sorted(FONTS), metavar="FONT",
                   help=f"TeX font setups to draw chunks from (default: all): {', '.join(FONTS)}")
    p.add_argument("--trailing-punct", type=float, default=0.0, metavar="P",
                   help="end this share of the one-line formulas with sentence punctuation (. , ;) as papers do")
    p.add_argument("--arrays", action="store_true",
                   help="render only the formulas with matrices or cases, written as arrays as arXiv papers do")
    p.add_argument("--swap-symbols", action="store_true",
                   help="rename one or two symbols of each formula to others of their kind (rare Greek, accents, "
                        "relations, delimiters), label to match")
    p.add_argument("--val", type=Path, default=DEFAULT_IM2LATEX_VAL,
                   help="im2latex split to write as validation manifest (.cache/val/im2latex_val.jsonl)")
    p.set_defaults(run=run_render)

    k = sub.add_parser("render-ink", help="draw the CROHME training ink as images (resumable)")
    k.add_argument("--inkml-tar", type=Path, default=DEFAULT_CROHME / "train_inkml.tar.gz")
    k.add_argument("--captions", type=Path, default=DEFAULT_CROHME / "train_captions.txt")
    k.add_argument("--out", type=Path, default=None,
                   help="default .cache/render/crohme (.cache/render/crohme_layout with --from-corpus)")
    k.add_argument("--variants", type=int, default=3, help="writing variants drawn per expression")
    k.add_argument("--seed", type=int, default=0, help="the writing variants (and swaps) drawn")
    k.add_argument("--swap-symbols", action="store_true",
                   help="redraw one or two symbols of each expression as others of their kind, caption to match")
    k.add_argument("--swap-kinds", nargs="+", choices=sorted(SWAP_KINDS), default=list(DEFAULT_SWAP_KINDS),
                   help="which symbols --swap-symbols may change (default: digits letters)")
    k.add_argument("--from-corpus", action="store_true",
                   help="write corpus formulas (and the training captions) in the training ink's hands, laid out by TeX")
    k.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    k.add_argument("--limit", type=int, default=None, help="with --from-corpus: the first N (shuffled) corpus formulas")
    k.set_defaults(run=run_render_ink)

    v = sub.add_parser("build-vocab", help="build the token vocabulary from a rendered manifest")
    v.add_argument("manifest", type=Path)
    v.add_argument("--out", type=Path, default=Path("configs/vocab.json"))
    v.add_argument("--min-count", type=int, default=10)
    v.set_defaults(run=run_vocab)


def run_render(args: argparse.Namespace) -> int:
    import random

    from mathlens.synth.corpus import CorpusRenderConfig, render_corpus
    from mathlens.data.manifest import im2latex_records, write_manifest

    manifest = render_corpus(CorpusRenderConfig(args.corpus, args.out, num_workers=args.workers, limit=args.limit,
                                                  seed=args.seed, renderer=args.renderer, fonts=tuple(args.fonts),
                                                  trailing_punct=args.trailing_punct, arrays=args.arrays,
                                                  swap_symbols=args.swap_symbols))
    print(manifest)
    if args.val.is_dir():
        records = im2latex_records(args.val)
        random.Random(0).shuffle(records)  # the first N are a fair sample for quick validation
        val_path = Path(".cache/val/im2latex_val.jsonl")
        write_manifest(val_path, records)
        print(val_path)
    return 0


def run_render_ink(args: argparse.Namespace) -> int:
    from mathlens.synth.ink_corpus import InkRenderConfig, render_ink_corpus
    from mathlens.synth.ink_layout import LayoutRenderConfig, render_layout_corpus

    if args.from_corpus:
        print(render_layout_corpus(LayoutRenderConfig(
            args.corpus, args.inkml_tar, args.captions, args.captions.parent / "dictionary.txt",
            args.out or Path(".cache/render/crohme_layout"), limit=args.limit, seed=args.seed)))
        return 0
    out = args.out or Path(".cache/render/crohme")
    print(render_ink_corpus(InkRenderConfig(args.inkml_tar, args.captions, out, variants=args.variants,
                                            seed=args.seed, swap_symbols=args.swap_symbols,
                                            swap_kinds=tuple(args.swap_kinds))))
    return 0


def run_vocab(args: argparse.Namespace) -> int:
    from mathlens.data.manifest import read_manifest
    from mathlens.tokenizer.vocab import Vocab

    vocab = Vocab.build((r.tokens for r in read_manifest(args.manifest)), min_count=args.min_count)
    vocab.save(args.out)
    print(f"{args.out}: {len(vocab)} tokens")
    return 0
