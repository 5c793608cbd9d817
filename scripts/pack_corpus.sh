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
# Documents are taken in sorted path order and cut into parts by cumulative size, so the
# same corpus always gives the same parts. Unpack on the other side with
#   for p in corpus-part-*.tar.xz; do tar -xJf "$p" -C data/corpus; done
set -euo pipefail

corpus="${1:-data/corpus}"
out="${2:-data/corpus-packed}"
part_bytes=$(( ${HSA_PACK_PART_MB:-120} * 1000000 ))
max_bytes=$(( ${HSA_PACK_MAX_MB:-40} * 1000000 ))

if [ ! -d "$corpus" ]; then
    echo "error: no corpus at $corpus (run scripts/build_corpus.sh first)" >&2
    exit 1
fi
mkdir -p "$out"
rm -f "$out"/corpus-part-*.tar.xz "$out"/corpus-part-*.list "$out"/corpus-index.txt

# MARK: - Split by cumulative size

# "size path" for every document, sorted by path in the C locale.
(cd "$corpus" && find . -type f -name '*.txt' -printf '%s %P\n') | LC_ALL=C sort -k2 \
    | awk -v limit="$part_bytes" -v out="$out" '
        # Start a new part when adding this document would pass the limit.
        { if (n == 0 || (used > 0 && used + $1 > limit)) { n++; used = 0 }
          used += $1
          list = sprintf("%s/corpus-part-%02d.list", out, n)
          print substr($0, index($0, " ") + 1) > list }'

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
