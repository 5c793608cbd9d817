#!/usr/bin/env python3
"""reference/bench_train.py with the HSA sublayer's retrieved-chunk attention and fusion run by
the public Triton HSA kernel (RamstorageAI/long-context-modeling, ops/hsa_triton.py): the
"Triton peer" of issue 6's training-step table. Everything else (selection, encoder, SWA, MLPs)
is the PyTorch twin, so `--compile --autocast bf16` gives torch.compile + Triton HSA.

    HSA_TRITON_DIR=/path/with/hsa_triton.py python3 dev/kernels/bench_train_triton.py \
        --device cuda --preset paper --seq-len 4096 --compile --autocast bf16

Takes bench_train.py's flags and prints its JSON with impl "pytorch + triton hsa". Only the
weighted fusions (stick-breaking, softmax) map onto the kernel: it takes fusion weights, not
scores. Invalid slots (fewer than top-k eligible chunks) point at chunk 0 with weight 0.
The kernel needs 16 query rows per program: per-token retrieval needs 16 query heads per KV
head; with fewer (small and paper have 4), run `--retrieval per_chunk` (blocks of S tokens,
T a multiple of S).
"""

import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "reference"))
sys.path.insert(0, HERE)
import bench_train  # noqa: E402
import hsa_reference  # noqa: E402
from bench_triton_hsa import import_hsa_triton  # noqa: E402

hsa_triton = import_hsa_triton()


@torch.compiler.disable  # torch.compile runs the module's own kernels, it does not retrace them
def triton_hsa(q, keys, values, weights, indices, chunk_size, scale):
    return hsa_triton.HSA(q, keys, values, weights, indices, 0.0, chunk_size, scale)


def triton_forward(self, y, memory):
    """HierarchicalSparseAttention.forward with the chunk attention + fusion in Triton."""
    cfg = self.cfg
    B, T, _ = y.shape
    NH, NKV, G, HS = cfg.n_heads, cfg.n_kv_heads, cfg.group_size, cfg.head_dim
    u = self.norm(y)
    qa = self.q_proj(u).view(B, T, NKV, G, HS)
    qs = self.q_slc_proj(u).view(B, T, NKV, cfg.dr) if cfg.separate_retrieval_query \
        else qa.mean(dim=3)
    sel = hsa_reference.select_chunks(qs, memory.landmarks, cfg)
    keys, values = memory.keys, memory.values                  # (B, NC, S, NKV, HS)
    if cfg.qk_norm:
        qa, keys = self.q_norm(qa), self.k_norm(keys)
    s_sel = sel.scores.gather(-1, sel.indices)
    w = hsa_reference.fusion_weights(s_sel, sel.valid, cfg.fusion)  # (B, T, NKV, k)
    indices, valid = sel.indices, sel.valid
    if cfg.retrieval == "per_chunk":  # one selection per query block of S tokens
        indices, valid, w = indices[:, ::cfg.chunk_size], valid[:, ::cfg.chunk_size], \
            w[:, ::cfg.chunk_size]
    dtype = torch.bfloat16 if torch.is_autocast_enabled() else qa.dtype
    out = triton_hsa(
        qa.reshape(B, T, NH, HS).to(dtype).contiguous(),
        keys.reshape(B, -1, NKV, HS).to(dtype).contiguous(),  # (B, NC S, NKV, HS)
        values.reshape(B, -1, NKV, HS).to(dtype).contiguous(),
        w.to(dtype).contiguous(),
        torch.where(valid, indices, 0).to(torch.int32).contiguous(),
        cfg.chunk_size, 1.0 / math.sqrt(HS))
    return self.o_proj(out.reshape(B, T, NH * HS).to(u.dtype)), sel


if __name__ == "__main__":
    hsa_reference.HierarchicalSparseAttention.forward = triton_forward
    bench_train.IMPL = "pytorch + triton hsa"
    bench_train.main()
