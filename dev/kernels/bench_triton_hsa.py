#!/usr/bin/env python3
"""Times the public Triton HSA kernel (RamstorageAI/long-context-modeling, ops/hsa_triton.py) at
issue 6's shape, for comparison with `hsa selftest --bench`'s sparse attention rows.

    HSA_TRITON_DIR=/path/with/hsa_triton.py python3 dev/kernels/bench_triton_hsa.py [--dtype bf16]

Shape: B 8, T 4096, 16 query heads on 1 KV head, head size 64, chunk 64, top-8, per-token
selection drawn at random among each token's past chunks (as hsa's bench), softmax weights.
The module is not part of this repository: fetch it and point HSA_TRITON_DIR at its ops/.
Kernel time comes from torch.profiler, median of 10 calls: the sum of every CUDA kernel the
call launches (HSA()'s NaN checks included) and of the module's Triton kernels alone. Prints
one JSON object.
"""

import argparse
import json
import os
import statistics
import sys
import types

import torch


def import_hsa_triton():
    sys.path.insert(0, os.environ["HSA_TRITON_DIR"])
    try:
        import einops  # noqa: F401
    except ImportError:  # the backward's one rearrange pattern, for machines without einops
        def rearrange(x, pattern, Q, h):
            assert pattern == "B K (C Q) (h G)-> B C (Q G) h K", pattern
            b, k, cq, hg = x.shape
            c, g = cq // Q, hg // h
            return x.view(b, k, c, Q, h, g).permute(0, 2, 3, 5, 4, 1).reshape(b, c, Q * g, h, k)
        sys.modules["einops"] = types.SimpleNamespace(rearrange=rearrange, repeat=None)
    import hsa_triton
    return hsa_triton


def inputs(b, t, hq, h, d, s, k, dtype, seed=0):
    g = torch.Generator(device="cuda").manual_seed(seed)
    q = torch.randn(b, t, hq, d, device="cuda", dtype=dtype, generator=g)
    keys = torch.randn(b, t, h, d, device="cuda", dtype=dtype, generator=g)
    values = torch.randn(b, t, h, d, device="cuda", dtype=dtype, generator=g)
    chunks = t // s
    scores = torch.rand(b, t, h, chunks, device="cuda", generator=g)
    eligible = torch.arange(chunks, device="cuda") < (torch.arange(t, device="cuda") // s)[:, None]
    scores = scores.masked_fill(~eligible[None, :, None, :], float("-inf"))
    top, indices = scores.topk(k, dim=-1)
    valid = top > float("-inf")
    indices = indices.masked_fill(~valid, 0).to(torch.int32).contiguous()
    weights = torch.softmax(top, dim=-1).nan_to_num(0.0).masked_fill(~valid, 0.0)
    return q, keys, values, weights.to(dtype).contiguous(), indices


TRITON_KERNELS = ("_attn_fwd", "kernel_attn_bwd_dq", "_attn_bwd_dkdv", "_fill_chunk_mask")


def kernel_ms(fn, repeats=10):
    """Median over calls of (all CUDA kernels, the module's Triton kernels only) in ms, and the
    per-kernel totals of the last call."""
    fn()  # compile / warm up
    torch.cuda.synchronize()
    every, triton_only = [], []
    for _ in range(repeats):
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
            fn()
            torch.cuda.synchronize()
        kernels = {e.key: e.device_time_total / 1000.0 for e in prof.key_averages()}
        every.append(sum(kernels.values()))
        triton_only.append(sum(v for name, v in kernels.items() if name.startswith(TRITON_KERNELS)))
    top = sorted(kernels.items(), key=lambda kv: -kv[1])[:8]
    return {"all_kernels_ms": round(statistics.median(every), 3),
            "triton_kernels_ms": round(statistics.median(triton_only), 3),
            "last_call": {name[:60]: round(ms, 3) for name, ms in top}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp32"])
    args = ap.parse_args()
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    hsa_triton = import_hsa_triton()
    result = {"impl": "triton (RamstorageAI/long-context-modeling ops/hsa_triton.py)",
              "device": torch.cuda.get_device_name(), "dtype": args.dtype}
    for b, t in [(8, 4096), (1, 32768)]:
        q, keys, values, weights, indices = inputs(b, t, 16, 1, 64, 64, 8, dtype)
        q.requires_grad_(); keys.requires_grad_(); values.requires_grad_()
        weights.requires_grad_()
        dout = torch.randn_like(q)

        def forward():
            return hsa_triton.HSA(q, keys, values, weights, indices, 0.0, 64, None)

        def forward_backward():
            out = forward()
            torch.autograd.backward(out, dout)

        result[f"B{b}_T{t}"] = {"forward": kernel_ms(forward),
                                "forward_backward": kernel_ms(forward_backward)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
