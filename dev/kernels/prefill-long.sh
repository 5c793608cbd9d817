#!/usr/bin/env bash
# GPU streaming prefill at long lengths (issue 6 target: 32M tokens, `paper`, < 10 minutes on
# one H100). Runs on the GPU host from the repository root; random weights (the speed does not
# depend on them). Writes $OUT/prefill-<preset>.json and a log per preset.
#   HSA_GZ  gzipped static CLI [.build-lead-rel/hsa.gz]
#   SMALL_LENGTHS [1M,4M,16M,32M]   PAPER_LENGTHS [4M,16M,32M]
#   SMALL_LIMIT_S, PAPER_LIMIT_S  seconds each preset may run [300]
set -u
: "${OUT:?OUT must name the output directory}"
HSA=/tmp/hsa-prefill
gunzip -c "${HSA_GZ:-.build-lead-rel/hsa.gz}" > "$HSA" && chmod +x "$HSA" || exit 1
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
run() {  # preset lengths limit-seconds extra-flags...
    local preset=$1 lengths=$2 limit=$3; shift 3
    timeout "$limit" "$HSA" bench prefill --backend cuda --preset "$preset" --lengths "$lengths" \
        --kv-precision bf16 --decode-steps 8 --out "$OUT/prefill-$preset.json" \
        --plot "$OUT/prefill-$preset.svg" "$@" \
        2>&1 | tee "$OUT/prefill-$preset.log"
    echo "$preset: exit ${PIPESTATUS[0]} (124: stopped at $limit s)"
}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -1
run small "${SMALL_LENGTHS:-1M,4M,16M,32M}" "${SMALL_LIMIT_S:-300}"
run paper "${PAPER_LENGTHS:-4M,16M,32M}" "${PAPER_LIMIT_S:-300}" --matmul-precision bf16
