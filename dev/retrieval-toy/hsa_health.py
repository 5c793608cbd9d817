"""Is the HSA path of a checkpoint alive? (PyTorch twin, CPU)

On a stretch of text, per HSA layer: the fusion weight per selected slot (recency order) and
their sum (the fusion mass), the mean and spread of the selected chunks' scores, and the size of
the HSA output next to the residual stream it joins; then the gradient size per parameter group
for the next-token loss. A layer whose mass is ~0 (stick-breaking), whose weights are uniform
with scores that no longer differ (softmax), or whose output and gradients are orders of
magnitude below the rest has stopped learning to retrieve.

    python3 dev/retrieval-toy/hsa_health.py MODEL_DIR [--text data/eval/paul_graham_essays.txt]
        [--length 2048]
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "reference"))
sys.path.insert(0, HERE)
from hsa_reference import fusion_weights, rope_cos_sin  # noqa: E402
from kv_probe import load  # noqa: E402


def parameter_group(name: str) -> str:
    if ".hsa." in name:
        return "hsa"
    if name.startswith("encoder"):
        return "encoder"
    return "attention" if ".attn." in name else "mlp" if ".mlp." in name else "other"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--text", default="data/eval/paul_graham_essays.txt")
    ap.add_argument("--length", type=int, default=2048)
    args = ap.parse_args()
    model, cfg = load(args.model)
    T, S = args.length, cfg.chunk_size
    data = open(args.text, "rb").read()
    x = torch.tensor(list(data[5000:5000 + T + 1])).view(1, T + 1)
    logits, loss, hidden = model(x[:, :-1], x[:, 1:])
    late = torch.arange(T) >= T // 2  # queries with many eligible chunks
    with torch.no_grad():
        cos, sin = rope_cos_sin(T, cfg.head_dim, cfg.rope_theta)
        memory = model.encoder(hidden["middle"])
        stream = hidden["middle"]
        for j, layer in enumerate(model.upper):
            if layer.hsa is not None:
                y = stream + layer.attn(layer.attn_norm(stream), cos, sin, cfg.window)
                out, sel = layer.hsa(y, memory)
                s = sel.scores.gather(-1, sel.indices)[:, late]           # (1, T/2, NKV, k)
                w = fusion_weights(s, sel.valid[:, late], cfg.fusion) if cfg.fusion != "joint" \
                    else None
                slots = " ".join(f"{v:.3f}" for v in w.mean((0, 1, 2)).tolist()) if w is not None \
                    else "(joint: no chunk weights)"
                mass = f"{w.sum(-1).mean():.3f}" if w is not None else "-"
                print(f"upper.{j}: weight per slot {slots}; mass {mass}")
                print(f"   selected scores mean {s.mean():.2f}, spread within a selection "
                      f"{s.std(-1).mean():.3f}; rms HSA output {out.pow(2).mean().sqrt():.2e} "
                      f"vs rms stream {y.pow(2).mean().sqrt():.2e}")
            stream = hidden[f"upper.{j}"]
    loss.backward()
    groups: dict = {}
    for name, p in model.named_parameters():
        total = groups.setdefault(parameter_group(name), [0.0, 0])
        total[0] += p.grad.pow(2).sum().item()
        total[1] += p.numel()
    print(f"loss {loss.item():.3f}; gradient rms per element: " + ", ".join(
        f"{k} {(v[0] / v[1]) ** 0.5:.1e}" for k, v in groups.items()))


if __name__ == "__main__":
    main()
