#!/usr/bin/env bash
# Trains a retrieval toy with the Swift CLI on one GPU, several variants at once (they are tiny:
# the GPU is shared), then leaves one tar of their final weights, configs and logs in $OUT (in
# pieces toy-runs.tgz.aa, .ab, ...) and probes each. Runs from the repository root on the GPU
# machine.
#
#   OUT=dir TOY=lines STEPS=15000 BUDGET_S=540 bash dev/retrieval-toy/toy-grid.sh \
#       "hsa|" "full|--attention full" "softmax|--fusion softmax" ...
# Each argument is NAME|extra `hsa train` flags. TOY picks the data and its probe:
#   lines: the content-copy toy, one line per document (lines.py --one-per-file, trained
#          --document-aligned, probed by line_probe.py --one-per-row); LINES_ARGS adds
#          lines.py flags
#   kv:    key-value recall (kv.py, kv_probe.py); KV_ARGS: flags both take (--needles, --queries,
#          --length, --repeat; the grid in README.md used KV_ARGS="--needles 4 --queries 2")
#   ruler: RULER-style task samples from `hsa data synth` (answer-only loss; RULER_TASKS,
#          SYNTH_TASKS [RULER_TASKS], SYNTH_LENGTHS [1K,2K], SYNTH_SAMPLES per task and length
#          [3000]; needs DATA_TAR [.carry/data.tar.xz] for the essays and word lists), trained
#          --document-aligned at SEQ [2048]; probed by `hsa eval --suite ruler --diagnostics`
#          at PROBE_LENGTHS [2K,8K] (PROBE_SAMPLES [10]) on the host CPU; TEXT_WEIGHT (e.g. 1)
#          mixes the archive's English corpus in, at that share of tokens against the tasks' 1
# Knobs: STEPS [6000], BUDGET_S [500], LR [3e-3], BATCH, SEQ, CHECKPOINT_EVERY [1000],
# GPUS (space-separated GPU ordinals, variant i on the (i mod n)-th) [0], MODEL (the toy
# model's flags, below; set it empty with INIT_TGZ to keep each model's own config), HSA_GZ
# [.build-lead-rel/hsa.gz], BACKEND [cuda; cpu for a local dry run]. With TOY=lines,
# EVAL_LENGTHS (e.g. 1K,16K,256K; default none) also runs `hsa eval --suite copy` on each
# final model on the host CPU, EVAL_SAMPLES [10] per length, all models at once.
# INIT_TGZ (toy-runs.tgz of an earlier call, or any tgz of final/NAME model directories)
# starts each variant whose name it holds from those weights (`--init-from`: fresh optimizer
# and schedule). KEEP_STATE=1 also returns each run's newest full checkpoint (weights,
# optimizer, schedule, data position) as $OUT/toy-state.tgz.*; STATE_TGZ (those pieces joined)
# makes the next call resume every run it holds bit for bit (`--resume`), so a chain of calls
# trains like one long run. HSA_GZ may be a .xz (smaller carry).
set -u
: "${OUT:?OUT must name the output directory}"
TOY=${TOY:-kv}
STEPS=${STEPS:-6000}
BUDGET_S=${BUDGET_S:-500}
HSA_GZ=${HSA_GZ:-.build-lead-rel/hsa.gz}
MODEL=${MODEL-"--preset tiny --d-model 64 --n-heads 4 --n-kv-heads 2 --head-dim 16 --d-ff 128
    --n-lower-layers 2 --n-upper-layers 2 --hsa-layers 0 --window 32 --chunk-size 16 --top-k 4"}
HERE=$(cd "$(dirname "$0")" && pwd)
W=${WORK:-/tmp/toy-work}
# a machine kept warm between calls still holds the last call's runs
rm -rf "$W/runs" "$W/init" "$W/probe" && mkdir -p "$W/runs"
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
case "$HSA_GZ" in
*.xz) xz -dc "$HSA_GZ" > "$W/hsa" ;;
*) gunzip -c "$HSA_GZ" > "$W/hsa" ;;
esac
chmod +x "$W/hsa"
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
ruler)
    niah=niah_single_1,niah_single_2,niah_single_3,niah_multikey_1,niah_multiquery
    RULER_TASKS=${RULER_TASKS:-$niah,niah_multivalue,vt}
    mkdir -p "$W/data" && xz -dc "${DATA_TAR:-.carry/data.tar.xz}" | tar -x -C "$W/data"
    "$W/hsa" data synth --tasks "${SYNTH_TASKS:-$RULER_TASKS}" --lengths "${SYNTH_LENGTHS:-1K,2K}" \
        --samples "${SYNTH_SAMPLES:-3000}" --data "$W/data" --out "$W/tokens" | tail -2
    if [ -n "${TEXT_WEIGHT:-}" ]; then
        # plain text beside the tasks (loss on every text token; the tasks keep answer-only)
        rm -rf "$W/text" "$W/tasks"
        "$W/hsa" data prepare "$W/data/corpus" --out "$W/text" > /dev/null
        mv "$W/tokens" "$W/tasks"
        "$W/hsa" data mix "$W/text:$TEXT_WEIGHT" "$W/tasks:1" --segment-length "${SEQ:-2048}" \
            --out "$W/tokens" | tail -3
    fi
    DATA_FLAGS="--document-aligned --seq-len ${SEQ:-2048} --batch-size ${BATCH:-8}"
    probe() {
        HSA_NUM_THREADS=1 "$W/hsa" eval --model "$1" --suite ruler --tasks "$RULER_TASKS" \
            --lengths "${PROBE_LENGTHS:-2K,8K}" --samples "${PROBE_SAMPLES:-10}" --diagnostics \
            --data "$W/data" --out "$W/probe/$(basename "$1")" > /dev/null 2>&1
        cat "$W/probe/$(basename "$1")/results.md"
    } ;;
*) echo "TOY must be lines, kv or ruler" >&2; exit 2 ;;
esac
if [ -n "${INIT_TGZ:-}" ]; then
    mkdir -p "$W/init" && tar -xzf "$INIT_TGZ" -C "$W/init" final
fi
[ -n "${STATE_TGZ:-}" ] && tar -xzf "$STATE_TGZ" -C "$W/runs"

read -ra GPU_LIST <<< "${GPUS:-0}"
PIDS=()
for spec in "$@"; do
    name=${spec%%|*}
    flags=${spec#*|}
    [ -d "$W/init/final/$name" ] && flags="$flags --init-from $W/init/final/$name"
    [ -d "$W/runs/$name/checkpoints" ] && flags="$flags --resume"
    gpu=${GPU_LIST[$(( ${#PIDS[@]} % ${#GPU_LIST[@]} ))]}
    # shellcheck disable=SC2086
    HSA_DEVICE_ORDINAL=$gpu HSA_NUM_THREADS=1 timeout "$BUDGET_S" "$W/hsa" train \
        --data "$W/tokens" --out "$W/runs/$name" \
        $MODEL $DATA_FLAGS --steps "$STEPS" --lr "${LR:-3e-3}" --warmup-steps 20 \
        --eval-every 0 --checkpoint-every "${CHECKPOINT_EVERY:-1000}" \
        --backend "${BACKEND:-cuda}" $flags >> "$W/runs/$name.log" 2>&1 &
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
    grep -o 'step=[0-9]*/[0-9]* loss=[0-9.]*' "$name.log" | tail -1 | sed "s/^/$name /" \
        | tee -a "$OUT/summary.txt"
done
# in pieces below the device tool's 16 MiB per returned file: cat toy-runs.tgz.* > toy-runs.tgz
tar czf - final ./*.log | split -b 15000000 - "$OUT/toy-runs.tgz."
if [ "${KEEP_STATE:-0}" = 1 ]; then
    names=$(ls final)
    for name in $names; do  # the newest checkpoint is all --resume needs
        ls -d "$name"/checkpoints/step-* | sort | head -n -1 | xargs -r rm -rf
    done
    # shellcheck disable=SC2086
    tar czf - $names ./*.log | split -b 15000000 - "$OUT/toy-state.tgz."
fi
# probes in parallel (one thread each), printed in name order
for name in $(ls final); do probe "final/$name" > "probe-$name.txt" 2>&1 & done
wait
for name in $(ls final); do
    echo "== $name ($(cat "final/$name/step"))"
    if [ "$TOY" = ruler ]; then cat "probe-$name.txt"; else tail -3 "probe-$name.txt"; fi
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

