import Foundation
import HSACore

/// Where filler sentences come from.
public enum FillerSource: Sendable {
    /// One sentence repeated (RULER `noise`).
    case repeated([UInt8])
    /// Sentences of a text, cycled from `start` (RULER `essay`, BABILong's book).
    case sentences([[UInt8]], start: Int)
    /// Freshly generated sentences (RULER `needle` haystack: distractor needles).
    case generated(@Sendable (inout SplitMix64) -> [UInt8])
}

/// A text to place in the context at a relative depth.
public struct ContextInsertion: Sendable {
    /// The text (ASCII bytes).
    public var text: [UInt8]
    /// 0 = start of the context, 1 = end.
    public var depth: Double

    /// Creates an insertion.
    public init(text: [UInt8], depth: Double) {
        self.text = text
        self.depth = depth
    }
}

/// A context of an exact byte length with texts placed at sentence boundaries.
public struct BuiltContext: Sendable {
    /// The context bytes; `bytes.count` equals the requested budget.
    public var bytes: [UInt8]
    /// Byte offset of each insertion in `bytes`, in the order given.
    public var insertionOffsets: [Int]
}

/// Fills an exact number of bytes with filler sentences and inserts texts at depths.
///
/// Every piece (filler sentence or insertion) is followed by `joiner`. The filler is measured
/// first: whole sentences while they fit, then the next sentence cut at a word boundary and
/// padded with spaces, so the length is exact. Each insertion goes to the sentence boundary
/// whose byte offset within the filler is nearest `depth * fillerBytes`; insertions at the same
/// boundary keep their order.
public enum ContextBuilder {
    /// Builds a context of exactly `budget` bytes.
    /// - Parameters:
    ///   - overhead: tokens of the sample outside the context (template, BOS, answer), only
    ///     for the error message.
    /// - Throws: ``EvalError/lengthTooShort(task:length:minimum:)`` when the insertions and
    ///   their joiners alone exceed `budget`.
    public static func build(
        budget: Int, filler: FillerSource, joiner: [UInt8], insertions: [ContextInsertion],
        rng: inout SplitMix64, task: String, overhead: Int = 0
    ) throws -> BuiltContext {
        let insertedBytes = insertions.reduce(0) { $0 + $1.text.count + joiner.count }
        let fillerBudget = budget - insertedBytes
        guard fillerBudget >= 0 else {
            throw EvalError.lengthTooShort(
                task: task, length: budget + overhead, minimum: insertedBytes + overhead)
        }
        // Filler pieces (each already followed by the joiner) and their start offsets.
        var pieces: [[UInt8]] = []
        var used = 0
        var cursor = 0
        func nextSentence(_ rng: inout SplitMix64) -> [UInt8] {
            switch filler {
            case .repeated(let sentence):
                return sentence
            case .sentences(let sentences, let start):
                guard !sentences.isEmpty else { return Array("...".utf8) }
                defer { cursor += 1 }
                return sentences[(start + cursor) % sentences.count]
            case .generated(let make):
                return make(&rng)
            }
        }
        while true {
            let sentence = nextSentence(&rng)
            let size = sentence.count + joiner.count
            if used + size <= fillerBudget {
                pieces.append(sentence + joiner)
                used += size
                continue
            }
            let remaining = fillerBudget - used
            if remaining > 0 { pieces.append(truncatedPiece(sentence, to: remaining)) }
            break
        }
        // Boundary offsets 0, end of piece 0, ..., total.
        var boundaries = [0]
        boundaries.reserveCapacity(pieces.count + 1)
        for piece in pieces { boundaries.append((boundaries.last ?? 0) + piece.count) }
        let slots = insertions.map { insertion -> Int in
            let target = min(max(insertion.depth, 0), 1) * Double(fillerBudget)
            return nearestBoundary(boundaries, to: target)
        }
        // Assemble: before filler piece k come the insertions whose slot is k.
        let order = insertions.indices.sorted { (slots[$0], $0) < (slots[$1], $1) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(budget)
        var offsets = [Int](repeating: 0, count: insertions.count)
        var next = 0
        for k in 0...pieces.count {
            while next < order.count, slots[order[next]] == k {
                offsets[order[next]] = bytes.count
                bytes += insertions[order[next]].text
                bytes += joiner
                next += 1
            }
            if k < pieces.count { bytes += pieces[k] }
        }
        return BuiltContext(bytes: bytes, insertionOffsets: offsets)
    }

    /// The index of the boundary nearest `target` (ties: the earlier one).
    static func nearestBoundary(_ boundaries: [Int], to target: Double) -> Int {
        // Binary search for the first boundary >= target, then compare with its predecessor.
        var low = 0
        var high = boundaries.count - 1
        while low < high {
            let middle = (low + high) / 2
            if Double(boundaries[middle]) < target { low = middle + 1 } else { high = middle }
        }
        if low > 0, target - Double(boundaries[low - 1]) <= Double(boundaries[low]) - target {
            return low - 1
        }
        return low
    }

    /// `sentence` cut to at most `size - 1` bytes at its last space, padded with spaces to
    /// exactly `size` bytes (an all-space piece when no word fits).
    static func truncatedPiece(_ sentence: [UInt8], to size: Int) -> [UInt8] {
        var cut = min(sentence.count, size - 1)
        if cut < sentence.count {
            while cut > 0, sentence[cut] != UInt8(ascii: " ") { cut -= 1 }
        }
        var piece = Array(sentence[0..<max(cut, 0)])
        piece += [UInt8](repeating: UInt8(ascii: " "), count: size - piece.count)
        return piece
    }
}
