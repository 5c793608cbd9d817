"""Can a small HSA model learn to retrieve? A toy copy task on the PyTorch twin.

Each line is 24 random letters, '|', a filler of 0-15 bytes (30% of lines) or 40-159 bytes of
fixed text, '|', and the same 24 letters again. Letters 2..24 of the repeat are predictable
only by copying: from
inside the sliding window when the filler is short ("near"), only through HSA retrieval when
it is long ("far"). Random letters cost ln 26 = 3.26 nats; a model that copies gets ~0.

Variants change only chunk selection (monkeypatched into reference/hsa_reference.py):
  mask    chunks overlapping the sliding window are not eligible (eligible: i < (t - W + S) / S)
  gumbel  Gumbel noise on the scores that rank chunks for top-k during training (weights
          still use the clean scores)

    python3 dev/retrieval-toy/toy.py VARIANT STEPS FUSION TOPK [--lr 3e-3] [--device cuda]
prints one line every 100 steps: train loss, near-copy loss, far-copy loss.
"""
import argparse
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "reference"))
import hsa_reference as R  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("variant")
ap.add_argument("steps", type=int)
ap.add_argument("fusion")
ap.add_argument("topk", type=int)
ap.add_argument("--lr", type=float, default=3e-3)
ap.add_argument("--seq", type=int, default=256)
ap.add_argument("--batch", type=int, default=8)
ap.add_argument("--device", default="cpu")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--max-seconds", type=float, default=float("inf"), help="stop early after this")
args = ap.parse_args()
dev = torch.device(args.device)
torch.manual_seed(args.seed)
rng = random.Random(args.seed)
cfg = R.HSAConfig(d_model=64, n_lower_layers=2, n_upper_layers=2, hsa_layers=[0], n_heads=4,
                  n_kv_heads=2, head_dim=16, d_ff=128, window=32, chunk_size=16,
                  top_k=args.topk, encoder_layers=1, fusion=args.fusion)


def select_chunks(qs, landmarks, cfg):
    """R.select_chunks plus the two variants."""
    B, T, NKV, DR = qs.shape
    NC, S = landmarks.shape[1], cfg.chunk_size
    t = torch.arange(T, device=qs.device)
    lag = cfg.window - S if "mask" in args.variant else 0
    eligible = torch.arange(NC, device=qs.device)[None, :] < ((t - lag).clamp(min=0) // S)[:, None]
    scores = torch.einsum("btgd,bigd->btgi", qs, landmarks) / math.sqrt(DR)
    rank = scores.detach()
    if "gumbel" in args.variant and torch.is_grad_enabled():
        rank = rank - torch.empty_like(rank).exponential_().log()
    k = min(cfg.top_k, NC)
    masked = rank.masked_fill(~eligible[None, :, None, :], float("-inf"))
    top = torch.sort(masked, dim=-1, descending=True, stable=True).indices[..., :k]
    valid = eligible[t[None, :, None, None], top]
    perm = torch.sort(torch.where(valid, top, -1), dim=-1, descending=True, stable=True).indices
    return R.Selection(scores, eligible, top.gather(-1, perm), valid.gather(-1, perm))


R.select_chunks = select_chunks
model = R.HSAModel(cfg).to(dev)
opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.1, betas=(0.9, 0.95))
FILL = "the grass is green. the sky is blue. the sun is yellow. here we go. there and back again. "


def batch():
    rows, near, far = [], [], []
    for _ in range(args.batch):
        toks, n, f = [], [], []
        while len(toks) < args.seq + 1:
            s = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(24))
            gap = rng.randrange(0, 16) if rng.random() < 0.3 else rng.randrange(40, 160)
            fill = (FILL * 3)[rng.randrange(0, 90):][:gap]
            line = list((s + "|" + fill + "|" + s + "\n").encode())
            mask = [0] * len(line)
            mask[-24:-1] = [1] * 23
            distance = gap + 26
            toks += line
            n += mask if distance < cfg.window else [0] * len(line)
            f += mask if distance >= cfg.window + cfg.chunk_size else [0] * len(line)
        rows.append(toks[:args.seq + 1])
        near.append(n[:args.seq + 1])
        far.append(f[:args.seq + 1])
    x = torch.tensor(rows, device=dev)
    as_float = lambda m: torch.tensor(m, dtype=torch.float, device=dev)[:, 1:]
    return x[:, :-1], x[:, 1:], as_float(near), as_float(far)


start = time.time()
for step in range(1, args.steps + 1):
    for group in opt.param_groups:
        group["lr"] = args.lr * min(1.0, step / 30)
    x, y, near, far = batch()
    logits, loss, _ = model(x, y)
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    if step % 100 == 0:
        with torch.no_grad():
            ce = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), y.reshape(-1),
                                 reduction="none").view(y.shape)
            near_loss = (ce * near).sum() / near.sum()
            far_loss = (ce * far).sum() / far.sum()
        print(f"{args.variant} {args.fusion} k{args.topk} lr {args.lr:g} step {step} "
              f"loss {loss.item():.3f} near {near_loss:.3f} far {far_loss:.3f} "
              f"({time.time() - start:.0f}s)", flush=True)
    if time.time() - start > args.max_seconds:
        break
