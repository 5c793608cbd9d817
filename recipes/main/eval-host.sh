#!/usr/bin/env bash
# An evaluation grid on one GPU host: every cell (model, suite, task, length) is its own
# `hsa eval` process writing its own results.jsonl. Cells at GPU_MIN_LENGTH and beyond run on
# the GPUs (GPU_WORKERS processes per GPU), the shorter ones as single-threaded CPU processes
# (JOBS at once). A cell cut by the budget resumes in a later run with the same output
# (RESUME_TAR). Measured on a 64-core host (docs/RESULTS.md entry 14):
# 58 CPU cells at once ran ~10x slower each than one alone, so keep JOBS well below the cores.
#   OUT=dir MODELS="main:DIR seq:DIR" bash recipes/main/eval-host.sh
# Knobs: BUDGET_S [420], SAMPLES [20], RULER_TASKS [the seven NIAH/VT tasks], LENGTHS
#   [4K,16K,64K,256K,1M] (BABILong too), GRID_MODELS [every model; "" for none: the models
#   LENGTHS runs], BABILONG_MODELS [the first; "" for none], LONG_CELLS ["": NAME:LENGTH[:SAMPLES]
#   RULER cells beyond LENGTHS, queued first, in order],
#   YARN_MODELS ["": names of dense RoPE models evaluated with YaRN, factor length / 4K, at
#   lengths past their 4K training length],
#   GPU_MIN_LENGTH [1M], GPU_WORKERS [2], JOBS [nproc / 2], HSA_GZ [.build-lead-rel/hsa.xz],
#   DATA_TAR [.carry/data.tar.xz], BACKEND [cuda; cpu for a dry run].
# Leaves $OUT/eval.tar.gz: results/NAME/SUITE-TASK-LENGTH/ (merge with recipes/main/merge.sh).
set -u
: "${OUT:?OUT must name the output directory}"
: "${MODELS:?MODELS must list NAME:DIR pairs}"
BUDGET_S=${BUDGET_S:-420}
SAMPLES=${SAMPLES:-20}
RULER_TASKS=${RULER_TASKS:-niah_single_1,niah_single_2,niah_single_3,niah_multikey_1,niah_multiquery,niah_multivalue,vt}
LENGTHS=${LENGTHS:-4K,16K,64K,256K,1M}
W=${WORK:-/tmp/eval-host}
T0=$(date +%s)
mkdir -p "$W/results" "$W/data" "$W/locks" "$OUT"
HSA_GZ=${HSA_GZ:-.build-lead-rel/hsa.xz}
case "$HSA_GZ" in *.xz) xz -dc "$HSA_GZ" > "$W/hsa" ;; *) gunzip -c "$HSA_GZ" > "$W/hsa" ;; esac
chmod +x "$W/hsa"
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
xz -dc "${DATA_TAR:-.carry/data.tar.xz}" | tar -x -C "$W/data"
[ -n "${RESUME_TAR:-}" ] && tar -xzf "$RESUME_TAR" -C "$W"
NGPU=$(nvidia-smi -L 2>/dev/null | wc -l)
[ "$NGPU" -gt 0 ] || NGPU=1  # a CPU dry run: the "GPU" cells run on the CPU too
read -ra PAIRS <<< "$MODELS"
first=${PAIRS[0]%%:*}
model_dir() { for p in "${PAIRS[@]}"; do [ "${p%%:*}" = "$1" ] && echo "${p#*:}"; done; }
tokens() {  # 4K -> 4096
    case "$1" in
    *K) echo $(( ${1%K} << 10 )) ;;
    *M) echo $(( ${1%M} << 20 )) ;;
    *) echo "$1" ;;
    esac
}
gpu_min=$(tokens "${GPU_MIN_LENGTH:-1M}")

# One cell: NAME DIR SUITE TASK LENGTH SAMPLES BACKEND, under what is left of the budget. GPU
# cells pick their GPU from xargs' process slot.
cell() {
    local left=$(( BUDGET_S - ($(date +%s) - T0) ))
    [ "$left" -gt 5 ] || return 0
    local done=$(cat "$W/results/$1/$3-$4-$5/results.jsonl" 2>/dev/null | wc -l)
    [ "$done" -lt "$6" ] || return 0  # finished in an earlier run: start no process
    local gpu=$(( ${SLOT:-0} % NGPU ))
    local yarn=() length
    length=$(tokens "$5")
    if [[ " ${YARN_MODELS:-} " == *" $1 "* ]] && [ "$length" -gt 4096 ]; then
        yarn=(--yarn-factor $(( length / 4096 )) --yarn-original-length 4096)
    fi
    # One evaluation per cell at a time: a second run on the same WORK skips a cell another
    # still holds instead of evaluating its samples again.
    HSA_NUM_THREADS=1 HSA_DEVICE_ORDINAL=$gpu flock -n "$W/locks/$1-$3-$4-$5" \
        timeout "$left" "$W/hsa" eval --backend "$7" \
        --model "$2" --suite "$3" --tasks "$4" --lengths "$5" --samples "$6" --diagnostics \
        "${yarn[@]}" \
        --data "$W/data" --out "$W/results/$1/$3-$4-$5" >> "$W/cells.log" 2>&1
}
export -f cell tokens
export W T0 BUDGET_S NGPU YARN_MODELS
# One line per cell: NAME DIR SUITE TASK LENGTH SAMPLES, then the length in tokens.
emit() { echo "$1 $(model_dir "$1") $2 $3 $4 $5 $(tokens "$4")"; }
# Every cell: LONG_CELLS first, then the grid, the longest lengths first (the budget cuts the
# short ones, which any CPU finishes later).
cells() {
    local spec name length samples task
    for spec in ${LONG_CELLS:-}; do
        IFS=: read -r name length samples <<< "$spec"
        for task in ${RULER_TASKS//,/ }; do
            emit "$name" ruler "$task" "$length" "${samples:-$SAMPLES}"
        done
    done
    for length in $(echo "$LENGTHS" | tr , '\n' | tac); do
        for name in ${GRID_MODELS-${PAIRS[@]%%:*}}; do
            for task in ${RULER_TASKS//,/ }; do
                emit "$name" ruler "$task" "$length" "$SAMPLES"
            done
        done
        for name in ${BABILONG_MODELS-$first}; do
            for task in qa1 qa2 qa3 qa4 qa5; do
                emit "$name" babilong "$task" "$length" "$SAMPLES"
            done
        done
    done
}
cells | awk -v m="$gpu_min" '$7 < m {NF = 6; print $0, "cpu"}' \
    | xargs -r -P "${JOBS:-$(( $(nproc) / 2 ))}" -L 1 bash -c 'cell "$@"' _ &
cells | awk -v m="$gpu_min" -v b="${BACKEND:-cuda}" '$7 >= m {NF = 6; print $0, b}' \
    | xargs -r -P $(( NGPU * ${GPU_WORKERS:-2} )) --process-slot-var=SLOT -L 1 \
        bash -c 'cell "$@"' _ &
wait
echo "[$(( $(date +%s) - T0 ))s] samples: $(cat "$W"/results/*/*/results.jsonl 2>/dev/null | wc -l)"
tail -3 "$W/cells.log"
tar -czf "$OUT/eval.tar.gz" -C "$W" results
