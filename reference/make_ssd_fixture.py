"""Writes Tests/Fixtures/ssd-golden.safetensors: inputs, cotangents, outputs and gradients of
one Mamba2 SSD scan from the PyTorch twin (mamba2_reference.py), for the Swift golden test
(Tests/HSACPUTests/SSDGoldenTests.swift).

    python3 reference/make_ssd_fixture.py [--out Tests/Fixtures/ssd-golden.safetensors]

Sizes B=2, T=37, H=4, P=4, G=2, N=6 (T a multiple of no usual chunk length). Inputs are drawn
in float32; everything is computed from them in float64 by the sequential recurrence (checked
against the chunked form) and stored rounded to float32. Tensor names:
  inputs.{x, dt, A, Bm, Cm, D, initial_state}    layouts as in mamba2_reference.py
  cotangents.dy (B, T, H, P), cotangents.dfinal_state (B, H, P, N)
  outputs.y (B, T, H, P), outputs.final_state (B, H, P, N)
  grads.{x, dt, A, Bm, Cm, D, initial_state}      of sum(dy * y) + sum(dfinal_state * final)
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import write_verified  # noqa: E402
from mamba2_reference import (  # noqa: E402
    NAMES, random_inputs, ssd_chunked, ssd_sequential, value_and_grads)

SEED = 2024
SIZES = dict(B=2, T=37, H=4, P=4, G=2, N=6)
MAX_BYTES = 50_000


def main() -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out",
                    default=os.path.join(root, "Tests", "Fixtures", "ssd-golden.safetensors"))
    args = ap.parse_args()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    s = SIZES
    gen = torch.Generator().manual_seed(SEED)
    inputs = random_inputs(s["B"], s["T"], s["H"], s["P"], s["G"], s["N"], gen)
    dy = torch.randn(s["B"], s["T"], s["H"], s["P"], generator=gen)
    dfinal = torch.randn(s["B"], s["H"], s["P"], s["N"], generator=gen)
    wide = {k: v.double() for k, v in inputs.items()}
    y, final, grads = value_and_grads(ssd_sequential, wide, dy.double(), dfinal.double())
    yc, fc, gc = value_and_grads(ssd_chunked, wide, dy.double(), dfinal.double(), chunk=8)
    diff = max([(y - yc).abs().max().item(), (final - fc).abs().max().item()]
               + [(grads[k] - gc[k]).abs().max().item() for k in NAMES])
    assert diff < 1e-10, diff

    tensors = {f"inputs.{k}": inputs[k] for k in NAMES}
    tensors |= {"cotangents.dy": dy, "cotangents.dfinal_state": dfinal,
                "outputs.y": y.float(), "outputs.final_state": final.float()}
    tensors |= {f"grads.{k}": grads[k].float() for k in NAMES}
    meta = {"format": "hsa ssd golden fixture v1", "torch_version": torch.__version__,
            "seed": str(SEED), "sizes": json.dumps(SIZES),
            "recurrence": "h_t = exp(dt_t A) h_{t-1} + dt_t x_t Bm_t^T; "
                          "y_t = h_t Cm_t + D x_t; final_state = h_{T-1}",
            "loss": "sum(dy * y) + sum(dfinal_state * final_state)",
            "precision": "float32 inputs, float64 computation, float32 storage",
            "generator": "reference/make_ssd_fixture.py"}
    size = write_verified(tensors, meta, args.out, MAX_BYTES)
    print(f"wrote {args.out}: {len(tensors)} tensors, {size} bytes; chunked (L=8) vs "
          f"sequential in float64: max abs diff {diff:.1e}")


if __name__ == "__main__":
    main()
