#!/usr/bin/env bash
# Builds what recipes/real-model sends to the GPU machine into .carry/ (git-ignored through
# .git/info/exclude): the static CLI (xz), one corpus part and the word lists + held-out texts.
# Builds the corpus and its parts first if data/ lacks them.
#
# Usage: bash recipes/real-model/pack-carry.sh [PART]     PART: 01, 02 or 03 [01]
# Rotate PART across sessions so training sees every document over three sessions.
set -euo pipefail
cd "$(dirname "$0")/../.."
part="${1:-01}"
mkdir -p .carry
grep -qx '/.carry/' .git/info/exclude 2>/dev/null || echo /.carry/ >> .git/info/exclude
[ -d data/corpus ] || bash scripts/build_corpus.sh
[ -f "data/corpus-packed/corpus-part-$part.tar.xz" ] || bash scripts/pack_corpus.sh
[ -d data/eval/words ] || bash scripts/install_eval_data.sh
swift build -c release --static-swift-stdlib --product hsa --scratch-path .build-rel
strip -o .build-rel/hsa-stripped .build-rel/release/hsa
xz -9 -T2 -c .build-rel/hsa-stripped > .carry/hsa.xz
rm -f .carry/corpus-part-*.tar.xz
cp "data/corpus-packed/corpus-part-$part.tar.xz" .carry/
# The essays are the RULER and unseen haystack: without them a GPU evaluation falls back to
# another text and its scores differ from the CPU's.
tar -cf - -C data eval/words eval/paul_graham_essays.txt heldout | xz -9 -T2 > .carry/eval.tar.xz
du -b .carry/* | awk '{ printf "%6.1f MB  %s\n", $1 / 1e6, $2 }'
