#!/usr/bin/env bash
# Packs the corpus into xz-compressed tar parts small enough to carry to a GPU machine
# (64 MiB upload limit; each part aims at <= 40 MB compressed).
#
# Usage: scripts/pack_corpus.sh [CORPUS_DIR] [OUT_DIR]
#   CORPUS_DIR  default data/corpus (as written by build_corpus.sh)
#   OUT_DIR     default data/corpus-packed: corpus-part-NN.tar.xz and corpus-index.txt
# Environment:
#   HSA_PACK_PART_MB=120  uncompressed MB per part (text compresses ~4-6x under xz -9)
#   HSA_PACK_MAX_MB=40    a compressed part larger than this is an error (lower PART_MB)
#
# Documents are dealt in sorted path order to the parts in turn (document k to part k mod N,
# N = total size / HSA_PACK_PART_MB rounded up), so every part is a sample of every source: a
# session that can carry one part trains on all kinds of text, and the next part rotates in
# new documents of the same mix. The same corpus always gives the same parts. Unpack with
#   for p in corpus-part-*.tar.xz; do tar -xJf "$p" -C data/corpus; done
set -euo pipefail

corpus="${1:-data/corpus}"
out="${2:-data/corpus-packed}"
part_bytes=$(( ${HSA_PACK_PART_MB:-120} * 1000000 ))
if [ "$part_bytes" -le 0 ]; then echo "error: HSA_PACK_PART_MB must be > 0" >&2; exit 1; fi
max_bytes=$(( ${HSA_PACK_MAX_MB:-40} * 1000000 ))

if [ ! -d "$corpus" ]; then
    echo "error: no corpus at $corpus (run scripts/build_corpus.sh first)" >&2
    exit 1
fi
mkdir -p "$out"
rm -f "$out"/corpus-part-*.tar.xz "$out"/corpus-part-*.list "$out"/corpus-index.txt

# MARK: - Deal the documents to the parts

# "size path" for every document, sorted by path in the C locale.
(cd "$corpus" && find . -type f -name '*.txt' -printf '%s %P\n') | LC_ALL=C sort -k2 \
    > "$out/documents.tmp"
total=$(awk '{ t += $1 } END { print t + 0 }' "$out/documents.tmp")
parts=$(( (total + part_bytes - 1) / part_bytes ))
awk -v parts="$parts" -v out="$out" '
    { list = sprintf("%s/corpus-part-%02d.list", out, (NR - 1) % parts + 1)
      print substr($0, index($0, " ") + 1) > list }' "$out/documents.tmp"
rm -f "$out/documents.tmp"

# MARK: - Compress (two parts at a time: one xz thread each)

pack_part() {
    local list="$1" archive="${1%.list}.tar.xz"
    tar --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$corpus" -cf - -T "$list" \
        | xz -9 -T1 > "$archive"
}
running=0
for list in "$out"/corpus-part-*.list; do
    pack_part "$list" &
    running=$((running + 1))
    if [ "$running" -ge 2 ]; then wait -n; running=$((running - 1)); fi
done
wait

# MARK: - Index and size check

status=0
for list in "$out"/corpus-part-*.list; do
    archive="${list%.list}.tar.xz"
    name="$(basename "$archive")"
    sed "s|^|$name	|" "$list" >> "$out/corpus-index.txt"
    size=$(stat -c %s "$archive")
    raw=$(tr '\n' '\0' < "$list" | (cd "$corpus" && du -cb --files0-from=-) | tail -n 1 | cut -f1)
    awk -v n="$name" -v d="$(wc -l < "$list")" -v r="$raw" -v s="$size" 'BEGIN {
        printf "%s  %6d documents  %7.2f MB text  %6.2f MB compressed\n", n, d, r / 1e6, s / 1e6 }'
    if [ "$size" -gt "$max_bytes" ]; then
        echo "error: $name is over ${HSA_PACK_MAX_MB:-40} MB; lower HSA_PACK_PART_MB" >&2
        status=1
    fi
    rm -f "$list"
done
echo "index: $out/corpus-index.txt ($(wc -l < "$out/corpus-index.txt") documents)"
exit "$status"
