#!/usr/bin/env bash
# Installs the Debian packages hsa builds against (OpenBLAS), unless they are already there.
set -euo pipefail
if ! pkg-config --exists openblas 2>/dev/null; then
    echo "installing libopenblas-dev and pkg-config"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev pkg-config >/dev/null
fi
