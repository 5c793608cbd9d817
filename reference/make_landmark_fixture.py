"""Writes Tests/Fixtures/landmark-golden.safetensors: inputs, cotangent, outputs and gradients
of one Landmark Attention call from the PyTorch twin (landmark_reference.py), plus one retrieval
step, for the Swift golden test (Tests/HSACPUTests/LandmarkGoldenTests.swift).

    python3 reference/make_landmark_fixture.py [--out Tests/Fixtures/landmark-golden.safetensors]

Sizes B=2, T=17, H=4, HKV=2, D=8, S=4: blocks of 5 positions, landmarks at 4, 9, 14, and an
incomplete last block (15, 16). Inputs are drawn in float32; everything is computed from them
in float64 (the vectorised form, checked against the per-query loop) and stored rounded to
float32. Tensor names:
  inputs.{q, k, v}          q (B, T, H, D); k, v (B, T, HKV, D)
  cotangents.dout           (B, T, H, D)
  outputs.out, outputs.lse  (B, T, H, D), (B, T, H) the outer softmax's log-sum-exp
  grads.{q, k, v}           of sum(dout * out)
  retrieval.query           (H, D) q of batch row 0 at position 16
  retrieval.landmark_keys   (NB=3, HKV, D) k of batch row 0 at the landmarks 4, 9, 14
  retrieval.scores          (H, NB) q . k / sqrt(D)
  retrieval.indices         (H, K=2) int32, the 2 best blocks per head in block order
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import write_verified  # noqa: E402
from landmark_reference import (  # noqa: E402
    landmark_attention, landmark_attention_loop, landmark_retrieval, random_inputs,
    value_and_grads)

SEED = 2305
SIZES = dict(B=2, T=17, H=4, HKV=2, D=8, S=4)
TOP_K = 2
MAX_BYTES = 50_000


def main() -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(
        root, "Tests", "Fixtures", "landmark-golden.safetensors"))
    args = ap.parse_args()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    s = SIZES
    gen = torch.Generator().manual_seed(SEED)
    q, k, v = random_inputs(s["B"], s["T"], s["H"], s["HKV"], s["D"], gen)
    dout = torch.randn(s["B"], s["T"], s["H"], s["D"], generator=gen)
    wide = [x.double() for x in (q, k, v)]
    out, lse, grads = value_and_grads(landmark_attention, *wide, dout.double(), s["S"])
    out2, lse2, grads2 = value_and_grads(landmark_attention_loop, *wide, dout.double(), s["S"])
    diff = max([(out - out2).abs().max().item(), (lse - lse2).abs().max().item()]
               + [(grads[n] - grads2[n]).abs().max().item() for n in "qkv"])
    assert diff < 1e-12, diff

    period = s["S"] + 1
    query = q[0, s["T"] - 1]
    keys = k[0, s["S"]::period]
    scores, indices = landmark_retrieval(query.double(), keys.double(), TOP_K)
    ranked = scores.sort(dim=-1, descending=True).values
    margin = (ranked[:, TOP_K - 1] - ranked[:, TOP_K]).min().item()
    assert margin > 1e-3, f"retrieval margin {margin} too small for float32"

    tensors = {f"inputs.{n}": x for n, x in zip("qkv", (q, k, v))}
    tensors |= {"cotangents.dout": dout, "outputs.out": out.float(), "outputs.lse": lse.float()}
    tensors |= {f"grads.{n}": grads[n].float() for n in "qkv"}
    tensors |= {"retrieval.query": query, "retrieval.landmark_keys": keys.contiguous(),
                "retrieval.scores": scores.float(), "retrieval.indices": indices}
    meta = {"format": "hsa landmark attention golden fixture v1",
            "torch_version": torch.__version__, "seed": str(SEED), "sizes": json.dumps(SIZES),
            "top_k": str(TOP_K),
            "layout": "block c = positions c(S+1) .. c(S+1)+S, landmark at c(S+1)+S",
            "loss": "sum(dout * out)", "retrieval_margin": f"{margin:.4f}",
            "precision": "float32 inputs, float64 computation, float32 storage",
            "generator": "reference/make_landmark_fixture.py"}
    size = write_verified(tensors, meta, args.out, MAX_BYTES)
    print(f"wrote {args.out}: {len(tensors)} tensors, {size} bytes; vectorised vs per-query "
          f"loop in float64: max abs diff {diff:.1e}; retrieval margin {margin:.3f}")


if __name__ == "__main__":
    main()
