#!/usr/bin/env bash
# The quick A/B of a training candidate (about 3 minutes): int8 export, then CROHME 2014 InkML and
# bitmaps and the first 1,000 im2latex-100k validation images, greedy and each input read once
# (BEAM=3: beam search, ~2x; VIEWS=1: the shipped several views, ~2.5x), as the A/B rows of
# BENCHMARKS.md were measured.
#   bash benchmarks/eval_candidate.sh NAME CHECKPOINT   # a .ckpt or a mathlens .pt
# Writes .cache/ab/NAME/{model.pt,int8/} and .cache/ab/res_NAME/*_results.json. Needs the CROHME
# InkML set: python benchmarks/make_crohme_sets.py
set -euo pipefail
name=$1; ckpt=$2; d=.cache/ab/$name; r=.cache/ab/res_$name${BEAM:+_beam$BEAM}${VIEWS:+_views}; beam=${BEAM:-1}
views=--single-view; [ -z "${VIEWS:-}" ] || views=
mkdir -p "$d" "$r"
[ "$ckpt" -ef "$d/model.pt" ] || mathlens export "$ckpt" "$d/fp32" --save-pt "$d/model.pt"
mathlens export "$d/model.pt" "$d/int8" --int8
mathlens eval .cache/val/crohme2014_inkml --model-dir "$d/int8" --out "$r" --name crohme2014_inkml --beam "$beam" $views
mathlens eval ../shared/datasets/crohme/test2014 --model-dir "$d/int8" --out "$r" --name crohme2014_bitmaps --beam "$beam" $views
mathlens eval ../shared/datasets/im2latex100k/val --model-dir "$d/int8" --out "$r" --name val1000 --limit 1000 --beam "$beam" $views
