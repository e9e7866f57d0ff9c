#!/usr/bin/env bash
# Inference preprocessing is calibrated after training, not learned: export one checkpoint (int8)
# under several settings of its preprocess fields and score each on print (im2latex val first
# 1,000, KaTeX 300) and handwriting (CROHME 2014 InkML, bitmaps and simulated photos), greedy;
# SETS="bitmaps photos up3" to choose.
#   bash benchmarks/scan_preprocess.sh CKPT OUT "min_dpi=140 max_enlarge=1.3" "min_dpi=160 max_enlarge=1.5" ...
# Each quoted setting gets OUT/<setting>/ (the int8 export) and OUT/res/<setting>_<set>_results.json.
set -euo pipefail
ckpt=$1; out=$2; shift 2
for setting in "$@"; do
  tag=${setting// /_}; d=$out/$tag
  mathlens export "$ckpt" "$d" --int8 --preprocess $setting >/dev/null
  for set in ${SETS:-val1000 katex300 inkml bitmaps photos}; do
    case $set in
      val1000) data=../shared/datasets/im2latex100k/val; limit="--limit 1000" ;;
      katex300) data=.cache/val/im2latex_katex300; limit= ;;
      inkml) data=.cache/val/crohme2014_inkml; limit= ;;
      bitmaps) data=../shared/datasets/crohme/test2014; limit= ;;
      photos) data=.cache/val/crohme2014_photo; limit= ;;
      up3) data=.cache/val/im2latex_up3; limit= ;;
    esac
    mathlens eval "$data" --model-dir "$d" --out "$out/res" --name "${tag}_$set" $limit --beam 1 >/dev/null
  done
done
