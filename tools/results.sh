#!/usr/bin/env bash
# The runs behind README "Results" (JSON and printed tables in docs/results/). Each command trains with the
# defaults of train.TrainConfig (the recipe) unless it says otherwise. On a 2-core machine the two halves run in
# parallel, one core each (taskset), which is how the committed files were made; `seconds` in them are 1-thread times.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/results
mkdir -p "$out"
run() {  # run NAME CORE ARGS...: python -m mini_man.train ARGS --out $out/NAME.json > $out/NAME.txt
  local name=$1 core=$2
  shift 2
  taskset -c "$core" python -m mini_man.train "$@" --out "$out/$name.json" > "$out/$name.txt" 2> "$out/$name.log"
}
part() {
  case $1 in
    0) run sample_baselines 0 --models single,shared,gru4rec,sasrec,pop --seeds 0,1,2,3,4
       run sasrec_loo100 0 --split loo --eval-negatives 100 --models sasrec,single --seeds 0,1,2 --full-ranking 0
       run man_pool_last 0 --models man --pool last --seeds 0,1,2 --full-ranking 0 ;;
    1) run sample_man 1 --models man,man-local --seeds 0,1,2,3,4
       run control_man 1 --domain-b data/sample/toys_control.csv --models man --seeds 0,1,2,3,4 \
           --full-ranking 0 --by-history-length ;;
    gru4rec-lr)  # the recipe's learning rate is 3e-3; does gru4rec leave B's plateau at another? (seeds 0-2)
       run gru4rec_lr1e-3 0 --models gru4rec --lr 0.001 --seeds 0,1,2 --full-ranking 0
       run gru4rec_lr1e-2 0 --models gru4rec --lr 0.01 --seeds 0,1,2 --full-ranking 0 ;;
    sparse|sparse-control|sparse-both)  # the sparse setting (datasheet): generated on demand, read with a 2-core
       python -m mini_man.sample --setting sparse
       local sp=(--domain-a data/sparse/video_games.csv --kcore 2 --seeds 0,1,2,3,4 --full-ranking 0 --by-history-length)
       if [ "$1" = sparse ]; then
         run sparse_man 1 "${sp[@]}" --domain-b data/sparse/toys.csv --models man,man-local
         run sparse_baselines 1 "${sp[@]}" --domain-b data/sparse/toys.csv --models single,sasrec,pop
       elif [ "$1" = sparse-both ]; then  # the same runs of man and man-local, patience counted for both domains
         run sparse_man_both 1 "${sp[@]}" --domain-b data/sparse/toys.csv --models man,man-local --patience-scope both
       else  # man-local shares nothing across domains: the control changes nothing for it
         run sparse_control 0 "${sp[@]}" --domain-b data/sparse/toys_control.csv --models man
       fi ;;
  esac
}
# tools/results.sh [0|1|gru4rec-lr|sparse|sparse-control|sparse-both]: one part; no argument: parts 0 and 1 in parallel.
if [ $# -eq 1 ]; then part "$1"; else part 0 & part 1 & wait; fi
