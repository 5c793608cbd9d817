#!/usr/bin/env bash
# Trains the main model and its companions at the paper's geometry (4,096-token sequences,
# chunks of 64, top-8) on the full task mixture: the seven RULER NIAH/VT tasks, BABILong
# qa1-qa5 and copy lines, 1K-4K tokens a sample, loss on the answers only. The models are the
# retrieval toy's width (C 64, 2+2 layers, HSA in upper layer 0, W 32); each run starts from a
# toy that already retrieves (INIT_TGZ: final/NAME/ directories) and all run side by side on the
# visible GPUs through dev/retrieval-toy/toy-grid.sh. Run from the repository root on the GPU
# machine (docs/RESULTS.md entry 14):
#   OUT=dir INIT_TGZ=init.tgz bash recipes/main/train-gpu.sh          # stage 1
#   OUT=dir STATE_TGZ=state.tgz STEPS=30000 bash recipes/main/train-gpu.sh   # stage 2
# Knobs: RUNS (NAME|flags lines; default below), STEPS [16000] (the schedule's length; stage 2
# resumes every run of STATE_TGZ and lengthens it), BUDGET_S [450], GPUS ["0 1 2 3"],
# SAMPLES [2000] per task and length, KEEP_STATE [1], HSA_GZ [.build-lead-rel/hsa.xz],
# TEXT_WEIGHT [none: tasks only, as in entries 14-15; e.g. 1 mixes the English corpus of the
# data archive in at a 1:1 share of tokens, loss on every text token].
set -u
: "${OUT:?OUT must name the output directory}"
G="--chunk-size 64 --top-k 8 --attention-precision bf16"
DEFAULT_RUNS="main-s1|$G --seed 1
main-s2|$G --seed 2
main-s3|$G --seed 3
seq-s1|$G --seed 1
mean-s1|$G --seed 1
dense|--attention-precision bf16 --seed 1"
mapfile -t specs <<< "${RUNS:-$DEFAULT_RUNS}"
TASKS=niah_single_1,niah_single_2,niah_single_3,niah_multikey_1,niah_multiquery,niah_multivalue
OUT=$OUT TOY=ruler MODEL= STEPS=${STEPS:-16000} BUDGET_S=${BUDGET_S:-450} LR=1e-3 SEQ=4096 \
    BATCH=4 CHECKPOINT_EVERY=250 PROBE_SAMPLES=5 PROBE_LENGTHS=4K \
    SYNTH_TASKS=$TASKS,vt,qa1,qa2,qa3,qa4,qa5,copy_line SYNTH_LENGTHS=1K,2K,4K \
    SYNTH_SAMPLES=${SAMPLES:-2000} KEEP_STATE=${KEEP_STATE:-1} GPUS=${GPUS:-"0 1 2 3"} \
    HSA_GZ=${HSA_GZ:-.build-lead-rel/hsa.xz} bash dev/retrieval-toy/toy-grid.sh "${specs[@]}"
