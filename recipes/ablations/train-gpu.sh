#!/usr/bin/env bash
# Trains every ablation row (variants.sh) on one GPU at once, same data, steps and seed, on
# RULER niah_single_1 + copy lines at 512 tokens (docs/RESULTS.md entry 7's task), through
# dev/retrieval-toy/toy-grid.sh. Run from the repository root on the GPU machine; returns
# $OUT/toy-runs.tgz.* (final weights and logs) and $OUT/summary.txt (probe at 512 and 2K).
#   OUT=dir SEED=1 BUDGET_S=480 bash recipes/ablations/train-gpu.sh
# Knobs: SEED [1], BUDGET_S [480] (each run trains until then), STEPS [20000] (the LR
# schedule's length), ONLY (space-separated names to run, default all), KEEP_STATE=1 and
# STATE_TGZ (return every run's full checkpoint; resume them bit for bit in the next call),
# INIT_TGZ (start from an earlier call's weights, fresh optimizer), EXTRA (flags added to
# every run, e.g. --attention-precision bf16), SAMPLES [40000] (synth samples per task),
# BACKEND [cuda] (cpu: a local dry run), GPUS [0] (ordinals the rows are dealt over), WORK
# (scratch; distinct per concurrent seed), TASKS [niah_single_1] (RULER tasks trained and
# probed, copy lines added; e.g. niah_single_1,niah_single_2 for essay haystacks, where the
# landmarks must tell chunks apart).
set -u
: "${OUT:?OUT must name the output directory}"
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=variants.sh
. "$HERE/variants.sh"
specs=()
for row in "${ABLATIONS[@]}"; do
    name=${row%%|*}
    if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then continue; fi
    flags="$TOY_MODEL ${row#*|} --seed ${SEED:-1} ${EXTRA:-}"
    specs+=("$name|$(echo $flags)")
done
OUT=$OUT TOY=ruler MODEL= STEPS=${STEPS:-20000} BUDGET_S=${BUDGET_S:-480} LR=3e-3 SEQ=512 \
    BATCH=16 CHECKPOINT_EVERY=250 PROBE_SAMPLES=10 PROBE_LENGTHS=512,2K \
    RULER_TASKS=${TASKS:-niah_single_1} SYNTH_TASKS=${TASKS:-niah_single_1},copy_line \
    SYNTH_LENGTHS=512 SYNTH_SAMPLES=${SAMPLES:-40000} \
    bash dev/retrieval-toy/toy-grid.sh "${specs[@]}"
