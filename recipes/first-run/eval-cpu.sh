#!/usr/bin/env bash
# Evaluate the model brought back by train-gpu.sh on the CPU (streaming engine), at and beyond
# the training length: 1K-16K with retrieval diagnostics, then 64K without.
#
# Usage: recipes/first-run/eval-cpu.sh MODEL_DIR [HSA_BINARY]
#   MODEL_DIR  the returned $OUT/model (config.json, tokenizer.json, model-*.safetensors)
#   HSA_BINARY defaults to .build-firstrun/release/hsa
# Timing on the 2-core dev machine: about 3 s per 4K sample, 15 s per 16K sample with
# diagnostics, about 13 s per 64K sample (about 5 minutes in all).
set -eu
MODEL=${1:?usage: eval-cpu.sh MODEL_DIR [HSA_BINARY]}
HSA=${2:-.build-firstrun/release/hsa}
TASKS=niah_single_1,niah_single_2,niah_multikey_1
"$HSA" eval --model "$MODEL" --suite ruler --tasks "$TASKS" --lengths 1K,2K,4K,16K \
    --samples 5 --diagnostics --max-diagnostics-length 16K --out runs/first-eval
"$HSA" eval --model "$MODEL" --suite ruler --tasks "$TASKS" --lengths 64K --samples 2 \
    --out runs/first-eval-64k
