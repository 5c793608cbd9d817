#!/usr/bin/env bash
# Real-model recipe, after train-gpu.sh on the same warm machine: picks the checkpoint to ship.
# RULER reading can peak mid-run while the loss still falls (docs/RESULTS.md entry 24), so
#   1. every kept checkpoint of RUN_NAMES answers RULER NIAH/VT at SWEEP_LENGTHS (eval-gpu.sh
#      with ALL_CHECKPOINTS=1, PARTS=ruler), one line each: average and layer-1 recall;
#   2. the best of them (highest average) and the shipped model answer RULER at FINAL_LENGTHS
#      with FINAL_SAMPLES per task and the unseen suite (10 samples), side by side;
#   3. the best is exported in int8 as $OUT/model-RUN-step-N.tar (the shipped model's format).
# Knobs: OUT (required); RUN_NAMES [every run]; SWEEP_LENGTHS [4K]; SWEEP_SAMPLES [20];
#   SWEEP_S, FINAL_S, UNSEEN_S time limits in seconds [150, 120, 60];
#   FINAL_LENGTHS [4K,16K]; FINAL_SAMPLES [25]; SHIPPED [models/small-prose-4k-top8];
#   RULER_TASKS the RULER tasks of the sweep and the comparison (eval-gpu.sh's default);
#   BACKEND [cuda] (cpu: a dry run anywhere)
set -u
: "${OUT:?OUT must name the output directory}"
W=${WORK:-/tmp/real-work}
HSA=$W/hsa
SHIPPED=${SHIPPED:-$PWD/models/small-prose-4k-top8}
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
[ -x "$HSA" ] || { echo "no $HSA: run train-gpu.sh first on this machine"; exit 1; }
mkdir -p "$OUT"

# MARK: - 1. Sweep
OUT=$OUT BUDGET_S=${SWEEP_S:-150} EXPORT=0 ALL_CHECKPOINTS=1 PARTS=ruler \
    RULER_LENGTHS=${SWEEP_LENGTHS:-4K} SAMPLES=${SWEEP_SAMPLES:-20} \
    bash "$(dirname "$0")/eval-gpu.sh" > "$W/sweep.log" 2>&1
BEST=""; BEST_SCORE=-1
for E in $(ls -d "$W"/eval/*/step-* 2>/dev/null | sort -V); do
    score=$(grep -oE '"overall" *: *[0-9.e-]+' "$E/ruler/summary.json" 2>/dev/null \
        | grep -oE '[0-9.e-]+$')
    recall=$(grep -E "Mean (layer1\.recall|needle_chunk_recall)" "$E/ruler.log" 2>/dev/null \
        | awk '{ print $NF }' | tr '\n' ' ')
    echo "${E#"$W"/eval/} ruler=${score:-none} layer1_recall,needle_recall=$recall"
    if [ -n "$score" ] && awk -v s="$score" -v b="$BEST_SCORE" 'BEGIN { exit !(s > b) }'; then
        BEST=${E#"$W"/eval/}; BEST_SCORE=$score
    fi
done
[ -n "$BEST" ] || { echo "no checkpoint was scored"; tail -5 "$W/sweep.log"; exit 1; }
echo "best: $BEST ($BEST_SCORE)"

# MARK: - 2. The best beside the shipped model
NAME=${BEST%%/*}; STEP=${BEST#*/}
for TARGET in "$NAME-$STEP|$W/run-$NAME/checkpoints/$STEP" "shipped|$SHIPPED"; do
    TAG=${TARGET%%|*}; CK=${TARGET#*|}; E=$W/final/$TAG
    mkdir -p "$E"
    (
        timeout "${FINAL_S:-120}" "$HSA" eval --backend "${BACKEND:-cuda}" --model "$CK" --suite ruler \
            --tasks "${RULER_TASKS:-niah_single_1,niah_single_2,niah_multikey_1,vt}" \
            --lengths "${FINAL_LENGTHS:-4K,16K}" --samples "${FINAL_SAMPLES:-25}" --data data \
            --out "$E/ruler" > "$E/ruler.log" 2>&1
        timeout "${UNSEEN_S:-60}" "$HSA" eval --backend "${BACKEND:-cuda}" --model "$CK" --suite unseen \
            --lengths "${FINAL_LENGTHS:-4K,16K}" --samples 10 --data data \
            --out "$E/unseen" > "$E/unseen.log" 2>&1
    ) &
done
# MARK: - 3. Export (while the evaluations run)
"$HSA" export --model "$W/run-$NAME/checkpoints/$STEP" --out "$W/export/$NAME-$STEP" \
    --dtype int8 > /dev/null && tar -cf "$OUT/model-$NAME-$STEP.tar" -C "$W/export" "$NAME-$STEP"
wait
tar -czf "$OUT/select.tar.gz" -C "$W" final sweep.log
for E in "$W"/final/*; do
    echo "== ${E##*/}"
    sed -n '/^| task/,/^$/{p;/^$/q}' "$E/ruler.log"
    sed -n '/^| task/,/^$/{p;/^$/q}' "$E/unseen.log"
done
