#!/usr/bin/env bash
# The quick A/B of a training candidate (about 3 minutes): int8 export, then CROHME 2014 InkML and
# bitmaps and the first 1,000 im2latex-100k validation images, greedy (BEAM=3: beam search, ~2x).
#   bash benchmarks/eval_candidate.sh NAME CHECKPOINT   # a .ckpt or a mathlens .pt
# Writes .cache/ab/NAME/{model.pt,int8/} and .cache/ab/res_NAME/*_results.json. Needs the CROHME
# InkML set: python benchmarks/make_crohme_sets.py
set -euo pipefail
name=$1; ckpt=$2; d=.cache/ab/$name; r=.cache/ab/res_$name${BEAM:+_beam$BEAM}; beam=${BEAM:-1}
mkdir -p "$d" "$r"
[ "$ckpt" -ef "$d/model.pt" ] || mathlens export "$ckpt" "$d/fp32" --save-pt "$d/model.pt"
mathlens export "$d/model.pt" "$d/int8" --int8
mathlens eval .cache/val/crohme2014_inkml --model-dir "$d/int8" --out "$r" --name crohme2014_inkml --beam "$beam"
mathlens eval ../shared/datasets/crohme/test2014 --model-dir "$d/int8" --out "$r" --name crohme2014_bitmaps --beam "$beam"
mathlens eval ../shared/datasets/im2latex100k/val --model-dir "$d/int8" --out "$r" --name val1000 --limit 1000 --beam "$beam"
