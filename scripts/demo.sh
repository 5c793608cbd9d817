#!/usr/bin/env bash
# The main job, on a fresh machine: installs the Debian packages, builds hsa, evaluates the
# shipped model (models/copy-lines-mean-top16, trained on lines of at most ~160 tokens) on
# copying a line back across filler at 4K-256K tokens, prints the table and writes the plot,
# then lets it answer for a 100K-token document with `hsa generate`. With HSA_DEMO_STEPS > 0
# it then also assembles the English corpus from Debian packages and trains the `small` preset
# on the CPU.
#
# Environment: HSA_DEMO_LENGTHS (default 4K,16K,64K,256K), HSA_DEMO_SAMPLES (default 10),
# HSA_DEMO_OUT (default runs/demo), HSA_DEMO_STEPS (default 0: no training run).
set -euo pipefail
cd "$(dirname "$0")/.."
lengths="${HSA_DEMO_LENGTHS:-4K,16K,64K,256K}"
samples="${HSA_DEMO_SAMPLES:-10}"
out="${HSA_DEMO_OUT:-runs/demo}"
steps="${HSA_DEMO_STEPS:-0}"
model=models/copy-lines-mean-top16

bash scripts/install-deps.sh
echo "== building hsa (release)"
swift build -c release --product hsa 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] ' || true
hsa=.build/release/hsa
test -x "$hsa"
rm -rf "$out"
mkdir -p "$out"

echo "== evaluating $model: copy a 24-letter line back across filler ($lengths tokens)"
"$hsa" eval --model "$model" --suite copy --lengths "$lengths" --samples "$samples" \
    --out "$out/eval"

echo "== a 100K-token document: 24 letters, 100,000 bytes of filler, then '|' asks for them"
# (no `head` after `tr`: its early exit would fail the pipeline under pipefail)
letters=$(head -c 4096 /dev/urandom | tr -dc 'a-z')
letters=${letters:0:24}
filler=$(head -c 1200000 /dev/urandom | tr -dc 'A-Z ')
filler=${filler:0:100000}
printf '%s|%s|' "$letters" "$filler" > "$out/document.txt"
echo "the letters at its start: $letters"
echo -n "the model's answer:       "
"$hsa" generate --model "$model" --prompt-file "$out/document.txt" --max-tokens 24 \
    --temperature 0 2>/dev/null | tail -n 1

if [ "$steps" -gt 0 ]; then
    echo "== assembling the training corpus from Debian packages"
    if [ ! -d data/corpus ]; then bash scripts/build_corpus.sh data/corpus data/heldout; fi
    "$hsa" data prepare data/corpus --out data/tokens
    echo "== training small ($steps steps; progress lines every 10 steps)"
    "$hsa" train --data data/tokens --out "$out/train" --preset small --seq-len 256 \
        --batch-size 4 --steps "$steps" --warmup-steps 20 --lr 2e-3 --min-lr 2e-4 \
        --eval-every 50 --checkpoint-every 100 --max-shard-size 16000000
    checkpoint=$(ls -d "$out"/train/checkpoints/step-* | tail -n 1)
    "$hsa" generate --model "$checkpoint" --max-tokens 200 --temperature 0.7 --top-k 40 \
        --seed 1 --prompt "It is a truth universally acknowledged, that"
fi

echo "== done: table $out/eval/results.md, plot $out/eval/accuracy_vs_length.svg"
