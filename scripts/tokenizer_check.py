#!/usr/bin/env python3
"""Parity of `hsa tokenizer` with the Hugging Face `tokenizers` library.

Trains a byte-level BPE with `hsa tokenizer train`, loads the tokenizer.json it writes with
`tokenizers.Tokenizer.from_file`, encodes a held-out text (plus a line of edge cases: accents,
combining marks, CJK, emoji, no-break spaces, tabs, digits, contractions) with both and checks
the ids are identical, then decodes them back with both. Prints the training time and the
bytes per token of the held-out text. Exits non-zero at the first failure.

By default it trains on the tracked docs/*.md (all but docs/MEMORY.md and docs/SERVER.md,
which are held out), so it runs on a clean clone:

    python3 scripts/tokenizer_check.py [--build-dir .build/debug] [--vocab-size 2048]
    python3 scripts/tokenizer_check.py --train data/corpus/bible-kjv --heldout FILE ...
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELDOUT_DOCS = ["docs/MEMORY.md", "docs/SERVER.md"]
EDGE_CASES = (
    "\nnaïve café — déjà vu; e\u0301 (combining), 東京タワー 中文 한국어, emoji 🚀👩\u200d👩\u200d👧 🇫🇷,"
    " no-break\u00a0space, tabs\t\tand  spaces   , digits 0123456789 3.14159 ²³ Ⅻ,"
    " it's they're we've I'm you'll he'd 'S 'LL, ‘quotes’ «guillemets», Ωmega ß, \u3000wide,"
    " line\u2028sep, ctrl\x01\x7f end  \n\n\n"
)


def check(condition, what):
    if not condition:
        sys.exit(f"tokenizer_check: FAILED: {what}")
    print(f"tokenizer_check: ok: {what}")


def hsa(binary, *args, stdin=None):
    result = subprocess.run(
        [binary, "tokenizer", *args], input=stdin, capture_output=True, timeout=600
    )
    if result.returncode != 0:
        sys.exit(f"tokenizer_check: FAILED: hsa tokenizer {args[0]}: {result.stderr.decode()}")
    return result.stdout


def first_difference(left, right):
    for index, (a, b) in enumerate(zip(left, right)):
        if a != b:
            return index
    return min(len(left), len(right))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", default=os.path.join(ROOT, ".build", "debug"))
    parser.add_argument("--vocab-size", type=int, default=2048)
    parser.add_argument("--sample-bytes", type=int)
    parser.add_argument("--train", action="append", help="training file or directory")
    parser.add_argument("--heldout", action="append", help="held-out text file")
    options = parser.parse_args()
    binary = os.path.join(options.build_dir, "hsa")
    if not os.path.exists(binary):
        sys.exit(f"{binary}: not built (swift build --product hsa)")
    heldout_files = options.heldout or [os.path.join(ROOT, path) for path in HELDOUT_DOCS]
    train = options.train or sorted(
        path
        for path in glob.glob(os.path.join(ROOT, "docs", "*.md"))
        if path not in heldout_files
    )
    text = "".join(open(path, encoding="utf-8", errors="replace").read() for path in heldout_files)
    text += EDGE_CASES
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "tok")
        args = ["train", "--vocab-size", str(options.vocab_size), "--out", out]
        if options.sample_bytes:
            args += ["--sample-bytes", str(options.sample_bytes)]
        start = time.time()
        summary = hsa(binary, *args, *train).decode().strip()
        seconds = time.time() - start
        print(f"tokenizer_check: trained in {seconds:.1f} s: {summary}")
        path = os.path.join(out, "tokenizer.json")
        reference = Tokenizer.from_file(path)
        check(True, f"tokenizers {sys.modules['tokenizers'].__version__} loads {path}")
        with open(path, encoding="utf-8") as handle:
            saved = json.load(handle)
        vocabulary = len(saved["model"]["vocab"]) + len(saved["added_tokens"])
        check(
            reference.get_vocab_size(with_added_tokens=True) == vocabulary,
            f"vocabulary size {vocabulary} (bytes + {len(saved['model']['merges'])} merges + 3)",
        )
        check(
            [reference.token_to_id(t) for t in ("<|bos|>", "<|eos|>", "<|pad|>")]
            == [vocabulary - 3, vocabulary - 2, vocabulary - 1],
            "special tokens <|bos|> <|eos|> <|pad|> are the last three ids",
        )
        held = os.path.join(scratch, "heldout.txt")
        with open(held, "w", encoding="utf-8") as handle:
            handle.write(text)
        expected = reference.encode(text, add_special_tokens=False).ids
        actual = json.loads(hsa(binary, "encode", "--tokenizer", out, "--json", held))
        if actual != expected:
            index = first_difference(actual, expected)
            context = reference.decode(expected[max(0, index - 5) : index + 5])
            sys.exit(
                f"tokenizer_check: FAILED: ids differ at token {index} of {len(expected)} "
                f"(hsa {actual[index:index + 5]} vs tokenizers {expected[index:index + 5]}) "
                f"near {context!r}"
            )
        size = len(text.encode("utf-8"))
        check(True, f"identical ids for the held-out text ({size} bytes, {len(expected)} tokens)")
        check(reference.decode(expected) == text, "tokenizers decodes the ids back to the text")
        decoded = hsa(binary, "decode", "--tokenizer", out, "-", stdin=json.dumps(actual).encode())
        check(decoded.decode("utf-8") == text, "hsa tokenizer decode gives the text back")
        print(
            f"tokenizer_check: held-out {size / len(expected):.2f} bytes per token "
            f"(vocabulary {vocabulary}, {seconds:.1f} s to train)"
        )


if __name__ == "__main__":
    main()
