"""Does a trained model copy? Loss on a repeated passage versus its first occurrence.

Takes a 128-byte passage of held-out text, lets `distance` bytes of the following text pass,
then repeats the passage after a newline, and compares the model's loss on the repeat (from
its 17th byte on, once the passage is recognisable) with the loss on the first occurrence.
A model that copies gets a repeat loss near 0; one that does not scores about the same twice.

    python3 dev/retrieval-toy/copy_probe.py MODEL_DIR [--text data/heldout/persuasion.txt]
"""
import argparse
import os
import random
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kv_probe import load  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--text", default="data/heldout/persuasion.txt")
ap.add_argument("--distances", default="100,300,1000,3000")
ap.add_argument("--trials", type=int, default=3)
args = ap.parse_args()
model, _ = load(args.model)
text = open(args.text, encoding="utf8").read()
rng = random.Random(1)
PASSAGE, START = 128, 200
with torch.no_grad():
    for distance in map(int, args.distances.split(",")):
        first, repeat = [], []
        for _ in range(args.trials):
            offset = rng.randrange(0, len(text) - 8000)
            data = list(text[offset:offset + 8000].encode("utf8"))
            tokens = [256] + data[:START + PASSAGE + distance] + [10]
            at = len(tokens)
            tokens += data[START:START + PASSAGE]
            x, y = torch.tensor([tokens[:-1]]), torch.tensor([tokens[1:]])
            logits, _, _ = model(x)
            ce = F.cross_entropy(logits[0], y[0], reduction="none")
            first.append(ce[START + 16:START + PASSAGE].mean().item())
            repeat.append(ce[at - 1 + 16:at - 1 + PASSAGE].mean().item())
        print(f"distance {distance}: first occurrence {sum(first) / len(first):.3f} nats/byte, "
              f"repeat {sum(repeat) / len(repeat):.3f}")
