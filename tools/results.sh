#!/usr/bin/env bash
# The runs behind docs/results.md (JSON and printed tables in docs/results/; the tables of docs/results.md are
# written from the JSON by tools/make_docs.py). Each command trains with the recipe (train.TrainConfig's defaults)
# and says which weight decay: --weight-decay 0 (plain Adam, the command line's default), --weight-decay 1, or the
# reference protocol's grid --weight-decay-grid 0,1. Each run is pinned to one core (taskset), so it trains with one
# thread and `seconds` in the files are 1-thread times; on a 2-core machine two parts run in parallel.
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
    0) run sample_baselines 0 --weight-decay 0 --models single,shared,gru4rec,sasrec,pop --seeds 0,1,2,3,4
       run sasrec_loo100 0 --weight-decay 0 --split loo --eval-negatives 100 --models sasrec,single --seeds 0,1,2 --full-ranking 0
       run man_pool_last 0 --weight-decay 0 --models man --pool last --seeds 0,1,2 --full-ranking 0 ;;
    1) run sample_man 1 --weight-decay 0 --models man,man-local --seeds 0,1,2,3,4
       run control_man 1 --weight-decay 0 --domain-b data/sample/toys_control.csv --models man --seeds 0,1,2,3,4 \
           --full-ranking 0 --by-history-length ;;
    gru4rec-lr)  # the recipe's learning rate is 3e-3; does gru4rec leave B's plateau at another? (seeds 0-2; run
       # before gru4rec read its last hidden state by default, hence --pool mean)
       run gru4rec_lr1e-3 0 --weight-decay 0 --models gru4rec --pool mean --lr 0.001 --seeds 0,1,2 --full-ranking 0
       run gru4rec_lr1e-2 0 --weight-decay 0 --models gru4rec --pool mean --lr 0.01 --seeds 0,1,2 --full-ranking 0 ;;
    warmup1000)  # the late leavers in B (man seed 3, man-local seeds 1-3): a warm-up over 1000 steps instead of 300,
       # then for man also with B's patience counted while A improves (--patience-scope both)
       run man_warmup1000 1 --weight-decay 0 --models man,man-local --warmup 1000 --seeds 0,1,2,3,4 --full-ranking 0
       run man_warmup1000_both 0 --weight-decay 0 --models man --warmup 1000 --patience-scope both --seeds 0,1,2,3,4 --full-ranking 0 ;;
    gru4rec-lr-grid)  # gru4rec's B at the other two learning rates of a grid {1e-3, 3e-3, 1e-2} (3e-3: part 0)
       run gru4rec_lr_grid 1 --weight-decay 0 --models gru4rec --lr-grid 1e-3,1e-2 --seeds 0,1,2,3,4 --full-ranking 0 ;;
    weight-decay)  # B's low landers (runs that memorise on the plateau): decoupled weight decay 1.0 (AdamW) instead of
       # none, man and man-local in parallel, one core each
       run man_wd1 0 --models man --weight-decay 1.0 --seeds 0,1,2,3,4 --full-ranking 0 &
       local first=$!
       run man_local_wd1 1 --models man-local --weight-decay 1.0 --seeds 0,1,2,3,4 --full-ranking 0
       wait "$first" ;;
    weight-decay-baselines)  # the other trained models of the reference protocol's table with the same weight decay
       run baselines_wd1 0 --models single,shared --weight-decay 1.0 --seeds 0,1,2,3,4 --full-ranking 0 &
       local first=$!
       run baselines2_wd1 1 --models gru4rec,sasrec --weight-decay 1.0 --seeds 0,1,2,3,4 --full-ranking 0
       wait "$first" ;;
    weight-decay-grid-new-seeds)  # the weight-decay grid itself, on seeds the choice of 1 never saw (5-9); man only
       # (a first run of man-local on core 1 was stopped in seed 5 for time: part man-local-new-seeds)
       run man_wd_grid_seeds5-9 0 --models man --weight-decay-grid 0,1 --seeds 5,6,7,8,9 --full-ranking 0 ;;
    man-local-new-seeds)  # the same for man-local: the reference protocol on seeds 5-9, one file
       # per seed (a run can be stopped without losing the others); seed 5 last: its weight-decay-1 run sits on A's
       # plateau for all 100 epochs (~20 min)
       for seed in 6 7 8 9 5; do
         run "man_local_seed$seed" 1 --weight-decay-grid 0,1 --models man-local --seeds "$seed" --full-ranking 0
       done ;;
    sparse-weight-decay)  # the sparse setting's man and man-local, weight decay 1: with part sparse's plain-Adam runs,
       # the reference protocol (mini_man.reference, setting "sparse")
       python -m mini_man.sample --setting sparse
       run sparse_man_wd1 0 --weight-decay 1 --domain-a data/sparse/video_games.csv --kcore 2 --seeds 0,1,2,3,4 \
           --full-ranking 0 --by-history-length --domain-b data/sparse/toys.csv --models man,man-local ;;
    sparse-weight-decay-rest)  # ... and of the baselines (the premise-off control's run, started in parallel, was
       # stopped for time in seed 1: with weight decay its A sat on the plateau at up to 23 s per epoch)
       python -m mini_man.sample --setting sparse
       run sparse_baselines_wd1 1 --weight-decay 1 --domain-a data/sparse/video_games.csv --kcore 2 --seeds 0,1,2,3,4 \
           --full-ranking 0 --by-history-length --domain-b data/sparse/toys.csv --models single,sasrec ;;
    main-job)  # the grid in one command, timed, one thread: seed 0 of the reference protocol's main table
       run main_job 0 --weight-decay-grid 0,1 --models man,single,shared,sasrec,pop ;;
    first-run)  # the first run as a newcomer runs it (no arguments: both cores, one run per core); its seed 0 equals
       # the plain-Adam runs of parts 0 and 1 (tests/test_reference.py); its time: benchmarks/bench_first_run.py
       python -m mini_man.train --out "$out/first_run.json" > "$out/first_run.txt" 2> "$out/first_run.log" ;;
    first-run-ep)  # the every-position MAN in the first run's place: man-ep as the first run trains (both cores, one
       # run per core), its newest training window (the default) and every window
       python -m mini_man.train --models man-ep --seeds 0,1,2,3,4 --out "$out/first_run_man_ep.json" \
           > "$out/first_run_man_ep.txt" 2> "$out/first_run_man_ep.log"
       python -m mini_man.train --models man-ep --windows every --seeds 0,1,2,3,4 --out "$out/first_run_man_ep_every.json" \
           > "$out/first_run_man_ep_every.txt" 2> "$out/first_run_man_ep_every.log" ;;
    first-run-t10)  # the first run with histories of 10 items instead of 20 (both cores, one run per core)
       python -m mini_man.train --max-len 10 --seeds 0,1,2,3,4 --out "$out/first_run_t10.json" \
           > "$out/first_run_t10.txt" 2> "$out/first_run_t10.log" ;;
    control-weight-decay)  # the premise-off control's other half of the weight-decay grid (weight decay 1; part 1 ran
       # weight decay 0): mini_man.reference combines the two
       run control_man_wd1 1 --weight-decay 1 --domain-b data/sample/toys_control.csv --models man --seeds 0,1,2,3,4 \
           --full-ranking 0 --by-history-length ;;
    sparse|sparse-control|sparse-both|sparse-both-rest)  # the sparse setting (datasheet): generated on demand, read with a 2-core
       python -m mini_man.sample --setting sparse
       local sp=(--weight-decay 0 --domain-a data/sparse/video_games.csv --kcore 2 --seeds 0,1,2,3,4 --full-ranking 0 --by-history-length)
       if [ "$1" = sparse ]; then
         run sparse_man 1 "${sp[@]}" --domain-b data/sparse/toys.csv --models man,man-local
         run sparse_baselines 1 "${sp[@]}" --domain-b data/sparse/toys.csv --models single,sasrec,pop
       elif [ "$1" = sparse-both ]; then  # the same runs of man and man-local, patience counted for both domains
         run sparse_man_both 1 "${sp[@]}" --domain-b data/sparse/toys.csv --models man,man-local --patience-scope both
       elif [ "$1" = sparse-both-rest ]; then  # ... and of the baselines and the control, in parallel
         run sparse_baselines_both 0 "${sp[@]}" --domain-b data/sparse/toys.csv --models single,sasrec,pop \
             --patience-scope both &
         local first=$!
         run sparse_control_both 1 "${sp[@]}" --domain-b data/sparse/toys_control.csv --models man --patience-scope both
         wait "$first"  # a failed background run fails the part
       else  # man-local shares nothing across domains: the control changes nothing for it
         run sparse_control 0 "${sp[@]}" --domain-b data/sparse/toys_control.csv --models man
       fi ;;
    factorial)  # from `single` (the paper's SASRec) towards `sasrec`, one difference at a time, and MAN with the
       # differences that close the gap; the recipe (plain Adam), seeds 0-1, both cores (--jobs 2: one thread per run)
       local f=(--seeds 0,1 --full-ranking 0 --jobs 2)
       fact() { local name=$1; shift; python -m mini_man.train "$@" "${f[@]}" --out "$out/factorial_$name.json" \
                  > "$out/factorial_$name.txt" 2> "$out/factorial_$name.log"; }
       fact single_last --models single --pool last
       fact single_opt --models single --lr 0.001 --warmup 0
       fact single_dot --models single --head dot
       fact single_ep --models single-ep
       fact single_ep_dot --models single-ep --head dot
       fact single_ep_dot_last --models single-ep --head dot --pool last
       fact man_ep --models man-ep
       fact man_dot --models man --head dot
       fact man_ep_dot --models man-ep --head dot ;;
    factorial-sasrec)  # from `sasrec` towards `single`: one of sasrec's own settings at a time, then all of them;
       # the recipe's plain Adam, seeds 0-4 (paired with sasrec's plain-Adam runs of parts 0 and 1), both cores
       local f=(--models sasrec --seeds 0,1,2,3,4 --full-ranking 0 --jobs 2)
       fact() { local name=$1; shift; python -m mini_man.train "$@" "${f[@]}" --out "$out/factorial_$name.json" \
                  > "$out/factorial_$name.txt" 2> "$out/factorial_$name.log"; }
       fact sasrec_d20 --sasrec-hidden 20
       fact sasrec_dropout0 --sasrec-dropout 0
       fact sasrec_k9 --negatives 9
       fact sasrec_opt --lr 0.003 --warmup 300
       fact sasrec_all --sasrec-hidden 20 --sasrec-dropout 0 --negatives 9 --lr 0.003 --warmup 300
       fact sasrec_unscaled --sasrec-unscaled
       fact sasrec_preln --sasrec-block pre-ln
       fact sasrec_maninit --sasrec-init man
       fact sasrec_windows --windows every
       fact sasrec_all7 --sasrec-hidden 20 --sasrec-dropout 0 --negatives 9 --lr 0.003 --warmup 300 \
           --sasrec-unscaled --sasrec-block pre-ln --sasrec-init man ;;
    dropout)  # the MAN family with sasrec's dropout (0.2 in the SASRec backbone), the recipe's plain Adam, seeds 0-4
       local f=(--dropout 0.2 --seeds 0,1,2,3,4 --full-ranking 0 --jobs 2)
       fact() { local name=$1; shift; python -m mini_man.train "$@" "${f[@]}" --out "$out/factorial_$name.json" \
                  > "$out/factorial_$name.txt" 2> "$out/factorial_$name.log"; }
       fact dropout --models man,single
       fact dropout_ep_dot_last --models single-ep,man-ep --head dot --pool last
       fact dropout_ep_dot_last_local --models man-local-ep --head dot --pool last ;;
    scale)  # the MAN family with sasrec's sqrt(D) input scaling: with sasrec's scoring and dropout, and alone
       local f=(--scale-embeddings --seeds 0,1,2,3,4 --full-ranking 0 --jobs 2)
       fact() { local name=$1; shift; python -m mini_man.train "$@" "${f[@]}" --out "$out/factorial_$name.json" \
                  > "$out/factorial_$name.txt" 2> "$out/factorial_$name.log"; }
       fact scale_ep_dot_last --models single-ep,man-ep --head dot --pool last --dropout 0.2
       fact scale --models single,man ;;
    scale-new-seeds)  # the closest MAN-family build (part scale's first run) and sasrec on seeds 5-9, which chose
       # nothing; with MAN with nothing shared (man-local-ep) on the same build
       python -m mini_man.train --models sasrec,single-ep,man-ep,man-local-ep --head dot --pool last --dropout 0.2 \
           --scale-embeddings --seeds 5,6,7,8,9 --full-ranking 0 --jobs 2 --out "$out/scale_new_seeds.json" \
           > "$out/scale_new_seeds.txt" 2> "$out/scale_new_seeds.log" ;;
    scale-sharing)  # the paper's question on that build, seeds 0-4: MAN with nothing shared, and MAN with the
       # premise off (B's sequences shuffled across users, data/sample/toys_control.csv)
       local f=(--head dot --pool last --dropout 0.2 --scale-embeddings --seeds 0,1,2,3,4 --full-ranking 0 --jobs 2)
       fact() { local name=$1; shift; python -m mini_man.train "$@" "${f[@]}" --out "$out/factorial_$name.json" \
                  > "$out/factorial_$name.txt" 2> "$out/factorial_$name.log"; }
       fact scale_ep_dot_last_local --models man-local-ep
       fact scale_ep_dot_last_control --models man-ep --domain-b data/sample/toys_control.csv ;;
    sasrec-training)  # the MAN family built as in part scale (sasrec's scoring, dropout, scaling) and trained as
       # sasrec is: 128 users' sequences per step, one negative per position, lr 1e-3 without warm-up
       local f=(--head dot --pool last --dropout 0.2 --scale-embeddings --batch-size 128 --negatives 1 --lr 0.001
                --warmup 0 --seeds 0,1,2,3,4 --full-ranking 0 --jobs 2)
       fact() { local name=$1; shift; python -m mini_man.train "$@" "${f[@]}" --out "$out/factorial_$name.json" \
                  > "$out/factorial_$name.txt" 2> "$out/factorial_$name.log"; }
       fact sasrec_training --models single-ep,man-ep ;;
    sparse-dropout)  # the same every-position models with sasrec's scoring and dropout, in the sparse setting
       python -m mini_man.sample --setting sparse
       python -m mini_man.train --models single-ep,man-ep --head dot --pool last --dropout 0.2 --domain-a \
           data/sparse/video_games.csv --domain-b data/sparse/toys.csv --kcore 2 --seeds 0,1,2,3,4 --full-ranking 0 \
           --by-history-length --jobs 2 --out "$out/sparse_dropout_ep_dot_last.json" \
           > "$out/sparse_dropout_ep_dot_last.txt" 2> "$out/sparse_dropout_ep_dot_last.log" ;;
    sparse-scale)  # ... and with sasrec's sqrt(D) input scaling too (part scale's build)
       python -m mini_man.sample --setting sparse
       python -m mini_man.train --models single-ep,man-ep --head dot --pool last --dropout 0.2 --scale-embeddings \
           --domain-a data/sparse/video_games.csv --domain-b data/sparse/toys.csv --kcore 2 --seeds 0,1,2,3,4 \
           --full-ranking 0 --by-history-length --jobs 2 --out "$out/sparse_scale_ep_dot_last.json" \
           > "$out/sparse_scale_ep_dot_last.txt" 2> "$out/sparse_scale_ep_dot_last.log" ;;
    sparse-factorial-sasrec)  # part factorial-sasrec in the sparse setting: from sasrec towards single, one of
       # sasrec's own settings at a time, then all seven, then which targets it trains; paired with sasrec's runs of
       # part sparse; the two settings that count on the sample first
       python -m mini_man.sample --setting sparse
       local f=(--models sasrec --domain-a data/sparse/video_games.csv --domain-b data/sparse/toys.csv --kcore 2
                --seeds 0,1,2,3,4 --full-ranking 0 --by-history-length --jobs 2)
       fact() { local name=$1; shift; python -m mini_man.train "$@" "${f[@]}" --out "$out/sparse_factorial_$name.json" \
                  > "$out/sparse_factorial_$name.txt" 2> "$out/sparse_factorial_$name.log"; }
       fact sasrec_dropout0 --sasrec-dropout 0
       fact sasrec_unscaled --sasrec-unscaled
       fact sasrec_all7 --sasrec-hidden 20 --sasrec-dropout 0 --negatives 9 --lr 0.003 --warmup 300 \
           --sasrec-unscaled --sasrec-block pre-ln --sasrec-init man
       fact sasrec_d20 --sasrec-hidden 20
       fact sasrec_k9 --negatives 9
       fact sasrec_opt --lr 0.003 --warmup 300
       fact sasrec_preln --sasrec-block pre-ln
       fact sasrec_maninit --sasrec-init man
       fact sasrec_windows --windows every ;;
    batch-norm)  # the official code's BatchNorm in the prediction MLPs of man and single (the paper's head and
       # objective), the recipe's plain Adam, seeds 0-4: does it close part of their gap to sasrec?
       python -m mini_man.train --models man,single --batch-norm --seeds 0,1,2,3,4 --full-ranking 0 --jobs 2 \
           --out "$out/factorial_batch_norm.json" > "$out/factorial_batch_norm.txt" 2> "$out/factorial_batch_norm.log" ;;
    sparse-batch-norm)  # ... and in the sparse setting
       python -m mini_man.sample --setting sparse
       python -m mini_man.train --models man,single --batch-norm --domain-a data/sparse/video_games.csv \
           --domain-b data/sparse/toys.csv --kcore 2 --seeds 0,1,2,3,4 --full-ranking 0 --by-history-length --jobs 2 \
           --out "$out/sparse_batch_norm.json" > "$out/sparse_batch_norm.txt" 2> "$out/sparse_batch_norm.log" ;;
    *) echo "tools/results.sh: unknown part '$1'" >&2; exit 2 ;;
  esac
}
# tools/results.sh [0|1|gru4rec-lr|warmup1000|gru4rec-lr-grid|weight-decay|weight-decay-baselines|weight-decay-grid-new-seeds|man-local-new-seeds|sparse-weight-decay|sparse-weight-decay-rest|main-job|control-weight-decay|sparse|sparse-control|sparse-both|sparse-both-rest|first-run|first-run-ep|first-run-t10|factorial|factorial-sasrec|dropout|scale|scale-new-seeds|scale-sharing|sasrec-training|sparse-dropout|sparse-scale|sparse-factorial-sasrec|batch-norm|sparse-batch-norm]
# (do not edit this file while it runs: bash reads it as it goes): one part; no argument: parts 0 and 1 in parallel.
if [ $# -eq 1 ]; then
  part "$1"
else  # wait for each part by its id, so that a failed part fails the script (a bare `wait` returns 0)
  part 0 & p0=$!
  part 1 & p1=$!
  wait "$p0"; wait "$p1"
fi
