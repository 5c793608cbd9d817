"""Recall of a checkpoint trained on kv.py text: loss and accuracy on the value digits of the
queries, split by how far back the needle is (near: inside the window, far: only HSA reaches
it), and how often the first HSA layer selects the needle's chunk (PyTorch twin, CPU).

    python3 dev/retrieval-toy/kv_probe.py CHECKPOINT_DIR [--rows 32]
"""
import argparse
import glob
import json
import math
import os
import random
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "reference"))
sys.path.insert(0, HERE)
from hsa_reference import HSAConfig, HSAModel  # noqa: E402
from kv import sample  # noqa: E402


def load(directory: str):
    raw = json.load(open(os.path.join(directory, "config.json")))
    cfg = HSAConfig(**{k: v for k, v in raw.items() if k in HSAConfig.__dataclass_fields__})
    model = HSAModel(cfg)
    state = {}
    for path in sorted(glob.glob(os.path.join(directory, "model*.safetensors"))):
        state.update(load_file(path))
    model.load_state_dict(state, strict=True)
    return model.eval(), cfg


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--rows", type=int, default=32)
    ap.add_argument("--length", type=int, default=480)
    ap.add_argument("--needles", type=int, default=8)
    ap.add_argument("--queries", type=int, default=8)
    ap.add_argument("--repeat", action="store_true", help="repeated-sentence filler")
    args = ap.parse_args()
    model, cfg = load(args.checkpoint)
    rng = random.Random(11)
    rows, answers = [], []
    for _ in range(args.rows):
        text, qa = sample(rng, args.length, args.needles, args.queries, args.repeat)
        rows.append(list(("\n" + text + "\n").encode()))
        answers.append([(q + 1, n + 1) for q, n in qa])  # +1 for the leading newline
    T = max(map(len, rows)) - 1
    x = torch.tensor([r + [10] * (T + 1 - len(r)) for r in rows])
    with torch.no_grad():
        logits, _, hidden = model(x[:, :-1])
    selection = next((v for k, v in sorted(hidden.items()) if k.startswith("selections.")), None)
    stats = {"near": [0.0, 0, 0, 0, 0], "far": [0.0, 0, 0, 0, 0]}  # loss, digits, exact, asked, hits
    for b, qa in enumerate(answers):
        for q, n in qa:
            kind = "near" if q - n < cfg.window else "far"
            s = stats[kind]
            exact = True
            for d in range(3):
                position = q + d - 1  # the input token that predicts digit d
                target = x[b, q + d]
                s[0] += F.cross_entropy(logits[b, position][None], target[None]).item()
                s[1] += 1
                exact &= bool(logits[b, position].argmax() == target)
                if selection is not None:
                    chunk = (n + d) // cfg.chunk_size
                    for g in range(selection.indices.shape[2]):
                        chosen = selection.indices[b, position, g][selection.valid[b, position, g]]
                        s[4] += int(chunk in chosen.tolist())
            s[2] += exact
            s[3] += 1
    for kind, (loss, digits, exact, asked, hits) in stats.items():
        if asked == 0:
            continue
        line = (f"{kind:4s}: {asked:3d} queries, digit loss {loss / digits:.3f} "
                f"(chance {math.log(10):.2f}), exact {100 * exact / asked:5.1f}%")
        if selection is not None:
            pairs = digits * selection.indices.shape[2]
            line += f", needle chunk selected {100 * hits / pairs:5.1f}%"
        print(line)


if __name__ == "__main__":
    main()
