#!/usr/bin/env bash
# The ablation table at the main model's geometry (4,096-token sequences, chunks of 64, window
# 32, top-8 unless the row changes it): every row starts from the same retrieval toy
# (models/niah-essay-cls-top4), gets the same data (train-gpu.sh's mixture), schedule and seed
# (1 unless ROWS asks for another), and changes one design choice; `main` is the control with
# none changed. Tensors a row does not have (the encoder for `mean`, encoder and HSA layer for
# `swa` and `full`) are skipped at --init-from. The `dense` row is `full` started from a dense
# parent that already retrieves at 512 tokens (PARENT; recipes/main/README.md trains one), as
# the HSA rows start from an HSA toy that does. Run from the repository root on a GPU machine
# (two runs per GPU; docs/RESULTS.md entries 15-17):
#   OUT=dir bash recipes/main/ablations-gpu.sh                   # stage 1
#   OUT=dir STATE_TGZ=state.tgz STEPS=N bash recipes/main/ablations-gpu.sh   # resumes each run
# Knobs: ROWS (names below, space-separated, in GPU order; NAME@SEED trains the row with
# another seed under the name NAME-sSEED; default all rows, seed 1), STEPS [14000], BUDGET_S
# [430], PARENT [models/niah-essay-cls-top4; required for `dense`], and those of train-gpu.sh
# (GPUS: run i goes to the (i mod n)-th listed GPU).
set -u
: "${OUT:?OUT must name the output directory}"
G="--chunk-size 64 --top-k 8 --attention-precision bf16"
ALL_ROWS="main|$G
encoder-mean|$G --landmark encoder_mean
mean|$G --landmark mean --chunk-kv identity --encoder-layers 0
sequential|$G --residual sequential
all-chunks|${G/--top-k 8/--top-k 64}
per-chunk|$G --retrieval per_chunk
stick-breaking|$G --fusion stick_breaking
joint|$G --fusion joint
swa|$G --attention swa
full|$G --attention full
dense|$G --attention full"
# all-chunks: 64 chunks cover a whole 4,096-token sequence, so nothing is left unselected
rows=""
HSA_TOY=models/niah-essay-cls-top4
PARENT=${PARENT:-$HSA_TOY}
for wanted in ${ROWS:-$(cut -d'|' -f1 <<< "$ALL_ROWS")}; do
    base=${wanted%@*}
    seed=1
    [[ $wanted == *@* ]] && seed=${wanted#*@}
    spec=$(grep "^$base|" <<< "$ALL_ROWS") || { echo "unknown row $base" >&2; exit 2; }
    if [ "$base" = dense ] && [ -z "${STATE_TGZ:-}" ] && [ "$PARENT" = "$HSA_TOY" ]; then
        echo "the dense row needs PARENT: a dense model trained at 512 tokens" >&2; exit 2
    fi
    name=$base
    [ "$seed" = 1 ] || name=$base-s$seed
    rows+="$name|${spec#*|} --seed $seed"$'\n'
done
if [ -z "${STATE_TGZ:-}" ]; then
    # every row's init: the same parent, under its own name
    init=$(mktemp -d)
    while IFS= read -r spec; do
        [ -n "$spec" ] || continue
        mkdir -p "$init/final/${spec%%|*}"
        cp "$PARENT/config.json" "$PARENT/model.safetensors" "$init/final/${spec%%|*}/"
    done <<< "$rows"
    tar -czf "$init.tgz" -C "$init" final
    export INIT_TGZ=$init.tgz
fi
RUNS=${rows%$'\n'} STEPS=${STEPS:-14000} BUDGET_S=${BUDGET_S:-430} \
    bash "$(dirname "$0")/train-gpu.sh"
