#!/usr/bin/env bash
# Installs the Debian packages hsa builds against (OpenBLAS), unless they are already there.
set -euo pipefail
if ! pkg-config --exists openblas 2>/dev/null; then
    echo "installing libopenblas-dev and pkg-config"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev pkg-config >/dev/null
fi
# The official OpenAI client, for scripts/serve_check.py (test.sh skips that check, saying so,
# when it cannot be installed: no pip, no network).
if command -v python3 >/dev/null && ! python3 -c "import openai" 2>/dev/null; then
    python3 -m pip install -q openai >/dev/null 2>&1 \
        || echo "could not install the openai Python package (pip); serve_check.py will be skipped"
fi
# Hugging Face tokenizers, for scripts/tokenizer_check.py (skipped, saying so, without it).
if command -v python3 >/dev/null && ! python3 -c "import tokenizers" 2>/dev/null; then
    python3 -m pip install -q tokenizers >/dev/null 2>&1 \
        || echo "could not install the tokenizers Python package (pip); tokenizer_check.py will be skipped"
fi
