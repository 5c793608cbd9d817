#!/usr/bin/env bash
# Evaluates every model of a toy-runs.tgz (train-gpu.sh) on the same grid, one `hsa eval`
# process per core, then puts them side by side with `hsa compare`.
#   RUNS=toy-runs.tgz OUT=dir bash recipes/ablations/eval.sh
# Knobs: LENGTHS [512,4K,16K,64K,256K,1M], FULL_LENGTHS [512,2K,4K] (dense full attention
# costs T^2: its rows stop there), SAMPLES [20], TASKS [niah_single_1], JOBS [nproc], HSA [hsa
# on PATH], DATA [data] (essays and word lists; built-in texts when absent), TIMEOUT_S [0: none]
# (stop each model's evaluation then; its results.jsonl keeps the finished samples and a rerun
# with the same OUT resumes from them).
set -u
: "${RUNS:?RUNS must name a toy-runs.tgz}"
: "${OUT:?OUT must name the output directory}"
HSA=${HSA:-hsa}
mkdir -p "$OUT/models"
[ -d "$OUT/models/final" ] || tar -xzf "$RUNS" -C "$OUT/models" final
names=$(ls "$OUT/models/final")
evaluate() {  # NAME: one model over its lengths, one thread
    local lengths=${LENGTHS:-512,4K,16K,64K,256K,1M}
    grep -q '"attention" : "full"' "$OUT/models/final/$1/config.json" \
        && lengths=${FULL_LENGTHS:-512,2K,4K}
    HSA_NUM_THREADS=1 timeout "${TIMEOUT_S:-0}" "$HSA" eval --model "$OUT/models/final/$1" \
        --suite ruler --tasks "${TASKS:-niah_single_1}" --lengths "$lengths" \
        --samples "${SAMPLES:-20}" --diagnostics --data "${DATA:-data}" --out "$OUT/eval/$1" \
        > "$OUT/eval-$1.log" 2>&1
}
export -f evaluate
export OUT HSA LENGTHS FULL_LENGTHS TASKS SAMPLES DATA TIMEOUT_S
# shellcheck disable=SC2086
printf '%s\n' $names | xargs -P "${JOBS:-$(nproc)}" -I{} bash -c 'evaluate {}'
dirs=()
for name in $names; do dirs+=("$OUT/eval/$name"); done
"$HSA" compare "${dirs[@]}" --out "$OUT"
