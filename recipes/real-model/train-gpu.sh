#!/usr/bin/env bash
# Real-model recipe (issue: a real length-generalizing language model), one GPU call: unpack
# the corpus, build the mixture (prose with long-range copy drills + varied retrieval tasks from
# `hsa data tasks`, answer-only loss on the tasks), then train every run of RUNS side by side
# on the one GPU, each resuming its own checkpoint, until the time budget. Calls chain on a
# warm machine: the work folder survives between back-to-back calls, so a second call with the
# same RUNS continues every run. Leaves logs.tar.gz (logs, configs, console) in $OUT.
#
# Runs from the repository root on the GPU machine (no Swift toolchain there). Expects:
#   .carry/hsa.xz               the static CLI (see README.md in this folder)
#   .carry/corpus-part-*.tar.xz corpus text parts from scripts/pack_corpus.sh
#   .carry/eval.tar.xz          data/eval/words and data/heldout (word lists, held-out texts)
# Knobs (defaults in brackets):
#   OUT          output directory (required)
#   BUDGET_S     seconds from the start until training must stop [560]
#   RUNS         ';'-separated runs NAME|FLAGS[|PARENT]: extra `hsa train` flags on top of
#                BASE_FLAGS and the options below (the last of a repeated option wins);
#                with PARENT, start from run PARENT's newest checkpoint instead, or from
#                PARENT itself when it is a model folder (--init-from, fresh optimizer;
#                BASE_FLAGS are then not applied); .carry/model-*.tar.xz unpack to $WORK/init/
#                ["hsa|;swa|--attention swa"]
#   BASE_FLAGS   model flags of every run without a parent
#                ["--preset small --window 128 --fusion softmax"]
#   STEPS [6000]; BATCH [8]; SEQ [4096]; LR [1e-3]; WARMUP [300]
#   CHECKPOINT_EVERY, KEEP_CHECKPOINTS  checkpoint interval and how many to keep [250, 8]: a
#                run's best retriever can be mid-run (eval-gpu.sh ALL_CHECKPOINTS=1 finds it)
#   TASK_SAMPLES varied task samples [24000]; TEXT_WEIGHT, TASK_WEIGHT token shares [0.8, 0.2]
#   TASK_LENGTHS task sample lengths [1K,2K,4K]; keep them <= SEQ: `hsa data mix` leaves out
#                samples longer than a segment (older CLIs cut them, so answers lost the needle)
#   TASK_KINDS   `hsa data tasks --kinds`, e.g. multikey,vt to train the weak kinds more [all]
#   COPY_DRILL   fraction of prose segments made copy drills [0.3]
#   DRILL_PASSAGES, DRILL_LENGTH  passages per drill and their length in tokens [2, 128]
#   DRILL_NEAR, DRILL_NEAR_LENGTH near repeats per drill and their length [0, 32]
#   DRILL_SOURCE passages come from this leading fraction of the text [0.6]; 1 with
#                DRILL_PASSAGES=1 and DRILL_LENGTH near half of SEQ makes self-copy drills
#   MIX          name of the mixture folder in WORK: a call naming a new one builds it with
#                this call's data knobs, so chained calls can change the mixture [mix]
#   MIX_TOKENS   tokens in the mixture [220000000]
#   BACKEND      cuda, or cpu for a dry run on any machine [cuda]
#   PREPARE_ONLY 1: build the data and the mixture MIX, train nothing (so that two calls of
#                this script with different SEQ and MIX can then train side by side) [0]
set -u
: "${OUT:?OUT must name the output directory}"
BUDGET_S=${BUDGET_S:-560}
RUNS=${RUNS:-"hsa|;swa|--attention swa"}
BASE_FLAGS=${BASE_FLAGS:-"--preset small --window 128 --fusion softmax"}
STEPS=${STEPS:-6000}
BATCH=${BATCH:-8}
SEQ=${SEQ:-4096}
LR=${LR:-1e-3}
WARMUP=${WARMUP:-300}
CHECKPOINT_EVERY=${CHECKPOINT_EVERY:-250}
KEEP_CHECKPOINTS=${KEEP_CHECKPOINTS:-8}
TASK_SAMPLES=${TASK_SAMPLES:-24000}
TASK_LENGTHS=${TASK_LENGTHS:-1K,2K,4K}
TASK_KINDS=${TASK_KINDS:-all}
TEXT_WEIGHT=${TEXT_WEIGHT:-0.8}
TASK_WEIGHT=${TASK_WEIGHT:-0.2}
COPY_DRILL=${COPY_DRILL:-0.3}
DRILL_PASSAGES=${DRILL_PASSAGES:-2}
DRILL_LENGTH=${DRILL_LENGTH:-128}
DRILL_NEAR=${DRILL_NEAR:-0}
DRILL_NEAR_LENGTH=${DRILL_NEAR_LENGTH:-32}
DRILL_SOURCE=${DRILL_SOURCE:-0.6}
MIX=${MIX:-mix}
MIX_TOKENS=${MIX_TOKENS:-220000000}
BACKEND=${BACKEND:-cuda}
DEVICE_FLAGS=(--backend "$BACKEND")
[ "$BACKEND" = cuda ] && DEVICE_FLAGS+=(--matmul-precision bf16 --attention-precision bf16)
W=${WORK:-/tmp/real-work}
TASKS=$W/tasks-${TASK_LENGTHS//,/-}
[ "$TASK_KINDS" = all ] || TASKS=$TASKS-${TASK_KINDS//,/-}
T0=$(date +%s)
since() { echo $(( $(date +%s) - T0 )); }
mkdir -p "$W/meta" "$OUT"
exec > >(tee -a "$W/meta/console.log") 2>&1

HSA=$W/hsa
[ -x "$HSA" ] || { xz -dc .carry/hsa.xz > "$HSA" && chmod +x "$HSA"; } || exit 1
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
[ "$BACKEND" = cuda ] && nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader

# MARK: - Data (text once per machine, tasks once per set of lengths, each mixture once)
if [ ! -f "$W/text/manifest.json" ]; then
    mkdir -p data/corpus
    for part in .carry/corpus-part-*.tar.xz; do tar -xJf "$part" -C data/corpus || exit 1; done
    tar -xJf .carry/eval.tar.xz -C data || exit 1
    echo "[$(since)s] data unpacked: $(du -sh data/corpus | cut -f1) of corpus text"
    "$HSA" data prepare data/corpus --out "$W/text" --validation-fraction 0.005 \
        > "$W/meta/prepare.log" 2>&1 || { cat "$W/meta/prepare.log"; exit 1; }
    mkdir -p "$W/init"
    for model in .carry/model-*.tar.xz; do
        [ -f "$model" ] && { tar -xJf "$model" -C "$W/init" || exit 1; }
    done
fi
if [ ! -f "$TASKS/synth.json" ]; then
    "$HSA" data tasks --haystack data/corpus --samples "$TASK_SAMPLES" --lengths "$TASK_LENGTHS" \
        --kinds "$TASK_KINDS" --data data --out "$TASKS" > "$W/meta/tasks.log" 2>&1 \
        || { cat "$W/meta/tasks.log"; exit 1; }
    tail -1 "$W/meta/tasks.log"
fi
if [ ! -f "$W/$MIX/manifest.json" ]; then
    "$HSA" data mix "$W/text:$TEXT_WEIGHT" "$TASKS:$TASK_WEIGHT" --segment-length "$SEQ" \
        --copy-drill "$COPY_DRILL" --drill-passages "$DRILL_PASSAGES" \
        --drill-passage-length "$DRILL_LENGTH" --drill-source-fraction "$DRILL_SOURCE" \
        --drill-near-passages "$DRILL_NEAR" --drill-near-length "$DRILL_NEAR_LENGTH" \
        --tokens "$MIX_TOKENS" --out "$W/$MIX" > "$W/meta/$MIX.log" 2>&1 \
        || { cat "$W/meta/$MIX.log"; exit 1; }
    cp "$TASKS/synth.json" "$W/meta/${TASKS##*/}.json"
    cp "$W/$MIX/mix.json" "$W/meta/$MIX.json"
    echo "[$(since)s] mixture $MIX ready"
fi

[ "${PREPARE_ONLY:-0}" = 1 ] && exit 0

# MARK: - Training, every run on the one GPU
IFS=';' read -ra RUN_LIST <<< "$RUNS"
THREADS=$(( $(nproc) / ${#RUN_LIST[@]} > 0 ? $(nproc) / ${#RUN_LIST[@]} : 1 ))
PIDS=()
NAMES=()
for entry in "${RUN_LIST[@]}"; do
    IFS='|' read -r NAME FLAGS PARENT <<< "$entry"
    MODEL_FLAGS=$BASE_FLAGS
    INIT=()
    if [ -n "${PARENT:-}" ]; then
        CK=$PARENT
        [ -d "$CK" ] || CK=$(ls -d "$W/run-$PARENT"/checkpoints/step-* 2>/dev/null | sort -V | tail -1)
        [ -n "$CK" ] || { echo "run $NAME: parent $PARENT has no checkpoint"; continue; }
        MODEL_FLAGS=""
        INIT=(--init-from "$CK")
    fi
    # shellcheck disable=SC2086
    HSA_NUM_THREADS=$THREADS timeout $(( BUDGET_S - $(since) )) "$HSA" train \
        "${DEVICE_FLAGS[@]}" --data "$W/$MIX" --document-aligned --out "$W/run-$NAME" --resume \
        --seq-len "$SEQ" --batch-size "$BATCH" --steps "$STEPS" --lr "$LR" \
        --warmup-steps "$WARMUP" --eval-every 0 --checkpoint-every "$CHECKPOINT_EVERY" \
        --keep-checkpoints "$KEEP_CHECKPOINTS" \
        --report-every 100 --on-nonfinite skip \
        $MODEL_FLAGS $FLAGS "${INIT[@]}" >> "$W/meta/train-$NAME.log" 2>&1 &
    PIDS+=($!)
    NAMES+=("$NAME")
done
for i in "${!PIDS[@]}"; do
    wait "${PIDS[$i]}"
    echo "[$(since)s] run ${NAMES[$i]}: exit $? (124: stopped by the budget)"
    grep -E '^step=' "$W/meta/train-${NAMES[$i]}.log" | tail -2
done

# MARK: - Logs back
for run in "$W"/run-*; do
    name=${run##*/run-}
    mkdir -p "$W/meta/$name"
    cp "$run"/{log.jsonl,training.json,config.json,loss.svg} "$W/meta/$name/" 2>/dev/null
done
tar -czf "$OUT/logs.tar.gz" -C "$W" meta
echo "[$(since)s] done"
