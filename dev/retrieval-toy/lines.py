"""Writes the copy-lines text used to train toys with the Swift CLI (`hsa data prepare`).

Each line is 24 random lowercase letters, '|', then either the same letters at once ("near":
copied through the sliding window) or 93 random UPPERCASE letters/spaces, '|' and the same
letters ("far": 119 bytes back, beyond a 32-token window, so only HSA retrieval can copy).
The filler is random so that nothing but the copy is worth retrieving.

    python3 dev/retrieval-toy/lines.py OUT.txt [--lines 40000] [--near 0.5] [--seed 3]
        [--fill-min 93 --fill-max 93]   (filler length range of far lines, in bytes)
        [--one-per-file]   (OUT is a folder; each line becomes its own file, i.e. its own
                            document for `hsa data prepare`, to train with --document-aligned)
"""
import os
import argparse
import random

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--lines", type=int, default=40000)
ap.add_argument("--near", type=float, default=0.5, help="fraction of near lines")
ap.add_argument("--seed", type=int, default=3)
ap.add_argument("--fill-min", type=int, default=93)
ap.add_argument("--fill-max", type=int, default=93)
ap.add_argument("--one-per-file", action="store_true")
args = ap.parse_args()
rng = random.Random(args.seed)
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def line(near: bool) -> str:
    s = "".join(rng.choice(LETTERS) for _ in range(24))
    if near:
        return s + "|" + s
    length = rng.randint(args.fill_min, args.fill_max)
    fill = "".join(rng.choice(LETTERS + " ") for _ in range(length)).upper()
    return s + "|" + fill + "|" + s


lines = [line(rng.random() < args.near) for _ in range(args.lines)]
if args.one_per_file:
    os.makedirs(args.out, exist_ok=True)
    for i, text in enumerate(lines):
        with open(os.path.join(args.out, f"{i:06d}.txt"), "w") as f:
            f.write(text)
else:
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
