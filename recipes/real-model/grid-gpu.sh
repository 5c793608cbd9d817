#!/usr/bin/env bash
# Real-model recipe: one model on the real-model issue's evaluation grid, on the GPU machine
# (after train-gpu.sh, which unpacked the CLI into WORK, or on a fresh one with .carry/hsa.xz
# and the evaluation texts in data/): RULER's 13 tasks, BABILong qa1-qa5 and the unseen suite
# at each length. Every (suite, length) cell is its own `hsa eval`, JOBS at a time, the
# longest first, so a time limit costs the short cells last and leaves every finished sample
# behind; at the end each suite's samples are joined and tabulated (`hsa eval --report-only`).
# Leaves grid-TAG.tar.gz in $OUT (per-suite results.md, summary.json, plots, logs).
# Knobs: OUT (required); MODEL [models/small-prose-4k-top8]; TAG [shipped]; BUDGET_S [540];
#   JOBS parallel cells [4]; CELLS ';'-separated SUITE|TASKS|LENGTH|SAMPLES
#   [the unseen pass key at 32M/16M/4M (3, 3, 5), RULER's 13 tasks at 1M-4K (20), BABILong at
#   1M/64K/4K (20), the unseen suite at 1M-4K (10)];
#   BACKEND [cuda]
set -u
: "${OUT:?OUT must name the output directory}"
W=${WORK:-/tmp/real-work}
HSA=$W/hsa
MODEL=${MODEL:-$PWD/models/small-prose-4k-top8}
TAG=${TAG:-shipped}
BUDGET_S=${BUDGET_S:-540}
JOBS=${JOBS:-4}
R13=all,qa_1,qa_2
DEFAULT_CELLS="unseen|passkey|32M|3;unseen|passkey|16M|3;unseen|passkey|4M|5"
DEFAULT_CELLS+=";ruler|$R13|1M|20;ruler|$R13|256K|20;babilong|all|1M|20;unseen|all|1M|10"
DEFAULT_CELLS+=";ruler|$R13|64K|20;babilong|all|64K|20;unseen|all|256K|10;unseen|all|64K|10"
DEFAULT_CELLS+=";ruler|$R13|16K|20;ruler|$R13|4K|20;babilong|all|4K|20;unseen|all|16K|10"
DEFAULT_CELLS+=";unseen|all|4K|10"
CELLS=${CELLS:-$DEFAULT_CELLS}
G=$W/grid/$TAG
T0=$(date +%s)
left() { echo $(( BUDGET_S - ($(date +%s) - T0) )); }
mkdir -p "$G" "$W" "$OUT"
[ -x "$HSA" ] || { xz -dc .carry/hsa.xz > "$HSA" && chmod +x "$HSA"; } || exit 1
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
THREADS=$(( $(nproc) / JOBS > 0 ? $(nproc) / JOBS : 1 ))

IFS=';' read -ra CELL_LIST <<< "$CELLS"
for cell in "${CELL_LIST[@]}"; do
    IFS='|' read -r SUITE TASKS LENGTH SAMPLES <<< "$cell"
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
    [ "$(left)" -gt 5 ] || break
    C=$G/cells/$SUITE-$LENGTH
    mkdir -p "$C"
    HSA_NUM_THREADS=$THREADS timeout "$(left)" "$HSA" eval --backend "${BACKEND:-cuda}" \
        --model "$MODEL" --suite "$SUITE" --tasks "$TASKS" --lengths "$LENGTH" \
        --samples "$SAMPLES" --data data --out "$C" > "$C/eval.log" 2>&1 &
done
wait

# Each suite's cells joined into one table (lengths as columns, 95% intervals in results.md).
for SUITE in ruler babilong unseen; do
    mkdir -p "$G/$SUITE"
    cat "$G"/cells/"$SUITE"-*/results.jsonl > "$G/$SUITE/results.jsonl" 2> /dev/null
    [ -s "$G/$SUITE/results.jsonl" ] || { rm -r "${G:?}/$SUITE"; continue; }
    "$HSA" eval --report-only --model "$MODEL" --suite "$SUITE" --out "$G/$SUITE" \
        > "$G/$SUITE/report.log" 2>&1
    echo "== $SUITE ($TAG)"
    sed -n '/^| task/,/^$/{p;/^$/q}' "$G/$SUITE/results.md"
done
tar -czf "$OUT/grid-$TAG.tar.gz" -C "$W/grid" "$TAG"
