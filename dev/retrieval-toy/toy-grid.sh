#!/usr/bin/env bash
# Trains the key-value recall toy (kv.py) with the Swift CLI on one GPU, several variants at
# once (they are tiny: the GPU is shared), then leaves one tar of their final weights, configs
# and logs in $OUT for kv_probe.py. Runs from the repository root on the GPU machine.
#
#   OUT=dir HSA_GZ=.build-lead-rel/hsa.gz STEPS=6000 BUDGET_S=500 bash dev/retrieval-toy/kv-grid.sh \
#       "hsa|" "full|--attention full" "softmax|--fusion softmax" ...
# Each argument is NAME|extra `hsa train` flags. Knobs: STEPS [6000], BUDGET_S [500], LR [3e-3],
# BATCH [8], SEQ [512], MODEL (the toy model's flags, below), KV_ARGS (flags both kv.py and
# kv_probe.py take: --needles, --queries, --length, --repeat; the grid in README.md used
# KV_ARGS="--needles 4 --queries 2").
set -u
: "${OUT:?OUT must name the output directory}"
STEPS=${STEPS:-6000}
BUDGET_S=${BUDGET_S:-500}
HSA_GZ=${HSA_GZ:-.build-lead-rel/hsa.gz}
MODEL=${MODEL:-"--preset tiny --d-model 64 --n-heads 4 --n-kv-heads 2 --head-dim 16 --d-ff 128
    --n-lower-layers 2 --n-upper-layers 2 --hsa-layers 0 --window 32 --chunk-size 16 --top-k 4"}
W=${WORK:-/tmp/kv-work}
mkdir -p "$W/runs"
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
gunzip -c "$HSA_GZ" > "$W/hsa" && chmod +x "$W/hsa"
# shellcheck disable=SC2086
python3 dev/retrieval-toy/kv.py "$W/kv.txt" --lines 60000 ${KV_ARGS:-}
"$W/hsa" data prepare "$W/kv.txt" --out "$W/tokens" --validation-fraction 0 > /dev/null

PIDS=()
for spec in "$@"; do
    name=${spec%%|*}
    flags=${spec#*|}
    # shellcheck disable=SC2086
    HSA_NUM_THREADS=1 timeout "$BUDGET_S" "$W/hsa" train --data "$W/tokens" --out "$W/runs/$name" \
        $MODEL --seq-len "${SEQ:-512}" --batch-size "${BATCH:-8}" --steps "$STEPS" \
        --lr "${LR:-3e-3}" --warmup-steps 20 --eval-every 0 --checkpoint-every 1000 \
        --backend cuda $flags > "$W/runs/$name.log" 2>&1 &
    PIDS+=($!)
done
wait "${PIDS[@]}"
# keep the newest checkpoint's weights and config per run
cd "$W/runs"
for name in $(ls -d */ | tr -d /); do
    last=$(ls -d "$name"/checkpoints/step-* 2>/dev/null | sort | tail -1)
    [ -n "$last" ] || continue
    mkdir -p "final/$name"
    cp "$last"/config.json "$last"/model*.safetensors "final/$name/"
    basename "$last" > "final/$name/step"
    grep -o 'step=[0-9]*/[0-9]* loss=[0-9.]*' "$name.log" | tail -1 | tee -a "$OUT/summary.txt"
done
tar czf "$OUT/kv-runs.tgz" final ./*.log
for name in $(ls final); do
    echo "== $name ($(cat "final/$name/step"))"
    # shellcheck disable=SC2086
    python3 "$OLDPWD/dev/retrieval-toy/kv_probe.py" "final/$name" ${KV_ARGS:-} 2>&1 | tail -3
done | tee -a "$OUT/summary.txt"
