import Foundation
import HSACore

// The pieces `DataMixer` draws from: a source read into memory, cut into BOS-led segments, and
// a cursor that walks them in a shuffled order per pass.

/// A piece of a source's token stream: `range` of its concatenated train tokens, with a BOS
/// prepended when the piece continues a document.
struct Segment: Equatable {
    var range: Range<Int>
    var prependsBOS: Bool
}

/// A source's train split read into memory: tokens and masks of all shards, concatenated
/// (documents may span shards).
struct SegmentedSource {
    let manifest: DataManifest
    let tokens: [Int32]
    let mask: [UInt8]
    /// No shard has a loss mask (text from `hsa data prepare`).
    let isPlainText: Bool

    init(directory: URL) throws {
        manifest = try DataManifest.load(from: directory)
        var tokens: [Int32] = []
        var mask: [UInt8] = []
        var anyMask = false
        tokens.reserveCapacity(manifest.trainTokens)
        for shard in manifest.shards where shard.split == .train {
            let reader = try TokenShardReader(
                url: directory.appendingPathComponent(shard.file), validateTokens: false)
            tokens += reader.allTokens()
            mask += reader.lossMask(in: 0..<reader.tokenCount)
            anyMask = anyMask || reader.hasLossMask
        }
        guard !tokens.isEmpty else {
            throw DataPrepareError.io(path: directory.path, reason: "no train tokens to mix")
        }
        self.tokens = tokens
        self.mask = mask
        isPlainText = !anyMask
    }

    /// Documents (from one BOS to the next) cut into pieces of at most `maxLength` tokens
    /// including the BOS each piece starts with. Documents with a loss mask (task samples)
    /// are never cut: one longer than `maxLength` is left out and counted in `skipped`, since
    /// its answer would be trained without the evidence an earlier piece holds.
    func segments(maxLength: Int, bos: Int32) -> (segments: [Segment], skipped: Int) {
        var starts = tokens.indices.filter { tokens[$0] == bos }
        if starts.first != 0 { starts.insert(0, at: 0) }
        var result: [Segment] = []
        var skipped = 0
        for (index, start) in starts.enumerated() {
            let end = index + 1 < starts.count ? starts[index + 1] : tokens.count
            let length = end - start + (tokens[start] == bos ? 0 : 1)
            if !isPlainText && length > maxLength {
                skipped += 1
                continue
            }
            var pieceStart = start
            while pieceStart < end {
                let continues = pieceStart != start || tokens[start] != bos
                let room = continues ? maxLength - 1 : maxLength
                let pieceEnd = pieceStart + min(end - pieceStart, room)
                result.append(Segment(range: pieceStart..<pieceEnd, prependsBOS: continues))
                pieceStart = pieceEnd
            }
        }
        return (result, skipped)
    }

    /// The segment's tokens and mask (BOS gets mask 0: nothing predicts it).
    func materialize(_ segment: Segment, bos: Int32) -> (tokens: [Int32], mask: [UInt8]) {
        var outTokens = Array(tokens[segment.range])
        var outMask = Array(mask[segment.range])
        if segment.prependsBOS {
            outTokens.insert(bos, at: 0)
            outMask.insert(0, at: 0)
        }
        for index in outTokens.indices where outTokens[index] == bos { outMask[index] = 0 }
        return (outTokens, outMask)
    }
}

/// Walks one source's segments in a shuffled order, reshuffling for every new pass.
struct SegmentCursor {
    let source: Int
    let seed: UInt64
    private(set) var pass = 0
    private var order: [Int] = []
    private var position = 0

    init(source: Int, seed: UInt64) {
        self.source = source
        self.seed = seed
    }

    mutating func next(in segments: [Segment]) -> Segment {
        if order.isEmpty {
            order = Self.shuffled(count: segments.count, seed: seed, source: source, pass: 0)
        } else if position == order.count {
            pass += 1
            position = 0
            order = Self.shuffled(count: segments.count, seed: seed, source: source, pass: pass)
        }
        defer { position += 1 }
        return segments[order[position]]
    }

    static func shuffled(count: Int, seed: UInt64, source: Int, pass: Int) -> [Int] {
        var generator = SplitMix64(
            seed: seed ^ (UInt64(source + 1) &* 0x9E37_79B9_7F4A_7C15)
                ^ (UInt64(pass) &* 0xD1B5_4A32_D192_ED03))
        return generator.permutation(count: count)
    }
}
