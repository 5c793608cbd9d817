#!/usr/bin/env bash
# The main model's evaluation grid on one GPU host, both halves at once: every cell up to 1M
# tokens as its own single-threaded CPU process (one such process runs the toy-sized models at
# ~85K tokens/s on one core of the development VM), the 4M-32M cells on the GPUs (one process
# per GPU, all 4M cells first). Each cell writes its own results.jsonl, so a cell cut by the
# budget resumes in a later run with the same output (RESUME_TAR). Measured on a 64-core host
# (docs/RESULTS.md entry 14): 58 cells at once ran ~10x slower each than one alone, so a
# smaller JOBS may finish more.
#   OUT=dir MODELS="main:DIR seq:DIR" bash recipes/main/eval-host.sh
# Knobs: BUDGET_S [420], SAMPLES [20] (CPU cells), RULER_TASKS [the seven NIAH/VT tasks],
#   CPU_LENGTHS [4K,16K,64K,256K,1M] (BABILong too), BABILONG_MODELS [the first],
#   GPU_CELLS ["4M:5 16M:2 32M:1": length:samples, in order], GPU_MODEL [the first],
#   HSA_GZ [.build-lead-rel/hsa.xz], DATA_TAR [.carry/data.tar.xz], JOBS [nproc - GPUs],
#   BACKEND [cuda; cpu for a dry run].
# Leaves $OUT/eval.tar.gz: results/NAME/SUITE-TASK-LENGTH/ (merge with recipes/main/merge.sh).
set -u
: "${OUT:?OUT must name the output directory}"
: "${MODELS:?MODELS must list NAME:DIR pairs}"
BUDGET_S=${BUDGET_S:-420}
RULER_TASKS=${RULER_TASKS:-niah_single_1,niah_single_2,niah_single_3,niah_multikey_1,niah_multiquery,niah_multivalue,vt}
CPU_LENGTHS=${CPU_LENGTHS:-4K,16K,64K,256K,1M}
W=${WORK:-/tmp/eval-host}
T0=$(date +%s)
mkdir -p "$W/results" "$W/data" "$OUT"
HSA_GZ=${HSA_GZ:-.build-lead-rel/hsa.xz}
case "$HSA_GZ" in *.xz) xz -dc "$HSA_GZ" > "$W/hsa" ;; *) gunzip -c "$HSA_GZ" > "$W/hsa" ;; esac
chmod +x "$W/hsa"
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
xz -dc "${DATA_TAR:-.carry/data.tar.xz}" | tar -x -C "$W/data"
[ -n "${RESUME_TAR:-}" ] && tar -xzf "$RESUME_TAR" -C "$W"
NGPU=$(nvidia-smi -L 2>/dev/null | wc -l)
[ "$NGPU" -gt 0 ] || NGPU=1  # a CPU dry run: one process plays the GPU
read -ra PAIRS <<< "$MODELS"
first=${PAIRS[0]%%:*}
model_dir() { for p in "${PAIRS[@]}"; do [ "${p%%:*}" = "$1" ] && echo "${p#*:}"; done; }

# One CPU cell: NAME DIR SUITE TASK LENGTH, under what is left of the budget.
cell() {
    local left=$(( BUDGET_S - ($(date +%s) - T0) ))
    [ "$left" -gt 5 ] || return 0
    HSA_NUM_THREADS=1 timeout "$left" "$W/hsa" eval --model "$2" --suite "$3" \
        --tasks "$4" --lengths "$5" --samples "${SAMPLES:-20}" --diagnostics --data "$W/data" \
        --out "$W/results/$1/$3-$4-$5" > /dev/null 2>&1
}
export -f cell
export W T0 BUDGET_S SAMPLES
# the longest cells first, so that they are not the ones the budget cuts
cells() {
    for length in $(echo "$CPU_LENGTHS" | tr , '\n' | tac); do
        for p in "${PAIRS[@]}"; do
            for task in $(echo "$RULER_TASKS" | tr , ' '); do
                echo "${p%%:*} ${p#*:} ruler $task $length"
            done
        done
        for name in ${BABILONG_MODELS:-$first}; do
            for task in qa1 qa2 qa3 qa4 qa5; do
                echo "$name $(model_dir "$name") babilong $task $length"
            done
        done
    done
}
cells | xargs -P "${JOBS:-$(( $(nproc) - NGPU ))}" -L 1 bash -c 'cell "$@"' _ &

gpu_model=${GPU_MODEL:-$first}
gpu_dir=$(model_dir "$gpu_model")
gpu_jobs() {  # GPU ordinal: its share of the GPU cells, all tasks of one length before the next
    local i=0
    for spec in ${GPU_CELLS:-4M:5 16M:2 32M:1}; do
        for task in $(echo "$RULER_TASKS" | tr , ' '); do
            if [ $(( i % NGPU )) -eq "$1" ]; then
                local left=$(( BUDGET_S - ($(date +%s) - T0) ))
                [ "$left" -gt 10 ] || return
                HSA_DEVICE_ORDINAL=$1 timeout "$left" "$W/hsa" eval --backend "${BACKEND:-cuda}" \
                    --model "$gpu_dir" --suite ruler --tasks "$task" \
                    --lengths "${spec%%:*}" --samples "${spec#*:}" --data "$W/data" \
                    --out "$W/results/$gpu_model/ruler-$task-${spec%%:*}" >> "$W/gpu$1.log" 2>&1
            fi
            i=$(( i + 1 ))
        done
    done
}
for gpu in $(seq 0 $(( NGPU - 1 ))); do gpu_jobs "$gpu" & done
wait
echo "[$(( $(date +%s) - T0 ))s] samples: $(cat "$W"/results/*/*/results.jsonl 2>/dev/null | wc -l)"
tail -3 "$W"/gpu*.log 2>/dev/null
tar -czf "$OUT/eval.tar.gz" -C "$W" results
