#!/usr/bin/env bash
# The main job, on a fresh machine: installs the Debian packages, builds hsa and shows the
# shipped language model (models/small-prose-4k-top8: 8.2M parameters, byte-level, trained on
# English prose with copy drills at 1,024 then 4,096 tokens): it continues a prose prompt, finds
# a pass key hidden in a 64K-token document (the literature's prompt, a wording it never saw)
# with `hsa generate`, and prints short tables of that pass-key task and of RULER's needle
# tasks at 4K and 16K tokens (`hsa eval`). With HSA_DEMO_STEPS > 0 it then also assembles the
# English corpus from Debian packages and trains the `small` preset on the CPU.
#
# Environment: HSA_DEMO_MODEL (default models/small-prose-4k-top8), HSA_DEMO_LENGTHS (default
# 4K,16K), HSA_DEMO_SAMPLES (default 5), HSA_DEMO_DOCUMENT_LINES (pass-key document size in
# filler lines of ~90 bytes, default 720: ~64K tokens), HSA_DEMO_OUT (default runs/demo),
# HSA_DEMO_STEPS (default 0: no training run).
set -euo pipefail
cd "$(dirname "$0")/.."
model="${HSA_DEMO_MODEL:-models/small-prose-4k-top8}"
lengths="${HSA_DEMO_LENGTHS:-4K,16K}"
samples="${HSA_DEMO_SAMPLES:-5}"
lines="${HSA_DEMO_DOCUMENT_LINES:-720}"
out="${HSA_DEMO_OUT:-runs/demo}"
steps="${HSA_DEMO_STEPS:-0}"

bash scripts/install-deps.sh
echo "== building hsa (release)"
swift build -c release --product hsa 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] ' || true
hsa=.build/release/hsa
test -x "$hsa"
rm -rf "$out"
mkdir -p "$out"

echo "== $model continues a prose prompt (200 bytes, temperature 0.7)"
"$hsa" generate --model "$model" --max-tokens 200 --temperature 0.7 --top-k 40 --seed 1 \
    --prompt "It was late in the evening when the letter finally arrived, and" 2>/dev/null
echo

echo "== a pass key hidden in a document of $lines filler lines, then the question"
# The pass-key prompt of the long-context literature (Mohtashami & Jaggi 2023)
key=$((10000 + (RANDOM * 32768 + RANDOM) % 90000))
key_line=$((RANDOM % lines))
filler="The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
{
    printf '%s ' "There is an important info hidden inside a lot of irrelevant text." \
        "Find it and memorize it. I will quiz you about the important information there."
    for ((line = 0; line < lines; line++)); do
        if [ "$line" -eq "$key_line" ]; then
            printf '%s ' "The pass key is $key. Remember it. $key is the pass key."
        fi
        printf '%s ' "$filler"
    done
    printf '%s' "What is the pass key? The pass key is"
} > "$out/document.txt"
echo "document: $(wc -c < "$out/document.txt") bytes (= tokens); the key $key at line $key_line"
echo -n "the model's answer:"
"$hsa" generate --model "$model" --prompt-file "$out/document.txt" --max-tokens 7 \
    --temperature 0 2>/dev/null | tail -n 1

echo "== the same task by hsa eval (unseen suite), $lengths tokens, $samples samples each"
"$hsa" eval --model "$model" --suite unseen --tasks passkey --lengths "$lengths" \
    --samples "$samples" --out "$out/passkey"
echo "== RULER needle tasks (never trained on), $lengths tokens, $samples samples each"
"$hsa" eval --model "$model" --suite ruler --tasks niah_single_1,niah_single_2,niah_multikey_1 \
    --lengths "$lengths" --samples "$samples" --out "$out/ruler"

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

echo "== done: tables in $out/passkey/results.md and $out/ruler/results.md"
