#!/usr/bin/env bash
# Runs toy.py variants concurrently on the visible GPUs (round robin) and collects the last
# lines. Usage: OUT=dir STEPS=3000 MAX_SECONDS=150 bash dev/retrieval-toy/grid.sh \
#   "VARIANT FUSION TOPK [flags]" ...
set -u
: "${OUT:?OUT must name the output directory}"
STEPS=${STEPS:-3000}
NGPU=$(nvidia-smi -L 2>/dev/null | wc -l)
[ "$NGPU" -gt 0 ] || NGPU=1
PIDS=()
i=0
for spec in "$@"; do
    read -r variant fusion topk extra <<< "$spec"
    name=$(echo "$spec" | tr ' ' '_' | tr -d '-')
    CUDA_VISIBLE_DEVICES=$(( i % NGPU )) OMP_NUM_THREADS=2 python3 dev/retrieval-toy/toy.py \
        "$variant" "$STEPS" "$fusion" "$topk" --device cuda \
        --max-seconds "${MAX_SECONDS:-1e9}" ${extra:-} > "$OUT/toy-$name.log" 2>&1 &
    PIDS+=($!)
    i=$(( i + 1 ))
done
wait "${PIDS[@]}"
for f in "$OUT"/toy-*.log; do tail -1 "$f"; done | tee "$OUT/toy-summary.txt"
