#!/usr/bin/env bash
# Retrieval recipe, one GPU call: build the training mixture on the GPU host (prose corpus
# with long-range copy drills + RULER/BABILong task samples, answer-only loss on the tasks),
# then train one variant per visible GPU in parallel, score each on a few short NIAH samples
# on the host CPU, and leave the weights and a tar of logs per variant in $OUT.
#
# Runs from the repository root on the GPU machine (no Swift toolchain there). Expects:
#   $HSA_GZ          the static, stripped, gzipped CLI [.build-lead-rel/hsa.gz]
#   .carry/data.tar.xz   data/corpus (prose sources), data/eval/{paul_graham_essays.txt,words},
#                        data/heldout (see README.md in this folder)
# Knobs (defaults in brackets):
#   OUT        output directory (required)
#   BUDGET_S   seconds from the start until training must stop [520]
#   VARIANTS   ';'-separated extra `hsa train` flags, one run per entry, run i on GPU i
#              ["--window 512;--window 128"]
#   NAMES      ';'-separated names of the runs [a;b]
#   STEPS      optimizer steps per run [2400]; BATCH [2]; SEQ [4096]; PRESET [small]; LR [1e-3]
#   SAMPLES    synth samples per task and length [400]
#   TEXT_WEIGHT, TASK_WEIGHT   token shares of prose and task samples [1, 1]
#   COPY_DRILL fraction of prose segments turned into copy drills [0.5]
#   COPY_LINES_WEIGHT  token share of random-letter copy lines (dev/retrieval-toy/lines.py:
#              half copied at once, half after FILL_MIN..FILL_MAX random bytes) [0: none]
#   INIT_FROM  per-run model directories to start from (';'-separated, optional)
set -u
: "${OUT:?OUT must name the output directory}"
BUDGET_S=${BUDGET_S:-520}
VARIANTS=${VARIANTS:-"--window 512;--window 128"}
NAMES=${NAMES:-"a;b"}
STEPS=${STEPS:-2400}
BATCH=${BATCH:-2}
SEQ=${SEQ:-4096}
PRESET=${PRESET:-small}
LR=${LR:-1e-3}
SAMPLES=${SAMPLES:-400}
TEXT_WEIGHT=${TEXT_WEIGHT:-1}
TASK_WEIGHT=${TASK_WEIGHT:-1}
COPY_DRILL=${COPY_DRILL:-0.5}
COPY_LINES_WEIGHT=${COPY_LINES_WEIGHT:-0}
HSA_GZ=${HSA_GZ:-.build-lead-rel/hsa.gz}
W=${WORK:-/tmp/retrieval-work}
T0=$(date +%s)
since() { echo $(( $(date +%s) - T0 )); }
mkdir -p "$W/meta" "$OUT"
exec > >(tee "$W/meta/console.log") 2>&1

HSA=$W/hsa
gunzip -c "$HSA_GZ" > "$HSA" && chmod +x "$HSA" || exit 1
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader
[ -d data/corpus ] || tar -xJf .carry/data.tar.xz -C data 2>/dev/null \
    || { mkdir -p data && tar -xJf .carry/data.tar.xz -C data; } || exit 1
echo "[$(since)s] data unpacked"

# MARK: - Data: prose tokens, task samples, the mixture
TASKS=niah_single_1,niah_single_2,niah_single_3,niah_multikey_1,niah_multiquery
TASKS=$TASKS,niah_multivalue,vt,qa1,qa2,qa3,qa4,qa5
"$HSA" data prepare data/corpus --out "$W/text" --validation-fraction 0 > "$W/meta/prepare.log" \
    2>&1 || { cat "$W/meta/prepare.log"; exit 1; }
"$HSA" data synth --tasks $TASKS --lengths 1K,2K,4K --samples "$SAMPLES" --data data \
    --out "$W/tasks" > "$W/meta/synth.log" 2>&1 || { cat "$W/meta/synth.log"; exit 1; }
tail -2 "$W/meta/synth.log"
SOURCES=("$W/text:$TEXT_WEIGHT" "$W/tasks:$TASK_WEIGHT")
if [ "$COPY_LINES_WEIGHT" != 0 ]; then
    python3 dev/retrieval-toy/lines.py "$W/lines.txt" --lines 30000 --near 0.5 \
        --fill-min "${FILL_MIN:-600}" --fill-max "${FILL_MAX:-2000}" || exit 1
    "$HSA" data prepare "$W/lines.txt" --out "$W/lines" --validation-fraction 0 > /dev/null \
        || exit 1
    SOURCES+=("$W/lines:$COPY_LINES_WEIGHT")
fi
"$HSA" data mix "${SOURCES[@]}" --segment-length "$SEQ" \
    --copy-drill "$COPY_DRILL" --out "$W/mix" || exit 1
cp "$W/mix/mix.json" "$W/tasks/synth.json" "$W/meta/"
echo "[$(since)s] mixture ready"

# MARK: - Training, one run per GPU
IFS=';' read -ra VARIANT_LIST <<< "$VARIANTS"
IFS=';' read -ra NAME_LIST <<< "$NAMES"
IFS=';' read -ra INIT_LIST <<< "${INIT_FROM:-}"
PIDS=()
for i in "${!VARIANT_LIST[@]}"; do
    NAME=${NAME_LIST[$i]}
    INIT=${INIT_LIST[$i]:-}
    # shellcheck disable=SC2086
    CUDA_VISIBLE_DEVICES=$i HSA_NUM_THREADS=8 timeout $(( BUDGET_S - $(since) )) "$HSA" train \
        --backend "${BACKEND:-cuda}" --data "$W/mix" --document-aligned --out "$W/run-$NAME" \
        --preset "$PRESET" ${VARIANT_LIST[$i]} --seq-len "$SEQ" --batch-size "$BATCH" \
        --steps "$STEPS" --lr "$LR" --warmup-steps 200 --eval-every 0 --checkpoint-every 200 \
        --keep-checkpoints 1 --max-shard-size 16000000 --report-every 100 \
        ${INIT:+--init-from $INIT} > "$W/meta/train-$NAME.log" 2>&1 &
    PIDS+=($!)
done
for i in "${!PIDS[@]}"; do
    wait "${PIDS[$i]}"
    echo "[$(since)s] run ${NAME_LIST[$i]}: exit $? (124: stopped by the budget)"
done

# MARK: - Quick score on the host CPU, then pack
EVAL_PIDS=()
for i in "${!NAME_LIST[@]}"; do
    NAME=${NAME_LIST[$i]}
    CK=$(ls -d "$W/run-$NAME"/checkpoints/step-* 2>/dev/null | sort | tail -1)
    [ -n "$CK" ] || { echo "run $NAME: no checkpoint"; continue; }
    # The model travels as a tar split below 16 MB a piece (the device tool's file limit).
    tar -cf - -C "$CK" --exclude 'optimizer*' . | split -b 16000000 -d - "$OUT/model-$NAME.tar."
    cp "$CK"/trainer_state.json "$W/run-$NAME"/{log.jsonl,loss.svg,training.json} "$W/meta/" \
        2>/dev/null
    for f in log.jsonl loss.svg training.json trainer_state.json; do
        [ -f "$W/meta/$f" ] && mv "$W/meta/$f" "$W/meta/$NAME-$f"
    done
    HSA_NUM_THREADS=8 "$HSA" eval --model "$CK" --suite ruler \
        --tasks niah_single_1,niah_single_2,niah_multikey_1 --lengths 1K,4K --samples 4 \
        --data data --out "$W/meta/eval-$NAME" > "$W/meta/eval-$NAME.log" 2>&1 &
    EVAL_PIDS+=($!)
done
# Wait for these PIDs only: a bare `wait` would also wait for the `tee` above, forever.
wait "${EVAL_PIDS[@]}"
for i in "${!NAME_LIST[@]}"; do
    NAME=${NAME_LIST[$i]}
    echo "== $NAME: ${VARIANT_LIST[$i]}"; tail -12 "$W/meta/eval-$NAME.log"
    # Is the HSA path still in use? (fusion mass, score spread, gradient sizes; PyTorch twin)
    CK=$(ls -d "$W/run-$NAME"/checkpoints/step-* 2>/dev/null | sort | tail -1)
    [ -n "$CK" ] && python3 dev/retrieval-toy/hsa_health.py "$CK" \
        --text data/eval/paul_graham_essays.txt 2>&1 | tee "$W/meta/health-$NAME.txt"
done
echo "[$(since)s] done"
tar -czf "$OUT/meta.tar.gz" -C "$W/meta" .
ls -la "$OUT" "$OUT"/*
