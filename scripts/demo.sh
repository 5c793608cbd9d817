#!/usr/bin/env bash
# The main job, on a fresh machine: installs the Debian packages, builds hsa, evaluates the
# best shipped model (models/ruler-4k-seq-top8, trained on 4K-token samples) on RULER's
# niah_single_1 (noise haystack) and niah_single_2 (essay haystack) needle tasks at 4K-256K
# tokens, prints the table and writes the plot, then asks it for the magic number hidden in a
# 100K-token document with `hsa generate`. With
# HSA_DEMO_STEPS > 0 it then also assembles the English corpus from Debian packages and trains
# the `small` preset on the CPU.
#
# Environment: HSA_DEMO_LENGTHS (default 4K,16K,64K,256K), HSA_DEMO_SAMPLES (default 10),
# HSA_DEMO_OUT (default runs/demo), HSA_DEMO_STEPS (default 0: no training run).
set -euo pipefail
cd "$(dirname "$0")/.."
lengths="${HSA_DEMO_LENGTHS:-4K,16K,64K,256K}"
samples="${HSA_DEMO_SAMPLES:-10}"
out="${HSA_DEMO_OUT:-runs/demo}"
steps="${HSA_DEMO_STEPS:-0}"
model=models/ruler-4k-seq-top8
tasks=niah_single_1,niah_single_2

bash scripts/install-deps.sh
echo "== building hsa (release)"
swift build -c release --product hsa 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] ' || true
hsa=.build/release/hsa
test -x "$hsa"
rm -rf "$out"
mkdir -p "$out"

echo "== evaluating $model: RULER $tasks ($lengths tokens, $samples samples each)"
"$hsa" eval --model "$model" --suite ruler --tasks "$tasks" --lengths "$lengths" \
    --samples "$samples" --out "$out/eval"

echo "== a 100K-token document: a magic number among 1,100 lines of noise, then the question"
# RULER's niah_single_1 template, the needle at a random line
number=$((1000000 + (RANDOM * 32768 + RANDOM) % 9000000))
needle_line=$((RANDOM % 1100))
noise="The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
intro="A special magic number is hidden within the following text."
intro="$intro Make sure to memorize it. I will quiz you about the number afterwards."
{
    echo "$intro"
    for ((line = 0; line < 1100; line++)); do
        if [ "$line" -eq "$needle_line" ]; then
            echo "One of the special magic numbers for quiet-harbor is: $number."
        fi
        echo "$noise"
    done
    printf '%s%s' \
        "What is the special magic number for quiet-harbor mentioned in the provided text?" \
        " The special magic number for quiet-harbor mentioned in the provided text is"
} > "$out/document.txt"
echo "the number on line $needle_line of 1,100: $number"
echo -n "the model's answer:     "
"$hsa" generate --model "$model" --prompt-file "$out/document.txt" --max-tokens 9 \
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
