#!/usr/bin/env bash
# First GPU run: train the `small` HSA preset on synthetic needle-in-a-haystack data at T=4096
# on one H100, inside a fixed wall-clock budget, and leave the model (weights, config,
# tokenizer) plus a small tar of logs in $OUT.
#
# Runs from the repository root on the GPU machine, which has no Swift toolchain: it expects
# the statically linked, stripped, gzipped CLI at .build-firstrun/hsa.gz (see README.md) and,
# optionally, data/eval + data/heldout (the essay haystacks; without them `hsa data synth`
# falls back to built-in texts).
#
# Environment knobs (defaults in brackets):
#   OUT       output directory (required)
#   BUDGET_S  seconds from the start of this script to the end of training [530]
#   BATCH     sequences per step [2]
#   SAMPLES   synth samples per task and length [1500]
#   TASKS     synth tasks [niah_single_1,niah_single_2,niah_multikey_1]
#   LENGTHS   synth sample lengths [1K,2K,4K]
#   STEPS     optimizer steps [computed from the probe to fit BUDGET_S; the first run got 2614]
#   WORK      scratch directory [/tmp/firstrun-work]
#   SEQ, PRESET, BACKEND  [4096, small, cuda]; e.g. SEQ=1024 PRESET=tiny BACKEND=cpu for a
#             local dry run of the script itself
#   TRAIN_FLAGS  extra `hsa train` flags [none; the first run had none], e.g.
#             "--document-aligned" (windows start at sample starts; added after the first run)
set -u
: "${OUT:?OUT must name the output directory}"
BUDGET_S=${BUDGET_S:-530}
BATCH=${BATCH:-2}
SAMPLES=${SAMPLES:-1500}
TASKS=${TASKS:-niah_single_1,niah_single_2,niah_multikey_1}
LENGTHS=${LENGTHS:-1K,2K,4K}
WORK=${WORK:-/tmp/firstrun-work}
mkdir -p "$WORK"
SEQ=${SEQ:-4096}
PRESET=${PRESET:-small}
BACKEND=${BACKEND:-cuda}
T0=$(date +%s)
since() { echo $(( $(date +%s) - T0 )); }
META=$WORK/meta
mkdir -p "$META"
exec > >(tee "$META/console.log") 2>&1

HSA=$WORK/hsa
gunzip -c .build-firstrun/hsa.gz > "$HSA" && chmod +x "$HSA" || exit 1
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
ldd "$HSA" | grep -i "not found" && { echo "missing shared libraries"; exit 1; }
"$HSA" --version
DATA=data
[ -d data/eval ] || DATA=$WORK/no-data
echo "[$(since)s] haystack data: $DATA"

# Full mixture in the background while a small one feeds the step-time probe.
"$HSA" data synth --tasks "$TASKS" --lengths "$LENGTHS" --samples "$SAMPLES" --data "$DATA" \
    --out $WORK/synth > "$META/synth.log" 2>&1 &
SYNTH_PID=$!
"$HSA" data synth --tasks "$TASKS" --lengths 4K --samples 40 --data "$DATA" \
    --out $WORK/synth-probe > /dev/null 2>&1 || exit 1

# MARK: - Step-time probe (same shapes, 16 steps)
"$HSA" train --backend "$BACKEND" --data "$WORK/synth-probe" --out "$WORK/probe" \
    --preset "$PRESET" --seq-len "$SEQ" --batch-size "$BATCH" --steps 16 --warmup-steps 4 \
    --eval-every 0 --checkpoint-every 0 --report-every 4 || exit 1
STEP_MS=$(python3 - "$WORK/probe/log.jsonl" <<'EOF'
import json, statistics, sys
ms = [e["ms"] for e in map(json.loads, open(sys.argv[1]))
      if e.get("event") == "step" and e["step"] > 4]
print(f"{max(statistics.median(ms), statistics.mean(ms)):.1f}")
EOF
)
wait $SYNTH_PID || { cat "$META/synth.log"; exit 1; }
tail -1 "$META/synth.log"
NOW=$(since)
# 10 s for start-up (NVRTC, data mapping) and 6 % for checkpoints and jitter.
if [ -z "${STEPS:-}" ]; then
    STEPS=$(python3 -c "print(max(100, int(($BUDGET_S - $NOW - 10) * 1000 / ($STEP_MS * 1.06))))")
fi
echo "[${NOW}s] probe: ${STEP_MS} ms/step at B=$BATCH T=$SEQ -> $STEPS steps"
echo "steps=$STEPS step_ms=$STEP_MS batch=$BATCH samples=$SAMPLES tasks=$TASKS" \
    "lengths=$LENGTHS" > "$META/plan.txt"

# MARK: - Training (hard stop 25 s past the budget; a checkpoint every 300 steps survives it)
timeout $(( BUDGET_S + 25 - $(since) )) "$HSA" train --backend "$BACKEND" \
    --data "$WORK/synth" --out "$WORK/run" --preset "$PRESET" --seq-len "$SEQ" \
    --batch-size "$BATCH" --steps "$STEPS" \
    --warmup-steps 100 --lr 1e-3 --eval-every 0 --checkpoint-every 300 --keep-checkpoints 1 \
    --max-shard-size 16000000 --report-every 100 ${TRAIN_FLAGS:-}
TRAIN_RC=$?
echo "[$(since)s] train exit $TRAIN_RC (124: stopped by the budget's hard stop)"

# MARK: - Bring back: model files in $OUT/model, everything small in $OUT/meta.tar.gz
CK=$(ls -d $WORK/run/checkpoints/step-* 2>/dev/null | sort | tail -1)
[ -n "$CK" ] || { echo "no checkpoint written"; exit 1; }
echo "checkpoint: $CK (optimizer state left behind: $(du -ch "$CK"/optimizer* | tail -1))"
mkdir -p "$OUT/model"
cp "$CK"/config.json "$CK"/tokenizer.json "$CK"/model*.safetensors "$OUT/model/"
cp "$CK"/model.safetensors.index.json "$OUT/model/" 2>/dev/null
cp "$CK"/trainer_state.json $WORK/run/log.jsonl $WORK/run/loss.svg $WORK/run/training.json \
    $WORK/synth/synth.json "$META/" 2>/dev/null
cp $WORK/probe/log.jsonl "$META/probe-log.jsonl"
ls -la "$OUT/model"
echo "[$(since)s] done"
tar -czf "$OUT/meta.tar.gz" -C "$META" .
