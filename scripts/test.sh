#!/usr/bin/env bash
# The test command: installs dependencies, checks formatting, builds, runs the default test
# suite (GPU tests are skipped visibly on machines without one), then checks that the static
# release binary links.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# Formatting (rules in .swift-format: 4 spaces, 100 columns).
swift format lint --strict --recursive Sources Tests Package.swift
swift build
# Hide the per-file compile lines; keep every test line and the runner's summary.
set +e
swift test 2>&1 | grep --line-buffered -vE '^\[[0-9]+/[0-9]+\] '
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
    echo "swift test failed with status $status"
    exit "$status"
fi
# hsa tokenizer against the Hugging Face tokenizers library (scripts/tokenizer_check.py).
if command -v python3 >/dev/null && python3 -c "import tokenizers" 2>/dev/null; then
    python3 scripts/tokenizer_check.py
else
    echo "skipping scripts/tokenizer_check.py: python3 or the tokenizers package is missing"
fi
# hsa-serve end to end with the official openai client and curl (scripts/serve_check.py).
if command -v python3 >/dev/null && command -v curl >/dev/null \
    && python3 -c "import openai" 2>/dev/null; then
    python3 scripts/serve_check.py
else
    echo "skipping scripts/serve_check.py: python3, curl or the openai package is missing"
fi
swift build -c release --static-swift-stdlib --product hsa
echo "static release binary: $(stat -c %s .build/release/hsa) bytes"
