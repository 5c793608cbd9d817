#!/usr/bin/env bash
# The evaluation grid on the GPU host: RULER tasks over a length sweep and BABILong qa1-qa5,
# `hsa eval --backend cuda`, one process per visible GPU (tasks split between them), under a
# wall-clock budget. `hsa eval` appends each sample to results.jsonl as it finishes, so a grid
# larger than one call continues in the next: bring $OUT/eval.tar.gz back and pass it as
# RESUME_TAR.
#
# Expects (carried): $HSA_GZ [.build-lead-rel/hsa.gz], the model directory $MODEL, and
# .carry/data.tar.xz (essays, word lists, held-out novel; see README.md here).
# Knobs: OUT (required), MODEL (required), BUDGET_S [540], SAMPLES [20],
#   RULER_TASKS [niah_single_1,niah_single_2,niah_single_3,niah_multikey_1,niah_multiquery,
#                niah_multivalue,vt]
#   RULER_LENGTHS [4K,16K,64K,256K,1M,4M,16M,32M]   BABILONG_LENGTHS [4K,16K,64K,256K,1M]
#   EXTRA  extra `hsa eval` flags, e.g. "--matmul-precision bf16"; BACKEND [cuda] (cpu: a dry run)
set -u
: "${OUT:?OUT must name the output directory}"
: "${MODEL:?MODEL must name the model directory}"
BUDGET_S=${BUDGET_S:-540}
SAMPLES=${SAMPLES:-20}
RULER_TASKS=${RULER_TASKS:-niah_single_1,niah_single_2,niah_single_3,niah_multikey_1,niah_multiquery,niah_multivalue,vt}
RULER_LENGTHS=${RULER_LENGTHS:-4K,16K,64K,256K,1M,4M,16M,32M}
BABILONG_LENGTHS=${BABILONG_LENGTHS:-4K,16K,64K,256K,1M}
W=${WORK:-/tmp/eval-work}
T0=$(date +%s)
mkdir -p "$W/results" "$OUT"
HSA=$W/hsa
gunzip -c "${HSA_GZ:-.build-lead-rel/hsa.gz}" > "$HSA" && chmod +x "$HSA" || exit 1
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
[ -d data/eval ] || { mkdir -p data && tar -xJf .carry/data.tar.xz -C data; } || exit 1
[ -n "${RESUME_TAR:-}" ] && tar -xzf "$RESUME_TAR" -C "$W/results"
NGPU=$(nvidia-smi -L 2>/dev/null | wc -l)
[ "$NGPU" -gt 0 ] || NGPU=1

# One job per (suite, task); jobs go round robin to the GPUs, each GPU runs its jobs in order.
JOBS=()
IFS=',' read -ra TASK_LIST <<< "$RULER_TASKS"
for task in "${TASK_LIST[@]}"; do JOBS+=("ruler $task $RULER_LENGTHS"); done
for task in qa1 qa2 qa3 qa4 qa5; do JOBS+=("babilong $task $BABILONG_LENGTHS"); done
run_gpu() {
    local gpu=$1 i=0
    for job in "${JOBS[@]}"; do
        if [ $(( i % NGPU )) -eq "$gpu" ]; then
            read -r suite task lengths <<< "$job"
            local left=$(( BUDGET_S - ($(date +%s) - T0) ))
            [ "$left" -gt 10 ] || return
            # shellcheck disable=SC2086
            CUDA_VISIBLE_DEVICES=$gpu timeout "$left" "$HSA" eval --backend "${BACKEND:-cuda}" \
                --model "$MODEL" --suite "$suite" --tasks "$task" --lengths "$lengths" \
                --samples "$SAMPLES" --data data --out "$W/results/$suite-$task" ${EXTRA:-} \
                >> "$W/results/gpu$gpu.log" 2>&1
        fi
        i=$(( i + 1 ))
    done
}
PIDS=()
for gpu in $(seq 0 $(( NGPU - 1 ))); do run_gpu "$gpu" & PIDS+=($!); done
wait "${PIDS[@]}"
for f in "$W"/results/*/results.md; do echo "== $f"; cat "$f"; done
echo "[$(( $(date +%s) - T0 ))s] done; samples so far: $(cat "$W"/results/*/results.jsonl 2>/dev/null | wc -l)"
tar -czf "$OUT/eval.tar.gz" -C "$W/results" .
