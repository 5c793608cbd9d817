#!/usr/bin/env bash
# Real-model recipe, evaluation on the GPU machine after train-gpu.sh (same warm machine, same
# WORK): for every run's newest checkpoint, side by side on the one GPU:
#   - `hsa bpb`: bits per byte by position in the held-out documents joined into one, and
#     the repeat probe (REPEATS) on each held-out document;
#   - `hsa eval --suite unseen`: wordings no training generator uses (pass key, prose facts);
#   - `hsa eval --suite ruler`: the NIAH/VT tasks (RULER's own templates, never trained on),
#     with retrieval diagnostics up to 16K (is the needle's chunk selected, and how much weight
#     it gets: tells finding the chunk from reading it).
# Then exports each model as bf16 (`hsa export`) and leaves in $OUT: eval.tar.gz (every
# result folder and log) and model-NAME.tar (config, tokenizer, bf16 weights) per run.
# Knobs: OUT (required); RUN_NAMES (';'-separated, default every run-* in WORK);
#   ALL_CHECKPOINTS (1: every kept checkpoint of each run, not only the newest; retrieval can
#   peak mid-run while the loss still falls, docs/RESULTS.md entry 24) [0];
#   UNSEEN_LENGTHS [4K,16K,64K]; RULER_LENGTHS [4K,16K]; SAMPLES [10]; POSITIONS
#   [1K,4K,16K,64K,256K]; REPEATS repeat-probe distances [8,512,4K,64K]; REPEAT_PASSAGE
#   repeated passage in tokens [48] (passage + distance is how far back the copy lies, so
#   48 + 8 tests copying inside a 64-token window); BUDGET_S [560];
#   EXPORT (1: export the models) [1]; BACKEND [cuda];
#   PARTS which measurements, comma-separated [bpb,repeat,unseen,ruler] (a sweep over every
#   checkpoint can skip the slow bits-per-byte ones); RULER_TASKS
#   [niah_single_1,niah_single_2,niah_multikey_1,vt]; JOBS checkpoints evaluated at a time [4]
set -u
: "${OUT:?OUT must name the output directory}"
W=${WORK:-/tmp/real-work}
UNSEEN_LENGTHS=${UNSEEN_LENGTHS:-4K,16K,64K}
RULER_LENGTHS=${RULER_LENGTHS:-4K,16K}
SAMPLES=${SAMPLES:-10}
POSITIONS=${POSITIONS:-1K,4K,16K,64K,256K}
REPEATS=${REPEATS:-8,512,4K,64K}
REPEAT_PASSAGE=${REPEAT_PASSAGE:-48}
BUDGET_S=${BUDGET_S:-560}
PARTS=${PARTS:-bpb,repeat,unseen,ruler}
RULER_TASKS=${RULER_TASKS:-niah_single_1,niah_single_2,niah_multikey_1,vt}
wants() { [[ ",$PARTS," == *",$1,"* ]]; }
HSA=$W/hsa
T0=$(date +%s)
since() { echo $(( $(date +%s) - T0 )); }
mkdir -p "$W/eval" "$OUT"
exec > >(tee -a "$W/eval/console.log") 2>&1
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
[ -x "$HSA" ] || { echo "no $HSA: run train-gpu.sh first on this machine"; exit 1; }

if [ -n "${RUN_NAMES:-}" ]; then IFS=';' read -ra NAMES <<< "$RUN_NAMES"
else NAMES=(); for run in "$W"/run-*; do NAMES+=("${run##*/run-}"); done; fi
# The checkpoints to evaluate, as NAME|CHECKPOINT: the newest of each run, or all of them.
TARGETS=()
for NAME in "${NAMES[@]}"; do
    CKS=$(ls -d "$W/run-$NAME"/checkpoints/step-* 2>/dev/null | sort -V)
    [ -n "$CKS" ] || { echo "run $NAME: no checkpoint"; continue; }
    [ "${ALL_CHECKPOINTS:-0}" = 1 ] || CKS=$(tail -1 <<< "$CKS")
    for CK in $CKS; do TARGETS+=("$NAME|$CK"); echo "$NAME: $CK"; done
done
PIDS=()
for TARGET in "${TARGETS[@]}"; do
    NAME=${TARGET%%|*}; CK=${TARGET#*|}
    # One folder per checkpoint: `hsa eval` resumes a folder only for the model that began it.
    E=$W/eval/$NAME/${CK##*/}
    mkdir -p "$E"
    # JOBS at a time: processes on one GPU take turns, so all of them at once finish together
    # or, at the time limit, not at all.
    while [ "$(jobs -rp | wc -l)" -ge "${JOBS:-4}" ]; do wait -n; done
    (
        left() { echo $(( BUDGET_S - $(since) )); }
        wants bpb && HSA_NUM_THREADS=4 timeout "$(left)" "$HSA" bpb --backend "${BACKEND:-cuda}" \
            --model "$CK" --concatenate data/heldout/*.txt --positions "$POSITIONS" --window 256 \
            --out "$E/bpb" > "$E/bpb.log" 2>&1
        # The repeat probe per held-out document: one passage each (the joined text gives one).
        wants repeat && HSA_NUM_THREADS=4 timeout "$(left)" "$HSA" bpb --backend "${BACKEND:-cuda}" \
            --model "$CK" data/heldout/*.txt --positions 1K --window "$REPEAT_PASSAGE" \
            --repeat-distances "$REPEATS" --out "$E/repeat" > "$E/repeat.log" 2>&1
        wants unseen && HSA_NUM_THREADS=4 timeout "$(left)" "$HSA" eval --backend "${BACKEND:-cuda}" \
            --model "$CK" --suite unseen --lengths "$UNSEEN_LENGTHS" --samples "$SAMPLES" --data data \
            --out "$E/unseen" > "$E/unseen.log" 2>&1
        wants ruler && HSA_NUM_THREADS=4 timeout "$(left)" "$HSA" eval --backend "${BACKEND:-cuda}" \
            --model "$CK" --suite ruler --tasks "$RULER_TASKS" --diagnostics \
            --lengths "$RULER_LENGTHS" --samples "$SAMPLES" --data data \
            --out "$E/ruler" > "$E/ruler.log" 2>&1
    ) &
    PIDS+=($!)
done
# The evaluations only: a bare `wait` would also wait for the console's tee (bash 5.1 waits
# for the last process substitution), which never ends.
wait "${PIDS[@]}"
for TARGET in "${TARGETS[@]}"; do
    NAME=${TARGET%%|*}; CK=${TARGET#*|}
    E=$W/eval/$NAME/${CK##*/}
    echo "== $NAME ${CK##*/}"
    wants bpb && tail -7 "$E/bpb.log"; wants repeat && grep -A 6 "repeat probe" "$E/repeat.log"
    # The score tables (the first table of each log; the 95% intervals follow it in the
    # results.md files), then the mean recall of the needle's chunk (diagnostics).
    wants unseen && sed -n '/^| task/,/^$/{p;/^$/q}' "$E/unseen.log"
    wants ruler && sed -n '/^| task/,/^$/{p;/^$/q}' "$E/ruler.log" \
        && grep -E "Mean (layer[0-9]+\.recall|needle)" "$E/ruler.log"
    # One model per run comes back (at most 8 files return): its newest checkpoint.
    NEWEST=$(ls -d "$W/run-$NAME"/checkpoints/step-* | sort -V | tail -1)
    if [ "${EXPORT:-1}" = 1 ] && [ "$CK" = "$NEWEST" ]; then
        "$HSA" export --model "$CK" --out "$W/export/$NAME" > /dev/null \
            && tar -cf "$OUT/model-$NAME.tar" -C "$W/export" "$NAME"
    fi
done
tar -czf "$OUT/eval.tar.gz" -C "$W" eval
echo "[$(since)s] done"
