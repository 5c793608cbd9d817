#!/usr/bin/env bash
# Issue 6's side-by-side numbers on one GPU (run from the repository root on the GPU host).
#   STAGE=hsa    `hsa selftest --backend cuda --bench` (parity table, HSA op timings at fp32
#                and bf16), `hsa bench train` small/paper at T 4096 with fp32 and bf16 (GEMMs
#                and attention), `hsa bench prefill` paper 1M/4M with fp32 and bf16 attention
#   STAGE=torch  the PyTorch twin (reference/bench_train.py) on the same GPU: eager fp32,
#                torch.compile fp32, torch.compile + autocast bf16, small and paper
#   STAGE=triton the public Triton HSA kernel (HSA_TRITON_DIR [.carry/hsa_triton], holding
#                RamstorageAI/long-context-modeling's ops/hsa_triton.py): the op at issue 6's
#                shape next to `hsa selftest --kernels-only --bench`, then training steps with
#                per-chunk retrieval (the kernel needs 16 query rows per program, and the
#                presets have 4 query heads per KV head): hsa bf16, the twin with
#                torch.compile + autocast bf16, and the same with the Triton kernel
# Outputs in $OUT: selftest.txt, train-hsa.txt, prefill.txt, train-torch.txt, triton-op.json,
# train-triton.txt, summary.txt.
#   HSA_GZ  gzipped static CLI [.build-lead-rel/hsa.gz]
set -u
: "${OUT:?OUT must name the output directory}"
HSA=/tmp/hsa-bench
summary="$OUT/summary.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$summary"
case "${STAGE:-hsa}" in
hsa)
    gunzip -c "${HSA_GZ:-.build-lead-rel/hsa.gz}" > "$HSA" && chmod +x "$HSA" || exit 1
    timeout 200 "$HSA" selftest --backend cuda --bench > "$OUT/selftest.txt" 2>&1
    grep -E "checks|sparse attention|HSA ops" "$OUT/selftest.txt" >> "$summary"
    for preset in small paper; do
        for precision in fp32 bf16; do
            echo "== hsa $preset GEMMs and attention $precision" >> "$OUT/train-hsa.txt"
            timeout 100 "$HSA" bench train --backend cuda --preset "$preset" --seq-len 4096 \
                --warmup 2 --steps 5 --matmul-precision "$precision" \
                --attention-precision "$precision" --out "/tmp/train-$preset-$precision.json" \
                >> "$OUT/train-hsa.txt" 2>&1
            echo "hsa $preset $precision: $(grep -o '"step_ms" : [0-9.]*' \
                "/tmp/train-$preset-$precision.json")" >> "$summary"
        done
    done
    for precision in fp32 bf16; do
        echo "== paper prefill, attention $precision" >> "$OUT/prefill.txt"
        timeout 150 "$HSA" bench prefill --backend cuda --preset paper --lengths 1M,4M \
            --kv-precision bf16 --decode-steps 8 --matmul-precision bf16 \
            --attention-precision "$precision" --out "/tmp/prefill-$precision.json" \
            >> "$OUT/prefill.txt" 2>&1
        echo "prefill paper attention $precision: $(grep -oE '"(prefill_seconds|decode_ms_per_token)" : [0-9.]*' \
            "/tmp/prefill-$precision.json" | tr '\n' ' ')" >> "$summary"
    done
    ;;
torch)
    cd reference || exit 1
    for preset in small paper; do
        for flags in "" "--compile" "--compile --autocast bf16"; do
            echo "== torch $preset $flags" >> "$OUT/train-torch.txt"
            timeout 200 python3 bench_train.py --device cuda --preset "$preset" --seq-len 4096 \
                --warmup 2 --steps 5 $flags --out /tmp/torch.json >> "$OUT/train-torch.txt" 2>&1
            echo "torch $preset ${flags:-eager}: $(grep -o '"step_ms": [0-9.]*' /tmp/torch.json)" \
                >> "$summary"
            rm -f /tmp/torch.json
        done
    done
    ;;
triton)
    export HSA_TRITON_DIR=${HSA_TRITON_DIR:-$PWD/.carry/hsa_triton}
    gunzip -c "${HSA_GZ:-.build-lead-rel/hsa.gz}" > "$HSA" && chmod +x "$HSA" || exit 1
    timeout 200 "$HSA" selftest --backend cuda --kernels-only --bench > "$OUT/selftest.txt" 2>&1
    grep -E "checks|sparse attention|HSA ops" "$OUT/selftest.txt" >> "$summary"
    timeout 200 python3 dev/kernels/bench_triton_hsa.py > "$OUT/triton-op.json" 2>&1
    grep -E '"(B[0-9]+_T[0-9]+|forward|forward_backward|all_kernels_ms|triton_kernels_ms)"' \
        "$OUT/triton-op.json" >> "$summary"
    for preset in small paper; do
        timeout 100 "$HSA" bench train --backend cuda --preset "$preset" --seq-len 4096 \
            --retrieval per_chunk --warmup 2 --steps 5 --matmul-precision bf16 \
            --attention-precision bf16 --out /tmp/train.json >> "$OUT/train-triton.txt" 2>&1
        echo "hsa $preset per_chunk bf16: $(grep -o '"step_ms" : [0-9.]*' /tmp/train.json)" \
            >> "$summary"
        for script in reference/bench_train.py dev/kernels/bench_train_triton.py; do
            echo "== $script $preset per_chunk" >> "$OUT/train-triton.txt"
            timeout 200 python3 "$script" --device cuda --preset "$preset" --seq-len 4096 \
                --retrieval per_chunk --warmup 2 --steps 5 --compile --autocast bf16 \
                --out /tmp/torch.json >> "$OUT/train-triton.txt" 2>&1
            echo "$script $preset per_chunk compile+bf16: $(grep -o '"step_ms": [0-9.]*' \
                /tmp/torch.json)" >> "$summary"
            rm -f /tmp/torch.json
        done
    done
    ;;
esac
cat "$summary"
