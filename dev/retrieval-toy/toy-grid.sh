#!/usr/bin/env bash
# Trains a retrieval toy with the Swift CLI on one GPU, several variants at once (they are tiny:
# the GPU is shared), then leaves one tar of their final weights, configs and logs in $OUT and
# probes each. Runs from the repository root on the GPU machine.
#
#   OUT=dir TOY=lines STEPS=15000 BUDGET_S=540 bash dev/retrieval-toy/toy-grid.sh \
#       "hsa|" "full|--attention full" "softmax|--fusion softmax" ...
# Each argument is NAME|extra `hsa train` flags. TOY picks the data and its probe:
#   lines: the content-copy toy, one line per document (lines.py --one-per-file, trained
#          --document-aligned, probed by line_probe.py --one-per-row); LINES_ARGS adds
#          lines.py flags
#   kv:    key-value recall (kv.py, kv_probe.py); KV_ARGS: flags both take (--needles, --queries,
#          --length, --repeat; the grid in README.md used KV_ARGS="--needles 4 --queries 2")
# Knobs: STEPS [6000], BUDGET_S [500], LR [3e-3], BATCH, SEQ, CHECKPOINT_EVERY [1000],
# MODEL (the toy model's flags, below), HSA_GZ [.build-lead-rel/hsa.gz], BACKEND [cuda; cpu
# for a local dry run]. With TOY=lines, EVAL_LENGTHS (e.g. 1K,16K,256K; default none) also runs
# `hsa eval --suite copy` on each final model on the host CPU, EVAL_SAMPLES [10] per length,
# all models at once.
set -u
: "${OUT:?OUT must name the output directory}"
TOY=${TOY:-kv}
STEPS=${STEPS:-6000}
BUDGET_S=${BUDGET_S:-500}
HSA_GZ=${HSA_GZ:-.build-lead-rel/hsa.gz}
MODEL=${MODEL:-"--preset tiny --d-model 64 --n-heads 4 --n-kv-heads 2 --head-dim 16 --d-ff 128
    --n-lower-layers 2 --n-upper-layers 2 --hsa-layers 0 --window 32 --chunk-size 16 --top-k 4"}
HERE=$(cd "$(dirname "$0")" && pwd)
W=${WORK:-/tmp/toy-work}
mkdir -p "$W/runs"
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
gunzip -c "$HSA_GZ" > "$W/hsa" && chmod +x "$W/hsa"
case "$TOY" in
lines)
    # shellcheck disable=SC2086
    python3 "$HERE/lines.py" "$W/docs" --one-per-file --near 0.3 --lines 40000 \
        --fill-min 60 --fill-max 110 ${LINES_ARGS:-}
    "$W/hsa" data prepare "$W/docs" --out "$W/tokens" --validation-fraction 0 > /dev/null
    DATA_FLAGS="--document-aligned --seq-len ${SEQ:-160} --batch-size ${BATCH:-16}"
    probe() { python3 "$HERE/line_probe.py" "$1" --one-per-row; } ;;
kv)
    # shellcheck disable=SC2086
    python3 "$HERE/kv.py" "$W/kv.txt" --lines 60000 ${KV_ARGS:-}
    "$W/hsa" data prepare "$W/kv.txt" --out "$W/tokens" --validation-fraction 0 > /dev/null
    DATA_FLAGS="--seq-len ${SEQ:-512} --batch-size ${BATCH:-8}"
    # shellcheck disable=SC2086
    probe() { python3 "$HERE/kv_probe.py" "$1" ${KV_ARGS:-}; } ;;
*) echo "TOY must be lines or kv" >&2; exit 2 ;;
esac

PIDS=()
for spec in "$@"; do
    name=${spec%%|*}
    flags=${spec#*|}
    # shellcheck disable=SC2086
    HSA_NUM_THREADS=1 timeout "$BUDGET_S" "$W/hsa" train --data "$W/tokens" --out "$W/runs/$name" \
        $MODEL $DATA_FLAGS --steps "$STEPS" --lr "${LR:-3e-3}" --warmup-steps 20 \
        --eval-every 0 --checkpoint-every "${CHECKPOINT_EVERY:-1000}" \
        --backend "${BACKEND:-cuda}" $flags > "$W/runs/$name.log" 2>&1 &
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
tar czf "$OUT/toy-runs.tgz" final ./*.log
for name in $(ls final); do
    echo "== $name ($(cat "final/$name/step"))"
    probe "final/$name" 2>&1 | tail -3
done | tee -a "$OUT/summary.txt"
if [ "$TOY" = lines ] && [ -n "${EVAL_LENGTHS:-}" ]; then
    for name in $(ls final); do
        HSA_NUM_THREADS=1 "$W/hsa" eval --model "final/$name" --suite copy \
            --lengths "$EVAL_LENGTHS" --samples "${EVAL_SAMPLES:-10}" --out "eval/$name" \
            > "eval-$name.log" 2>&1 &
    done
    wait
    for name in $(ls final); do
        echo "== $name: copy_line at $EVAL_LENGTHS"
        grep '^| copy_line' "eval/$name/results.md"
    done | tee -a "$OUT/summary.txt"
    tar czf "$OUT/toy-eval.tgz" eval
fi

