"""Near- and far-copy loss of a checkpoint trained on lines.py text, and how often the HSA
layer selects the chunk that holds the letters being copied (PyTorch twin, CPU).

    python3 dev/retrieval-toy/line_probe.py CHECKPOINT_DIR [--one-per-row]

--one-per-row: each row is BOS + one line (padded with EOS), for models trained on one line per
document with `--document-aligned`; otherwise rows of 512 bytes hold several lines.
"""
import os
import random
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "reference"))
sys.path.insert(0, HERE)
from hsa_reference import fusion_weights  # noqa: E402
from kv_probe import load  # noqa: E402

model, cfg = load(sys.argv[1])
one_per_row = "--one-per-row" in sys.argv[2:]

rng = random.Random(5)
B, T = (64, 145) if one_per_row else (4, 512)
tokens, near, far = [], [], []
while len(tokens) < B * (T + 1):
    s = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(24))
    is_near = rng.random() < 0.5
    fill = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(93)).upper()
    line = list((s + "|" + s + "\n" if is_near else s + "|" + fill + "|" + s + "\n").encode())
    mask = [0] * len(line)
    mask[-24:-1] = [1] * 23
    if one_per_row:  # BOS + line + EOS padding (256 = BOS, 257 = EOS of the byte tokenizer)
        line, mask = [256] + line[:-1], [0] + mask[:-1]
        line, mask = line + [257] * (T + 1 - len(line)), mask + [0] * (T + 1 - len(mask))
    tokens += line
    near += mask if is_near else [0] * len(line)
    far += [0] * len(line) if is_near else mask
cut = B * (T + 1)
x = torch.tensor(tokens[:cut]).view(B, T + 1)
near_mask = torch.tensor(near[:cut], dtype=torch.float).view(B, T + 1)[:, 1:]
far_mask = torch.tensor(far[:cut], dtype=torch.float).view(B, T + 1)[:, 1:]
with torch.no_grad():
    logits, _, hidden = model(x[:, :-1])
    ce = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), x[:, 1:].reshape(-1),
                         reduction="none").view(B, T)
print(f"near-copy loss {(ce * near_mask).sum() / near_mask.sum():.3f}, "
      f"far-copy loss {(ce * far_mask).sum() / far_mask.sum():.3f} (no copying: ln 26 = 3.26)")

# For each far-copy input token, the chunk of its source letter (same offset in the first copy).
selection = next((v for k, v in hidden.items() if k.startswith("selections.")), None)
if selection is None:
    sys.exit(0)  # no HSA layer (attention swa or full)
weights = None
if cfg.fusion != "joint":  # joint fusion has no per-chunk weights
    chosen_scores = selection.scores.gather(-1, selection.indices)
    weights = fusion_weights(chosen_scores, selection.valid, cfg.fusion)  # (B, T, NKV, k)
hits = pairs = 0
source_weight = 0.0
for b in range(B):
    row = x[b].tolist()
    for t in range(T):
        if far_mask[b, t] == 0:
            continue
        bar = t
        while row[bar] != ord("|"):
            bar -= 1
        first_bar = bar - 1
        while row[first_bar] != ord("|"):
            first_bar -= 1
        source_chunk = (first_bar - 24 + (t - bar) - 1) // cfg.chunk_size
        for g in range(selection.indices.shape[2]):
            chosen = selection.indices[b, t, g][selection.valid[b, t, g]].tolist()
            pairs += 1
            hits += source_chunk in chosen
            if weights is not None and source_chunk in chosen:
                source_weight += weights[b, t, g, chosen.index(source_chunk)].item()
print(f"source chunk selected for {hits} of {pairs} (far-copy token, KV head) pairs")
if weights is not None:
    print(f"mean fusion weight on the source chunk: {source_weight / max(pairs, 1):.3f}")
