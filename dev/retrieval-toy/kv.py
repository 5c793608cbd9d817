"""Writes key-value recall text (a needle-in-a-haystack toy) for the Swift CLI (`hsa data prepare`).

Each line is random UPPERCASE filler holding a few needles `#abc=123;` (3 lowercase letters,
3 digits) and ends with queries `?abc=123;` about some of them. A value digit after `?abc=` is
predictable only by finding the needle with that key; most needles lie beyond a 32-token window,
so only HSA retrieval reaches them. Unlike the copy lines (lines.py), each key is distinctive
within its line, as in RULER's needles, so retrieval by content needs no notion of position.

    python3 dev/retrieval-toy/kv.py OUT.txt [--lines 20000] [--length 480] [--needles 8]
        [--queries 8] [--seed 3]
    hsa data prepare OUT.txt --out DIR --validation-fraction 0
    python3 dev/retrieval-toy/kv.py --mask-answers DIR   (loss on the queried digits only)
"""
import argparse
import json
import os
import random
import re
import struct

LETTERS = "abcdefghijklmnopqrstuvwxyz"
FILLER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ "
SENTENCE = "THE GRASS IS GREEN. THE SKY IS BLUE. THE SUN IS YELLOW. HERE WE GO. "


def sample(rng: random.Random, length: int, needles: int, queries: int, repeat: bool = False):
    """One line and its queries: (text, [(offset of the first value digit of a query,
    offset of the needle's first value digit)]). `repeat`: the filler is one sentence repeated
    (predictable, like RULER's noise haystack) instead of random letters."""
    keys = []
    while len(keys) < needles:  # distinct keys within the line
        key = "".join(rng.choice(LETTERS) for _ in range(3))
        if key not in keys:
            keys.append(key)
    values = ["".join(rng.choice("0123456789") for _ in range(3)) for _ in keys]
    asked = rng.sample(range(needles), queries)
    tail = "".join(f"?{keys[i]}={values[i]};" for i in asked)
    body_length = length - len(tail)
    filler_length = body_length - 9 * needles
    if repeat:
        start = rng.randrange(len(SENTENCE))
        text = list((SENTENCE * (filler_length // len(SENTENCE) + 2))[start:start + filler_length])
    else:
        text = [rng.choice(FILLER) for _ in range(filler_length)]
    # needle slots in increasing order over the body, then spliced in back to front
    slots = sorted(rng.sample(range(len(text) + 1), needles))
    needle_offsets = []
    shift = 0
    for slot, key, value in zip(slots, keys, values):
        needle_offsets.append(slot + shift + 5)  # '#', key, '=' then the digits
        shift += 9
    for slot, key, value in reversed(list(zip(slots, keys, values))):
        text[slot:slot] = list(f"#{key}={value};")
    body = "".join(text)
    answers = []
    for n, i in enumerate(asked):
        answers.append((len(body) + 9 * n + 5, needle_offsets[i]))
    return body + tail, answers


def mask_answers(directory: str) -> None:
    """Adds a loss mask to the train shards of `hsa data prepare` (one document: BOS + the text's
    bytes + EOS, token = byte) so that only the value digits after `?key=` are targets."""
    manifest = json.load(open(os.path.join(directory, "manifest.json")))
    (document,) = manifest["documents"]
    text = open(document["input"], "rb").read()
    mask = bytearray(len(text) + 2)
    for match in re.finditer(rb"\?[a-z]{3}=([0-9]{3})", text):
        mask[match.start(1) + 1:match.end(1) + 1] = b"\x01" * 3  # +1: BOS comes first
    start = 0
    for shard in manifest["shards"]:
        path = os.path.join(directory, shard["file"])
        data = bytearray(open(path, "rb").read())
        flags, = struct.unpack_from("<I", data, 16)
        assert flags == 0, f"{path} already has a loss mask"
        struct.pack_into("<I", data, 16, 1)
        count = shard["tokens"]
        data += mask[start:start + count]
        start += count
        open(path, "wb").write(data)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?")
    ap.add_argument("--mask-answers", metavar="DIR", help="mask a prepared token directory")
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--length", type=int, default=480, help="bytes per line")
    ap.add_argument("--needles", type=int, default=8)
    ap.add_argument("--queries", type=int, default=8)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--repeat", action="store_true", help="repeated-sentence filler")
    args = ap.parse_args()
    if args.mask_answers:
        mask_answers(args.mask_answers)
        return
    rng = random.Random(args.seed)
    with open(args.out, "w") as f:
        f.write("\n".join(sample(rng, args.length, args.needles, args.queries, args.repeat)[0]
                          for _ in range(args.lines)))


if __name__ == "__main__":
    main()
